"""The triage handler against moto: deliveries become cases, in the right queue, exactly once."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from moderato.adapters.case_store import CaseStore
from moderato.models import Delivery
from moderato_local.cfn_yaml import load_template
from tests.integration.conftest import AwsEnv, FakeContext, load_handler
from tests.support import CASE_QUEUES, REPO, assert_case_message, encode, meta_comment, x_tweet


def sqs_event(aws: AwsEnv, *deliveries: Delivery | str) -> dict[str, Any]:
    records = []
    for delivery in deliveries:
        body = delivery if isinstance(delivery, str) else delivery.model_dump_json()
        records.append({
            "messageId": str(uuid.uuid4()), "receiptHandle": "rh", "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1707211879000",
                           "SenderId": "local", "ApproximateFirstReceiveTimestamp": "1707211879000"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:IngestQueue", "awsRegion": "eu-west-1"})
    return {"Records": records}


def delivery(platform: str, payload: dict) -> Delivery:
    return Delivery(platform=platform, received_at=datetime.now(UTC), request_id=str(uuid.uuid4()),
                    body=encode(payload).decode())


def run_triage(aws: AwsEnv, *deliveries: Delivery | str) -> dict[str, Any]:
    return load_handler("triage").lambda_handler(sqs_event(aws, *deliveries), FakeContext())


def cases(aws: AwsEnv) -> list:
    return list(CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb")).all_cases())


def test_complaint_becomes_a_case_in_the_complaint_queue(aws: AwsEnv) -> None:
    result = run_triage(aws, delivery("meta", meta_comment(
        "Ma commande n'est jamais arrivée et le service client ne répond pas")))
    assert result == {"batchItemFailures": []}
    [case] = cases(aws)
    assert case.label == "complaint" and case.queue == "ComplaintQueue"
    assert case.post.author.name == "Jeanne Martin" and case.post.brand == "Floralys"
    [message] = aws.messages("COMPLAINT_QUEUE_URL")
    body = json.loads(message["Body"])
    assert_case_message(body)
    assert body["case_id"] == case.case_id and body["reasons"]
    assert aws.messages("SPAM_QUEUE_URL") == [] and aws.messages("CRISIS_QUEUE_URL") == []
    history = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb")).history(case.case_id)
    assert [event.action for event in history] == ["triaged"]


def test_crisis_goes_to_the_crisis_queue_and_alerts_on_sns(aws: AwsEnv) -> None:
    sqs, sns = aws.client("sqs"), aws.client("sns")
    inbox = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=aws.env["ALERTS_TOPIC_ARN"], Protocol="sqs", Endpoint=inbox_arn)
    run_triage(aws, delivery("x", x_tweet(
        "@Floralys mon fils a fait une réaction allergique grave à vos lys, on est à l'hôpital. Scandale")))
    [case] = cases(aws)
    assert case.label == "crisis" and case.queue == "CrisisQueue" and case.priority == 1
    [message] = aws.messages("CRISIS_QUEUE_URL")
    assert_case_message(json.loads(message["Body"]))
    [alert] = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(alert["Body"])
    assert "Crisis" in envelope["Subject"]
    assert json.loads(envelope["Message"])["case_id"] == case.case_id


def test_the_same_delivery_twice_yields_one_case_and_one_message(aws: AwsEnv) -> None:
    payload = meta_comment("Colis jamais reçu, commande 4471, je veux être remboursée")
    run_triage(aws, delivery("meta", payload))
    run_triage(aws, delivery("meta", payload), delivery("meta", payload))
    assert len(cases(aws)) == 1
    assert len(aws.messages("COMPLAINT_QUEUE_URL")) == 1


def test_an_unparseable_record_is_set_aside_in_the_dlq_at_once_and_alone(aws: AwsEnv) -> None:
    # Given a good delivery and one no parser can read, in one batch
    good = delivery("meta", meta_comment("Super bouquet, merci !", comment_id="1_2"))
    bad = Delivery(platform="meta", received_at=datetime.now(UTC), request_id="r-bad", body="{not json")
    event = sqs_event(aws, good, bad)
    # When triage handles the batch
    result = load_handler("triage").lambda_handler(event, FakeContext())
    # Then the good one is a case, and the bad one waits in IngestDLQ, as it came, without five retries
    assert result == {"batchItemFailures": []}
    assert len(cases(aws)) == 1
    [kept] = aws.messages("INGEST_DLQ_URL")
    assert Delivery.model_validate_json(kept["Body"]) == bad


def test_the_brands_own_comments_and_reactions_are_skipped(aws: AwsEnv) -> None:
    own = meta_comment("Merci pour votre message !", author_id="206070979425408")
    reaction = meta_comment("", item="reaction")
    assert run_triage(aws, delivery("meta", own), delivery("meta", reaction)) == {"batchItemFailures": []}
    assert cases(aws) == []


def test_a_claim_checked_delivery_is_read_from_s3(aws: AwsEnv) -> None:
    body = encode(meta_comment("Gagnez 500€ par jour en crypto, écrivez-moi sur WhatsApp +33612345678"))
    key = "deliveries/meta/test.json"
    aws.client("s3").put_object(Bucket=aws.env["DELIVERY_BUCKET_NAME"], Key=key, Body=body)
    run_triage(aws, Delivery(platform="meta", received_at=datetime.now(UTC), request_id="r1", body_s3_key=key))
    [case] = cases(aws)
    assert case.label == "spam" and case.post.raw_ref == key
    assert_case_message(json.loads(aws.messages("SPAM_QUEUE_URL")[0]["Body"]))


def test_normal_posts_are_kept_without_a_queue_and_expire(aws: AwsEnv) -> None:
    run_triage(aws, delivery("meta", meta_comment("Très joli bouquet 😍")))
    [case] = cases(aws)
    assert case.label == "normal" and case.queue is None
    item = aws.client("dynamodb").get_item(TableName=aws.env["CASES_TABLE_NAME"],
                                           Key={"pk": {"S": f"CASE#{case.case_id}"}, "sk": {"S": "CASE"}})["Item"]
    assert int(item["expires_at"]["N"]) > datetime.now(UTC).timestamp()
    assert all(aws.messages(name) == [] for name in ("SPAM_QUEUE_URL", "COMPLAINT_QUEUE_URL", "CRISIS_QUEUE_URL"))


# ------------------------------------------------------------------ metrics (EMF on stdout)

CRISIS_TWEET = "@Floralys mon fils a fait une réaction allergique grave à vos lys, on est à l'hôpital. Scandale"


def emitted(stdout: str, metric: str) -> list[tuple[str, dict[str, str], float]]:
    """(namespace, dimensions, value) of every EMF data point of ``metric`` printed on stdout."""
    points = []
    for line in stdout.splitlines():
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if not isinstance(blob, dict) or "_aws" not in blob:
            continue
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            if metric not in {m["Name"] for m in directive["Metrics"]}:
                continue
            values = blob[metric] if isinstance(blob[metric], list) else [blob[metric]]
            for dimension_set in directive["Dimensions"]:
                dimensions = {name: blob[name] for name in dimension_set}
                points.extend((directive["Namespace"], dimensions, float(value)) for value in values)
    return points


def test_every_triaged_post_is_counted_by_label_and_platform(aws: AwsEnv, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the dimension set the dashboard searches PostsTriaged by
    dashboard = load_template(REPO / "template.yaml")["Resources"]["OperationsDashboard"]["Properties"][
        "DashboardBody"]["Fn::Sub"]
    [searched] = set(re.findall(r"\{Moderato,([a-z,]+)\} MetricName=\W*PostsTriaged", dashboard))
    # When triage handles a complaint on Facebook and a crisis on X
    capsys.readouterr()
    run_triage(aws, delivery("meta", meta_comment("Ma commande n'est jamais arrivée, remboursez-moi")),
               delivery("x", x_tweet(CRISIS_TWEET)))
    points = emitted(capsys.readouterr().out, "PostsTriaged")
    # Then each post is one data point whose label and platform are its case's
    expected = sorted((c.label.value, c.post.platform.value) for c in cases(aws))
    assert len(expected) == 2
    assert sorted((d["label"], d["platform"]) for _, d, _ in points) == expected
    for namespace, dimensions, value in points:
        assert namespace == "Moderato" and value == 1
        assert set(dimensions) == set(searched.split(",")) and dimensions["service"] == "moderato"


def test_crisis_cases_are_emitted_with_exactly_the_alarms_dimensions(
        aws: AwsEnv, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the metric the CrisisCasesAlarm watches, read from template.yaml
    alarm = load_template(REPO / "template.yaml")["Resources"]["CrisisCasesAlarm"]["Properties"]
    alarm_dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    # When triage handles a crisis, then the same crisis redelivered by the platform
    capsys.readouterr()
    run_triage(aws, delivery("x", x_tweet(CRISIS_TWEET)))
    run_triage(aws, delivery("x", x_tweet(CRISIS_TWEET)))
    stdout = capsys.readouterr().out
    points = emitted(stdout, alarm["MetricName"])
    # Then one new crisis case is one data point, in the alarm's namespace, with exactly its dimensions
    [case] = cases(aws)
    assert case.label == "crisis"
    assert [(namespace, dimensions) for namespace, dimensions, _ in points] == [(alarm["Namespace"], alarm_dimensions)]
    assert sum(value for _, _, value in points) >= alarm["Threshold"]
    # And it was not counted as a complaint for the complaint-volume alarm
    assert emitted(stdout, "ComplaintCases") == []


def test_the_case_schema_check_rejects_a_malformed_date(aws: AwsEnv) -> None:
    # Given real queue messages (a complaint and a crisis: at least one lands in a review queue)
    run_triage(aws, delivery("meta", meta_comment("Colis jamais reçu, commande 4471, je veux être remboursée")),
               delivery("x", x_tweet(CRISIS_TWEET)))
    bodies = [json.loads(m["Body"]) for name in CASE_QUEUES for m in aws.messages(name)]
    assert bodies
    # When one of them carries a date that is not RFC 3339, then the schema check used by every queue reader fails
    broken = {**bodies[0], "sla_due_at": "tomorrow at noon"}
    with pytest.raises(jsonschema.ValidationError, match="date-time"):
        assert_case_message(broken)

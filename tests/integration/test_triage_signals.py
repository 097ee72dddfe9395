"""The signal scenarios (a promo flood, a fake support account, a complaint wave) through the real triage
handler, classifier and signals table (moto), and what triage reports when a record fails."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from moderato.adapters.case_store import CaseStore
from moderato.models import Case, Delivery
from moderato_cli.deliveries import build_payload
from moderato_local.cfn_yaml import load_template
from tests.integration.conftest import AwsEnv, FakeContext, load_handler
from tests.integration.test_triage import sqs_event
from tests.signal_scenarios import (
    fake_support,
    fake_support_flood,
    late_delivery_wave,
    promo_flood,
    where_is_my_order,
)
from tests.support import REPO


@pytest.fixture
def alerts_inbox(aws: AwsEnv) -> str:
    sqs = aws.client("sqs")
    inbox = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=aws.env["ALERTS_TOPIC_ARN"], Protocol="sqs", Endpoint=arn)
    return inbox


def alerts(aws: AwsEnv, inbox: str) -> list[dict[str, Any]]:
    found = []
    while batch := aws.client("sqs").receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", []):
        found += [json.loads(json.loads(m["Body"])["Message"]) for m in batch]
    return found


def as_delivery(row: dict[str, Any], index: int) -> Delivery:
    _, webhook, payload = build_payload(row, index)
    return Delivery(platform=webhook, received_at=datetime.now(UTC), request_id=str(uuid.uuid4()),
                    body=json.dumps(payload))


def replay(rows: list[dict[str, Any]]) -> None:
    """Rows as deliveries, in SQS batches of ten like the event source mapping."""
    triage = load_handler("triage")
    deliveries = [as_delivery(row, index) for index, row in enumerate(rows)]
    for start in range(0, len(deliveries), 10):
        assert triage.lambda_handler(sqs_event(None, *deliveries[start:start + 10]), FakeContext()) == {
            "batchItemFailures": []}


def all_cases(aws: AwsEnv) -> list[Case]:
    return list(CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb")).all_cases())


def codes(case: Case) -> set[str]:
    return {r.code for r in case.reasons}


def test_promo_in_ten_communities_is_spam_with_the_duplicate_reason(aws: AwsEnv) -> None:
    replay(promo_flood("r1"))
    cases = all_cases(aws)
    assert len(cases) == 10
    assert all(c.label == "spam" and "signal.duplicate_by_author" in codes(c) for c in cases)
    details = {r.detail for c in cases for r in c.reasons if r.code == "signal.duplicate_by_author"}
    assert "same text by this author in 10 threads in 10 min" in details


def test_fake_support_answering_complainants_is_spam_with_the_impersonation_reason(aws: AwsEnv) -> None:
    replay(fake_support("r2"))
    cases = all_cases(aws)
    fakes = [c for c in cases if "impostor" in (c.post.author.id or "")]
    complaints = [c for c in cases if "customer" in (c.post.author.id or "")]
    assert len(fakes) == 3 and len(complaints) == 4
    assert all(c.label == "spam" and {"signal.impersonation", "signal.contact_redirect"} <= codes(c) for c in fakes)
    assert all(c.post.kind == "reply" for c in fakes)  # each answers someone else's complaint or tweet
    # The fan who gives her own phone number in her complaint is a customer, not an impersonator.
    assert all(c.label == "complaint" and c.queue == "ComplaintQueue" for c in complaints)
    [fan] = [c for c in complaints if c.post.author.name == "Fan de Floralys"]
    assert not {"signal.impersonation", "signal.contact_redirect"} & codes(fan)


def test_the_same_fake_support_reply_in_seven_threads_keeps_its_duplicate_reason(aws: AwsEnv) -> None:
    # The real classifier calls it spam and also matches rule.complaint.delivery/refund in it.
    replay(fake_support_flood("r2b"))
    cases = all_cases(aws)
    assert len(cases) == 7 and all(c.label == "spam" for c in cases)
    assert all({"signal.duplicate_by_author", "signal.impersonation"} <= codes(c) for c in cases)
    details = {r.detail for c in cases for r in c.reasons if r.code == "signal.duplicate_by_author"}
    assert "same text by this author in 7 threads in 10 min" in details


def test_x_payloads_tell_new_and_empty_accounts(aws: AwsEnv) -> None:
    text = "Boost your flower shop! 10,000 real followers for $9.99 👉 bit.ly/cheap-followers-now"
    replay([
        {"id": "r5-empty", "platform": "x", "author_id": "r5-empty", "author_followers": 0, "author_posts": 1,
         "author_age_days": 2, "text": text},
        {"id": "r5-new", "platform": "x", "author_id": "r5-new", "author_followers": 40, "author_posts": 12,
         "author_age_days": 5, "text": text + " today"},
        {"id": "r5-old", "platform": "x", "author_id": "r5-old", "text": "Les pivoines de la semaine sont superbes"},
    ])
    by_author = {c.post.author.id: c for c in all_cases(aws)}
    empty, new, old = by_author["r5-empty"], by_author["r5-new"], by_author["r5-old"]
    assert empty.post.author.posts_count == 1 and empty.post.author.account_created_at is not None
    assert [r.detail for r in empty.reasons if r.code == "signal.empty_account"] == [
        "0 followers, 1 post, account 2 days old"]
    assert [r.detail for r in new.reasons if r.code == "signal.new_account"] == [
        "40 followers, 12 posts, account 5 days old"]
    assert not any(code.endswith(("_account",)) for code in codes(old)) and old.label == "normal"


def test_thirty_late_delivery_complaints_send_one_wave_alert(aws: AwsEnv, alerts_inbox: str) -> None:
    replay(late_delivery_wave("r3"))
    cases = all_cases(aws)
    # Thirty customers reporting a late delivery: complaints (crisis if a wave made it one), never normal
    # or spam.
    assert len(cases) == 30 and {c.label for c in cases} <= {"complaint", "crisis"}
    received = alerts(aws, alerts_inbox)
    assert [a["kind"] for a in received] == ["wave_alert"]
    [wave] = received
    assert wave["subject"] == "delivery" and wave["count"] >= 10 and wave["brand"] == "Floralys"
    assert wave["platform"] == "instagram" and len(wave["sample_case_ids"]) == 5 and wave["top_terms"]
    assert sum("wave.started" in codes(c) for c in cases) == 1
    assert sum("wave.member" in codes(c) for c in cases) == 30 - wave["count"] + 1


def test_thirty_where_is_my_order_are_never_spam(aws: AwsEnv, alerts_inbox: str) -> None:
    replay(where_is_my_order("r4"))
    cases = all_cases(aws)
    assert len(cases) == 30
    assert all(c.label != "spam" and not any(code.startswith("signal.dup") for code in codes(c)) for c in cases)
    assert [a["kind"] for a in alerts(aws, alerts_inbox)] == ["wave_alert"]  # thirty complaints: still one wave


def emf_metrics(output: str) -> list[dict[str, Any]]:
    """The EMF documents Powertools printed: one per flush, metric values at the top level."""
    return [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' in line]


def values(doc: dict[str, Any], metric: str) -> list[float]:
    value = doc[metric]  # EMF allows one value or a list of them
    return [float(v) for v in value] if isinstance(value, list) else [float(value)]


def test_a_failed_record_is_reported_failed_and_counted_for_its_alarm(aws: AwsEnv,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    triage = load_handler("triage")
    good = as_delivery({"id": "ok-1", "platform": "facebook", "text": "Superbe bouquet, merci !"}, 0)
    broken = Delivery(platform="meta", received_at=datetime.now(UTC), request_id="broken-1", body="{}")
    event = sqs_event(None, good, broken)
    event["Records"][1]["body"] = "{not a delivery"  # what only a bug upstream could enqueue
    capsys.readouterr()
    result = triage.lambda_handler(event, FakeContext())
    # Not swallowed: SQS retries the broken record alone (then IngestDLQ); the good one is done.
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert len(all_cases(aws)) == 1
    failures = [doc for doc in emf_metrics(capsys.readouterr().out) if "TriageRecordFailures" in doc]
    assert [values(doc, "TriageRecordFailures") for doc in failures] == [[1.0]]
    # What the alarm watches is exactly what was emitted: namespace, metric name, dimensions.
    alarm = load_template(REPO / "template.yaml")["Resources"]["TriageRecordFailuresAlarm"]["Properties"]
    [directive] = failures[0]["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == alarm["Namespace"]
    assert [m["Name"] for m in directive["Metrics"]] == [alarm["MetricName"]]
    assert directive["Dimensions"] == [[d["Name"] for d in alarm["Dimensions"]]]
    assert all(failures[0][d["Name"]] == d["Value"] for d in alarm["Dimensions"])


def test_a_batch_whose_records_all_fail_counts_each_of_them(aws: AwsEnv, capsys: pytest.CaptureFixture[str]) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    triage = load_handler("triage")
    broken = [Delivery(platform="meta", received_at=datetime.now(UTC), request_id=f"b{n}", body="[]")
              for n in range(2)]
    event = sqs_event(None, *broken)
    for record in event["Records"]:
        record["body"] = "{not a delivery"
    capsys.readouterr()
    with pytest.raises(BatchProcessingError):  # all failed: the invocation fails (Lambda Errors sees it too)
        triage.lambda_handler(event, FakeContext())
    counted = [v for doc in emf_metrics(capsys.readouterr().out) if "TriageRecordFailures" in doc
               for v in values(doc, "TriageRecordFailures")]
    assert counted == [1.0, 1.0]

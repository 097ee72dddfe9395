"""The safety net through the real triage handler against moto: a self-harm post pages once, urgently."""

from __future__ import annotations

import json
from typing import Any

from moderato.adapters.case_store import CaseStore
from moderato.safety_codes import SELF_HARM
from tests.integration.conftest import AwsEnv
from tests.integration.test_triage import delivery, run_triage
from tests.support import assert_case_message, meta_comment, x_tweet


def alert_inbox(aws: AwsEnv) -> str:
    """An SQS queue subscribed to AlertsTopic: what the on-call pager would receive."""
    sqs, sns = aws.client("sqs"), aws.client("sns")
    inbox = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=aws.env["ALERTS_TOPIC_ARN"], Protocol="sqs", Endpoint=inbox_arn)
    return inbox


def received(aws: AwsEnv, inbox: str) -> list[dict[str, Any]]:
    messages = aws.client("sqs").receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_self_harm_post_is_a_crisis_case_with_a_reply_and_one_urgent_alert(aws: AwsEnv) -> None:
    inbox = alert_inbox(aws)
    tweet = x_tweet("@Floralys jvais me suicider ce soir, dites a mes enfants que je les aime https://t.co/Zx81Qa")
    assert run_triage(aws, delivery("x", tweet)) == {"batchItemFailures": []}
    # the platform redelivers (a new request): still one case, one message, one alert
    assert run_triage(aws, delivery("x", tweet)) == {"batchItemFailures": []}

    [case] = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb")).all_cases()
    assert case.label == "crisis" and case.queue == "CrisisQueue" and case.priority == 1
    assert case.safety[0] == SELF_HARM and case.reasons[0].code == SELF_HARM
    assert case.suggested_reply is not None and "3114" in case.suggested_reply  # Floralys is French

    [message] = aws.messages("CRISIS_QUEUE_URL")  # validated against moderato.case/v1 on the way
    body = json.loads(message["Body"])
    assert body["safety"][0] == SELF_HARM and body["suggested_reply"] == case.suggested_reply

    [envelope] = received(aws, inbox)
    assert envelope["Subject"].startswith("[Moderato] URGENT self-harm risk on Floralys")
    assert envelope["MessageAttributes"]["safety"]["Value"] == SELF_HARM
    alert = json.loads(envelope["Message"])
    assert alert["kind"] == "crisis_case" and alert["case_id"] == case.case_id
    assert "3114" in alert["suggested_reply"]
    assert_case_message({k: v for k, v in alert.items() if k != "kind"})
    assert received(aws, inbox) == []


def test_an_idiom_pages_nobody(aws: AwsEnv) -> None:
    inbox = alert_inbox(aws)
    run_triage(aws, delivery("meta", meta_comment("je suis morte de rire, c'est une tuerie ce bouquet 😂")))
    [case] = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb")).all_cases()
    assert case.label != "crisis" and case.safety == [] and case.suggested_reply is None
    assert aws.messages("CRISIS_QUEUE_URL") == [] and received(aws, inbox) == []

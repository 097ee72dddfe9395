"""The four scenarios of issue 5 through the real triage handler, classifier and signals table (moto)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from moderato.adapters.case_store import CaseStore
from moderato.models import Case, Delivery
from moderato_cli.deliveries import build_payload
from tests.integration.conftest import AwsEnv, FakeContext, load_handler
from tests.integration.test_triage import sqs_event
from tests.signal_scenarios import fake_support, late_delivery_wave, promo_flood, where_is_my_order


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


def replay(rows: list[dict[str, Any]]) -> None:
    """Rows as deliveries, in SQS batches of ten like the event source mapping."""
    triage = load_handler("triage")
    deliveries = []
    for index, row in enumerate(rows):
        _, webhook, payload = build_payload(row, index)
        deliveries.append(Delivery(platform=webhook, received_at=datetime.now(UTC), request_id=str(uuid.uuid4()),
                                   body=json.dumps(payload)))
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
    assert len(fakes) == 3 and len(complaints) == 3
    assert all(c.label == "spam" and {"signal.impersonation", "signal.contact_redirect"} <= codes(c) for c in fakes)
    assert all(c.label == "complaint" for c in complaints)


def test_thirty_late_delivery_complaints_send_one_wave_alert(aws: AwsEnv, alerts_inbox: str) -> None:
    replay(late_delivery_wave("r3"))
    cases = all_cases(aws)
    # Complaint or, where the classifier hesitates, normal with complaint evidence: never spam.
    assert len(cases) == 30 and {c.label for c in cases} <= {"complaint", "normal"}
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

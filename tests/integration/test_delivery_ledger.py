"""The delivery ledger against moto: the webhook records what it accepted, triage what became of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from moderato.adapters.delivery_ledger import DeliveryLedger, DeliveryState
from moderato.models import Delivery
from moderato_cli.commands.reconcile import reconcile
from tests.integration.conftest import AwsEnv, FakeContext, load_handler
from tests.integration.test_triage import sqs_event
from tests.support import api_event, encode, meta_comment, signed_headers

RECEIVED = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def ledger(aws: AwsEnv) -> DeliveryLedger:
    return DeliveryLedger(aws.env["DELIVERY_LEDGER_TABLE_NAME"], aws.client("dynamodb"))


def entries(aws: AwsEnv) -> dict[str, dict[str, Any]]:
    return {entry["delivery_id"]: entry for entry in ledger(aws).entries()}


def post_comment(text: str, comment_id: str) -> dict[str, Any]:
    body = encode(meta_comment(text, comment_id=comment_id))
    webhook = load_handler("webhook")
    return webhook.lambda_handler(api_event("POST", "/webhooks/meta", body, signed_headers("meta", body)),
                                  FakeContext())


def test_an_accepted_delivery_is_recorded_then_its_case(aws: AwsEnv) -> None:
    # Given a complaint the webhook accepted
    assert post_comment("Ma commande n'est jamais arrivée, 3 semaines !!", "1_10")["statusCode"] == 200
    [message] = aws.messages("INGEST_QUEUE_URL")
    delivery = Delivery.model_validate_json(message["Body"])
    [entry] = entries(aws).values()
    assert entry["delivery_id"] == delivery.request_id
    assert entry["state"] == DeliveryState.ACCEPTED and entry["platform"] == "meta"
    assert entry["expires_at"] > datetime.now(UTC).timestamp() + 14 * 86400
    # When triage handles it
    result = load_handler("triage").lambda_handler(sqs_event(aws, delivery), FakeContext())
    # Then the entry names the case its post became
    assert result == {"batchItemFailures": []}
    [entry] = entries(aws).values()
    assert entry["state"] == DeliveryState.TRIAGED
    [case_id] = entry["case_ids"]
    assert case_id.startswith("facebook-")


def test_a_ledger_outage_does_not_lose_the_delivery(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a webhook whose ledger table is gone (an outage, a permissions slip)
    aws.client("dynamodb").delete_table(TableName=aws.env["DELIVERY_LEDGER_TABLE_NAME"])
    # When a delivery arrives, it is still accepted and queued: the 200 depends on the enqueue alone
    response = post_comment("Où est ma commande ? @Floralys", "1_11")
    assert response["statusCode"] == 200
    assert len(aws.messages("INGEST_QUEUE_URL")) == 1


def test_triage_first_then_the_webhooks_write_keeps_the_outcome(aws: AwsEnv) -> None:
    # Given triage that recorded its outcome before the webhook's own write landed
    store = ledger(aws)
    store.triaged("req-1", "meta", RECEIVED, ["facebook-abc"], datetime.now(UTC))
    # When the webhook's write arrives late
    store.accepted("req-1", "meta", RECEIVED)
    # Then the outcome stays
    entry = entries(aws)["req-1"]
    assert entry["state"] == DeliveryState.TRIAGED and entry["case_ids"] == ["facebook-abc"]
    assert entry["received_at"] == RECEIVED.isoformat()


def test_an_unparseable_delivery_records_why_and_how_often(aws: AwsEnv) -> None:
    good = Delivery(platform="meta", received_at=RECEIVED, request_id="req-good",
                    body=encode(meta_comment("Joli bouquet, merci", comment_id="1_12")).decode())
    bad = Delivery(platform="meta", received_at=RECEIVED, request_id="req-bad", body="{not json")
    event = sqs_event(aws, good, bad)
    event["Records"][1]["attributes"]["ApproximateReceiveCount"] = "3"
    result = load_handler("triage").lambda_handler(event, FakeContext())
    assert result["batchItemFailures"]
    entry = entries(aws)["req-bad"]
    assert entry["state"] == DeliveryState.UNPARSEABLE
    assert entry["receive_count"] == 3 and "UnparseableDelivery" in entry["last_error"]


def test_a_partly_unparseable_delivery_names_its_good_posts_cases_so_reconcile_counts_them(aws: AwsEnv) -> None:
    # Given a Meta delivery of two good comments around one update whose 'value' is a string
    payload = meta_comment("Ma commande n'est jamais arrivée", comment_id="1_1")
    change = payload["entry"][0]["changes"][0]
    payload["entry"][0]["changes"] = [change, {"field": "feed", "value": "oops"},
                                      {**change, "value": {**change["value"], "comment_id": "1_3",
                                                           "message": "Toujours rien reçu, remboursez-moi"}}]
    mixed = Delivery(platform="meta", received_at=RECEIVED, request_id="req-mixed", body=encode(payload).decode())
    good = Delivery(platform="meta", received_at=RECEIVED, request_id="req-good",
                    body=encode(meta_comment("Joli bouquet, merci", comment_id="2_1")).decode())
    # When triage handles it (the good comments become cases, the record fails for the bad update)
    result = load_handler("triage").lambda_handler(sqs_event(aws, mixed, good), FakeContext())
    assert len(result["batchItemFailures"]) == 1
    entry = entries(aws)["req-mixed"]
    # Then the ledger says unparseable and names the two cases, and reconcile counts them as cases
    assert entry["state"] == DeliveryState.UNPARSEABLE and len(entry["case_ids"]) == 2
    found = reconcile([entry], in_dlq={"req-mixed"}, existing_cases=set(entry["case_ids"]),
                      now=datetime.now(UTC), grace=timedelta(0))
    assert (found.cases, found.unparseable, found.in_dlq, found.lost) == (2, 1, 1, [])


def test_a_late_failure_never_overwrites_a_settled_outcome(aws: AwsEnv) -> None:
    store = ledger(aws)
    store.triaged("req-2", "x", RECEIVED, [], datetime.now(UTC))
    store.failed("req-2", "x", RECEIVED, "ThrottlingException: slow down", False, 2, datetime.now(UTC))
    entry = entries(aws)["req-2"]
    assert entry["state"] == DeliveryState.NO_POSTS and "last_error" not in entry


def test_a_success_after_failures_clears_the_error(aws: AwsEnv) -> None:
    store = ledger(aws)
    store.failed("req-3", "x", RECEIVED, "ThrottlingException: slow down", False, 1, datetime.now(UTC))
    store.triaged("req-3", "x", RECEIVED, ["x-1", "x-2", "x-1"], datetime.now(UTC))
    entry = entries(aws)["req-3"]
    assert entry["state"] == DeliveryState.TRIAGED and entry["case_ids"] == ["x-1", "x-2"]
    assert "last_error" not in entry


def test_other_errors_are_not_swallowed(aws: AwsEnv) -> None:
    store = DeliveryLedger("no-such-table", aws.client("dynamodb"))
    with pytest.raises(ClientError):
        store.accepted("req-4", "meta", RECEIVED)
    assert store.note_accepted("req-4", "meta", RECEIVED) is False


def test_a_failed_enqueue_leaves_no_ledger_entry(aws: AwsEnv) -> None:
    # Given an ingest queue that is gone: the platform gets a 5xx and will retry under a new request id
    aws.client("sqs").delete_queue(QueueUrl=aws.env["INGEST_QUEUE_URL"])
    response = post_comment("Commande FL-20931 jamais livrée", "1_13")
    assert response["statusCode"] >= 500
    # Then no entry claims a delivery that nothing holds (reconcile would call it lost)
    assert entries(aws) == {}

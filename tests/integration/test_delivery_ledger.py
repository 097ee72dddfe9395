"""The delivery ledger against moto: triage records what became of each delivery (acceptance itself is
witnessed by API Gateway's access log, which reconcile reads; older entries were written by the webhook)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError

from moderato.adapters.delivery_ledger import DeliveryLedger, DeliveryState, Outcome
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


def test_an_accepted_delivery_costs_the_webhook_no_ledger_write_and_its_case_is_recorded(aws: AwsEnv) -> None:
    # Given a complaint the webhook accepted: queued, and nothing written to the ledger (the access log
    # line of its request id is the witness)
    assert post_comment("Ma commande n'est jamais arrivée, 3 semaines !!", "1_10")["statusCode"] == 200
    [message] = aws.messages("INGEST_QUEUE_URL")
    delivery = Delivery.model_validate_json(message["Body"])
    assert entries(aws) == {}
    # When triage handles it
    result = load_handler("triage").lambda_handler(sqs_event(aws, delivery), FakeContext())
    # Then the entry names the case its post became
    assert result == {"batchItemFailures": []}
    [entry] = entries(aws).values()
    assert entry["delivery_id"] == delivery.request_id and entry["state"] == DeliveryState.TRIAGED
    [case_id] = entry["case_ids"]
    assert case_id.startswith("facebook-")


def test_triage_first_then_the_webhooks_write_keeps_the_outcome(aws: AwsEnv) -> None:
    # Given triage that recorded its outcome before the webhook's own write landed
    store = ledger(aws)
    store.triaged_batch([Outcome("req-1", ["facebook-abc"])], datetime.now(UTC))
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
    assert result["batchItemFailures"] == []  # set aside in IngestDLQ at once
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
    # When triage handles it (the good comments become cases, the delivery goes to IngestDLQ for the bad one)
    result = load_handler("triage").lambda_handler(sqs_event(aws, mixed, good), FakeContext())
    assert result["batchItemFailures"] == [] and len(aws.messages("INGEST_DLQ_URL")) == 1
    entry = entries(aws)["req-mixed"]
    # Then the ledger says unparseable and names the two cases, and reconcile counts them as cases
    assert entry["state"] == DeliveryState.UNPARSEABLE and len(entry["case_ids"]) == 2
    found = reconcile([entry], in_dlq={"req-mixed"}, existing_cases=set(entry["case_ids"]),
                      now=datetime.now(UTC), grace=timedelta(0))
    assert (found.cases, found.unparseable, found.in_dlq, found.lost) == (2, 1, 1, [])


def test_a_late_failure_never_overwrites_a_settled_outcome(aws: AwsEnv) -> None:
    store = ledger(aws)
    store.triaged_batch([Outcome("req-2", [])], datetime.now(UTC))
    store.failed("req-2", "x", RECEIVED, "ThrottlingException: slow down", False, 2, datetime.now(UTC))
    entry = entries(aws)["req-2"]
    assert entry["state"] == DeliveryState.NO_POSTS and "last_error" not in entry


def test_a_success_after_failures_clears_the_error(aws: AwsEnv) -> None:
    store = ledger(aws)
    store.failed("req-3", "x", RECEIVED, "ThrottlingException: slow down", False, 1, datetime.now(UTC))
    store.triaged_batch([Outcome("req-3", ["x-1", "x-2", "x-1"])], datetime.now(UTC))
    entry = entries(aws)["req-3"]
    assert entry["state"] == DeliveryState.TRIAGED and entry["case_ids"] == ["x-1", "x-2"]
    assert "last_error" not in entry


def test_other_errors_are_not_swallowed(aws: AwsEnv) -> None:
    store = DeliveryLedger("no-such-table", aws.client("dynamodb"))
    with pytest.raises(ClientError):
        store.accepted("req-4", "meta", RECEIVED)
    with pytest.raises(ClientError):
        store.triaged_batch([Outcome("req-4", [])], datetime.now(UTC))


def test_a_failed_enqueue_leaves_no_ledger_entry(aws: AwsEnv) -> None:
    # Given an ingest queue that is gone: the platform gets a 5xx and will retry under a new request id
    aws.client("sqs").delete_queue(QueueUrl=aws.env["INGEST_QUEUE_URL"])
    response = post_comment("Commande FL-20931 jamais livrée", "1_13")
    assert response["statusCode"] >= 500
    # Then no entry claims a delivery that nothing holds (reconcile would call it lost)
    assert entries(aws) == {}


def test_a_batch_of_outcomes_is_one_item_that_entries_fold_into_each_delivery(aws: AwsEnv) -> None:
    # Given two deliveries the webhook accepted, and one it could not record
    store = ledger(aws)
    store.accepted("req-a", "meta", RECEIVED)
    store.accepted("req-b", "x", RECEIVED)
    # When triage records the batch's outcomes
    store.triaged_batch([Outcome("req-a", ["facebook-1", "facebook-2"]), Outcome("req-b", []),
                         Outcome("req-c", ["x-9"])], datetime.now(UTC))
    # Then one item holds them, and each delivery reads as settled with its cases
    raw = aws.client("dynamodb").scan(TableName=aws.env["DELIVERY_LEDGER_TABLE_NAME"])["Items"]
    assert len(raw) == 3
    found = entries(aws)
    assert found["req-a"]["state"] == DeliveryState.TRIAGED
    assert found["req-a"]["case_ids"] == ["facebook-1", "facebook-2"]
    assert found["req-a"]["platform"] == "meta" and found["req-b"]["state"] == DeliveryState.NO_POSTS
    assert found["req-c"]["state"] == DeliveryState.TRIAGED and found["req-c"]["case_ids"] == ["x-9"]
    assert not any(key.startswith("batch#") for key in found)


def test_a_batch_whose_outcomes_cannot_be_recorded_is_retried_not_left_unaccounted(aws: AwsEnv) -> None:
    # Given the ledger refusing every write of triage's batch item (after botocore's own retries)
    boto3.setup_default_session()

    def refuse(params: dict[str, Any], **_: object) -> None:
        if str(params.get("Item", {}).get("delivery_id", {}).get("S", "")).startswith("batch#"):
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "PutItem")

    boto3.DEFAULT_SESSION.events.register("before-parameter-build.dynamodb.PutItem", refuse)
    good = Delivery(platform="meta", received_at=RECEIVED, request_id="req-unrecorded",
                    body=encode(meta_comment("Joli bouquet, merci", comment_id="1_77")).decode())
    # When triage handles it, Then the record is given back to SQS: its case exists, the retry records it
    with pytest.raises(BatchProcessingError):
        load_handler("triage").lambda_handler(sqs_event(aws, good), FakeContext())
    assert entries(aws)["req-unrecorded"]["state"] == DeliveryState.FAILED
    assert "LedgerUnavailable" in entries(aws)["req-unrecorded"]["last_error"]

"""`moderato dlq` and `moderato reconcile` against moto, provisioned from template.yaml."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from moderato.adapters.delivery_ledger import DeliveryLedger
from moderato.models import Delivery
from moderato_cli.commands import dlq
from moderato_cli.commands.reconcile import reconcile_stack
from moderato_cli.stack_resources import DeadLetterQueue, StackResources
from moderato_local.resolver import REGION
from tests.integration.conftest import AwsEnv
from tests.support import encode, meta_comment

RECEIVED = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
def resources(aws: AwsEnv) -> StackResources:
    # The local stack's names, reached through moto's in-process mock instead of an endpoint.
    return StackResources(local=True, stack="moderato-local", options={"region_name": REGION})


def failed_delivery(aws: AwsEnv, request_id: str, error: str) -> Delivery:
    """A delivery that triage failed on 5 times, as SQS leaves it in IngestDLQ."""
    delivery = Delivery(platform="meta", received_at=RECEIVED, request_id=request_id,
                        body=encode(meta_comment("Toujours rien reçu", comment_id=f"1_{request_id}")).decode())
    ledger = DeliveryLedger(aws.env["DELIVERY_LEDGER_TABLE_NAME"], aws.client("dynamodb"))
    ledger.accepted(request_id, "meta", RECEIVED)
    ledger.failed(request_id, "meta", RECEIVED, error, True, 5, datetime.now(UTC))
    dlq_url = aws.client("sqs").get_queue_url(QueueName="moderato-local-IngestDLQ")["QueueUrl"]
    aws.client("sqs").send_message(QueueUrl=dlq_url, MessageBody=delivery.model_dump_json(),
                                   MessageAttributes={"platform": {"DataType": "String", "StringValue": "meta"}})
    return delivery


def test_the_template_names_every_dlq_and_where_it_comes_from(resources: StackResources) -> None:
    queues = resources.dead_letter_queues()
    assert queues["IngestDLQ"] == DeadLetterQueue("IngestDLQ", "IngestQueue", False)
    assert queues["AlertsDLQ"] == DeadLetterQueue("AlertsDLQ", "AlertsFunction", True)
    assert queues["SlaCheckDLQ"] == DeadLetterQueue("SlaCheckDLQ", "SlaCheckFunction", True)


def test_show_says_why_and_leaves_the_messages_in_place(aws: AwsEnv, resources: StackResources) -> None:
    failed_delivery(aws, "req-1", "UnparseableDelivery: delivery req-1 from meta: 'entry'")
    sqs = resources.client("sqs")
    url = resources.physical_id("IngestDLQ")
    [message] = dlq.peek(sqs, url, 10)
    line = dlq.describe(message, {"req-1": {"state": "unparseable", "last_error": "UnparseableDelivery: 'entry'"}})
    assert "delivery req-1 from meta" in line and "UnparseableDelivery: 'entry'" in line
    # Peeking twice sees the same message: show never takes it away
    assert [m.message_id for m in dlq.peek(sqs, url, 10)] == [message.message_id]


def test_show_reports_triage_attempts_not_its_own_peeks(aws: AwsEnv, resources: StackResources) -> None:
    # Given a delivery triage failed on 5 times, already inspected twice (show, reconcile)
    failed_delivery(aws, "req-2", "UnparseableDelivery: 'entry'")
    sqs = resources.client("sqs")
    url = resources.physical_id("IngestDLQ")
    dlq.peek(sqs, url, 10)
    dlq.delivery_ids(sqs, url)
    # When it is shown again
    [message] = dlq.peek(sqs, url, 10)
    with_ledger = dlq.describe(message, {e["delivery_id"]: e for e in DeliveryLedger(
        aws.env["DELIVERY_LEDGER_TABLE_NAME"], aws.client("dynamodb")).entries()})
    without_ledger = dlq.describe(message, {})
    # Then the attempts are triage's (the ledger), not inflated by the looks
    assert "last recorded failure was attempt 5" in with_ledger and "received" not in with_ledger
    # And without a ledger entry, SQS's count before this look, saying that it counts inspections too
    assert "received 2x before this look (earlier dlq show/reconcile peeks included)" in without_ledger


def test_a_lambda_destination_record_reads_as_the_invocation_and_its_error() -> None:
    record = {"requestContext": {"functionArn": "arn:aws:lambda:eu-west-1:1:function:alerts:$LATEST",
                                 "condition": "RetriesExhausted", "approximateInvokeCount": 3},
              "responsePayload": {"errorType": "ChatWebhookFailed", "errorMessage": "HTTP 500"}}
    line = dlq.describe(dlq.Peeked("m-1", 1, json.dumps(record), {}), {})
    assert "RetriesExhausted, 3 attempts" in line and "ChatWebhookFailed: HTTP 500" in line


def test_redrive_sends_back_to_the_source_queue_then_empties_the_dlq(aws: AwsEnv,
                                                                     resources: StackResources) -> None:
    delivery = failed_delivery(aws, "req-2", "InternalFailure")
    moved = dlq.redrive(resources, resources.dead_letter_queues()["IngestDLQ"], limit=10)
    assert moved == 1
    assert dlq.peek(resources.client("sqs"), resources.physical_id("IngestDLQ"), 10) == []
    [message] = aws.messages("INGEST_QUEUE_URL")
    assert Delivery.model_validate_json(message["Body"]) == delivery
    assert message["MessageAttributes"]["platform"]["StringValue"] == "meta"


def test_reconcile_counts_a_delivery_in_the_dlq_as_kept_and_one_nowhere_as_lost(
        aws: AwsEnv, resources: StackResources) -> None:
    failed_delivery(aws, "req-3", "InternalFailure")
    ledger = DeliveryLedger(aws.env["DELIVERY_LEDGER_TABLE_NAME"], aws.client("dynamodb"))
    ledger.accepted("req-4", "x", RECEIVED)  # accepted an hour ago, never triaged, not in the DLQ
    result = reconcile_stack(resources, timedelta(minutes=20))
    assert (result.accepted, result.in_dlq, result.unparseable) == (2, 1, 1)
    assert result.lost == ["req-4"]


def test_the_cli_exits_1_when_a_delivery_is_lost(aws: AwsEnv, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from moderato_cli.main import main

    monkeypatch.setattr(StackResources, "from_args",
                        classmethod(lambda cls, args: cls(True, "moderato-local", {"region_name": REGION})))
    DeliveryLedger(aws.env["DELIVERY_LEDGER_TABLE_NAME"], aws.client("dynamodb")).accepted("req-5", "x", RECEIVED)
    assert main(["reconcile", "--local", "--lost"]) == 1
    output = capsys.readouterr().out
    assert "lost               1" in output and "req-5" in output
    assert main(["dlq", "list", "--local"]) == 0
    assert "IngestDLQ" in capsys.readouterr().out

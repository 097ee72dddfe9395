"""`moderato dlq` and `moderato reconcile` against moto, provisioned from template.yaml.

Deliveries are accepted as API Gateway witnesses them (a line in the HttpApiAccessLogs group); the ledger
holds only triage's records, unless a test says the webhook's "accepted" item is there too (older deliveries).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from moderato.adapters.delivery_ledger import DeliveryLedger, Outcome
from moderato.models import Delivery
from moderato_cli.commands import dlq
from moderato_cli.commands.reconcile import ACCESS_LOG_GROUP, WEBHOOK_ROUTE_KEY, reconcile_stack
from moderato_cli.stack_resources import DeadLetterQueue, StackResources
from moderato_local.resolver import REGION
from tests.integration.conftest import AwsEnv
from tests.support import encode, meta_comment

RECEIVED = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
def resources(aws: AwsEnv) -> StackResources:
    # The local stack's names, reached through moto's in-process mock instead of an endpoint.
    return StackResources(local=True, stack="moderato-local", options={"region_name": REGION})


def access_logged(aws: AwsEnv, *request_ids: str, at: datetime = RECEIVED) -> None:
    """API Gateway's access-log lines of deliveries the webhook answered 200."""
    logs = aws.client("logs")
    group = "/aws/vendedlogs/moderato-local/http-api-access"
    stream = f"httpapi_$default-{request_ids[0]}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": int(at.timestamp() * 1000),
         "message": json.dumps({"requestId": request_id, "method": "POST", "routeKey": WEBHOOK_ROUTE_KEY,
                                "path": "/webhooks/meta", "status": "200"})} for request_id in request_ids])


def failed_delivery(aws: AwsEnv, request_id: str, error: str, webhook_item: bool = False) -> Delivery:
    """A delivery that triage failed on 5 times, as SQS leaves it in IngestDLQ: its access-log line and
    triage's failure record (and, with ``webhook_item``, the webhook's "accepted" item of older deliveries)."""
    delivery = Delivery(platform="meta", received_at=RECEIVED, request_id=request_id,
                        body=encode(meta_comment("Toujours rien reçu", comment_id=f"1_{request_id}")).decode())
    access_logged(aws, request_id)
    ledger = DeliveryLedger(aws.env["DELIVERY_LEDGER_TABLE_NAME"], aws.client("dynamodb"))
    if webhook_item:
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


@pytest.mark.parametrize("webhook_item", [False, True], ids=["failure-record-only", "with-webhook-item"])
def test_show_reports_triage_attempts_not_its_own_peeks(aws: AwsEnv, resources: StackResources,
                                                        webhook_item: bool) -> None:
    # Given a delivery triage failed on 5 times, already inspected twice (show, reconcile)
    failed_delivery(aws, "req-2", "UnparseableDelivery: 'entry'", webhook_item)
    sqs = resources.client("sqs")
    url = resources.physical_id("IngestDLQ")
    dlq.peek(sqs, url, 10)
    dlq.delivery_ids(sqs, url)
    # When it is shown again
    [message] = dlq.peek(sqs, url, 10)
    with_ledger = dlq.describe(message, {e["delivery_id"]: e for e in DeliveryLedger(
        aws.env["DELIVERY_LEDGER_TABLE_NAME"], aws.client("dynamodb")).entries()})
    without_ledger = dlq.describe(message, {})
    # Then the attempts are triage's (the ledger), not inflated by the looks, with the error it recorded
    assert "last recorded failure was attempt 5" in with_ledger and "received" not in with_ledger
    assert "state unparseable: UnparseableDelivery: 'entry'" in with_ledger
    # And without a ledger entry, SQS's count before this look, saying that it counts inspections too
    assert "received 2x before this look (earlier dlq show/reconcile peeks included)" in without_ledger


def test_show_reads_a_delivery_known_only_by_a_batch_outcome(aws: AwsEnv, resources: StackResources,
                                                           capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a copy left in IngestDLQ of a delivery whose other copy triage finished (a batch outcome),
    # with no "accepted" item and no failure record
    from moderato_cli.main import main

    delivery = Delivery(platform="meta", received_at=RECEIVED, request_id="req-6",
                        body=encode(meta_comment("Merci", comment_id="1_req-6")).decode())
    DeliveryLedger(aws.env["DELIVERY_LEDGER_TABLE_NAME"], aws.client("dynamodb")).triaged_batch(
        [Outcome("req-6", ["facebook-1_req-6"])], datetime.now(UTC))
    aws.client("sqs").send_message(QueueUrl=resources.physical_id("IngestDLQ"), MessageBody=delivery.model_dump_json())
    monkeypatch.setattr(StackResources, "from_args",
                        classmethod(lambda cls, args: cls(True, "moderato-local", {"region_name": REGION})))
    # When it is shown
    assert main(["dlq", "show", "IngestDLQ", "--local"]) == 0
    # Then it reads as that delivery, with the outcome the ledger has, and SQS's count as the attempts
    output = capsys.readouterr().out
    assert "delivery req-6 from meta" in output and "state triaged" in output
    assert "received 0x before this look" in output


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
    access_logged(aws, "req-4")  # accepted an hour ago, never triaged, not in the DLQ, unknown to the ledger
    result = reconcile_stack(resources, timedelta(minutes=20))
    assert (result.accepted, result.logged, result.in_dlq, result.unparseable) == (2, 2, 1, 1)
    assert result.lost == ["req-4"]


def test_reconcile_still_counts_older_deliveries_known_by_the_webhooks_ledger_item(
        aws: AwsEnv, resources: StackResources) -> None:
    # Given deliveries accepted before the access log was the witness (or older than its window):
    # the webhook's "accepted" item is all there is of them
    ledger = DeliveryLedger(aws.env["DELIVERY_LEDGER_TABLE_NAME"], aws.client("dynamodb"))
    failed_delivery(aws, "req-3", "InternalFailure", webhook_item=True)
    ledger.accepted("req-4", "x", RECEIVED)  # never triaged, not in the DLQ
    result = reconcile_stack(resources, timedelta(minutes=20))
    assert (result.accepted, result.logged, result.in_dlq, result.unparseable) == (2, 1, 1, 1)
    assert result.lost == ["req-4"]


def test_the_cli_exits_1_when_a_delivery_is_lost(aws: AwsEnv, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from moderato_cli.main import main

    monkeypatch.setattr(StackResources, "from_args",
                        classmethod(lambda cls, args: cls(True, "moderato-local", {"region_name": REGION})))
    access_logged(aws, "req-5")
    assert main(["reconcile", "--local", "--lost"]) == 1
    output = capsys.readouterr().out
    assert "lost               1" in output and "req-5" in output
    assert f"1 answered 200 on POST /webhooks/{{platform}} in the access log ({ACCESS_LOG_GROUP}" in output
    with pytest.raises(SystemExit):
        main(["reconcile", "--help"])
    assert "access log" in capsys.readouterr().out
    assert main(["dlq", "list", "--local"]) == 0
    assert "IngestDLQ" in capsys.readouterr().out

"""``moderato dlq list|show|redrive``: what waits in the dead-letter queues, why, and sending it back.

``show`` peeks: messages are received with a short visibility timeout and made visible again at once,
so the queue keeps them. Every peek (``show``, ``reconcile``) adds one to SQS's receive count, so a
delivery's attempts are read from the ledger (what triage recorded at its last failure); SQS's count
is shown only without one, as the receives before this look, inspections included. The ledger's entry
of a delivery is triage's alone (its failure record, or a batch outcome when another copy was
triaged): acceptance is witnessed by the access log, not here, so no "accepted" item is needed.

``redrive`` sends each message back to the queue it came from and only then
deletes it from the DLQ: a crash in between leaves a duplicate (triage drops it), never a loss. A
function's DLQ (an on-failure destination) is redriven by invoking the function again asynchronously.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from moderato.adapters.delivery_ledger import DeliveryLedger
from moderato.models import Delivery
from moderato_cli.stack_resources import DeadLetterQueue, StackResources, add_target_arguments

PEEK_VISIBILITY_SECONDS = 30
LEDGER_TABLE = "DeliveryLedgerTable"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dlq", help="list, inspect and redrive the dead-letter queues",
                                   description=__doc__)
    actions = parser.add_subparsers(dest="dlq_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every DLQ, where its messages came from, how many wait")
    show = actions.add_parser("show", help="the messages of one DLQ and why each failed")
    show.add_argument("queue", help="the DLQ's logical id (IngestDLQ, AlertsDLQ, ...)")
    show.add_argument("--limit", type=int, default=20, help="at most this many messages (default %(default)s)")
    redrive = actions.add_parser("redrive", help="send a DLQ's messages back where they came from, after a fix")
    redrive.add_argument("queue", help="the DLQ's logical id")
    redrive.add_argument("--max", type=int, default=1000, help="at most this many messages (default %(default)s)")
    for sub in (listing, show, redrive):
        add_target_arguments(sub)
    parser.set_defaults(func=run)


@dataclass
class Peeked:
    message_id: str
    receive_count: int  # SQS's ApproximateReceiveCount, this peek's own receive included
    body: str
    attributes: dict[str, Any]

    @property
    def receives_before(self) -> int:
        """Receives before this peek: by the consumer, and by earlier peeks (SQS cannot tell them apart)."""
        return max(0, self.receive_count - 1)


def _receives(message: Peeked) -> str:
    return f"received {message.receives_before}x before this look (earlier dlq show/reconcile peeks included)"


def peek(sqs: Any, queue_url: str, limit: int) -> list[Peeked]:
    """Up to ``limit`` messages, left in the queue (visible again when this returns)."""
    seen: dict[str, Peeked] = {}
    handles: list[str] = []
    try:
        while len(seen) < limit:
            batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=min(10, limit - len(seen)),
                                        VisibilityTimeout=PEEK_VISIBILITY_SECONDS, WaitTimeSeconds=0,
                                        AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages") or []
            if not batch:
                break
            for message in batch:
                handles.append(message["ReceiptHandle"])
                seen[message["MessageId"]] = Peeked(
                    message["MessageId"], int(message["Attributes"].get("ApproximateReceiveCount", 0)),
                    message["Body"], message.get("MessageAttributes") or {})
    finally:
        for start in range(0, len(handles), 10):
            sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for index, handle in enumerate(handles[start:start + 10])])
    return list(seen.values())


def delivery_ids(sqs: Any, queue_url: str, limit: int = 100_000) -> set[str]:
    """The delivery ids (webhook request ids) of the deliveries waiting in an IngestQueue DLQ."""
    found: set[str] = set()
    for message in peek(sqs, queue_url, limit):
        delivery = parse_delivery(message.body)
        if delivery is not None:
            found.add(delivery.request_id)
    return found


def parse_delivery(body: str) -> Delivery | None:
    try:
        return Delivery.model_validate_json(body)
    except ValueError:
        return None


def describe(message: Peeked, ledger: dict[str, dict[str, Any]]) -> str:
    """One line: which delivery or invocation, and why it failed as far as anything recorded it."""
    delivery = parse_delivery(message.body)
    if delivery is not None:
        entry = ledger.get(delivery.request_id) or {}
        why = entry.get("last_error") or "no error recorded (crash or timeout before triage could say)"
        tried = (f"triage's last recorded failure was attempt {int(entry['receive_count'])}"
                 if entry.get("receive_count") else _receives(message))
        return (f"{message.message_id}  delivery {delivery.request_id} from {delivery.platform} at "
                f"{delivery.received_at:%Y-%m-%d %H:%M:%S}  {tried}  "
                f"state {entry.get('state', 'unknown')}: {why}")
    try:
        record = json.loads(message.body)
    except ValueError:
        record = {}
    context = record.get("requestContext") if isinstance(record, dict) else None
    if isinstance(context, dict):
        response = record.get("responsePayload") or {}
        error = (f"{response.get('errorType', '')}: {response.get('errorMessage', '')}"
                 if isinstance(response, dict) else str(response))
        return (f"{message.message_id}  invocation of {context.get('functionArn', '?')} "
                f"({context.get('condition', '?')}, {context.get('approximateInvokeCount', '?')} attempts): {error}")
    return f"{message.message_id}  {_receives(message)}: {message.body[:160]}"


def redrive(resources: StackResources, dlq: DeadLetterQueue, limit: int) -> int:
    sqs = resources.client("sqs")
    dlq_url = resources.physical_id(dlq.logical_id)
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=min(10, limit - moved),
                                    VisibilityTimeout=PEEK_VISIBILITY_SECONDS, WaitTimeSeconds=0,
                                    MessageAttributeNames=["All"]).get("Messages") or []
        if not batch:
            break
        for message in batch:
            _send_back(resources, dlq, message)
            # Deleted only once it is back where it came from: at worst a duplicate, never a loss.
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def _send_back(resources: StackResources, dlq: DeadLetterQueue, message: dict[str, Any]) -> None:
    if dlq.source_is_function:
        record = json.loads(message["Body"])
        resources.client("lambda").invoke(FunctionName=resources.physical_id(dlq.source), InvocationType="Event",
                                          Payload=json.dumps(record.get("requestPayload", {})).encode())
        return
    attributes = {name: {key: value for key, value in attribute.items() if key in ("DataType", "StringValue")}
                  for name, attribute in (message.get("MessageAttributes") or {}).items()}
    resources.client("sqs").send_message(QueueUrl=resources.physical_id(dlq.source), MessageBody=message["Body"],
                                         MessageAttributes=attributes)


def _ledger_entries(resources: StackResources) -> dict[str, dict[str, Any]]:
    try:
        ledger = DeliveryLedger(resources.physical_id(LEDGER_TABLE), resources.client("dynamodb"))
        return {entry["delivery_id"]: entry for entry in ledger.entries()}
    except ClientError:
        return {}  # an older stack without the ledger: show the messages anyway


def run(args: argparse.Namespace) -> int:
    resources = StackResources.from_args(args)
    queues = resources.dead_letter_queues()
    name = getattr(args, "queue", None)
    if name is not None and name not in queues:
        print(f"dlq: no DLQ named {name}; the template has {', '.join(queues)}", file=sys.stderr)
        return 2
    try:
        if args.dlq_action == "list":
            sqs = resources.client("sqs")
            for dlq in queues.values():
                depth = sqs.get_queue_attributes(QueueUrl=resources.physical_id(dlq.logical_id),
                                                 AttributeNames=["ApproximateNumberOfMessages"])
                kind = "function" if dlq.source_is_function else "queue"
                print(f"{dlq.logical_id:<14} {depth['Attributes']['ApproximateNumberOfMessages']:>6} waiting  "
                      f"from {kind} {dlq.source}")
        elif args.dlq_action == "show":
            dlq = queues[name]
            messages = peek(resources.client("sqs"), resources.physical_id(dlq.logical_id), args.limit)
            ledger = _ledger_entries(resources) if messages and not dlq.source_is_function else {}
            print(f"{dlq.logical_id}: {len(messages)} message(s) shown, from {dlq.source}")
            for message in messages:
                print(describe(message, ledger))
        else:
            dlq = queues[name]
            moved = redrive(resources, dlq, args.max)
            print(f"{dlq.logical_id}: {moved} message(s) sent back to {dlq.source}")
    except (ClientError, BotoCoreError) as error:
        print(f"dlq: {resources.where}: {error}", file=sys.stderr)
        return 1
    return 0

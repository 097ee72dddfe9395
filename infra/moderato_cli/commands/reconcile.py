"""``moderato reconcile``: every accepted delivery is a case, a delivery without posts, or in IngestDLQ.

*Accepted* is read from API Gateway's access log (the HttpApiAccessLogs log group): every line of a
POST on the webhook route (``POST /webhooks/{platform}``) answered 200 over the last ``--days`` (default
15, the ledger's retention), through CloudWatch Logs FilterLogEvents; its ``requestId`` is the
delivery's id, the one the webhook puts in the queued delivery. That witness is written by API Gateway,
not by our code. It is joined with the delivery ledger (what triage made of each delivery, or why it
failed), the delivery ids waiting in IngestDLQ and the cases the ledger names. A ledger entry with no
access-log line (older than the window, or accepted before the access log was the witness) still
counts as accepted. A delivery is *lost* when none of these accounts for it once the grace period is
over (SQS retries and backoff take a while; the access-log line's time is its receipt), or when the
case its entry names does not exist. Exit status 1 when anything is lost.

Needs logs:FilterLogEvents on the access-log group, dynamodb:Scan on the ledger, dynamodb:BatchGetItem
on CasesTable and sqs:ReceiveMessage / ChangeMessageVisibility on IngestDLQ.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from moderato.adapters.case_store import case_key
from moderato.adapters.delivery_ledger import LEDGER_RETENTION, SETTLED, DeliveryLedger, DeliveryState
from moderato_cli.commands.dlq import LEDGER_TABLE, delivery_ids
from moderato_cli.stack_resources import StackResources, add_target_arguments

# IngestQueue's visibility timeout (200 s) times maxReceiveCount (5), rounded up: by then a delivery
# is triaged or in IngestDLQ.
DEFAULT_GRACE = timedelta(minutes=20)
ACCESS_LOG_GROUP = "HttpApiAccessLogs"  # the template's log group for the HTTP API's access log
WEBHOOK_ROUTE_KEY = "POST /webhooks/{platform}"  # the webhook's route that accepts deliveries
# The window of access log read: the ledger's retention, so every line still has its ledger outcome.
DEFAULT_DAYS = LEDGER_RETENTION.days


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("reconcile", help="prove every delivery the API accepted (its access log) "
                                   "became a case or waits in the DLQ", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_target_arguments(parser)
    parser.add_argument("--grace-minutes", type=float, default=DEFAULT_GRACE.total_seconds() / 60,
                        help="deliveries younger than this still count as pending (default %(default)g)")
    parser.add_argument("--days", type=float, default=DEFAULT_DAYS,
                        help=f"accepted deliveries are the {WEBHOOK_ROUTE_KEY} lines answered 200 in the "
                             f"{ACCESS_LOG_GROUP} access log over this many days (default %(default)g: the "
                             "ledger's retention)")
    parser.add_argument("--lost", action="store_true", help="also list the lost delivery ids")
    parser.set_defaults(func=run)


@dataclass
class Reconciliation:
    accepted: int = 0  # the access log's deliveries, and ledger entries without an access-log line
    logged: int = 0  # of which in the access log
    days: float = DEFAULT_DAYS
    cases: int = 0
    no_posts: int = 0
    unparseable: int = 0
    in_dlq: int = 0
    pending: int = 0
    lost: list[str] = field(default_factory=list)
    dlq_errors: Counter[str] = field(default_factory=Counter)  # the last error triage recorded, per DLQ entry

    def lines(self) -> list[str]:
        return [f"accepted     {self.accepted:>7}  deliveries: {self.logged} answered 200 on {WEBHOOK_ROUTE_KEY} "
                f"in the access log ({ACCESS_LOG_GROUP}, last {self.days:g} days), "
                f"{self.accepted - self.logged} known only to the ledger",
                f"cases        {self.cases:>7}  distinct cases their posts became (a redelivery adds none)",
                f"no posts     {self.no_posts:>7}  deliveries with nothing to triage (reactions, own posts)",
                f"unparseable  {self.unparseable:>7}  refused by the parser (counted again in DLQ or pending)",
                f"in DLQ       {self.in_dlq:>7}  waiting in IngestDLQ for a fix and `moderato dlq redrive`",
                f"pending      {self.pending:>7}  younger than the grace period, still being retried",
                f"lost         {len(self.lost):>7}",
                *(f"  DLQ {count}x  {error}" for error, count in self.dlq_errors.most_common(5))]


def reconcile(entries: Iterable[dict[str, Any]], in_dlq: set[str], existing_cases: set[str], now: datetime,
              grace: timedelta, accepted: Mapping[str, datetime] | None = None) -> Reconciliation:
    """Pure: relate the accepted deliveries (the access log's request ids and times) and the ledger's
    entries to the DLQ's delivery ids and to the cases that exist."""
    accepted = accepted or {}
    ledger = {str(entry["delivery_id"]): entry for entry in entries}
    result = Reconciliation(logged=len(accepted))
    case_ids: set[str] = set()
    # Ledger order first (as before), then the access log's deliveries the ledger has never heard of.
    for delivery_id in [*ledger, *sorted(accepted.keys() - ledger.keys())]:
        entry = ledger.get(delivery_id) or {"delivery_id": delivery_id}
        result.accepted += 1
        state = entry.get("state")
        named = set(entry.get("case_ids") or [])
        case_ids |= named
        if state == DeliveryState.UNPARSEABLE:
            result.unparseable += 1
        if state in SETTLED and named <= existing_cases:
            result.no_posts += state == DeliveryState.NO_POSTS
        elif delivery_id in in_dlq:
            result.in_dlq += 1
            result.dlq_errors[str(entry.get("last_error") or "no error recorded (a crash or a timeout)")[:120]] += 1
        elif state not in SETTLED and now - accepted.get(delivery_id, _received(entry)) < grace:
            result.pending += 1
        else:
            result.lost.append(delivery_id)
    result.cases = len(case_ids & existing_cases)
    return result


def _received(entry: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(entry["received_at"])
    except (KeyError, ValueError):
        return datetime.min.replace(tzinfo=UTC)


def existing_case_ids(dynamodb: Any, table: str, case_ids: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(case_ids)
    for start in range(0, len(ordered), 100):
        request: dict[str, Any] = {table: {"Keys": [case_key(case_id) for case_id in ordered[start:start + 100]],
                                           "ProjectionExpression": "pk", "ConsistentRead": True}}
        while request:
            response = dynamodb.batch_get_item(RequestItems=request)
            found |= {item["pk"]["S"].removeprefix("CASE#") for item in response["Responses"].get(table, [])}
            request = response.get("UnprocessedKeys") or {}
    return found


def accepted_filter_pattern(route_key: str = WEBHOOK_ROUTE_KEY) -> str:
    """CloudWatch Logs' JSON filter for the access-log lines of deliveries the webhook accepted. The
    template's Format writes every value as a JSON string, status too: compared as strings."""
    method = route_key.split(" ", 1)[0]
    return (f'{{ ($.method = "{method}") && ($.routeKey = "{route_key}") && ($.status = "200") }}')


def _accepted_line(message: str, route_key: str) -> str | None:
    """The request id of an accepted delivery's access-log line, else None."""
    try:
        line = json.loads(message)
    except ValueError:
        return None
    if not isinstance(line, dict):
        return None
    method = route_key.split(" ", 1)[0]
    if (str(line.get("method")), str(line.get("routeKey")), str(line.get("status"))) != (method, route_key, "200"):
        return None
    request_id = line.get("requestId")
    return str(request_id) if request_id and request_id != "-" else None


def accepted_deliveries(logs: Any, group: str, since: datetime, until: datetime,
                        route_key: str = WEBHOOK_ROUTE_KEY, page_size: int | None = None) -> dict[str, datetime]:
    """The request ids of the deliveries answered 200 on ``route_key`` between ``since`` and ``until``,
    with the time of their access-log line: FilterLogEvents, every page of it.

    The filter pattern keeps the transfer to those lines; each line is checked again here, as the
    pattern is evaluated by the service (moto, for one, ignores JSON patterns)."""
    paging: dict[str, int] = {"PageSize": page_size} if page_size else {}
    found: dict[str, datetime] = {}
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, startTime=int(since.timestamp() * 1000), endTime=int(until.timestamp() * 1000),
        filterPattern=accepted_filter_pattern(route_key), PaginationConfig=paging)
    for page in pages:
        for event in page.get("events", []):
            request_id = _accepted_line(event.get("message", ""), route_key)
            if request_id is None:
                continue
            at = datetime.fromtimestamp(int(event["timestamp"]) / 1000, UTC)
            found[request_id] = min(at, found.get(request_id, at))
    return found


@dataclass
class Evidence:
    """What reconcile joins, as read from a stack."""

    accepted: dict[str, datetime]  # the access log: request id -> time of its line
    entries: list[dict[str, Any]]  # the delivery ledger, batch outcomes folded in
    in_dlq: set[str]
    existing_cases: set[str]
    read_at: datetime
    days: float = DEFAULT_DAYS

    def reconcile(self, grace: timedelta) -> Reconciliation:
        result = reconcile(self.entries, self.in_dlq, self.existing_cases, self.read_at, grace, self.accepted)
        result.days = self.days
        return result

    def received(self, delivery_id: str, entry: dict[str, Any] | None = None) -> datetime | None:
        """When the delivery was received: its access-log line, else what the ledger recorded."""
        if delivery_id in self.accepted:
            return self.accepted[delivery_id]
        received = _received(entry or {})
        return None if received == datetime.min.replace(tzinfo=UTC) else received


def gather(resources: StackResources, days: float = DEFAULT_DAYS) -> Evidence:
    now = datetime.now(UTC)
    # The access log first: a delivery accepted while the rest is read has its outcome or its
    # failure recorded by the time the ledger is scanned, or counts as pending.
    accepted = accepted_deliveries(resources.client("logs"), resources.physical_id(ACCESS_LOG_GROUP),
                                   now - timedelta(days=days), now)
    dynamodb = resources.client("dynamodb")
    entries = DeliveryLedger(resources.physical_id(LEDGER_TABLE), dynamodb).entries()
    named = {case_id for entry in entries for case_id in entry.get("case_ids") or []}
    existing = existing_case_ids(dynamodb, resources.physical_id("CasesTable"), named)
    in_dlq = delivery_ids(resources.client("sqs"), resources.physical_id("IngestDLQ"))
    return Evidence(accepted, entries, in_dlq, existing, now, days)


def reconcile_stack(resources: StackResources, grace: timedelta, days: float = DEFAULT_DAYS) -> Reconciliation:
    return gather(resources, days).reconcile(grace)


def run(args: argparse.Namespace) -> int:
    resources = StackResources.from_args(args)
    try:
        result = reconcile_stack(resources, timedelta(minutes=args.grace_minutes), args.days)
    except (ClientError, BotoCoreError) as error:
        print(f"reconcile: {resources.where}: {error}", file=sys.stderr)
        return 2
    print("\n".join(result.lines()))
    if args.lost and result.lost:
        print("lost deliveries: " + ", ".join(sorted(result.lost)))
    return 1 if result.lost else 0

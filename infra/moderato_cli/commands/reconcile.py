"""``moderato reconcile``: every accepted delivery is a case, a delivery without posts, or in IngestDLQ.

Reads the delivery ledger (what the webhook accepted and what triage made of it), the delivery ids
waiting in IngestDLQ and the cases those entries name. A delivery is *lost* when none of these
accounts for it once the grace period is over (SQS retries and backoff take a while), or when the
case its entry names does not exist. Exit status 1 when anything is lost.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from moderato.adapters.case_store import case_key
from moderato.adapters.delivery_ledger import SETTLED, DeliveryLedger, DeliveryState
from moderato_cli.commands.dlq import LEDGER_TABLE, delivery_ids
from moderato_cli.stack_resources import StackResources, add_target_arguments

# IngestQueue's visibility timeout (200 s) times maxReceiveCount (5), rounded up: by then a delivery
# is triaged or in IngestDLQ.
DEFAULT_GRACE = timedelta(minutes=20)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("reconcile", help="prove every accepted delivery became a case or waits in the DLQ",
                                   description=__doc__)
    add_target_arguments(parser)
    parser.add_argument("--grace-minutes", type=float, default=DEFAULT_GRACE.total_seconds() / 60,
                        help="deliveries younger than this still count as pending (default %(default)g)")
    parser.add_argument("--lost", action="store_true", help="also list the lost delivery ids")
    parser.set_defaults(func=run)


@dataclass
class Reconciliation:
    accepted: int = 0
    cases: int = 0
    no_posts: int = 0
    unparseable: int = 0
    in_dlq: int = 0
    pending: int = 0
    lost: list[str] = field(default_factory=list)
    dlq_errors: Counter[str] = field(default_factory=Counter)  # the last error triage recorded, per DLQ entry

    def lines(self) -> list[str]:
        return [f"accepted     {self.accepted:>7}  deliveries the webhook enqueued",
                f"cases        {self.cases:>7}  distinct cases their posts became (a redelivery adds none)",
                f"no posts     {self.no_posts:>7}  deliveries with nothing to triage (reactions, own posts)",
                f"unparseable  {self.unparseable:>7}  refused by the parser (counted again in DLQ or pending)",
                f"in DLQ       {self.in_dlq:>7}  waiting in IngestDLQ for a fix and `moderato dlq redrive`",
                f"pending      {self.pending:>7}  younger than the grace period, still being retried",
                f"lost         {len(self.lost):>7}",
                *(f"  DLQ {count}x  {error}" for error, count in self.dlq_errors.most_common(5))]


def reconcile(entries: Iterable[dict[str, Any]], in_dlq: set[str], existing_cases: set[str], now: datetime,
              grace: timedelta) -> Reconciliation:
    """Pure: relate ledger entries to the DLQ's delivery ids and to the cases that exist."""
    result = Reconciliation()
    case_ids: set[str] = set()
    for entry in entries:
        result.accepted += 1
        delivery_id = entry["delivery_id"]
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
        elif state not in SETTLED and now - _received(entry) < grace:
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


def reconcile_stack(resources: StackResources, grace: timedelta) -> Reconciliation:
    dynamodb = resources.client("dynamodb")
    entries = DeliveryLedger(resources.physical_id(LEDGER_TABLE), dynamodb).entries()
    named = {case_id for entry in entries for case_id in entry.get("case_ids") or []}
    existing = existing_case_ids(dynamodb, resources.physical_id("CasesTable"), named)
    in_dlq = delivery_ids(resources.client("sqs"), resources.physical_id("IngestDLQ"))
    return reconcile(entries, in_dlq, existing, datetime.now(UTC), grace)


def run(args: argparse.Namespace) -> int:
    resources = StackResources.from_args(args)
    try:
        result = reconcile_stack(resources, timedelta(minutes=args.grace_minutes))
    except (ClientError, BotoCoreError) as error:
        print(f"reconcile: {resources.where}: {error}", file=sys.stderr)
        return 2
    print("\n".join(result.lines()))
    if args.lost and result.lost:
        print("lost deliveries: " + ", ".join(sorted(result.lost)))
    return 1 if result.lost else 0

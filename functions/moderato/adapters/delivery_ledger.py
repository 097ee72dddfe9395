"""DeliveryLedgerTable: what became of each accepted delivery, so `moderato reconcile` can prove none was lost.

That a delivery was accepted is witnessed by API Gateway's access log: one line per request, with the
``requestId`` the webhook makes the delivery's ``request_id`` (it survives a redrive from IngestDLQ,
where the SQS message id does not). The webhook writes nothing here, so acceptance costs no write
unit. Triage records what became of each delivery: what the deliveries of an SQS batch became (the case
ids, or "no posts") is one item per batch (``triaged_batch``, key ``batch#...``: DynamoDB bills a write
unit per item, so ten outcomes in one small item cost a tenth of ten updates), and a failure is one
item per delivery (``failed``: the error SQS will retry, or why it went to IngestDLQ). ``entries``
folds the batch items into the deliveries' entries, so readers (reconcile, ``moderato dlq``) see one
entry per delivery. Items expire by TTL after IngestDLQ's retention. Entries in state ``accepted`` were
written by the webhook before the access log took over; ``accepted`` still writes one (tests, tools).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from moderato.adapters.aws import conditional_failed

# Past IngestDLQ's 14-day retention: a delivery waiting there for a redrive still has its entry.
LEDGER_RETENTION = timedelta(days=15)
_ERROR_CHARS = 500


class DeliveryState(StrEnum):
    ACCEPTED = "accepted"  # enqueued by the webhook, not yet triaged
    TRIAGED = "triaged"  # every post became (or already was) a case
    NO_POSTS = "no_posts"  # nothing to triage in it (reactions, the brand's own posts, edits we skip)
    UNPARSEABLE = "unparseable"  # the parser refused it: retried, then kept in IngestDLQ until a fix
    FAILED = "failed"  # an error (AWS, a bug): retried, then kept in IngestDLQ


# States that say triage is done with the delivery.
SETTLED = frozenset({DeliveryState.TRIAGED, DeliveryState.NO_POSTS})
BATCH_PREFIX = "batch#"


class Outcome(NamedTuple):
    """What triage made of one delivery: the cases its posts are (none: it held no post to triage)."""

    delivery_id: str
    case_ids: list[str]


class DeliveryLedger:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._dynamodb = dynamodb

    def accepted(self, delivery_id: str, platform: str, received_at: datetime) -> None:
        """The webhook's record: created only if triage has not written the item already."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={**self._identity(delivery_id, platform, received_at),
                      "state": {"S": DeliveryState.ACCEPTED.value}},
                ConditionExpression="attribute_not_exists(delivery_id)",
            )
        except ClientError as error:
            if not conditional_failed(error):
                raise

    def triaged_batch(self, outcomes: list[Outcome], at: datetime) -> None:
        """The outcomes of the deliveries an SQS batch finished, in one item (see the module docstring)."""
        if not outcomes:
            return
        self._dynamodb.put_item(TableName=self._table, Item={
            "delivery_id": {"S": f"{BATCH_PREFIX}{at.isoformat()}#{uuid.uuid4().hex[:12]}"},
            "outcome_at": {"S": at.isoformat()},
            # "<delivery id>|<case id>,<case id>": compact, and a delivery id never holds "|".
            "outcomes": {"L": [{"S": f"{o.delivery_id}|{','.join(sorted(set(o.case_ids)))}"} for o in outcomes]},
            "expires_at": {"N": str(int((at + LEDGER_RETENTION).timestamp()))},
        })

    def note_case_ids(self, delivery_id: str, platform: str, received_at: datetime, case_ids: list[str]) -> None:
        """Add the cases a delivery's good posts became, its outcome unchanged: a delivery with one bad update
        is still failed (unparseable), but reconcile counts the cases its good posts already are."""
        if not case_ids:
            return
        values = {**self._first_values(platform, received_at), ":case_ids": {"SS": sorted(set(case_ids))}}
        self._dynamodb.update_item(TableName=self._table, Key={"delivery_id": {"S": delivery_id}},
                                   UpdateExpression=f"SET {self._first_assignments()} ADD case_ids :case_ids",
                                   ExpressionAttributeValues=values)

    def failed(self, delivery_id: str, platform: str, received_at: datetime, error: str, unparseable: bool,
               receive_count: int, at: datetime) -> None:
        """Record why triage failed. A late duplicate's failure is no news: a batch item's outcome wins when
        ``entries`` folds it in, and an entry settled in its own item (written before batch items) is kept."""
        state = DeliveryState.UNPARSEABLE if unparseable else DeliveryState.FAILED
        values = {**self._first_values(platform, received_at), ":state": {"S": state.value},
                  ":error": {"S": error[:_ERROR_CHARS]}, ":count": {"N": str(receive_count)},
                  ":at": {"S": at.isoformat()},
                  **{f":settled{index}": {"S": s.value} for index, s in enumerate(sorted(SETTLED))}}
        unsettled = " AND ".join(f"#state <> :settled{index}" for index in range(len(SETTLED)))
        try:
            self._dynamodb.update_item(
                TableName=self._table, Key={"delivery_id": {"S": delivery_id}},
                UpdateExpression=(f"SET {self._first_assignments()}, #state = :state, last_error = :error, "
                                  "receive_count = :count, failed_at = :at"),
                ConditionExpression=f"attribute_not_exists(#state) OR ({unsettled})",
                ExpressionAttributeNames={"#state": "state"}, ExpressionAttributeValues=values,
            )
        except ClientError as error_:
            if not conditional_failed(error_):
                raise

    def entries(self) -> list[dict[str, Any]]:
        """Every delivery's entry, as plain values, with the outcomes of batch items folded in (operators'
        reconcile; no function is granted Scan)."""
        found: dict[str, dict[str, Any]] = {}
        batches: list[dict[str, Any]] = []
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=self._table, ConsistentRead=True):
            for item in page.get("Items", []):
                plain = _plain(item)
                if str(plain["delivery_id"]).startswith(BATCH_PREFIX):
                    batches.append(plain)
                else:
                    found[plain["delivery_id"]] = plain
        for batch in batches:
            for outcome in batch.get("outcomes", []):
                delivery_id, _, cases = str(outcome).partition("|")
                entry = found.setdefault(delivery_id, {"delivery_id": delivery_id})
                case_ids = sorted(set(entry.get("case_ids") or []) | {c for c in cases.split(",") if c})
                entry.update(state=(DeliveryState.TRIAGED if case_ids else DeliveryState.NO_POSTS).value,
                             outcome_at=batch.get("outcome_at"))
                entry.pop("last_error", None)
                if case_ids:
                    entry["case_ids"] = case_ids
        return list(found.values())

    @staticmethod
    def _identity(delivery_id: str, platform: str, received_at: datetime) -> dict[str, Any]:
        return {"delivery_id": {"S": delivery_id}, "platform": {"S": platform},
                "received_at": {"S": received_at.isoformat()},
                "expires_at": {"N": str(int((received_at + LEDGER_RETENTION).timestamp()))}}

    @staticmethod
    def _first_values(platform: str, received_at: datetime) -> dict[str, Any]:
        return {":platform": {"S": platform}, ":received_at": {"S": received_at.isoformat()},
                ":expires_at": {"N": str(int((received_at + LEDGER_RETENTION).timestamp()))}}

    @staticmethod
    def _first_assignments() -> str:
        # Whichever writer comes first sets these; the webhook's values and triage's are the same.
        return ("platform = if_not_exists(platform, :platform), "
                "received_at = if_not_exists(received_at, :received_at), "
                "expires_at = if_not_exists(expires_at, :expires_at)")


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for key, typed in item.items():
        [(kind, value)] = typed.items()
        plain[key] = (sorted(value) if kind == "SS" else int(value) if kind == "N"
                      else [next(iter(v.values())) for v in value] if kind == "L" else value)
    return plain

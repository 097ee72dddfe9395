"""DeliveryLedgerTable: what became of each accepted delivery, so `moderato reconcile` can prove none was lost.

One item per delivery, keyed on the ``request_id`` the webhook puts in the ``Delivery`` it enqueues (it
survives a redrive from IngestDLQ, where the SQS message id does not). The webhook records that it
accepted the delivery; triage records the outcome: the case ids its posts became, "no posts", or the
failure SQS will retry and IngestDLQ will keep. Items expire by TTL after IngestDLQ's retention.

Either writer may come first (triage can finish before the webhook's write lands), so neither
overwrites the other: the webhook only creates the item, triage fills it in and creates it if missing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from moderato.adapters.aws import conditional_failed

# Past IngestDLQ's 14-day retention: a delivery waiting there for a redrive still has its entry.
LEDGER_RETENTION = timedelta(days=15)
_ERROR_CHARS = 500
logger = Logger(child=True)  # the handler's logger, with its Lambda context


class DeliveryState(StrEnum):
    ACCEPTED = "accepted"  # enqueued by the webhook, not yet triaged
    TRIAGED = "triaged"  # every post became (or already was) a case
    NO_POSTS = "no_posts"  # nothing to triage in it (reactions, the brand's own posts, edits we skip)
    UNPARSEABLE = "unparseable"  # the parser refused it: retried, then kept in IngestDLQ until a fix
    FAILED = "failed"  # an error (AWS, a bug): retried, then kept in IngestDLQ


# States that say triage is done with the delivery.
SETTLED = frozenset({DeliveryState.TRIAGED, DeliveryState.NO_POSTS})


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

    def note_accepted(self, delivery_id: str, platform: str, received_at: datetime) -> bool:
        """``accepted`` that logs and answers False instead of raising: the webhook's 200 must not depend on it."""
        try:
            self.accepted(delivery_id, platform, received_at)
        except (ClientError, BotoCoreError) as error:
            logger.warning("delivery ledger write failed; triage will create the entry",
                           extra={"delivery_id": delivery_id, "error": type(error).__name__})
            return False
        return True

    def triaged(self, delivery_id: str, platform: str, received_at: datetime, case_ids: list[str],
                at: datetime) -> None:
        state = DeliveryState.TRIAGED if case_ids else DeliveryState.NO_POSTS
        names = {"#state": "state"}
        values: dict[str, Any] = {**self._first_values(platform, received_at),
                                  ":state": {"S": state.value}, ":at": {"S": at.isoformat()}}
        expression = (f"SET {self._first_assignments()}, #state = :state, outcome_at = :at "
                      "REMOVE last_error")
        if case_ids:
            expression += " ADD case_ids :case_ids"
            values[":case_ids"] = {"SS": sorted(set(case_ids))}
        self._dynamodb.update_item(TableName=self._table, Key={"delivery_id": {"S": delivery_id}},
                                   UpdateExpression=expression, ExpressionAttributeNames=names,
                                   ExpressionAttributeValues=values)

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
        """Record why triage failed; never over a settled outcome (a late duplicate's failure is no news)."""
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
        """Every entry, as plain values (operators' reconcile; no function is granted Scan)."""
        found: list[dict[str, Any]] = []
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=self._table, ConsistentRead=True):
            found.extend(_plain(item) for item in page.get("Items", []))
        return found

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
        plain[key] = sorted(value) if kind == "SS" else int(value) if kind == "N" else value
    return plain

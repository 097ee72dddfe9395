"""RoutedMarkers: that a case's queue message was sent, one small item per case in SignalsTable.

| item          | pk                | sk      | attributes              |
|---------------|-------------------|---------|-------------------------|
| routed marker | ROUTED#<case id>  | ROUTED  | routed_at, expires_at   |

Why not on the case: rewriting the ~2 KB case (and once its index copies) to add one timestamp cost
more than the case write itself. Why not in CasesTable: markers of a whole batch are written with one
BatchWriteItem, and no function may BatchWriteItem on CasesTable (a batch write can delete). The
signals table holds what triage remembers for a while, all of it expiring: a marker outlives Meta's
36-hour retries and IngestDLQ's 14 days, then expires; a redelivery after that would send the case's
message once more, never create a second case.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

ROUTED_SK = "ROUTED"
RETENTION_SECONDS = 30 * 24 * 3600
_BATCH_GET = 100
_BATCH_WRITE = 25
_ATTEMPTS = 5


def _key(case_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ROUTED#{case_id}"}, "sk": {"S": ROUTED_SK}}


class RoutedMarkers:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._db = dynamodb

    def routed(self, case_ids: list[str]) -> set[str]:
        """The ids among these whose message was sent (consistent reads: a retry must see its own marker)."""
        found: set[str] = set()
        unique = sorted(set(case_ids))
        for start in range(0, len(unique), _BATCH_GET):
            request: dict[str, Any] = {self._table: {
                "Keys": [_key(case_id) for case_id in unique[start:start + _BATCH_GET]],
                "ConsistentRead": True, "ProjectionExpression": "pk"}}
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                found.update(item["pk"]["S"].removeprefix("ROUTED#")
                             for item in response.get("Responses", {}).get(self._table, []))
                request = response.get("UnprocessedKeys") or {}
        return found

    def record(self, case_ids: list[str], at: datetime) -> None:
        """One marker per case, in BatchWriteItem calls of 25 (items DynamoDB hands back are retried)."""
        expires = str(int(at.timestamp()) + RETENTION_SECONDS)
        routed_at = at.astimezone(UTC).isoformat()
        requests = [{"PutRequest": {"Item": {**_key(case_id), "routed_at": {"S": routed_at},
                                             "expires_at": {"N": expires}}}} for case_id in sorted(set(case_ids))]
        for start in range(0, len(requests), _BATCH_WRITE):
            pending = requests[start:start + _BATCH_WRITE]
            for attempt in range(_ATTEMPTS):
                response = self._db.batch_write_item(RequestItems={self._table: pending})
                pending = response.get("UnprocessedItems", {}).get(self._table, [])
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            if pending:
                raise RuntimeError(f"signals table kept {len(pending)} routed markers unprocessed")

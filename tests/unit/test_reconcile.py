"""reconcile(): every ledger entry is a case, a delivery without posts, in IngestDLQ, pending, or lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from moderato_cli.commands.reconcile import reconcile

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
GRACE = timedelta(minutes=20)


def entry(delivery_id: str, state: str, age_minutes: float = 60, **extra: Any) -> dict[str, Any]:
    return {"delivery_id": delivery_id, "platform": "meta", "state": state,
            "received_at": (NOW - timedelta(minutes=age_minutes)).isoformat(), **extra}


def test_triaged_deliveries_and_their_distinct_cases_are_accounted_for() -> None:
    # A redelivery of the same comment names the same case: two deliveries, one case
    entries = [entry("r1", "triaged", case_ids=["facebook-a"]), entry("r2", "triaged", case_ids=["facebook-a"]),
               entry("r3", "triaged", case_ids=["x-b", "x-c"]), entry("r4", "no_posts")]
    result = reconcile(entries, set(), {"facebook-a", "x-b", "x-c"}, NOW, GRACE)
    assert (result.accepted, result.cases, result.no_posts, result.in_dlq, result.lost) == (4, 3, 1, 0, [])


def test_a_case_named_by_the_ledger_but_missing_from_the_table_is_lost() -> None:
    result = reconcile([entry("r1", "triaged", case_ids=["facebook-a"])], set(), set(), NOW, GRACE)
    assert result.lost == ["r1"] and result.cases == 0


def test_an_accepted_delivery_nobody_triaged_is_pending_then_lost() -> None:
    young = entry("young", "accepted", age_minutes=2)
    old = entry("old", "accepted", age_minutes=45)
    result = reconcile([young, old], set(), set(), NOW, GRACE)
    assert result.pending == 1 and result.lost == ["old"]


def test_deliveries_waiting_in_the_dlq_are_not_lost_and_say_why() -> None:
    unparseable = entry("r1", "unparseable", last_error="UnparseableDelivery: not JSON")
    crashed = entry("r2", "accepted")
    result = reconcile([unparseable, crashed], {"r1", "r2"}, set(), NOW, GRACE)
    assert result.in_dlq == 2 and result.unparseable == 1 and result.lost == []
    assert result.dlq_errors["UnparseableDelivery: not JSON"] == 1
    assert sum(result.dlq_errors.values()) == 2


def test_a_failed_delivery_that_left_the_dlq_without_a_case_is_lost() -> None:
    # Failed 5 times, moved to the DLQ, then someone purged the DLQ: nothing holds it any more
    result = reconcile([entry("r1", "failed", last_error="InternalFailure")], set(), set(), NOW, GRACE)
    assert result.lost == ["r1"]

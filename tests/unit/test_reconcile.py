"""reconcile(): every accepted delivery (the access log's, and every ledger entry) is a case, a delivery
without posts, in IngestDLQ, pending, or lost."""

from __future__ import annotations

import json
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


# --- accepted as the access log witnesses it: request id -> time of its line ---------------------------

def logged(age_minutes: float = 60) -> datetime:
    return NOW - timedelta(minutes=age_minutes)


def outcome(delivery_id: str, *case_ids: str) -> dict[str, Any]:
    """An entry as DeliveryLedger.entries() folds it from a batch item: no "accepted" item, no received_at."""
    return {"delivery_id": delivery_id, "state": "triaged" if case_ids else "no_posts",
            "outcome_at": (NOW - timedelta(minutes=50)).isoformat(),
            **({"case_ids": list(case_ids)} if case_ids else {})}


def test_a_delivery_the_access_log_accepted_and_the_ledger_never_heard_of_is_lost_after_the_grace() -> None:
    # Given two deliveries answered 200, one an hour ago and one 2 minutes ago, with nothing in the ledger
    result = reconcile([], set(), set(), NOW, GRACE, accepted={"old": logged(60), "young": logged(2)})
    # Then the old one is lost, the young one still pending (its line's time is its receipt)
    assert (result.accepted, result.logged, result.pending, result.lost) == (2, 2, 1, ["old"])


def test_access_log_deliveries_settled_by_batch_outcomes_are_accounted_for() -> None:
    # Given three accepted deliveries whose only ledger records are triage's batch outcomes
    entries = [outcome("r1", "facebook-a"), outcome("r2", "facebook-a"), outcome("r3")]
    accepted = {"r1": logged(), "r2": logged(), "r3": logged()}
    result = reconcile(entries, set(), {"facebook-a"}, NOW, GRACE, accepted=accepted)
    assert (result.accepted, result.logged, result.cases, result.no_posts, result.lost) == (3, 3, 1, 1, [])


def test_an_access_log_delivery_whose_named_case_is_missing_is_lost() -> None:
    result = reconcile([outcome("r1", "facebook-a")], set(), set(), NOW, GRACE, accepted={"r1": logged()})
    assert result.lost == ["r1"] and result.cases == 0


def test_an_access_log_delivery_waiting_in_the_dlq_is_kept_with_or_without_a_failure_record() -> None:
    # Given one delivery triage recorded a failure for (no "accepted" item), and one that crashed unrecorded
    failed = {"delivery_id": "r1", "platform": "meta", "state": "unparseable", "receive_count": 5,
              "received_at": logged().isoformat(), "last_error": "UnparseableDelivery: not JSON"}
    result = reconcile([failed], {"r1", "r2"}, set(), NOW, GRACE, accepted={"r1": logged(), "r2": logged()})
    assert (result.in_dlq, result.unparseable, result.lost) == (2, 1, [])
    assert result.dlq_errors == {"UnparseableDelivery: not JSON": 1, "no error recorded (a crash or a timeout)": 1}


def test_a_young_failure_is_pending_by_its_access_log_time_even_without_received_at() -> None:
    # A failure item written before any received_at: the access-log line still says how old it is
    failed = {"delivery_id": "r1", "state": "failed", "last_error": "InternalFailure"}
    assert reconcile([failed], set(), set(), NOW, GRACE, accepted={"r1": logged(3)}).pending == 1
    assert reconcile([failed], set(), set(), NOW, GRACE, accepted={"r1": logged(30)}).lost == ["r1"]


def test_ledger_entries_without_an_access_log_line_still_count_as_before() -> None:
    # Given the access log witnesses r2 only; r1 (older than the window, or from before the access log was
    # the witness) and r3 (its webhook "accepted" item, never triaged) are known to the ledger alone
    entries = [entry("r1", "triaged", case_ids=["x-b"]), entry("r3", "accepted", age_minutes=45)]
    result = reconcile([*entries, outcome("r2", "x-c")], set(), {"x-b", "x-c"}, NOW, GRACE,
                       accepted={"r2": logged()})
    # Then all three are accepted, two settled, and the untriaged one is lost, as it always was
    assert (result.accepted, result.logged, result.cases, result.lost) == (3, 1, 2, ["r3"])
    assert "1 answered 200 on POST /webhooks/{platform} in the access log" in result.lines()[0]
    assert "2 known only to the ledger" in result.lines()[0]


def test_the_filter_pattern_selects_the_webhook_route_answered_200_and_names_a_route_of_the_template() -> None:
    from moderato_cli.commands.reconcile import WEBHOOK_ROUTE_KEY, _accepted_line, accepted_filter_pattern
    from moderato_cli.paths import TEMPLATE
    from moderato_local.routes import http_routes
    from moderato_local.template import Template

    # The route key is the webhook's POST route, as the template declares it
    routes = {route.route_key for route in http_routes(Template.load(TEMPLATE))
              if route.function_id == "WebhookFunction"}
    assert WEBHOOK_ROUTE_KEY in routes
    assert accepted_filter_pattern() == (
        '{ ($.method = "POST") && ($.routeKey = "POST /webhooks/{platform}") && ($.status = "200") }')
    # And a line is re-checked field by field
    line = {"requestId": "r1", "method": "POST", "routeKey": WEBHOOK_ROUTE_KEY, "status": "200"}
    assert _accepted_line(json.dumps(line), WEBHOOK_ROUTE_KEY) == "r1"
    for other in ({"status": "401"}, {"method": "GET", "routeKey": "GET /webhooks/{platform}"},
                  {"routeKey": "POST /cases/{case_id}/claim"}, {"requestId": "-"}):
        assert _accepted_line(json.dumps({**line, **other}), WEBHOOK_ROUTE_KEY) is None
    assert _accepted_line("not json", WEBHOOK_ROUTE_KEY) is None


def test_the_templates_access_log_format_carries_what_reconcile_reads() -> None:
    from moderato_cli.paths import TEMPLATE
    from moderato_local.template import Template

    log_format = str(Template.load(TEMPLATE).http_api("HttpApi")["AccessLogSettings"]["Format"])
    # Every value is a quoted string, so the filter pattern compares status as "200"
    line = json.loads(log_format.replace("$context.", ""))
    assert {line[key] for key in ("requestId", "method", "routeKey", "status")} == {
        "requestId", "httpMethod", "routeKey", "status"}

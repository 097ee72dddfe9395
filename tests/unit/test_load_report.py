"""`moderato load` counts a correctly signed delivery that was not answered 200 as a failure."""

from __future__ import annotations

from collections import Counter

from moderato_cli.commands.load import LoadReport
from moderato_cli.commands.reconcile import Reconciliation


def report(statuses: Counter[int]) -> LoadReport:
    return LoadReport(sent=sum(statuses.values()), redeliveries=0, statuses=statuses, platform_retries=0,
                      reconciliation=Reconciliation(accepted=statuses[200], cases=statuses[200]), lost_posts=[],
                      dlq_depths={}, faults={}, elapsed=1.0, settled=True)


def test_signed_deliveries_answered_401_or_never_answered_are_lost() -> None:
    # Given 100 signed deliveries: 97 accepted, one refused as unsigned, one 503 and one unanswered to the end
    load = report(Counter({200: 97, 401: 1, 503: 1, 0: 1}))
    # Then the three are failures, and the summary says why
    assert load.refused == 3 and load.lost == 3
    assert any("3 signed deliveries not answered 200" in line for line in load.lines())


def test_all_answered_200_and_traced_is_nothing_lost() -> None:
    assert report(Counter({200: 50})).lost == 0


def test_throughput_is_reported_per_segment_of_deliveries_in_the_order_they_were_triaged() -> None:
    from moderato_cli.commands.load import segment_rates

    # Given 1,000 outcomes at 50/s, then 500 at 10/s, then 30 more
    outcomes = [i / 50 for i in range(1, 1001)] + [20 + i / 10 for i in range(1, 501)] + [70 + i for i in range(1, 31)]
    rates = segment_rates(outcomes, size=500)
    # Then each segment shows its own rate (the slowdown is visible), the short tail is not a segment
    assert [round(rate) for rate in rates] == [50, 50, 10]
    assert segment_rates([], size=500) == []


def test_the_report_states_triage_rate_segments_and_duplicates() -> None:
    load = report(Counter({200: 4}))
    load.outcomes, load.distinct_posts = [0.5, 1.0, 1.5, 2.0], 3
    assert load.triage_rate == 2.0 and load.duplicated == 1
    text = "\n".join(load.lines())
    assert "deliveries/s per 500 triaged" in text and "duplicated        1" in text


def test_the_report_says_how_many_accepted_deliveries_the_access_log_witnessed() -> None:
    load = report(Counter({200: 5}))
    load.reconciliation.logged = 5
    assert "answered 200 (0 platform retries after a 5xx); 5 in the access log" in "\n".join(load.lines())

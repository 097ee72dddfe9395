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

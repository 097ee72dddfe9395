"""`moderato load` at a small size: under injected AWS faults, redeliveries and a crash, nothing is lost.

Its own local stack (fault injection is switched on at start), so it never disturbs the shared one.
"""

from __future__ import annotations

import pytest

from moderato_cli.commands.load import run_load

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

POSTS = 16


def test_nothing_is_lost_under_faults_redeliveries_and_a_crash() -> None:
    # Given 16 posts, a quarter sent twice, 5 % of the handlers' AWS calls failing and one triage crash
    report = run_load(n=POSTS, dup=0.25, fault=0.05, crashes=1, concurrency=6, seed=11, timeout=300)
    # Then the faults really happened, and the stack settled
    assert report.settled
    assert report.faults.get("crash") == 1 and sum(report.faults.values()) > 1
    assert report.redeliveries > 0
    # And every delivery answered 200 has its line in the gateway's access log, the witness reconcile reads
    ledger = report.reconciliation
    assert ledger.logged == report.statuses[200], report.lines()
    assert ledger.accepted >= report.statuses[200]
    # And every accepted delivery is a case or waits in IngestDLQ: none is lost
    assert report.lost == 0, report.lines()
    assert ledger.cases + ledger.in_dlq >= 1
    # And once the faults stop and IngestDLQ is redriven, every distinct post is a case
    final = report.after_redrive or ledger
    assert (final.cases, final.in_dlq, final.pending, final.lost) == (POSTS, 0, 0, [])

"""The demo that ``make run`` replays: every post gets its expected label and lands where that label goes.

The demo rows (infra/demo/floralys_story.jsonl) carry the label a reasonable classifier must give each
post (``expect``). run_demo is driven against the session stack, as ``moderato local --demo`` drives
its own; its printed summary is read back row by row, and the crisis alert count it prints is checked
against what a queue subscribed to AlertsTopic received.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from moderato.adapters.case_store import CaseStore
from moderato.models import Label
from moderato_cli.deliveries import build_payload, read_rows
from moderato_cli.demo import DEMO_FILE, AlertsInbox, expected_case_ids, print_summary, run_demo
from tests.review_support import make_case
from tests.support import CASE_QUEUES, QUEUE_FOR_LABEL, drain_case_queue

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROWS = read_rows(DEMO_FILE)
LABELS = {label.value for label in Label}


def table_rows(printed: str) -> list[list[str]]:
    """The body rows of the summary table, as lists of stripped cells."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in printed.splitlines() if line.startswith("│")]


def drain_review_queues(stack: Any) -> dict[str, list[dict[str, Any]]]:
    sqs = stack.client("sqs")
    return {queue: drain_case_queue(sqs, stack.environment[env_name], queue) for env_name, queue in CASE_QUEUES.items()}


def test_every_demo_row_says_which_label_it_must_get() -> None:
    assert ROWS and all(row.get("expect") in LABELS for row in ROWS)
    # The story needs every label at least once, and two crises (the press wave and the allergy).
    assert {row["expect"] for row in ROWS} == LABELS
    assert sum(row["expect"] == "crisis" for row in ROWS) == 2


def test_replay_ignores_the_expect_field() -> None:
    for index, row in enumerate(ROWS):
        without = {key: value for key, value in row.items() if key != "expect"}
        assert build_payload(row, index, now=1_800_000_000) == build_payload(without, index, now=1_800_000_000)
        assert row["expect"] not in json.dumps(build_payload({"text": "x", **{"expect": row["expect"]}}, index))


def test_the_demo_routes_every_post_by_its_expected_label(local_stack: Any, alerts_inbox: AlertsInbox) -> None:
    # Given the session stack, idle, with empty review queues
    assert local_stack.wait_idle(30)
    drain_review_queues(local_stack)
    alerts_inbox.take_new()
    # When the demo runs against it, as `moderato local --demo` runs it
    output = io.StringIO()
    console = Console(file=output, width=200, color_system=None, force_terminal=False)
    status = run_demo(local_stack.gateway_url, console, local_stack.wait_idle, local_stack.aws_settings())
    printed = output.getvalue()

    # Then every post became a case with its expected label, in the queue that label implies, once
    queued = drain_review_queues(local_stack)  # each message validated against moderato.case/v1
    store = CaseStore(local_stack.resources["CasesTable"], local_stack.client("dynamodb"))
    case_ids = expected_case_ids(ROWS)
    for row, case_id in zip(ROWS, case_ids, strict=True):
        assert case_id, f"{row['id']} does not parse into a post"
        case = store.get(case_id)
        assert case is not None, f"{row['id']} did not become a case"
        assert case.label.value == row["expect"], f"{row['id']}: {case.label.value}, expected {row['expect']}"
        expected_queue = QUEUE_FOR_LABEL[row["expect"]]
        assert case.queue == expected_queue, row["id"]
        found = [queue for queue, bodies in queued.items() for body in bodies if body["case_id"] == case_id]
        assert found == ([expected_queue] if expected_queue else []), row["id"]
        assert [b["label"] for bodies in queued.values() for b in bodies if b["case_id"] == case_id] == (
            [row["expect"]] if expected_queue else [])

    # And the printed summary has one row per post, in order, with its platform, label and queue
    rows = table_rows(printed)
    assert [(r[0], r[3], r[4]) for r in rows] == [
        (row["platform"], row["expect"], QUEUE_FOR_LABEL[row["expect"]] or "- (kept)") for row in ROWS]
    assert "✗" not in printed and f"all {len(ROWS)} demo posts got their expected label" in printed
    assert status == 0

    # And the crisis alerts it reports are the ones AlertsTopic really published for the demo's cases
    alerts = [a for a in alerts_inbox.take_new()
              if a.get("kind") == "crisis_case" and a.get("case_id") in set(case_ids)]
    assert sorted(a["case_id"] for a in alerts) == sorted(
        case_id for row, case_id in zip(ROWS, case_ids, strict=True) if row["expect"] == "crisis")
    assert f"Crisis alerts published to AlertsTopic (SNS): {len(alerts)}" in printed


def test_the_summary_flags_a_post_whose_label_is_not_the_expected_one() -> None:
    # Given three demo rows, one of which was classified differently than expected,
    rows = [{"id": "demo-a", "platform": "facebook", "author_name": "Jeanne Martin", "expect": "complaint",
             "text": "Ma commande n'est jamais arrivée"},
            {"id": "demo-b", "platform": "facebook", "author_name": "Paul Girard", "expect": "normal",
             "text": "Bouquet superbe"},
            {"id": "demo-c", "platform": "facebook", "author_name": "Sophie A", "expect": "crisis",
             "text": "Réaction allergique grave, urgences"}]
    cases = [make_case(Label.NORMAL, case_id="facebook-a"), make_case(Label.NORMAL, case_id="facebook-b"),
             make_case(Label.CRISIS, case_id="facebook-c")]
    # and an AlertsTopic that published no alert for the demo's crisis (one for another case, one wave)
    alerts = [{"kind": "crisis_case", "case_id": "facebook-elsewhere"}, {"kind": "wave_alert", "count": 12}]
    output = io.StringIO()
    # When the summary is printed
    status = print_summary(Console(file=output, width=200, color_system=None), rows, cases, {}, alerts)
    printed = output.getvalue()
    # Then the mislabelled row carries a visible marker, the others do not, and a last line names it
    first, second, third = table_rows(printed)
    assert "✗" in first[3] and "complaint" in first[3] and "✗" not in second[3] + third[3]
    assert printed.rstrip().splitlines()[-1] == (
        "✗ 1 demo post(s) did not get their expected label: demo-a got normal, expected complaint")
    assert status == 1
    # And it counts the alerts the topic published for the demo's cases, not the crisis labels
    assert "Crisis alerts published to AlertsTopic (SNS): 0, complaint wave alerts: 1." in printed

"""SLA deadlines and the overdue count the scheduled check turns into a metric."""

from __future__ import annotations

from datetime import timedelta

from moderato.models import CaseStatus, Label, Promise
from moderato.review.sla import Overdue, count_overdue, overdue
from tests.review_support import SLA, T0, make_case


def test_nothing_is_overdue_before_its_deadline() -> None:
    for label in Label:
        assert overdue(make_case(label), T0 + timedelta(minutes=1), SLA) == []


def test_crisis_not_acknowledged_in_15_minutes_is_overdue() -> None:
    assert overdue(make_case(Label.CRISIS), T0 + timedelta(minutes=16), SLA) == [Overdue.CRISIS_ACK]


def test_complaint_ack_then_resolve_deadlines() -> None:
    case = make_case(Label.COMPLAINT)
    assert overdue(case, T0 + timedelta(minutes=61), SLA) == [Overdue.COMPLAINT_ACK]
    acked = case.model_copy(update={"status": CaseStatus.ACKNOWLEDGED, "sla_due_at": None})
    assert overdue(acked, T0 + timedelta(hours=23), SLA) == []
    assert overdue(acked, T0 + timedelta(hours=25), SLA) == [Overdue.COMPLAINT_RESOLVE]


def test_a_broken_promise_is_overdue_until_resolved() -> None:
    promise = Promise(text="call before 6 pm", due_at=T0 + timedelta(hours=2), made_by="alice", made_at=T0)
    acked = make_case(Label.COMPLAINT).model_copy(update={"status": CaseStatus.ACKNOWLEDGED, "sla_due_at": None,
                                                          "promise": promise})
    assert overdue(acked, T0 + timedelta(hours=3), SLA) == [Overdue.PROMISE]
    resolved = acked.model_copy(update={"status": CaseStatus.RESOLVED})
    assert overdue(resolved, T0 + timedelta(hours=30), SLA) == []


def test_count_overdue_counts_cases_once_and_kinds_each() -> None:
    cases = [make_case(Label.CRISIS, "c1"), make_case(Label.SPAM, "s1"), make_case(Label.COMPLAINT, "k1")]
    total, kinds = count_overdue(cases, T0 + timedelta(hours=25), SLA)
    assert total == 3
    assert kinds == {Overdue.CRISIS_ACK: 1, Overdue.SPAM_REVIEW: 1, Overdue.COMPLAINT_ACK: 1,
                     Overdue.COMPLAINT_RESOLVE: 1}

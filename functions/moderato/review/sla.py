"""Service levels: when a case must be acknowledged and resolved, and which cases are overdue now.

"Say what you will do, and do what you said": acknowledging a complaint records the promise made to
the customer and its deadline; resolving records whether the promise and the SLA were kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from moderato.models import ACTIVE_STATUSES, Case, CaseStatus, Label
from moderato.settings import SlaPolicy
from moderato.triage.routing import route

UNACKNOWLEDGED = frozenset({CaseStatus.OPEN, CaseStatus.CLAIMED})


class Overdue(StrEnum):
    CRISIS_ACK = "crisis_ack"
    COMPLAINT_ACK = "complaint_ack"
    COMPLAINT_RESOLVE = "complaint_resolve"
    SPAM_REVIEW = "spam_review"
    PROMISE = "promise"


def first_deadline(label: Label, start: datetime, policy: SlaPolicy) -> datetime | None:
    """The first thing a human owes a case of this label: acknowledge (crisis, complaint) or review (spam)."""
    return route(label, start, policy).sla_due_at


def resolve_deadline(case: Case, policy: SlaPolicy) -> datetime | None:
    """Only complaints have a resolution SLA, counted from when the case was opened."""
    if case.label != Label.COMPLAINT:
        return None
    return case.created_at + timedelta(minutes=policy.complaint_resolve_minutes)


def overdue(case: Case, now: datetime, policy: SlaPolicy) -> list[Overdue]:
    found: list[Overdue] = []
    if case.status in UNACKNOWLEDGED and case.sla_due_at and now > case.sla_due_at:
        kind = {Label.CRISIS: Overdue.CRISIS_ACK, Label.COMPLAINT: Overdue.COMPLAINT_ACK,
                Label.SPAM: Overdue.SPAM_REVIEW}.get(case.label)
        if kind:
            found.append(kind)
    resolve_due = resolve_deadline(case, policy)
    if case.status in ACTIVE_STATUSES and resolve_due and now > resolve_due:
        found.append(Overdue.COMPLAINT_RESOLVE)
    promise = case.promise
    if case.status in ACTIVE_STATUSES and promise and promise.resolved_at is None and now > promise.due_at:
        found.append(Overdue.PROMISE)
    return found


def count_overdue(cases: Iterable[Case], now: datetime, policy: SlaPolicy) -> tuple[int, Counter[Overdue]]:
    """(cases with at least one overdue deadline, count per kind)."""
    total = 0
    kinds: Counter[Overdue] = Counter()
    for case in cases:
        late = overdue(case, now, policy)
        if late:
            total += 1
            kinds.update(late)
    return total, kinds

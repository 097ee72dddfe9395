"""Where a verdict sends a post: which queue, how urgent, and by when a human must act.

The label table, defined here once (the queues are ``ReviewQueue``, the statuses ``CaseStatus``, both in
moderato/models.py); review's re-labels, the case store's filters and the SLA check read it from here.

| label     | queue          | priority | SLA (SlaPolicy, configurable)          |
|-----------|----------------|----------|----------------------------------------|
| crisis    | CrisisQueue    | 1        | acknowledge in 15 min                  |
| complaint | ComplaintQueue | 2        | acknowledge in 1 h (resolve in 24 h)   |
| spam      | SpamQueue      | 3        | review in 24 h                         |
| normal    | (none)         | 4        | none; kept ``normal_retention_days``   |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from moderato.models import Label, ReviewQueue
from moderato.settings import SlaPolicy


@dataclass(frozen=True)
class LabelRoute:
    queue: ReviewQueue | None
    priority: int  # 1 is the most urgent
    sla_minutes: Callable[[SlaPolicy], int] | None  # by when a human must first act, from the policy


LABEL_TABLE: dict[Label, LabelRoute] = {
    Label.CRISIS: LabelRoute(ReviewQueue.CRISIS, 1, lambda sla: sla.crisis_ack_minutes),
    Label.COMPLAINT: LabelRoute(ReviewQueue.COMPLAINT, 2, lambda sla: sla.complaint_ack_minutes),
    Label.SPAM: LabelRoute(ReviewQueue.SPAM, 3, lambda sla: sla.spam_review_minutes),
    Label.NORMAL: LabelRoute(None, 4, None),
}
QUEUE_FOR_LABEL: dict[Label, ReviewQueue | None] = {label: row.queue for label, row in LABEL_TABLE.items()}
PRIORITY_FOR_LABEL: dict[Label, int] = {label: row.priority for label, row in LABEL_TABLE.items()}
LABEL_FOR_QUEUE: dict[ReviewQueue, Label] = {row.queue: label for label, row in LABEL_TABLE.items() if row.queue}


@dataclass(frozen=True)
class Route:
    queue: str | None
    priority: int
    sla_due_at: datetime | None
    expires_at: datetime | None  # only normal cases expire; everything in a queue is kept


def route(label: Label, now: datetime, sla: SlaPolicy) -> Route:
    row = LABEL_TABLE[label]
    due = now + timedelta(minutes=row.sla_minutes(sla)) if row.sla_minutes else None
    expires = now + timedelta(days=sla.normal_retention_days) if row.queue is None else None
    return Route(row.queue.value if row.queue else None, row.priority, due, expires)

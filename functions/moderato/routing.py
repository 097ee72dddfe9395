"""Where a verdict sends a post: which queue, how urgent, and by when a human must act.

| label     | queue          | priority | SLA                          |
|-----------|----------------|----------|------------------------------|
| crisis    | CrisisQueue    | 1        | acknowledge in 15 min        |
| complaint | ComplaintQueue | 2        | acknowledge in 1 h           |
| spam      | SpamQueue      | 3        | review in 24 h               |
| normal    | (none)         | 4        | none; kept for a short time  |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from moderato.models import Label
from moderato.settings import SlaPolicy

QUEUE_FOR_LABEL: dict[Label, str | None] = {
    Label.CRISIS: "CrisisQueue",
    Label.COMPLAINT: "ComplaintQueue",
    Label.SPAM: "SpamQueue",
    Label.NORMAL: None,
}
PRIORITY_FOR_LABEL: dict[Label, int] = {Label.CRISIS: 1, Label.COMPLAINT: 2, Label.SPAM: 3, Label.NORMAL: 4}


@dataclass(frozen=True)
class Route:
    queue: str | None
    priority: int
    sla_due_at: datetime | None
    expires_at: datetime | None  # only normal cases expire; everything in a queue is kept


def route(label: Label, now: datetime, sla: SlaPolicy) -> Route:
    minutes = {
        Label.CRISIS: sla.crisis_ack_minutes,
        Label.COMPLAINT: sla.complaint_ack_minutes,
        Label.SPAM: sla.spam_review_minutes,
    }.get(label)
    due = now + timedelta(minutes=minutes) if minutes else None
    expires = now + timedelta(days=sla.normal_retention_days) if label == Label.NORMAL else None
    return Route(QUEUE_FOR_LABEL[label], PRIORITY_FOR_LABEL[label], due, expires)

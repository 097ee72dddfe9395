"""Triage of one post: classify, open the case, route it, alert on crisis. Pure: ports are Protocols.

Safe to run twice for the same post. The case id derives from the platform's own ids and the write
is conditional, so a redelivery finds the existing case; routing is completed only if it was not
(a crash between the write and the send must not lose the queue message).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from moderato.cases import build_case, opening_event
from moderato.models import Case, CaseEvent, Label, Post, Verdict
from moderato.routing import route
from moderato.settings import SlaPolicy


class CaseRepository(Protocol):
    def create(self, case: Case, event: CaseEvent, expires_at: datetime | None = None) -> tuple[Case, bool, bool]: ...

    def mark_routed(self, case_id: str, at: datetime) -> None: ...


class CaseSender(Protocol):
    def send(self, case: Case) -> str: ...


class CrisisAlerter(Protocol):
    def publish_crisis(self, case: Case) -> str: ...


@dataclass(frozen=True)
class TriageOutcome:
    case: Case
    created: bool  # False for a redelivery of a post we already had


@dataclass
class TriageService:
    cases: CaseRepository
    queues: CaseSender
    alerts: CrisisAlerter
    classify: Callable[[Post], Verdict]
    sla: SlaPolicy
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def triage(self, post: Post) -> TriageOutcome:
        now = self.clock()
        verdict = self.classify(post)
        case_route = route(verdict.label, now, self.sla)
        case = build_case(post, verdict, case_route, now)
        stored, created, routed = self.cases.create(case, opening_event(case), case_route.expires_at)
        if not routed:
            if stored.queue is not None:
                self.queues.send(stored)
            if stored.label == Label.CRISIS:
                self.alerts.publish_crisis(stored)
            self.cases.mark_routed(stored.case_id, self.clock())
        return TriageOutcome(case=stored, created=created)

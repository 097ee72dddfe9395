"""Triage of one post: classify, weigh the signals, open the case, route it, alert. Pure: ports are Protocols.

Safe to run twice for the same post. The case id derives from the platform's own ids and the write
is conditional, so a redelivery finds the existing case; routing is completed only if it was not
(a crash between the write and the send must not lose the queue message). The signal engine counts
a post once (first sighting), and a wave alert (and its one possible escalation) is claimed by exactly
one post, so neither a redelivery nor thirty complaints in a row publish the same wave twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from moderato.cases import SYSTEM_TRIAGE, build_case, case_id_for, opening_event
from moderato.models import Case, CaseEvent, Label, Post, Verdict
from moderato.routing import route
from moderato.settings import SlaPolicy
from moderato.signals.engine import Assessment, Retro
from moderato.signals.waves import WaveAlert


class CaseRepository(Protocol):
    def create(self, case: Case, event: CaseEvent, expires_at: datetime | None = None) -> tuple[Case, bool, bool]: ...

    def mark_routed(self, case_id: str, at: datetime) -> None: ...

    def get(self, case_id: str) -> Case | None: ...

    def save(self, case: Case, event: CaseEvent, expected_version: int) -> Case: ...


class CaseSender(Protocol):
    def send(self, case: Case) -> str: ...


class CrisisAlerter(Protocol):
    def publish_crisis(self, case: Case) -> str: ...


class WaveAlerter(Protocol):
    def publish_wave(self, alert: WaveAlert) -> str: ...


class SignalAssessor(Protocol):
    def assess(self, post: Post, verdict: Verdict, case_id: str, now: datetime) -> Assessment: ...

    def settle(self, retro: Retro) -> None: ...

    def wave_published(self, alert: WaveAlert, at: datetime) -> None: ...


@dataclass(frozen=True)
class TriageOutcome:
    case: Case
    created: bool  # False for a redelivery of a post we already had
    wave_alert: WaveAlert | None = None  # published by this call
    relabelled: list[str] = field(default_factory=list)  # earlier cases that got a duplicate reason


@dataclass
class TriageService:
    cases: CaseRepository
    queues: CaseSender
    alerts: CrisisAlerter
    classify: Callable[[Post], Verdict]
    sla: SlaPolicy
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    signals: SignalAssessor | None = None
    waves: WaveAlerter | None = None

    def triage(self, post: Post) -> TriageOutcome:
        now = self.clock()
        verdict = self.classify(post)
        assessment = (self.signals.assess(post, verdict, case_id_for(post), now) if self.signals
                      else Assessment(verdict=verdict))
        verdict = assessment.verdict
        case_route = route(verdict.label, now, self.sla)
        case = build_case(post, verdict, case_route, now)
        if assessment.priority_raised:
            case = case.model_copy(update={"priority": max(1, case.priority - 1)})
        stored, created, routed = self.cases.create(case, opening_event(case), case_route.expires_at)
        published: WaveAlert | None = None
        if not routed:
            if stored.queue is not None:
                self.queues.send(stored)
            if stored.label == Label.CRISIS:
                self.alerts.publish_crisis(stored)
            if assessment.wave_alert is not None and self.waves is not None and self.signals is not None:
                self.waves.publish_wave(assessment.wave_alert)
                self.signals.wave_published(assessment.wave_alert, self.clock())
                published = assessment.wave_alert
            self.cases.mark_routed(stored.case_id, self.clock())
        relabelled = [case_id for item in assessment.retro if (case_id := self._add_duplicate_reason(item))]
        return TriageOutcome(case=stored, created=created, wave_alert=published, relabelled=relabelled)

    def _add_duplicate_reason(self, item: Retro) -> str | None:
        """An earlier post of a flood, seen before the flood was: it is spam too, and now says why."""
        assert self.signals is not None
        case = self.cases.get(item.record.case_id)
        if case is None or case.label in (Label.COMPLAINT, Label.CRISIS) or any(
            r.code == item.reason.code for r in case.reasons
        ):
            if case is not None:
                self.signals.settle(item)
            return None
        now = self.clock()
        spam_route = route(Label.SPAM, case.created_at, self.sla)
        updated = case.model_copy(update={
            "label": Label.SPAM,
            "queue": spam_route.queue,
            "priority": spam_route.priority,
            "sla_due_at": case.sla_due_at if case.label == Label.SPAM else spam_route.sla_due_at,
            "reasons": [item.reason, *case.reasons],
            "version": case.version + 1,
            "updated_at": now,
        })
        event = CaseEvent(case_id=case.case_id, at=now, actor=SYSTEM_TRIAGE, action="signal_added",
                          version=updated.version, reason=item.reason.code,
                          data={"from_label": case.label.value, "label": Label.SPAM.value,
                                "detail": item.reason.detail})
        self.cases.save(updated, event, expected_version=case.version)
        if case.queue != updated.queue:
            self.queues.send(updated)  # a normal case had no queue: reviewers must now see it
        self.signals.settle(item)
        return case.case_id

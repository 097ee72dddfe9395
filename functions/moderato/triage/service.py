"""Triage of an SQS batch of posts: classify, weigh the signals, open the cases, route them, alert.
Pure: ports are Protocols.

Safe to run twice for the same post. The case id derives from the platform's own ids: one read of the
batch's cases finds a redelivery before anything is counted or written, each new case is written once
(conditional on not existing) in its final state, and a case found again is routed again only when this
same delivery wrote it (an earlier attempt that stopped between the write and the send must not lose the
queue message). The signal engine counts only posts without a case, and a wave alert (and its one
possible escalation) is claimed by exactly one post, so neither a redelivery nor thirty complaints in a
row publish the same wave twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from moderato.helplines import suggested_reply
from moderato.models import Case, CaseEvent, CaseStatus, Label, Post, Verdict
from moderato.people import NO_LINKS, PersonLinks
from moderato.settings import SlaPolicy
from moderato.signals.engine import Assessment, Retro
from moderato.signals.waves import WaveAlert
from moderato.triage.cases import SYSTEM_TRIAGE, build_case, case_id_for
from moderato.triage.crisis_alert import CrisisAlertClaims, alert_once
from moderato.triage.routing import route
from moderato.triage.text_pending import TextRequests, needs_text, pending_case


class CaseRepository(Protocol):
    def create(self, case: Case, expires_at: datetime | None = None) -> tuple[Case, bool]:
        """Write the case unless it exists: (the stored case, whether this call wrote it)."""
        ...

    def existing(self, case_ids: list[str]) -> dict[str, Case]:
        """The stored cases among these ids."""
        ...

    def create_many(self, new: list[tuple[Case, datetime | None]]) -> set[str]:
        """Write each case unless it exists; the ids written by this call."""
        ...

    def get(self, case_id: str) -> Case | None: ...

    def save(self, case: Case, event: CaseEvent, expected_version: int) -> Case: ...


class CaseSender(Protocol):
    def send(self, case: Case) -> str: ...

    def send_many(self, cases: list[Case]) -> None: ...


class CrisisAlerter(Protocol):
    def publish_crisis(self, case: Case) -> str: ...


class WaveAlerter(Protocol):
    def publish_wave(self, alert: WaveAlert) -> str: ...


class SignalAssessor(Protocol):
    def assess(self, post: Post, verdict: Verdict, case_id: str, now: datetime, first: bool = True) -> Assessment: ...

    def prepare(self, posts: list[Post]) -> None: ...

    def flush(self) -> None: ...

    def settle(self, retro: Retro) -> None: ...

    def wave_published(self, alert: WaveAlert, at: datetime) -> None: ...


@dataclass(frozen=True)
class TriageOutcome:
    case: Case
    created: bool  # False for a redelivery of a post we already had
    wave_alert: WaveAlert | None = None  # published by this call
    relabelled: list[str] = field(default_factory=list)  # earlier cases that got a duplicate reason


@dataclass(frozen=True)
class _Opened:
    """A case this batch routes: new (``created``: to be written) or written by an earlier attempt of its delivery."""

    case: Case
    assessment: Assessment
    expires_at: datetime | None
    created: bool


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
    person_links: PersonLinks = NO_LINKS  # ids configured as one person (the brands file)
    # Where the one crisis alert per case is claimed (the case store); shared with review's re-labels.
    alert_claims: CrisisAlertClaims | None = None
    # The helpline reply a human may send to a self-harm post (never sent by Moderato).
    reply_for: Callable[[Case], str | None] = suggested_reply
    # EnrichQueue: a post that came as ids only waits in a text_pending case until its text is fetched.
    text_requests: TextRequests | None = None

    def triage(self, post: Post) -> TriageOutcome:
        return self.triage_many([post])[0]

    def triage_many(self, posts: list[Post]) -> list[TriageOutcome]:
        """Triage a batch of posts with a fixed number of AWS calls for the whole batch; one outcome per post.

        The order of the writes is what makes a crash anywhere harmless:
        1. one read of the batch's cases: a case found was written by another delivery of the same post
           (a redelivery: nothing of it is counted, written or sent again), or by an earlier attempt of
           this same delivery (its ``raw_ref``), which may have stopped before step 3: it is routed again;
        2. the signals of the new posts (counters; fingerprints and wave posts flushed in one write);
        3. each new case, once and in its final state, conditional on not existing (a concurrent
           redelivery that wrote first keeps its case, and its own triage routes it);
        4. the queue messages (one SendMessageBatch per queue), the crisis and wave alerts.
        A crash between 3 and 4 leaves cases without their message: the retried record finds them in 1
        as its own and sends them, so each case gets exactly one message. Nothing records the send, so
        a retry after 4 sends again: the handler retries a record only for an error (an AWS failure, a
        crash), and SQS itself delivers at least once, so consumers key on the case id. A crash before
        3 writes no case; the retry counts the post's signals a second time.
        """
        now = self.clock()
        waiting = [self.text_requests is not None and needs_text(post) for post in posts]
        ready = [post for post, waits in zip(posts, waiting, strict=True) if not waits]
        ids = [case_id_for(post) for post in ready]
        known = self.cases.existing(ids) if ready else {}
        opened: dict[str, _Opened] = {}
        if self.signals is not None:
            self.signals.prepare([post for post, case_id in zip(ready, ids, strict=True) if case_id not in known])
        for post, case_id in zip(ready, ids, strict=True):
            if case_id in opened:
                continue  # the same post twice in one batch
            stored = known.get(case_id)
            if stored is None:
                opened[case_id] = self._open(post, now, first=True)
            elif post.raw_ref is not None and stored.post.raw_ref == post.raw_ref:
                # Written by an earlier attempt of this delivery, which may have stopped before routing it:
                # route it now, with the signals read again (nothing counted twice) for the wave alert
                # that attempt may have claimed.
                opened[case_id] = _Opened(stored, self._assess(post, now, first=False), None, created=False)
        if self.signals is not None:
            self.signals.flush()
        new = [entry for entry in opened.values() if entry.created]
        written = self.cases.create_many([(e.case, e.expires_at) for e in new])
        refused = {e.case.case_id for e in new} - written
        # Refused because the case exists: written by a concurrent delivery of the same post (its triage
        # routes it), or by this very write, whose answer was lost and whose retry by the SDK then found
        # it (routed here: nothing else would ever send it).
        again = self.cases.existing(sorted(refused)) if refused else {}
        lost = {case_id for case_id in refused
                if case_id not in again or again[case_id].post.raw_ref != opened[case_id].case.post.raw_ref}
        known.update({case_id: case for case_id, case in again.items() if case_id in lost})
        routing = [e for case_id, e in opened.items() if case_id not in lost]
        published = self._route(routing)
        outcomes: dict[str, TriageOutcome] = {}
        for case_id, entry in opened.items():
            if case_id in lost:
                continue
            relabelled = ([cid for item in entry.assessment.retro if (cid := self._add_duplicate_reason(item))]
                          if entry.created else [])
            outcomes[case_id] = TriageOutcome(case=entry.case, created=entry.created,
                                              wave_alert=published.get(case_id), relabelled=relabelled)
        results: list[TriageOutcome] = []
        for post, waits in zip(posts, waiting, strict=True):
            if waits:
                results.append(self._await_text(post))
                continue
            case_id = case_id_for(post)
            outcome = outcomes.get(case_id)
            if outcome is None:
                results.append(TriageOutcome(case=known[case_id], created=False))
                continue
            results.append(outcome)
            outcomes[case_id] = TriageOutcome(case=outcome.case, created=False)  # the post again in this batch
        return results

    def _assess(self, post: Post, now: datetime, first: bool) -> Assessment:
        verdict = self.classify(post)
        return (self.signals.assess(post, verdict, case_id_for(post), now, first) if self.signals
                else Assessment(verdict=verdict))

    def build(self, post: Post, received_at: datetime, now: datetime,
              first: bool = True) -> tuple[Case, Assessment, datetime | None]:
        """Classify, assess and route ``post`` into its case, with the case's retention expiry: the one way
        both triage and a text fetched late (enrich) build a case. The SLA runs from ``received_at``,
        when the post reached us, not from when its text did."""
        assessment = self._assess(post, now, first)
        verdict = assessment.verdict
        case_route = route(verdict.label, received_at, self.sla)
        case = build_case(post, verdict, case_route, received_at, self.person_links)
        if case.safety:
            case = case.model_copy(update={"suggested_reply": self.reply_for(case)})
        if assessment.priority_raised:
            case = case.model_copy(update={"priority": max(1, case.priority - 1)})
        return case, assessment, case_route.expires_at

    def alert_crisis(self, case: Case) -> None:
        """A crisis case's alert: claimed once per case where the store can claim it."""
        if case.label != Label.CRISIS:
            return
        if self.alert_claims is not None:
            alert_once(case, self.alert_claims, self.alerts, self.clock())
        else:
            self.alerts.publish_crisis(case)

    def publish_wave(self, alert: WaveAlert) -> bool:
        """Publish a wave alert the signals claimed, and say so to them; False without a signal engine."""
        if self.waves is None or self.signals is None:
            return False
        self.waves.publish_wave(alert)
        self.signals.wave_published(alert, self.clock())
        return True

    def _open(self, post: Post, now: datetime, first: bool) -> _Opened:
        case, assessment, expires_at = self.build(post, now, now, first)
        return _Opened(case, assessment, expires_at, created=True)

    def _route(self, routing: list[_Opened]) -> dict[str, WaveAlert]:
        """Send, then alert (see triage_many for why after the case write); the wave alerts published."""
        if not routing:
            return {}
        self.queues.send_many([entry.case for entry in routing if entry.case.queue is not None])
        published: dict[str, WaveAlert] = {}
        for entry in routing:
            case = entry.case
            self.alert_crisis(case)
            alert = entry.assessment.wave_alert
            if alert is not None and self.publish_wave(alert):
                published[case.case_id] = alert
        return published

    def _await_text(self, post: Post) -> TriageOutcome:
        """Open the waiting case and ask for the text; asked again on a redelivery (the enrich flow does
        nothing for a case no longer waiting), so a crash between the two cannot leave it waiting forever."""
        assert self.text_requests is not None
        case = pending_case(post, self.clock(), self.person_links)
        stored, created = self.cases.create(case, None)
        if stored.status == CaseStatus.TEXT_PENDING:
            self.text_requests.request(stored)
        return TriageOutcome(case=stored, created=created)

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

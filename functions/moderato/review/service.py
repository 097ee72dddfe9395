"""The review service: load the case, apply the policy, persist the change, queue the platform actions.

Pure orchestration over ``Protocol`` ports, so unit tests run it with in-memory fakes and the handler
wires it to DynamoDB and SQS. The case is written (with its history event and any action request)
before the action message is sent: the actions function acts only on a request it finds on the case,
so a message can never run ahead of the decision that asked for it.

Every change a reviewer makes is saved with ``retain=True``: a case a person has acted on (a normal
case claimed, hidden, re-labelled, a ban proposed...) is an audit record and loses its retention TTL,
with its whole history.

A re-label or escalation to crisis publishes the crisis alert triage would have published, once per
case (moderato/triage/crisis_alert.py): the on-call team hears of a crisis however it became one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from moderato.models import ActionRecord, Case, CaseEvent, Label
from moderato.people import PersonCase, person_of
from moderato.review import policy
from moderato.review.claims import lapsed
from moderato.review.errors import ActionQueueUnavailable, AlertUnavailable, CaseMissing
from moderato.review.identity import Reviewer
from moderato.review.requests import Decision, DecisionRequest
from moderato.settings import SlaPolicy
from moderato.triage.crisis_alert import CrisisAlerter, alert_once


class CaseRepository(Protocol):
    def get(self, case_id: str) -> Case | None: ...

    def history(self, case_id: str) -> list[CaseEvent]: ...

    def save(self, case: Case, event: CaseEvent, expected_version: int, retain: bool = False) -> Case: ...

    def save_with_feedback(self, case: Case, event: CaseEvent, expected_version: int,
                           feedback: dict[str, Any]) -> Case: ...

    def open_protected_cases(self, key: str) -> list[PersonCase]: ...

    def cases_of_person(self, keys: list[str]) -> list[PersonCase]: ...

    def claim_crisis_alert(self, case_id: str, at: datetime) -> bool: ...

    def release_crisis_alert(self, case_id: str, at: datetime) -> None: ...


class ActionSender(Protocol):
    def send(self, case: Case, action: ActionRecord) -> str: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OffenderMemory(Protocol):
    """Remembers authors whose spam a moderator confirmed, so triage treats their next posts as repeat offences."""

    def record(self, platform: str, author_id: str, at: datetime) -> None: ...


@dataclass
class ReviewService:
    cases: CaseRepository
    actions: ActionSender
    sla: SlaPolicy
    clock: Callable[[], datetime] = _utcnow
    offenders: OffenderMemory | None = None
    alerts: CrisisAlerter | None = None  # AlertsTopic: a case re-labelled or escalated to crisis
    claim_lease: timedelta | None = None  # a claim untouched this long is nobody's (moderato/review/claims.py)

    def case(self, case_id: str) -> Case:
        found = self.cases.get(case_id)
        if found is None:
            raise CaseMissing(f"no case {case_id}")
        return lapsed(found, self.clock(), self.claim_lease)

    def detail(self, reviewer: Reviewer, case_id: str) -> tuple[Case, list[CaseEvent]]:
        reviewer.require_reviewer()
        return self.case(case_id), self.cases.history(case_id)

    def related(self, case: Case) -> list[PersonCase]:
        """The other cases of the same person on the same brand (any surface, any status), newest first."""
        key = person_of(case)
        return [c for c in self.cases.cases_of_person([key]) if c.case_id != case.case_id] if key else []

    def claim(self, reviewer: Reviewer, case_id: str, expected_version: int) -> Case:
        case = self.case(case_id)
        change = policy.claim(case, reviewer, expected_version, self.clock())
        return self._commit(case, change) if change else case

    def release(self, reviewer: Reviewer, case_id: str, expected_version: int, reason: str | None) -> Case:
        case = self.case(case_id)
        return self._commit(case, policy.release(case, reviewer, expected_version, self.clock(), reason))

    def decide(self, reviewer: Reviewer, case_id: str, request: DecisionRequest) -> Case:
        case = self.case(case_id)
        # Only a hide needs the author's other open cases: it must not count a complainant as a spammer.
        open_cases = self._open_cases_of_author(case) if request.decision == Decision.HIDE else []
        change = policy.decide(case, reviewer, request, self.clock(), self.sla, author_open_cases=open_cases)
        saved = self._commit(case, change)
        # Hiding a spam case is the moderator confirming it: the author becomes a known offender.
        if self.offenders is not None and change.repeat_offender is not None:
            platform, author = change.repeat_offender
            self.offenders.record(platform, author, self.clock())
        return saved

    def propose_ban(self, reviewer: Reviewer, case_id: str, expected_version: int, reason: str) -> Case:
        case = self.case(case_id)
        change = policy.propose_ban(case, reviewer, expected_version, reason, self.clock(),
                                    self._open_cases_of_author(case))
        return self._commit(case, change)

    def approve_ban(self, reviewer: Reviewer, case_id: str, proposal_id: str, expected_version: int,
                    reason: str | None) -> Case:
        case = self.case(case_id)
        change = policy.approve_ban(case, reviewer, proposal_id, expected_version, reason, self.clock(),
                                    self._open_cases_of_author(case))
        return self._commit(case, change)

    def reject_ban(self, reviewer: Reviewer, case_id: str, proposal_id: str, expected_version: int,
                   reason: str | None) -> Case:
        case = self.case(case_id)
        return self._commit(case, policy.reject_ban(case, reviewer, proposal_id, expected_version, reason,
                                                    self.clock()))

    def undo_hide(self, reviewer: Reviewer, case_id: str, expected_version: int, reason: str) -> Case:
        case = self.case(case_id)
        return self._commit(case, policy.undo_hide(case, reviewer, expected_version, reason, self.clock()))

    def _open_cases_of_author(self, case: Case) -> list[PersonCase]:
        """The person's open complaint and crisis cases on the brand, any surface (the complainant guardrail)."""
        key = person_of(case)
        return self.cases.open_protected_cases(key) if key else []

    def _commit(self, read: Case, change: policy.Change) -> Case:
        # The store refuses the write if someone changed the case since it was read (StaleCaseVersion).
        if change.feedback is not None:
            feedback = {**asdict(change.feedback), "at": change.feedback.at.isoformat()}
            saved = self.cases.save_with_feedback(change.case, change.event, read.version, feedback)
        else:
            saved = self.cases.save(change.case, change.event, read.version, retain=True)
        if read.label != Label.CRISIS and saved.label == Label.CRISIS:
            self._alert_crisis(saved)
        for action in change.actions:
            try:
                self.actions.send(saved, action)
            except Exception as error:  # any transport failure: the decision stands, the action waits
                raise ActionQueueUnavailable(
                    f"the decision was recorded (case version {saved.version}) but its {action.kind.value} "
                    "action could not be queued; retry later or ask an operator to requeue it"
                ) from error
        return saved

    def _alert_crisis(self, case: Case) -> None:
        if self.alerts is None:
            return
        try:
            alert_once(case, self.cases, self.alerts, self.clock())
        except Exception as error:  # any transport failure: the re-label stands, the reviewer is told
            raise AlertUnavailable(
                f"the case is now a crisis (version {case.version}) but its crisis alert could not be "
                "published: tell the on-call team directly"
            ) from error

"""Run one requested action: re-check it on the case, call the platform (or dry-run), record the attempt.

Every attempt appends a history event (``action.dry_run``, ``action.done``, ``action.failed``,
``action.refused``). Before calling the platform the executor takes a lease on the action (a
conditional write): SQS may deliver the same message twice at once, and only the holder of the lease
calls the platform; the other delivery is retried later and then finds the action done.

A platform error is recorded. A transient one (429, 5xx, network) is re-raised so SQS retries with
backoff, then ActionsDLQ; a permanent one (400, 401, 403, 404: the request itself is wrong, the token
is refused, the post is gone) is recorded with the platform's answer as a final failure and not
retried. A token the platform will not refresh any more (TokenNeedsReauthorization) is recorded as a
failure that is retried, not final: once a person has authorized the app again, the retry succeeds.
A redelivered message for an action already handled does nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from moderato.actions.calls import ActionUnsupported, Endpoints, PlatformCall, build_call
from moderato.actions.messages import ActionMessage
from moderato.actions.recheck import ActionAlreadyHandled, ActionRefused, check_action
from moderato.actions.tokens import TokenNeedsReauthorization
from moderato.models import ActionKind, ActionRecord, ActionStatus, Case, CaseEvent, ProposalStatus
from moderato.people import PersonCase, person_of
from moderato.visibility import PERFORMED, is_final

ACTOR = "system:actions"
RECORD_ATTEMPTS = 4  # a reviewer may change the case while we record: reload and record again
# Longer than one invocation may run (ActionsFunction times out at 30 s) and shorter than the queue's
# visibility timeout (180 s): a lease left by a crashed invocation expires before the message returns.
LEASE_SECONDS = 120
# Statuses a platform uses for "try again later"; every other 4xx means the request will never succeed.
_TRANSIENT_4XX = frozenset({408, 425, 429})
# Actions that silence the author: re-checked against the person's open complaints and crises.
_PERSON_GUARDED = frozenset({ActionKind.HIDE, ActionKind.BAN})


class PlatformError(Exception):
    """The platform refused or failed the call; ``status`` 0 for a network error, ``answer`` its body."""

    def __init__(self, status: int, message: str, answer: str | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status
        self.answer = answer if answer is not None else message

    @property
    def retryable(self) -> bool:
        """Network errors, rate limits and server errors pass; 400/401/403/404 and the like do not."""
        return self.status == 0 or self.status >= 500 or self.status in _TRANSIENT_4XX


class ActionBusy(Exception):
    """Another delivery of the same message holds the lease: retry later (it will then be done)."""


class CaseRepository(Protocol):
    def get(self, case_id: str) -> Case | None: ...

    def save(self, case: Case, event: CaseEvent, expected_version: int) -> Case: ...

    def open_protected_cases(self, key: str) -> list[PersonCase]: ...


class ActionLeases(Protocol):
    def acquire(self, case_id: str, action_id: str, holder: str, now: datetime, seconds: int) -> bool: ...

    def release(self, case_id: str, action_id: str, holder: str) -> None: ...


class Transport(Protocol):
    def send(self, call: PlatformCall, token: str) -> dict[str, Any]: ...


class TokenSource(Protocol):
    def token_for(self, family: str, account_id: str) -> str | None: ...


class Outcome(StrEnum):
    DONE = "done"
    DRY_RUN = "dry_run"
    REFUSED = "refused"
    SKIPPED = "skipped"  # already handled (redelivery), or the case is gone
    FAILED = "failed"  # a permanent platform error, recorded and not retried


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_holder() -> str:
    return uuid.uuid4().hex


@dataclass
class ActionExecutor:
    cases: CaseRepository
    transport: Transport
    tokens: TokenSource
    endpoints: Endpoints
    leases: ActionLeases
    stale_errors: tuple[type[Exception], ...] = ()  # the store's "someone wrote first" exception(s)
    clock: Callable[[], datetime] = _utcnow
    new_holder: Callable[[], str] = _new_holder

    def run(self, message: ActionMessage) -> Outcome:
        # Cheap first look: a redelivery of a handled action (the common duplicate) takes no lease.
        case = self.cases.get(message.case_id)
        if case is None or _handled(case, message.action_id):
            return Outcome.SKIPPED
        holder = self.new_holder()
        if not self.leases.acquire(message.case_id, message.action_id, holder, self.clock(), LEASE_SECONDS):
            raise ActionBusy(f"action {message.action_id} is being handled by another delivery")
        try:
            # Read only now, under the lease: a delivery that held it before us may have finished.
            return self._run(message)
        finally:
            self.leases.release(message.case_id, message.action_id, holder)

    def _run(self, message: ActionMessage) -> Outcome:
        case = self.cases.get(message.case_id)
        if case is None:
            return Outcome.SKIPPED
        try:
            # A hide or a ban needs the person's open cases (one index query); replies and unhides skip it.
            # The kind comes from the case's own record, never from the message.
            guarded = any(a.action_id == message.action_id and a.kind in _PERSON_GUARDED for a in case.actions)
            record = check_action(case, message.action_id, self.clock(), self._open_cases(case) if guarded else ())
            call = build_call(case, record, self.endpoints)
        except ActionAlreadyHandled:
            return Outcome.SKIPPED
        except (ActionRefused, ActionUnsupported) as refusal:
            self._record(message, ActionStatus.REFUSED, "action.refused", str(refusal), {})
            return Outcome.REFUSED
        try:
            token = self.tokens.token_for(call.family, call.account_id)
        except TokenNeedsReauthorization as expired:
            # Not final: once an operator has put new tokens in, the retried message succeeds.
            self._record(message, ActionStatus.FAILED, "action.failed", str(expired),
                         {"call": call.describe(), "needs_reauthorization": expired.family, "retry": True},
                         final=False)
            raise
        if not token:
            # No token configured: say precisely what would have been done, and do nothing.
            self._record(message, ActionStatus.DRY_RUN, "action.dry_run",
                         "no platform token configured: dry run", {"call": call.describe()})
            return Outcome.DRY_RUN
        try:
            answer = self.transport.send(call, token)
        except PlatformError as error:
            details = {"call": call.describe(), "http_status": error.status, "answer": error.answer[:500],
                       "retry": error.retryable}
            self._record(message, ActionStatus.FAILED, "action.failed", str(error), details,
                         final=not error.retryable)
            if error.retryable:
                raise
            return Outcome.FAILED
        self._record(message, ActionStatus.DONE, "action.done", None,
                     {"call": call.describe(), "answer": _short(answer)})
        return Outcome.DONE

    def _open_cases(self, case: Case) -> Sequence[PersonCase]:
        key = person_of(case)
        return self.cases.open_protected_cases(key) if key else []

    def _record(self, message: ActionMessage, status: ActionStatus, action: str, reason: str | None,
                data: dict[str, Any], final: bool = True) -> None:
        """Write the attempt on the freshest case; retried on a concurrent write, never re-calling the platform.

        ``final``: no further attempt will be made (a failure that will be retried is not final).
        """
        for attempt in range(RECORD_ATTEMPTS):
            case = self.cases.get(message.case_id)
            if case is None:
                return
            now = self.clock()
            records: list[ActionRecord] = []
            attempts = 0
            for record in case.actions:
                if record.action_id == message.action_id:
                    attempts = record.attempts + (0 if status == ActionStatus.REFUSED else 1)
                    record = record.model_copy(update={
                        "status": status, "attempts": attempts,
                        "last_error": reason if status in (ActionStatus.FAILED, ActionStatus.REFUSED) else None,
                        "completed_at": now if final else None})
                records.append(record)
            nxt = case.model_copy(update={"actions": records, "version": case.version + 1, "updated_at": now,
                                          **_effects(case, message, status)}, deep=True)
            event = CaseEvent(case_id=case.case_id, at=now, actor=ACTOR, action=action, version=nxt.version,
                              reason=reason, data={"from_version": case.version, "action_id": message.action_id,
                                                   "kind": message.kind.value, "attempt": attempts,
                                                   "requested_by": message.requested_by, **data})
            try:
                self.cases.save(nxt, event, case.version)
                return
            except self.stale_errors:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise


def _handled(case: Case, action_id: str) -> bool:
    record = next((r for r in case.actions if r.action_id == action_id), None)
    return record is not None and is_final(record)


def _effects(case: Case, message: ActionMessage, status: ActionStatus) -> dict[str, Any]:
    """What a performed action changes on the case: the post's visibility, an executed ban."""
    # The case's own record says what the action is; the message is only a pointer to it.
    record = next((r for r in case.actions if r.action_id == message.action_id), None)
    if record is None or status not in PERFORMED:
        return {}
    if record.kind in (ActionKind.HIDE, ActionKind.UNHIDE):
        return {"hidden": record.kind == ActionKind.HIDE}
    if record.kind == ActionKind.BAN and status == ActionStatus.DONE:
        return {"ban_proposals": [p.model_copy(update={"status": ProposalStatus.EXECUTED})
                                  if p.proposal_id == record.proposal_id else p for p in case.ban_proposals]}
    return {}


def _short(answer: dict[str, Any]) -> dict[str, Any]:
    text = str(answer)
    return answer if len(text) <= 500 else {"truncated": text[:500]}

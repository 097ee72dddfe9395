"""Run one requested action: re-check it on the case, call the platform (or dry-run), record the attempt.

Every attempt appends a history event (``action.dry_run``, ``action.done``, ``action.failed``,
``action.refused``). A platform error is recorded and re-raised so SQS retries with backoff, then
ActionsDLQ. A redelivered message for an action already handled does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from moderato.actions.calls import ActionUnsupported, Endpoints, PlatformCall, build_call
from moderato.actions.messages import ActionMessage
from moderato.models import ActionKind, ActionRecord, ActionStatus, Case, CaseEvent, ProposalStatus
from moderato.review.policy import ActionAlreadyHandled, ActionRefused, check_action

ACTOR = "system:actions"
RECORD_ATTEMPTS = 4  # a reviewer may change the case while we record: reload and record again


class PlatformError(Exception):
    """The platform refused or failed the call; ``status`` 0 for a network error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status


class CaseRepository(Protocol):
    def get(self, case_id: str) -> Case | None: ...

    def save(self, case: Case, event: CaseEvent, expected_version: int) -> Case: ...

    def open_complaints_by_author(self, platform: str, author_id: str) -> list[str]: ...


class Transport(Protocol):
    def send(self, call: PlatformCall, token: str) -> dict[str, Any]: ...


class TokenSource(Protocol):
    def token_for(self, family: str, account_id: str) -> str | None: ...


class Outcome(StrEnum):
    DONE = "done"
    DRY_RUN = "dry_run"
    REFUSED = "refused"
    SKIPPED = "skipped"  # already handled (redelivery), or the case is gone
    FAILED = "failed"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ActionExecutor:
    cases: CaseRepository
    transport: Transport
    tokens: TokenSource
    endpoints: Endpoints
    stale_errors: tuple[type[Exception], ...] = ()  # the store's "someone wrote first" exception(s)
    clock: Callable[[], datetime] = _utcnow

    def run(self, message: ActionMessage) -> Outcome:
        case = self.cases.get(message.case_id)
        if case is None:
            return Outcome.SKIPPED
        now = self.clock()
        try:
            record = check_action(case, message.action_id, now, self._open_complaints(case))
            call = build_call(case, record, self.endpoints)
        except ActionAlreadyHandled:
            return Outcome.SKIPPED
        except (ActionRefused, ActionUnsupported) as refusal:
            self._record(message, ActionStatus.REFUSED, "action.refused", str(refusal), {})
            return Outcome.REFUSED
        token = self.tokens.token_for(call.family, call.account_id)
        if not token:
            # No token configured: say precisely what would have been done, and do nothing.
            self._record(message, ActionStatus.DRY_RUN, "action.dry_run",
                         "no platform token configured: dry run", {"call": call.describe()})
            return Outcome.DRY_RUN
        try:
            answer = self.transport.send(call, token)
        except PlatformError as error:
            self._record(message, ActionStatus.FAILED, "action.failed", str(error),
                         {"call": call.describe(), "http_status": error.status})
            raise
        self._record(message, ActionStatus.DONE, "action.done", None,
                     {"call": call.describe(), "answer": _short(answer)})
        return Outcome.DONE

    def _open_complaints(self, case: Case) -> Sequence[str]:
        author = case.post.author.id
        return self.cases.open_complaints_by_author(case.post.platform.value, author) if author else []

    def _record(self, message: ActionMessage, status: ActionStatus, action: str, reason: str | None,
                data: dict[str, Any]) -> None:
        """Write the attempt on the freshest case; retried on a concurrent write, never re-calling the platform."""
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
                        "completed_at": now if status != ActionStatus.FAILED else None})
                records.append(record)
            proposals = case.ban_proposals
            if message.kind == ActionKind.BAN and status == ActionStatus.DONE:
                proposals = [p.model_copy(update={"status": ProposalStatus.EXECUTED})
                             if any(r.action_id == message.action_id and r.proposal_id == p.proposal_id
                                    for r in records) else p for p in proposals]
            nxt = case.model_copy(update={"actions": records, "ban_proposals": proposals,
                                          "version": case.version + 1, "updated_at": now}, deep=True)
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


def _short(answer: dict[str, Any]) -> dict[str, Any]:
    text = str(answer)
    return answer if len(text) <= 500 else {"truncated": text[:500]}

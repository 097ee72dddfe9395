"""The review API's request and answer bodies (the OpenAPI document is generated from them)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from moderato.models import ActionKind, ActionRecord, ActionStatus, BanProposal, Case, CaseEvent, Label
from moderato.people import PersonCase, person_of
from moderato.visibility import Visibility, visibility

MIN_WRITTEN_REASON = 10  # a re-label or ban must say why in words, not "x"
MAX_VERSION = 1_000_000_000  # a case changes far fewer times; a bound keeps absurd numbers out of the store
# Case ids are "<platform>-<20 hex>"; the bound keeps any id far under DynamoDB's 2,048-byte key limit (a
# longer key is a ValidationException, a 500), so a long or odd id is "no such case" before any AWS call.
MAX_ID_CHARS = 300


def is_plausible_id(value: str) -> bool:
    """A case or proposal id that could exist: 1 to MAX_ID_CHARS printable characters, no spaces."""
    return 0 < len(value) <= MAX_ID_CHARS and value.isprintable() and not any(ch.isspace() for ch in value)


class Decision(StrEnum):
    HIDE = "hide"  # confirm spam (or abuse) and hide it on the platform, reversibly
    DISMISS = "dismiss"  # not spam: re-labelled normal, stored as classifier feedback
    ACKNOWLEDGE = "acknowledge"  # a human has it; for a complaint, the promise made to the customer
    RESOLVE = "resolve"  # done; records whether the promise and the SLA were kept
    ESCALATE = "escalate"  # re-label as crisis
    RELABEL = "relabel"  # any other label, with a written reason
    REPLY = "reply"  # answer publicly on the platform
    CLOSE = "close"  # nothing to do (normal, handled spam)


class Versioned(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # strict: JSON true is not version 1, nor "3" version 3.
    expected_version: int = Field(ge=1, le=MAX_VERSION, strict=True,
                                  description="The case version the reviewer saw; 409 if it moved on.")


class ClaimRequest(Versioned):
    pass


class ReleaseRequest(Versioned):
    reason: str | None = Field(default=None, max_length=2000)


class DecisionRequest(Versioned):
    decision: Decision
    reason: str | None = Field(default=None, max_length=2000, description="Why; required for relabel/escalate.")
    label: Label | None = Field(default=None, description="The new label (relabel only).")
    promise: str | None = Field(default=None, max_length=1000,
                                description="What the customer was told will be done (acknowledge).")
    promise_due_at: datetime | None = Field(default=None, description="By when (acknowledge); ISO 8601 with zone.")
    outcome: str | None = Field(default=None, max_length=2000, description="What was done (resolve).")
    reply_text: str | None = Field(default=None, max_length=2000, description="The public answer (reply).")


class BanProposalRequest(Versioned):
    reason: str = Field(min_length=MIN_WRITTEN_REASON, max_length=2000)


class BanDecisionRequest(Versioned):
    reason: str | None = Field(default=None, max_length=2000)


class UndoHideRequest(Versioned):
    reason: str = Field(min_length=3, max_length=2000)


MAX_BULK_CASES = 50  # one spam wave at a time; each case is still its own transaction


class BulkCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    expected_version: int = Field(ge=1, le=MAX_VERSION, strict=True)


class BulkHideRequest(BaseModel):
    """Hide a spam wave: the same near-duplicate from many authors, with one written reason."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=MIN_WRITTEN_REASON, max_length=2000)
    cases: list[BulkCase] = Field(min_length=1, max_length=MAX_BULK_CASES)


class BulkOutcome(BaseModel):
    case_id: str
    ok: bool
    version: int | None = Field(default=None, description="The case's new version (when ok).")
    code: str | None = Field(default=None, description="The refusal's code (when not ok), as ErrorAnswer.")
    message: str | None = None


class BulkAnswer(BaseModel):
    results: list[BulkOutcome] = Field(description="One outcome per case, in the order sent.")


class ActionBrief(BaseModel):
    """Where a requested platform action stands (the full record is on the case)."""

    action_id: str
    kind: ActionKind
    status: ActionStatus
    attempts: int
    last_error: str | None = None

    @classmethod
    def of(cls, record: ActionRecord) -> ActionBrief:
        return cls(action_id=record.action_id, kind=record.kind, status=record.status, attempts=record.attempts,
                   last_error=record.last_error)


class CaseSummary(BaseModel):
    case_id: str
    label: Label
    queue: str | None
    status: str
    priority: int
    version: int
    sla_due_at: datetime | None
    created_at: datetime
    platform: str
    brand: str | None
    author: dict[str, Any]
    text: str
    claimed_by: str | None
    reasons: list[str]
    visibility: Visibility = Field(description="On the platform, as far as performed actions say.")
    actions: list[ActionBrief] = Field(default_factory=list)
    person_key: str | None = Field(default=None, description="The author across the brand's surfaces "
                                   "(pass it as ?author= to list the person's cases).")
    order_numbers: list[str] = Field(default_factory=list, description="Order numbers quoted in the post.")

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        return cls(case_id=case.case_id, label=case.label, queue=case.queue, status=case.status.value,
                   priority=case.priority, version=case.version, sla_due_at=case.sla_due_at,
                   created_at=case.created_at, platform=case.post.platform.value, brand=case.post.brand,
                   author=case.post.author.model_dump(), text=case.post.text, claimed_by=case.claimed_by,
                   reasons=[r.code for r in case.reasons], visibility=visibility(case),
                   actions=[ActionBrief.of(a) for a in case.actions], person_key=person_of(case),
                   order_numbers=case.order_numbers)


class CaseList(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = Field(default=None, description="Pass as ?cursor= for the next page.")


class AvailableActions(BaseModel):
    """What the reviewer asking may do to this case now: what the API and the platform would accept."""

    claim: bool = False
    release: bool = False
    decisions: list[Decision] = Field(default_factory=list)
    propose_ban: bool = False
    undo_hide: bool = False
    approve: list[str] = Field(default_factory=list, description="Proposal ids this reviewer may approve.")
    reject: list[str] = Field(default_factory=list, description="Proposal ids this reviewer may reject.")
    withdraw: list[str] = Field(default_factory=list, description="This reviewer's own pending proposals.")
    claim_expires_at: datetime | None = Field(default=None, description="When the current claim lapses.")
    unavailable: dict[str, str] = Field(default_factory=dict, description=(
        "Why an action this case might call for is not offered (hide, reply, propose_ban, decide), in words."))


class CaseDetail(BaseModel):
    case: Case
    history: list[CaseEvent]
    visibility: Visibility = Field(description="hidden only once the hide was performed (or dry-run); "
                                               "hide_pending / unhide_pending while the action is on its way.")
    related: list[PersonCase] = Field(default_factory=list,
                                      description="The same person's other cases on the same brand, on any "
                                                  "surface and in any status, newest first.")
    available: AvailableActions = Field(default_factory=AvailableActions,
                                        description="What the reviewer asking may do to this case now.")


class ProposalAnswer(BaseModel):
    case: Case
    proposal: BanProposal


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query or path, then the field name.")
    type: str = Field(description="Pydantic's error type, e.g. enum, missing, string_too_short.")
    message: str = Field(description="What is wrong, for people: allowed values, minimum length...")


class ErrorAnswer(BaseModel):
    """Every refusal of the review function (domain rules and request validation alike)."""

    code: str = Field(description="Stable token: not_authenticated, forbidden, not_found, proposal_not_found, "
                                  "stale_version, claimed_by_other, decision_not_allowed, complaint_open, "
                                  "proposal_not_pending, invalid_cursor, invalid_request, actions_unavailable, "
                                  "alert_unavailable.")
    message: str = Field(description="Why, in a sentence that is safe to show to the reviewer.")
    detail: list[FieldError] | None = Field(default=None,
                                            description="Request validation only: one entry per invalid field.")


class GatewayError(BaseModel):
    """API Gateway's own answer, before the function runs (e.g. 401 for a missing or invalid token)."""

    message: str = Field(description='"Unauthorized" for a missing, expired or badly signed token.')

"""The review policy: what a reviewer may do to a case, and the guardrails. Pure: values in, values out.

Every function takes the case as read, checks the version the reviewer saw, applies one change and
returns a ``Change``: the next case (version + 1), the one immutable history event describing it
(who, when, what, why, from which version), the platform actions to queue and the feedback to keep.
Nothing here can delete: ``ActionKind`` has no such member.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moderato.guardrails import protects_author, silencing_refusal
from moderato.models import (
    ACTIVE_STATUSES,
    ActionKind,
    ActionRecord,
    BanProposal,
    Case,
    CaseEvent,
    CaseStatus,
    Label,
    Promise,
    ProposalStatus,
)
from moderato.people import PersonCase
from moderato.review import capabilities
from moderato.review.errors import (
    ClaimedByOther,
    ComplainantProtected,
    DecisionNotAllowed,
    InvalidRequest,
    NotAllowed,
    ProposalMissing,
    ProposalNotPending,
    StaleVersion,
)
from moderato.review.identity import Reviewer
from moderato.review.requests import MIN_WRITTEN_REASON, Decision, DecisionRequest
from moderato.review.sla import resolve_deadline
from moderato.settings import SlaPolicy
from moderato.triage.routing import route
from moderato.visibility import Visibility, visibility

CLOSED_STATUSES = frozenset({CaseStatus.RESOLVED, CaseStatus.DISMISSED, CaseStatus.CLOSED})

_UNACKED = (CaseStatus.OPEN, CaseStatus.CLAIMED)
# Which decisions apply to which label in which status. Closed cases can only be re-labelled
# (a correction for the classifier), never acted on again.
ALLOWED: dict[Label, dict[CaseStatus, frozenset[Decision]]] = {
    Label.SPAM: dict.fromkeys(_UNACKED, frozenset(
        {Decision.HIDE, Decision.DISMISS, Decision.RELABEL, Decision.ESCALATE, Decision.CLOSE})),
    Label.COMPLAINT: {
        **dict.fromkeys(_UNACKED, frozenset(
            {Decision.ACKNOWLEDGE, Decision.RELABEL, Decision.ESCALATE, Decision.REPLY})),
        CaseStatus.ACKNOWLEDGED: frozenset({Decision.RESOLVE, Decision.RELABEL, Decision.ESCALATE, Decision.REPLY}),
    },
    Label.CRISIS: {
        **dict.fromkeys(_UNACKED, frozenset({Decision.ACKNOWLEDGE, Decision.RELABEL, Decision.REPLY})),
        CaseStatus.ACKNOWLEDGED: frozenset({Decision.RESOLVE, Decision.RELABEL, Decision.REPLY}),
    },
    Label.NORMAL: dict.fromkeys(_UNACKED, frozenset(
        {Decision.HIDE, Decision.RELABEL, Decision.REPLY, Decision.CLOSE})),
}
for _label in Label:
    for _status in CLOSED_STATUSES:
        ALLOWED[_label][_status] = frozenset({Decision.RELABEL})


def allowed_decisions(case: Case) -> frozenset[Decision]:
    return ALLOWED.get(case.label, {}).get(case.status, frozenset())


@dataclass(frozen=True)
class Feedback:
    """A reviewer's correction of the classifier, kept as a future training row."""

    case_id: str
    at: datetime
    by: str
    from_label: Label
    to_label: Label
    reason: str | None
    text: str
    language: str | None
    platform: str


@dataclass(frozen=True)
class Change:
    case: Case
    event: CaseEvent
    actions: list[ActionRecord] = field(default_factory=list)
    feedback: Feedback | None = None
    # (platform, author id) of a spammer a moderator just confirmed, for the repeat-offender memory.
    repeat_offender: tuple[str, str] | None = None


IdFactory = Callable[[], str]


def _new_id() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------- shared checks


def check_version(case: Case, expected_version: int) -> None:
    if case.version != expected_version:
        raise StaleVersion(
            f"case {case.case_id} is at version {case.version}, you acted on version {expected_version}: "
            "reload it and decide again"
        )


def _check_not_claimed_by_other(case: Case, reviewer: Reviewer) -> None:
    # By sub: a claim recorded without one (before subs were kept) is nobody's; an approver releases it.
    if case.claimed_by and not reviewer.is_person(case.claimed_by_sub):
        raise ClaimedByOther(f"case {case.case_id} is claimed by {case.claimed_by}; ask them or an approver "
                             "to release it first")


def _written(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_WRITTEN_REASON:
        raise InvalidRequest(f"{what} needs a written reason of at least {MIN_WRITTEN_REASON} characters")
    return text


def complainant_refusal(case: Case, open_cases: Sequence[PersonCase], what: str) -> ComplainantProtected | None:
    """The guardrail (moderato/guardrails.py) as the review API's refusal."""
    message = silencing_refusal(case, open_cases, what)
    return ComplainantProtected(message) if message else None


def _next(case: Case, now: datetime, **changes: Any) -> Case:
    return case.model_copy(update={**changes, "version": case.version + 1, "updated_at": now}, deep=True)


def _event(case: Case, reviewer: Reviewer, now: datetime, action: str, reason: str | None,
           **data: Any) -> CaseEvent:
    """The history entry for the change from ``case`` (as read) to its next version."""
    return CaseEvent(case_id=case.case_id, at=now, actor=reviewer.username, actor_sub=reviewer.sub, action=action,
                     version=case.version + 1, reason=reason,
                     data={"from_version": case.version, "groups": sorted(reviewer.groups), **data})


def _request(kind: ActionKind, reviewer: Reviewer, now: datetime, new_id: IdFactory,
             **extra: Any) -> ActionRecord:
    return ActionRecord(action_id=new_id(), kind=kind, requested_by=reviewer.username, requested_at=now, **extra)


# ---------------------------------------------------------------- claim and release


def claim(case: Case, reviewer: Reviewer, expected_version: int, now: datetime) -> Change | None:
    """Take the case so no colleague works on it twice. None when the reviewer already holds it."""
    reviewer.require_reviewer()
    check_version(case, expected_version)
    if case.status in CLOSED_STATUSES:
        raise DecisionNotAllowed(f"case {case.case_id} is {case.status.value}: nothing left to claim")
    _check_not_claimed_by_other(case, reviewer)
    if case.claimed_by and reviewer.is_person(case.claimed_by_sub):
        return None
    status = CaseStatus.CLAIMED if case.status == CaseStatus.OPEN else case.status
    return Change(_next(case, now, claimed_by=reviewer.username, claimed_by_sub=reviewer.sub, status=status),
                  _event(case, reviewer, now, "claimed", None))


def release(case: Case, reviewer: Reviewer, expected_version: int, now: datetime, reason: str | None) -> Change:
    """Give the case back. Someone else's claim may be released only by an approver (e.g. shift change)."""
    reviewer.require_reviewer()
    check_version(case, expected_version)
    if not case.claimed_by:
        raise DecisionNotAllowed(f"case {case.case_id} is not claimed")
    if not reviewer.is_person(case.claimed_by_sub) and not reviewer.is_approver:
        raise NotAllowed(f"case {case.case_id} is claimed by {case.claimed_by}; only they or an approver "
                         "may release it")
    status = CaseStatus.OPEN if case.status == CaseStatus.CLAIMED else case.status
    return Change(_next(case, now, claimed_by=None, claimed_by_sub=None, status=status),
                  _event(case, reviewer, now, "released", reason, previous_holder=case.claimed_by))


# ---------------------------------------------------------------- decisions


def decide(case: Case, reviewer: Reviewer, request: DecisionRequest, now: datetime, sla: SlaPolicy,
           new_id: IdFactory = _new_id, author_open_cases: Sequence[PersonCase] = ()) -> Change:
    """``author_open_cases``: the person's open complaint/crisis cases on the brand (read for a hide only)."""
    reviewer.require_reviewer()
    check_version(case, request.expected_version)
    _check_not_claimed_by_other(case, reviewer)
    decision = request.decision
    if decision == Decision.HIDE and protects_author(case):
        refusal = complainant_refusal(case, (), "hiding this post")
        assert refusal is not None
        raise refusal
    if decision not in allowed_decisions(case):
        allowed = ", ".join(sorted(d.value for d in allowed_decisions(case))) or "none"
        raise DecisionNotAllowed(f"'{decision.value}' does not apply to a {case.label.value} case that is "
                                 f"{case.status.value} (allowed: {allowed})")
    if decision == Decision.HIDE:
        # Any post of hers, on any surface of the brand: hiding it would silence her all the same.
        refusal = complainant_refusal(case, author_open_cases, "hiding this post")
        if refusal:
            raise refusal
        capabilities.check_decision(case, request)
        return _hide(case, reviewer, request, now, new_id)
    capabilities.check_decision(case, request)
    handler = _DECISIONS[decision]
    return handler(case, reviewer, request, now, sla, new_id)


def _hide(case: Case, reviewer: Reviewer, request: DecisionRequest, now: datetime, new_id: IdFactory) -> Change:
    # Only a request: ``hidden`` turns true when the actions function has performed it (or dry-run it).
    action = _request(ActionKind.HIDE, reviewer, now, new_id)
    nxt = _next(case, now, status=CaseStatus.CLOSED, actions=[*case.actions, action])
    # Hiding spam confirms its author as a spammer (nobody with an open complaint gets this far).
    author = case.post.author.id
    offender = (case.post.platform.value, author) if case.label == Label.SPAM and author else None
    event = _event(case, reviewer, now, "decided.hide", request.reason, action_id=action.action_id,
                   repeat_offence=offender is not None)
    return Change(nxt, event, [action], repeat_offender=offender)


def _relabelled(case: Case, reviewer: Reviewer, now: datetime, sla: SlaPolicy, label: Label, reason: str | None,
                status: CaseStatus | None = None) -> tuple[Case, Feedback]:
    if status is None:
        if case.status in CLOSED_STATUSES:
            status = case.status
        else:
            status = CaseStatus.CLAIMED if case.claimed_by else CaseStatus.OPEN
    active = status in ACTIVE_STATUSES
    row = route(label, now, sla)
    nxt = _next(case, now, label=label, queue=row.queue, priority=row.priority,
                status=status, relabel_reason=reason,
                # A re-labelled case starts the new label's clock from now: its first deadline is new.
                sla_due_at=row.sla_due_at if active else case.sla_due_at)
    feedback = Feedback(case_id=case.case_id, at=now, by=reviewer.username, from_label=case.label, to_label=label,
                        reason=reason, text=case.post.text, language=case.language,
                        platform=case.post.platform.value)
    return nxt, feedback


def _relabel(case: Case, reviewer: Reviewer, request: DecisionRequest, now: datetime, sla: SlaPolicy,
             new_id: IdFactory) -> Change:
    if request.label is None:
        raise InvalidRequest("relabel needs the new label")
    if request.label == case.label:
        raise InvalidRequest(f"the case is already labelled {case.label.value}")
    reason = _written(request.reason, "a re-label")
    nxt, feedback = _relabelled(case, reviewer, now, sla, request.label, reason)
    event = _event(case, reviewer, now, "relabelled", reason, from_label=case.label.value,
                   to_label=request.label.value)
    return Change(nxt, event, feedback=feedback)


def _escalate(case: Case, reviewer: Reviewer, request: DecisionRequest, now: datetime, sla: SlaPolicy,
              new_id: IdFactory) -> Change:
    reason = _written(request.reason, "an escalation")
    nxt, feedback = _relabelled(case, reviewer, now, sla, Label.CRISIS, reason)
    event = _event(case, reviewer, now, "escalated", reason, from_label=case.label.value, to_label="crisis")
    return Change(nxt, event, feedback=feedback)


def _dismiss(case: Case, reviewer: Reviewer, request: DecisionRequest, now: datetime, sla: SlaPolicy,
             new_id: IdFactory) -> Change:
    # "Not spam" is a correction of the classifier: the post is normal, and that is worth learning.
    nxt, feedback = _relabelled(case, reviewer, now, sla, Label.NORMAL, request.reason, CaseStatus.DISMISSED)
    event = _event(case, reviewer, now, "dismissed", request.reason, from_label=case.label.value,
                   to_label="normal")
    return Change(nxt, event, feedback=feedback)


def _acknowledge(case: Case, reviewer: Reviewer, request: DecisionRequest, now: datetime, sla: SlaPolicy,
                 new_id: IdFactory) -> Change:
    resolve_due = resolve_deadline(case, sla)
    promise: Promise | None = None
    text = (request.promise or "").strip()
    if case.label == Label.COMPLAINT and not text:
        raise InvalidRequest("acknowledging a complaint needs the promise made to the customer "
                             "(what will be done, e.g. 'our delivery team will call you before 6 pm')")
    if text:
        due = request.promise_due_at or resolve_due
        if due is None:
            raise InvalidRequest("a promise needs promise_due_at (by when it will be done)")
        if due.tzinfo is None:
            raise InvalidRequest("promise_due_at needs a time zone (e.g. 2026-11-25T18:00:00Z)")
        if due <= now:
            raise InvalidRequest("promise_due_at is in the past: promise something that can still be kept")
        promise = Promise(text=text, due_at=due, made_by=reviewer.username, made_at=now)
    on_time = case.sla_due_at is None or now <= case.sla_due_at
    nxt = _next(case, now, status=CaseStatus.ACKNOWLEDGED, promise=promise,
                # Once acknowledged, the next deadline that matters is the resolution (complaints only).
                sla_due_at=resolve_due)
    event = _event(case, reviewer, now, "acknowledged", request.reason, acknowledged_on_time=on_time,
                   ack_due_at=case.sla_due_at.isoformat() if case.sla_due_at else None,
                   promise=promise.text if promise else None,
                   promise_due_at=promise.due_at.isoformat() if promise else None)
    return Change(nxt, event)


def _resolve(case: Case, reviewer: Reviewer, request: DecisionRequest, now: datetime, sla: SlaPolicy,
             new_id: IdFactory) -> Change:
    outcome = (request.outcome or "").strip()
    if case.label == Label.COMPLAINT and not outcome:
        raise InvalidRequest("resolving a complaint needs the outcome: what was done for the customer")
    promise = case.promise
    kept: bool | None = None
    if promise is not None:
        kept = now <= promise.due_at
        promise = promise.model_copy(update={"resolved_at": now, "kept": kept, "outcome": outcome or None})
    resolve_due = resolve_deadline(case, sla)
    within_sla = resolve_due is None or now <= resolve_due
    nxt = _next(case, now, status=CaseStatus.RESOLVED, promise=promise, claimed_by=None, claimed_by_sub=None)
    event = _event(case, reviewer, now, "resolved", request.reason, outcome=outcome or None, promise_kept=kept,
                   resolved_within_sla=within_sla)
    return Change(nxt, event)


def _reply(case: Case, reviewer: Reviewer, request: DecisionRequest, now: datetime, sla: SlaPolicy,
           new_id: IdFactory) -> Change:
    text = (request.reply_text or "").strip()
    if not text:
        raise InvalidRequest("reply needs reply_text")
    action = _request(ActionKind.REPLY, reviewer, now, new_id, text=text)
    nxt = _next(case, now, actions=[*case.actions, action])
    return Change(nxt, _event(case, reviewer, now, "decided.reply", request.reason, action_id=action.action_id,
                              reply_text=text), [action])


def _close(case: Case, reviewer: Reviewer, request: DecisionRequest, now: datetime, sla: SlaPolicy,
           new_id: IdFactory) -> Change:
    return Change(_next(case, now, status=CaseStatus.CLOSED, claimed_by=None, claimed_by_sub=None),
                  _event(case, reviewer, now, "closed", request.reason))


_DECISIONS: dict[Decision, Callable[..., Change]] = {
    Decision.DISMISS: _dismiss,
    Decision.ACKNOWLEDGE: _acknowledge,
    Decision.RESOLVE: _resolve,
    Decision.ESCALATE: _escalate,
    Decision.RELABEL: _relabel,
    Decision.REPLY: _reply,
    Decision.CLOSE: _close,
}


def undo_hide(case: Case, reviewer: Reviewer, expected_version: int, reason: str, now: datetime,
              new_id: IdFactory = _new_id) -> Change:
    """Hide is reversible by design: anyone who may review may put a hidden post back.

    A hide still on its way can be undone too: the actions function then refuses the hide (superseded)
    and performs the unhide. ``hidden`` turns false when the unhide is performed, not now.
    """
    reviewer.require_reviewer()
    check_version(case, expected_version)
    state = visibility(case)
    if state == Visibility.UNHIDE_PENDING:
        raise DecisionNotAllowed(f"case {case.case_id}: an unhide is already on its way")
    if state == Visibility.VISIBLE:
        raise DecisionNotAllowed(f"case {case.case_id} is not hidden")
    action = _request(ActionKind.UNHIDE, reviewer, now, new_id)
    nxt = _next(case, now, actions=[*case.actions, action])
    return Change(nxt, _event(case, reviewer, now, "decided.unhide", reason, action_id=action.action_id,
                              visibility_before=state.value), [action])


# ---------------------------------------------------------------- bans: two people, never the complainant


def _proposal(case: Case, proposal_id: str) -> BanProposal:
    for proposal in case.ban_proposals:
        if proposal.proposal_id == proposal_id:
            return proposal
    raise ProposalMissing(f"case {case.case_id} has no ban proposal {proposal_id}")


def _with_proposal(case: Case, proposal: BanProposal) -> list[BanProposal]:
    return [proposal if p.proposal_id == proposal.proposal_id else p for p in case.ban_proposals]


def propose_ban(case: Case, reviewer: Reviewer, expected_version: int, reason: str, now: datetime,
                open_cases: Sequence[PersonCase], new_id: IdFactory = _new_id) -> Change:
    """``open_cases``: the person's open complaint and crisis cases on the brand (any surface)."""
    reviewer.require_reviewer()
    check_version(case, expected_version)
    written = _written(reason, "a ban proposal")
    author = case.post.author
    if not author.id:
        raise DecisionNotAllowed(f"case {case.case_id} does not say who wrote the post: nobody to ban")
    refusal = complainant_refusal(case, open_cases, "banning this author")
    if refusal:
        raise refusal
    live = [p for p in case.ban_proposals if p.status in (ProposalStatus.PENDING, ProposalStatus.APPROVED)]
    if live:
        raise ProposalNotPending(f"a ban of this author is already {live[0].status.value} "
                                 f"(proposal {live[0].proposal_id})")
    proposal = BanProposal(proposal_id=new_id(), target_author_id=author.id, target_author_name=author.name,
                           platform=case.post.platform, account_id=case.post.account_id,
                           proposed_by=reviewer.username, proposed_by_sub=reviewer.sub, proposed_at=now,
                           reason=written)
    nxt = _next(case, now, ban_proposals=[*case.ban_proposals, proposal])
    event = _event(case, reviewer, now, "ban.proposed", written, proposal_id=proposal.proposal_id,
                   target_author_id=author.id)
    return Change(nxt, event)


def approve_ban(case: Case, reviewer: Reviewer, proposal_id: str, expected_version: int, reason: str | None,
                now: datetime, open_cases: Sequence[PersonCase], new_id: IdFactory = _new_id) -> Change:
    reviewer.require_approver()
    check_version(case, expected_version)
    proposal = _proposal(case, proposal_id)
    if proposal.status != ProposalStatus.PENDING:
        raise ProposalNotPending(f"ban proposal {proposal_id} is {proposal.status.value}, not pending")
    # The two-person rule compares subs: names are display only and one person can write theirs many ways.
    if proposal.proposed_by_sub is None:
        raise NotAllowed(f"ban proposal {proposal_id} does not record who proposed it (it predates identity by "
                         "token sub), so no approval can prove a second person: reject it and propose again")
    if reviewer.is_person(proposal.proposed_by_sub):
        raise NotAllowed("you proposed this ban: a different person in the approvers group must approve it")
    refusal = complainant_refusal(case, open_cases, "approving this ban")
    if refusal:
        raise refusal
    approved = proposal.model_copy(update={
        "status": ProposalStatus.APPROVED, "decided_by": reviewer.username, "decided_by_sub": reviewer.sub,
        "decided_by_groups": sorted(reviewer.groups), "decided_at": now, "decision_reason": reason})
    action = _request(ActionKind.BAN, reviewer, now, new_id, proposal_id=proposal_id)
    nxt = _next(case, now, ban_proposals=_with_proposal(case, approved), actions=[*case.actions, action])
    event = _event(case, reviewer, now, "ban.approved", reason, proposal_id=proposal_id,
                   proposed_by=proposal.proposed_by, proposed_by_sub=proposal.proposed_by_sub,
                   action_id=action.action_id)
    return Change(nxt, event, [action])


def reject_ban(case: Case, reviewer: Reviewer, proposal_id: str, expected_version: int, reason: str | None,
               now: datetime) -> Change:
    """An approver rejects; the proposer may withdraw their own proposal."""
    reviewer.require_reviewer()
    check_version(case, expected_version)
    proposal = _proposal(case, proposal_id)
    if proposal.status != ProposalStatus.PENDING:
        raise ProposalNotPending(f"ban proposal {proposal_id} is {proposal.status.value}, not pending")
    if not reviewer.is_approver and not reviewer.is_person(proposal.proposed_by_sub):
        raise NotAllowed("only an approver, or the reviewer who proposed it, may reject a ban proposal")
    rejected = proposal.model_copy(update={
        "status": ProposalStatus.REJECTED, "decided_by": reviewer.username, "decided_by_sub": reviewer.sub,
        "decided_by_groups": sorted(reviewer.groups), "decided_at": now, "decision_reason": reason})
    nxt = _next(case, now, ban_proposals=_with_proposal(case, rejected))
    return Change(nxt, _event(case, reviewer, now, "ban.rejected", reason, proposal_id=proposal_id))

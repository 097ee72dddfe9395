"""The actions function's last look before a platform call: is the requested action still allowed? Pure.

Review allowed it when a reviewer asked; the world may have moved since (the hide undone, the ban's
approval grown old, a complaint opened on another surface). The rules are the shared guardrails
(moderato/guardrails.py), checked again here, at execution time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from moderato.guardrails import APPROVAL_VALID_FOR, APPROVERS, silencing_refusal
from moderato.models import ActionKind, ActionRecord, Case, ProposalStatus
from moderato.people import PersonCase
from moderato.visibility import is_final, superseded_by


class ActionRefused(Exception):
    """The action must not run (any more); the reason goes to the case history."""


class ActionAlreadyHandled(Exception):
    """A redelivered message for an action that already ran, or was refused: do nothing, twice."""


def find_action(case: Case, action_id: str) -> ActionRecord:
    for record in case.actions:
        if record.action_id == action_id:
            return record
    raise ActionRefused(f"case {case.case_id} holds no request for action {action_id}")


def check_action(case: Case, action_id: str, now: datetime, open_cases: Sequence[PersonCase]) -> ActionRecord:
    """Re-check, at execution time, that the requested action is still allowed. Returns its record.

    ``open_cases``: the person's open complaint and crisis cases on the brand (the complainant guardrail,
    for hides and bans).
    """
    record = find_action(case, action_id)
    if is_final(record):
        raise ActionAlreadyHandled(f"action {action_id} is already {record.status.value}")
    if record.kind == ActionKind.HIDE:
        refusal = silencing_refusal(case, open_cases, "hiding this post")
        if refusal:
            raise ActionRefused(refusal)
        if superseded_by(case, record):
            raise ActionRefused("the hide was undone before it ran")
    elif record.kind == ActionKind.UNHIDE:
        if superseded_by(case, record):
            raise ActionRefused("the post was hidden again before the unhide ran")
    elif record.kind == ActionKind.REPLY:
        if not record.text:
            raise ActionRefused("a reply without text")
    elif record.kind == ActionKind.BAN:
        _check_ban(case, record, now, open_cases)
    return record


def _check_ban(case: Case, record: ActionRecord, now: datetime, open_cases: Sequence[PersonCase]) -> None:
    if not record.proposal_id:
        raise ActionRefused("a ban without a proposal")
    proposal = next((p for p in case.ban_proposals if p.proposal_id == record.proposal_id), None)
    if proposal is None:
        raise ActionRefused(f"case {case.case_id} holds no ban proposal {record.proposal_id}")
    if proposal.status == ProposalStatus.EXECUTED:
        raise ActionAlreadyHandled(f"ban proposal {proposal.proposal_id} was already executed")
    if proposal.status != ProposalStatus.APPROVED:
        raise ActionRefused(f"ban proposal {proposal.proposal_id} is {proposal.status.value}, not approved")
    # Subs, not names: a record missing either one (written before subs were kept) proves nothing.
    if not proposal.decided_by_sub or not proposal.proposed_by_sub:
        raise ActionRefused("the ban proposal does not record who proposed and who approved it by token sub: "
                            "propose and approve again")
    if proposal.decided_by_sub == proposal.proposed_by_sub:
        raise ActionRefused("the ban was not approved by a second person")
    if APPROVERS not in proposal.decided_by_groups:
        raise ActionRefused(f"{proposal.decided_by} was not in the approvers group when approving")
    if proposal.decided_at is None or now - proposal.decided_at > APPROVAL_VALID_FOR:
        raise ActionRefused("the approval is older than 24 hours: propose and approve again")
    refusal = silencing_refusal(case, open_cases, "banning this author")
    if refusal:
        raise ActionRefused(refusal)

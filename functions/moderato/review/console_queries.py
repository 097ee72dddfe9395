"""What the review console asks beyond a plain listing: what may I do here, my claims, bans awaiting me, search. Pure.

``available`` mirrors the policy (moderato/review/policy.py) and the platform's limits
(moderato/review/capabilities.py), so the console offers only what the API would accept; the API
still checks everything itself. The list predicates filter cases read from the store's listing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import timedelta

from moderato.guardrails import PROTECTED_LABELS
from moderato.models import ACTIVE_STATUSES, ActionKind, Case, ProposalStatus
from moderato.people import PersonCase
from moderato.review import capabilities
from moderato.review.claims import claim_expires_at
from moderato.review.identity import Reviewer
from moderato.review.policy import CLOSED_STATUSES, allowed_decisions, complainant_refusal
from moderato.review.requests import AvailableActions, Decision
from moderato.visibility import Visibility, visibility

_LIVE_PROPOSALS = (ProposalStatus.PENDING, ProposalStatus.APPROVED)
_DECISION_ACTIONS = {Decision.HIDE: ActionKind.HIDE, Decision.REPLY: ActionKind.REPLY}


def open_protected(related: Sequence[PersonCase]) -> list[PersonCase]:
    return [c for c in related if c.label in PROTECTED_LABELS and c.status in ACTIVE_STATUSES]


def available(case: Case, reviewer: Reviewer, related: Sequence[PersonCase],
              lease: timedelta | None = None) -> AvailableActions:
    """``case`` as the service reads it (a lapsed claim already dropped); ``related``: the person's other cases."""
    unavailable: dict[str, str] = {}
    mine = bool(case.claimed_by) and reviewer.is_person(case.claimed_by_sub)
    held_by_other = bool(case.claimed_by) and not mine
    opened = open_protected(related)
    hide_protection = complainant_refusal(case, opened, "hiding this post")
    ban_protection = complainant_refusal(case, opened, "banning this author")
    decisions: list[Decision] = []
    if held_by_other:
        unavailable["decide"] = f"claimed by {case.claimed_by}"
    else:
        for decision in sorted(allowed_decisions(case)):
            kind = _DECISION_ACTIONS.get(decision)
            why = capabilities.refusal(case, kind) if kind else None
            if decision == Decision.HIDE and hide_protection is not None:
                why = hide_protection.message
            if why:
                unavailable[decision.value] = why
            else:
                decisions.append(decision)
    pending = [p for p in case.ban_proposals if p.status == ProposalStatus.PENDING]
    live = [p for p in case.ban_proposals if p.status in _LIVE_PROPOSALS]
    ban_refusal = (ban_protection.message if ban_protection else capabilities.refusal(case, ActionKind.BAN)
                   or (None if case.post.author.id else "the post does not say who wrote it")
                   or (f"a ban of this author is already {live[0].status.value}" if live else None))
    if ban_refusal:
        unavailable["propose_ban"] = ban_refusal
    state = visibility(case)
    return AvailableActions(
        claim=case.status not in CLOSED_STATUSES and not case.claimed_by,
        release=bool(case.claimed_by) and (mine or reviewer.is_approver),
        decisions=decisions,
        propose_ban=ban_refusal is None,
        undo_hide=state in (Visibility.HIDDEN, Visibility.HIDE_PENDING),
        approve=[p.proposal_id for p in pending if reviewer.is_approver and p.proposed_by_sub is not None
                 and not reviewer.is_person(p.proposed_by_sub) and ban_protection is None],
        reject=[p.proposal_id for p in pending if reviewer.is_approver and not reviewer.is_person(p.proposed_by_sub)],
        withdraw=[p.proposal_id for p in pending if reviewer.is_person(p.proposed_by_sub)],
        claim_expires_at=claim_expires_at(case, lease),
        unavailable=unavailable,
    )


def awaiting_approval_by(case: Case, reviewer: Reviewer) -> bool:
    """A pending ban proposal on the case that this approver may decide: proposed by someone else."""
    return reviewer.is_approver and any(
        p.status == ProposalStatus.PENDING and p.proposed_by_sub is not None
        and not reviewer.is_person(p.proposed_by_sub) for p in case.ban_proposals)


def claimed_by(case: Case, reviewer: Reviewer) -> bool:
    return bool(case.claimed_by) and reviewer.is_person(case.claimed_by_sub)


def folded(text: str) -> str:
    """Case- and accent-insensitive form: 'Commande LIVRÉE' finds 'commande livree'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def matches_text(case: Case, query: str) -> bool:
    """The search box: the post's text, the author's name, handle or id, an order number, the case id."""
    wanted = folded(query.strip())
    if not wanted:
        return True
    author = case.post.author
    haystack = [case.post.text, author.name or "", author.handle or "", author.id or "", case.case_id,
                *case.order_numbers]
    return any(wanted in folded(value) for value in haystack)

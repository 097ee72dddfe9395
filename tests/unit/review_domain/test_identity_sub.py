"""A person is their token's sub: the two-person rule and claims compare subs, never user names."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

from moderato.actions import executor as executor_module
from moderato.actions import recheck
from moderato.actions.executor import Outcome
from moderato.models import Case, ProposalStatus
from moderato.review import policy, service
from moderato.review.errors import ClaimedByOther, NotAllowed, NotAuthenticated
from moderato.review.identity import Reviewer, reviewer_from_claims
from moderato.review.requests import Decision, DecisionRequest
from tests.review_support import ALICE, BOB, CAROL, SLA, T0, claims_of, make_case
from tests.unit.review_domain.test_actions import FakeCases, FakeTransport, approved, executor

LATER = T0 + timedelta(minutes=5)
APPROVERS = frozenset({"moderators", "approvers"})

# Ways one person's name can be written that a name comparison takes for someone else.
ALICE_SPELLINGS = [
    "Alice",  # case
    "ALICE",
    "alice ",  # trailing space
    " alice",
    "alice\u200b",  # zero-width space
    "alice\u2060",  # word joiner
    "\u0430lice",  # Cyrillic а
    "\uff41\uff4c\uff49\uff43\uff45",  # fullwidth: NFKC turns it into alice
    "a\u2113ice",  # script small l: NFKC turns it into alice
]


def proposed_by_alice() -> Case:
    case = make_case()
    return policy.propose_ban(case, ALICE, case.version, "posts the same scam link in every thread", LATER,
                              []).case


def approve(case: Case, reviewer: Reviewer) -> policy.Change:
    return policy.approve_ban(case, reviewer, case.ban_proposals[0].proposal_id, case.version, None, LATER, [])


@pytest.mark.parametrize("name", ALICE_SPELLINGS)
def test_the_proposer_under_any_spelling_of_her_name_cannot_approve(name: str) -> None:
    # Given a ban proposed by alice (sub-alice), when a token with her sub but another spelling approves
    case = proposed_by_alice()
    alice_as_approver = Reviewer(name, ALICE.sub, APPROVERS)
    # Then it is her own proposal: refused as self-approval
    with pytest.raises(NotAllowed, match="different person"):
        approve(case, alice_as_approver)


@pytest.mark.parametrize("name", ALICE_SPELLINGS)
def test_another_person_whose_name_looks_like_hers_is_a_second_person(name: str) -> None:
    case = proposed_by_alice()
    look_alike = Reviewer(name, f"sub-someone-else-{ALICE_SPELLINGS.index(name)}", APPROVERS)
    proposal = approve(case, look_alike).case.ban_proposals[0]
    assert proposal.status == ProposalStatus.APPROVED
    assert (proposal.proposed_by_sub, proposal.decided_by_sub) == (ALICE.sub, look_alike.sub)
    assert proposal.decided_by == name  # the name is kept, for display


def test_the_proposal_and_the_history_keep_the_sub_and_show_the_name() -> None:
    change = policy.propose_ban(make_case(), ALICE, 1, "posts the same scam link in every thread", LATER, [])
    assert (change.case.ban_proposals[0].proposed_by, change.case.ban_proposals[0].proposed_by_sub) == \
        ("alice", "sub-alice")
    assert (change.event.actor, change.event.actor_sub) == ("alice", "sub-alice")
    approved_change = approve(change.case, BOB)
    assert approved_change.event.actor == "bob" and approved_change.event.data["proposed_by"] == "alice"
    assert approved_change.event.data["proposed_by_sub"] == "sub-alice"


def test_the_proposer_may_withdraw_under_another_spelling_but_a_look_alike_moderator_may_not() -> None:
    case = proposed_by_alice()
    pid = case.ban_proposals[0].proposal_id
    with pytest.raises(NotAllowed):
        policy.reject_ban(case, Reviewer("alice", "sub-other", frozenset({"moderators"})), pid, case.version,
                          None, LATER)
    withdrawn = policy.reject_ban(case, Reviewer("Alice ", ALICE.sub, frozenset({"moderators"})), pid,
                                  case.version, None, LATER).case.ban_proposals[0]
    assert withdrawn.status == ProposalStatus.REJECTED and withdrawn.decided_by_sub == ALICE.sub


# ---------------------------------------------------------------- claims


@pytest.mark.parametrize("name", ALICE_SPELLINGS)
def test_a_claim_belongs_to_the_sub_not_the_name(name: str) -> None:
    claimed = policy.claim(make_case(), ALICE, 1, LATER)
    assert claimed is not None and (claimed.case.claimed_by, claimed.case.claimed_by_sub) == ("alice", "sub-alice")
    case = claimed.case
    same_person = Reviewer(name, ALICE.sub, frozenset({"moderators"}))
    assert policy.claim(case, same_person, case.version, LATER) is None  # she already holds it
    hide = DecisionRequest(expected_version=case.version, decision=Decision.HIDE)
    assert policy.decide(case, same_person, hide, LATER, SLA).case.status == "closed"
    someone_else = Reviewer(name, "sub-someone-else", frozenset({"moderators"}))
    with pytest.raises(ClaimedByOther):
        policy.claim(case, someone_else, case.version, LATER)
    with pytest.raises(NotAllowed):
        policy.release(case, someone_else, case.version, LATER, None)


def test_releasing_or_closing_drops_the_holder_sub_with_the_name() -> None:
    claimed = policy.claim(make_case(), ALICE, 1, LATER)
    assert claimed is not None
    released = policy.release(claimed.case, ALICE, claimed.case.version, LATER, None).case
    assert (released.claimed_by, released.claimed_by_sub) == (None, None)
    close = DecisionRequest(expected_version=claimed.case.version, decision=Decision.CLOSE)
    closed = policy.decide(claimed.case, ALICE, close, LATER, SLA).case
    assert (closed.claimed_by, closed.claimed_by_sub) == (None, None)


# ---------------------------------------------------------------- records written before subs were kept


def test_a_proposal_without_the_proposer_sub_cannot_be_approved_only_rejected() -> None:
    case = proposed_by_alice()
    legacy = case.model_copy(update={"ban_proposals": [case.ban_proposals[0].model_copy(
        update={"proposed_by_sub": None})]})
    with pytest.raises(NotAllowed, match="propose again"):
        approve(legacy, BOB)
    pid = legacy.ban_proposals[0].proposal_id
    with pytest.raises(NotAllowed):  # the proposer cannot be recognised, so only an approver may reject it
        policy.reject_ban(legacy, Reviewer("alice", ALICE.sub, frozenset({"moderators"})), pid, legacy.version,
                          None, LATER)
    assert policy.reject_ban(legacy, CAROL, pid, legacy.version, "re-propose by sub", LATER).case \
        .ban_proposals[0].status == ProposalStatus.REJECTED


def test_a_claim_without_the_holder_sub_is_nobodys_and_an_approver_releases_it() -> None:
    legacy = make_case().model_copy(update={"claimed_by": "alice", "status": "claimed"})
    with pytest.raises(ClaimedByOther):
        policy.claim(legacy, ALICE, legacy.version, LATER)
    assert policy.release(legacy, BOB, legacy.version, LATER, "shift change").case.claimed_by is None


# ---------------------------------------------------------------- the actions function's re-check


def _with_proposal(case: Case, **update: object) -> Case:
    return case.model_copy(update={"ban_proposals": [case.ban_proposals[0].model_copy(update=update)]})


def test_the_recheck_refuses_an_approval_by_the_proposer_sub_under_another_name() -> None:
    # Given an approved ban whose record says "bob" approved, but with alice's sub (written around the API)
    case, message = approved()
    forged = _with_proposal(case, decided_by="bob", decided_by_sub=ALICE.sub)
    assert forged.ban_proposals[0].decided_by != forged.ban_proposals[0].proposed_by
    with pytest.raises(recheck.ActionRefused, match="second person"):
        recheck.check_action(forged, message.action_id, LATER, [])
    # Then the executor refuses it too and the platform never hears of it
    cases, transport = FakeCases(forged), FakeTransport()
    assert executor(cases, transport).run(message) == Outcome.REFUSED
    assert transport.calls == [] and cases.events[0].action == "action.refused"


def test_the_recheck_accepts_look_alike_names_with_different_subs() -> None:
    case, message = approved()
    look_alike = _with_proposal(case, decided_by="alice\u200b")
    assert recheck.check_action(look_alike, message.action_id, LATER, []).action_id == message.action_id


@pytest.mark.parametrize("missing", ["proposed_by_sub", "decided_by_sub"])
def test_the_recheck_refuses_a_ban_whose_record_lacks_a_sub(missing: str) -> None:
    case, message = approved()
    with pytest.raises(recheck.ActionRefused, match="token sub"):
        recheck.check_action(_with_proposal(case, **{missing: None}), message.action_id, LATER, [])


# ---------------------------------------------------------------- tokens


@pytest.mark.parametrize("sub", [None, "", "   "])
def test_a_token_without_a_sub_is_not_authenticated(sub: str | None) -> None:
    claims = {key: value for key, value in claims_of("alice", "approvers").items() if key != "sub"}
    if sub is not None:
        claims["sub"] = sub
    with pytest.raises(NotAuthenticated, match="sub"):
        reviewer_from_claims(claims)


def test_the_name_is_for_display_and_the_sub_is_the_person() -> None:
    reviewer = reviewer_from_claims(claims_of("alice", "moderators") | {"cognito:username": "Alice"})
    assert (reviewer.username, reviewer.sub) == ("Alice", "sub-alice")
    assert reviewer_from_claims({"sub": "3f2a9c1e-7b1d", "cognito:groups": "[moderators]"}).username == "3f2a9c1e-7b1d"


@pytest.mark.parametrize("module", [policy, service, executor_module, recheck], ids=lambda m: m.__name__)
def test_no_rule_compares_display_names(module: ModuleType) -> None:
    # Names are display only: any ==, != or "in" on them would reopen the look-alike hole.
    names = {"username", "proposed_by", "decided_by", "claimed_by", "requested_by", "made_by", "actor"}
    tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
    compared = [(node.lineno, attribute.attr) for node in ast.walk(tree) if isinstance(node, ast.Compare)
                for attribute in ast.walk(node) if isinstance(attribute, ast.Attribute) and attribute.attr in names]
    assert compared == []

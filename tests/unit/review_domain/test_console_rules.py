"""What the console relies on: platform limits refused up front, reply placeholders, claim leases,
the actions offered to each reviewer, and the search and queue predicates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from moderato.models import Author, Case, CaseStatus, Label, Platform, PostKind
from moderato.people import PersonCase
from moderato.review import capabilities, policy
from moderato.review.claims import lapsed
from moderato.review.console_queries import available, awaiting_approval_by, claimed_by, matches_text
from moderato.review.errors import ClaimedByOther, DecisionNotAllowed, InvalidRequest
from moderato.review.requests import Decision, DecisionRequest
from moderato.review.service import ReviewService
from tests.review_support import ALICE, BOB, CAROL, SLA, T0, make_case
from tests.unit.review_domain.test_person_guardrail import MemoryCases, Sent

LEASE = timedelta(minutes=30)


def _private(platform: Platform, label: Label = Label.COMPLAINT) -> Case:
    case = make_case(label, f"{platform.value}-dm", platform=platform)
    return case.model_copy(update={"post": case.post.model_copy(update={"kind": PostKind.MESSAGE})})


# ---------------------------------------------------------------- platform limits, before anything is queued


@pytest.mark.parametrize("platform", [Platform.MESSENGER, Platform.X, Platform.INSTAGRAM])
def test_a_private_message_cannot_get_a_public_reply(platform: Platform) -> None:
    case = _private(platform)
    with pytest.raises(DecisionNotAllowed, match="cannot get a public reply"):
        policy.decide(case, ALICE, DecisionRequest(expected_version=1, decision=Decision.REPLY, reply_text="Bonjour"),
                      T0, SLA)


def test_a_private_message_cannot_be_hidden() -> None:
    case = _private(Platform.MESSENGER, Label.SPAM)
    with pytest.raises(DecisionNotAllowed, match="cannot be hidden"):
        policy.decide(case, ALICE, DecisionRequest(expected_version=1, decision=Decision.HIDE), T0, SLA)


def test_a_public_comment_can_be_answered() -> None:
    case = make_case(Label.COMPLAINT, "facebook-public")
    change = policy.decide(case, ALICE, DecisionRequest(expected_version=1, decision=Decision.REPLY,
                                                        reply_text="Bonjour Jeanne, nous regardons."), T0, SLA)
    assert [a.kind.value for a in change.actions] == ["reply"]


def test_a_reply_with_an_unfilled_placeholder_is_refused() -> None:
    case = make_case(Label.COMPLAINT, "facebook-template")
    request = DecisionRequest(expected_version=1, decision=Decision.REPLY,
                              reply_text="Hello Jeanne, your order {{ order_number }} is on its way")
    with pytest.raises(InvalidRequest, match="order_number"):
        policy.decide(case, ALICE, request, T0, SLA)
    assert capabilities.unfilled_placeholders("Hello Jeanne, see you {Friday}") == []


# ---------------------------------------------------------------- claims lapse after the lease


def test_a_claim_lapses_after_the_lease_and_someone_else_may_take_it() -> None:
    cases = MemoryCases(make_case(Label.COMPLAINT, "facebook-lease"))
    now = [T0]
    reviews = ReviewService(cases=cases, actions=Sent(), sla=SLA, clock=lambda: now[0], claim_lease=LEASE)
    reviews.claim(ALICE, "facebook-lease", 1)
    now[0] = T0 + LEASE - timedelta(seconds=1)
    with pytest.raises(ClaimedByOther):
        reviews.claim(BOB, "facebook-lease", 2)
    now[0] = T0 + LEASE
    assert reviews.case("facebook-lease").claimed_by is None
    taken = reviews.claim(BOB, "facebook-lease", 2)
    assert (taken.claimed_by, taken.status) == ("bob", CaseStatus.CLAIMED)


def test_working_on_a_case_keeps_the_claim() -> None:
    case = make_case(Label.COMPLAINT, "facebook-busy").model_copy(update={
        "claimed_by": "alice", "claimed_by_sub": ALICE.sub, "status": CaseStatus.ACKNOWLEDGED,
        "updated_at": T0 + timedelta(minutes=25)})
    assert lapsed(case, T0 + timedelta(minutes=40), LEASE).claimed_by == "alice"
    assert lapsed(case, T0 + timedelta(minutes=55), LEASE).status == CaseStatus.ACKNOWLEDGED  # not reopened
    assert lapsed(case, T0 + timedelta(days=9), None).claimed_by == "alice"  # no lease configured


# ---------------------------------------------------------------- what the console offers


def test_a_moderator_is_offered_the_spam_decisions_and_a_ban_proposal() -> None:
    offer = available(make_case(Label.SPAM, "facebook-spam"), ALICE, [])
    assert offer.claim and not offer.release
    assert set(offer.decisions) == {Decision.HIDE, Decision.DISMISS, Decision.RELABEL, Decision.ESCALATE,
                                    Decision.CLOSE}
    assert offer.propose_ban and offer.approve == []


def test_nothing_is_offered_on_a_case_claimed_by_someone_else_but_an_approver_may_release_it() -> None:
    case = make_case(Label.SPAM, "facebook-held").model_copy(update={
        "claimed_by": "alice", "claimed_by_sub": ALICE.sub, "status": CaseStatus.CLAIMED})
    for_carol = available(case, CAROL, [], LEASE)
    assert for_carol.decisions == [] and for_carol.release and "alice" in for_carol.unavailable["decide"]
    assert for_carol.claim_expires_at == case.updated_at + LEASE
    assert not available(case, BOB.__class__("dora", "sub-dora", frozenset({"moderators"})), []).release


def test_the_complainant_is_offered_neither_hide_nor_ban_and_is_told_why() -> None:
    spam = make_case(Label.SPAM, "facebook-her-spam")
    complaint = PersonCase(case_id="messenger-her-complaint", label=Label.COMPLAINT, status=CaseStatus.OPEN,
                           platform=Platform.MESSENGER)
    offer = available(spam, ALICE, [complaint])
    assert Decision.HIDE not in offer.decisions and not offer.propose_ban
    assert "must not be silenced" in offer.unavailable["hide"]
    assert "messenger-her-complaint" in offer.unavailable["propose_ban"]
    resolved = complaint.model_copy(update={"status": CaseStatus.RESOLVED})
    assert available(spam, ALICE, [resolved]).propose_ban


def test_no_reply_is_offered_on_a_messenger_message_and_no_ban_on_instagram() -> None:
    offer = available(_private(Platform.MESSENGER), ALICE, [])
    assert Decision.REPLY not in offer.decisions and "private messenger message" in offer.unavailable["reply"]
    instagram = make_case(Label.SPAM, "instagram-spam", platform=Platform.INSTAGRAM)
    assert not available(instagram, ALICE, []).propose_ban


def test_a_ban_is_offered_for_approval_to_another_approver_only() -> None:
    case = make_case(Label.SPAM, "facebook-ban")
    proposed = policy.propose_ban(case, ALICE, 1, "the same phishing link in ten threads", T0, []).case
    [proposal_id] = [p.proposal_id for p in proposed.ban_proposals]
    assert available(proposed, ALICE, []).withdraw == [proposal_id]
    assert available(proposed, ALICE, []).approve == []
    assert available(proposed, CAROL, []).approve == [proposal_id]
    assert awaiting_approval_by(proposed, CAROL) and not awaiting_approval_by(proposed, ALICE)
    by_carol = policy.propose_ban(case, CAROL, 1, "the same phishing link in ten threads", T0, []).case
    assert not awaiting_approval_by(by_carol, CAROL) and available(by_carol, CAROL, []).approve == []


# ---------------------------------------------------------------- search and my claims


def test_search_finds_text_author_and_order_number_whatever_the_case_and_accents() -> None:
    case = make_case(Label.COMPLAINT, "facebook-search", text="Ma commande n° FL-20931 n'est jamais arrivée à Lyon")
    case = case.model_copy(update={"order_numbers": ["FL-20931"], "post": case.post.model_copy(update={
        "author": Author(id="24266381753005180", name="Jeanne Martin", handle="jeanne_m")})})
    for query in ("ARRIVEE a lyon", "fl-20931", "jeanne", "@jeanne_m"[1:], "24266381753005180", "facebook-search"):
        assert matches_text(case, query), query
    assert not matches_text(case, "remboursement")


def test_my_claims_are_mine_by_sub_not_by_name() -> None:
    case = make_case(Label.SPAM, "facebook-mine").model_copy(update={"claimed_by": "alice", "claimed_by_sub": "other"})
    assert not claimed_by(case, ALICE)
    assert claimed_by(case.model_copy(update={"claimed_by_sub": ALICE.sub}), ALICE)

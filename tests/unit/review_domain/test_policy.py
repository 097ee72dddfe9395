"""The review policy and its guardrails, on plain values (no AWS, no mocks)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from moderato.actions import recheck
from moderato.guardrails import APPROVAL_VALID_FOR
from moderato.models import ActionKind, ActionStatus, CaseStatus, Label, Platform, ProposalStatus
from moderato.people import PersonCase
from moderato.review import policy
from moderato.review.errors import (
    ClaimedByOther,
    ComplainantProtected,
    DecisionNotAllowed,
    InvalidRequest,
    NotAllowed,
    NotAuthenticated,
    ProposalMissing,
    ProposalNotPending,
    StaleVersion,
)
from moderato.review.identity import Reviewer, parse_groups, reviewer_from_claims
from moderato.review.requests import Decision, DecisionRequest
from moderato.visibility import Visibility, visibility
from tests.review_support import ALICE, BOB, CAROL, MALLORY, SLA, T0, make_case

LATER = T0 + timedelta(minutes=5)


def open_case(case_id: str, label: Label = Label.COMPLAINT, platform: Platform = Platform.MESSENGER,
              status: CaseStatus = CaseStatus.OPEN) -> PersonCase:
    """One of the person's other cases, as the store's person index returns it."""
    return PersonCase(case_id=case_id, label=label, status=status, platform=platform)


def decide(case, reviewer, decision, **fields):
    request = DecisionRequest(expected_version=fields.pop("expected_version", case.version), decision=decision,
                              **fields)
    return policy.decide(case, reviewer, request, LATER, SLA)


def proposed(case, by=ALICE):
    return policy.propose_ban(case, by, case.version, "posts the same scam link in every thread", LATER, []).case


# ---------------------------------------------------------------- identity


@pytest.mark.parametrize(("raw", "expected"), [
    ("[moderators approvers]", {"moderators", "approvers"}),
    ('["moderators","approvers"]', {"moderators", "approvers"}),
    (["approvers"], {"approvers"}),
    ("moderators,approvers", {"moderators", "approvers"}),
    ("[]", set()), ("", set()), (None, set()),
])
def test_groups_are_read_in_every_shape_api_gateway_or_tests_give(raw, expected) -> None:
    assert parse_groups(raw) == expected


def test_no_claims_is_not_authenticated() -> None:
    with pytest.raises(NotAuthenticated):
        reviewer_from_claims(None)
    with pytest.raises(NotAuthenticated):
        reviewer_from_claims({"cognito:groups": "[moderators]"})


def test_a_token_without_a_review_group_may_do_nothing() -> None:
    case = make_case()
    with pytest.raises(NotAllowed):
        policy.claim(case, MALLORY, 1, LATER)
    with pytest.raises(NotAllowed):
        decide(case, MALLORY, Decision.HIDE)


# ---------------------------------------------------------------- versions, claims, history


def test_every_change_bumps_the_version_and_describes_itself_in_one_event() -> None:
    case = make_case()
    change = policy.claim(case, ALICE, 1, LATER)
    assert change is not None
    assert change.case.version == 2 and change.case.claimed_by == "alice" and change.case.status == "claimed"
    event = change.event
    assert (event.actor, event.action, event.version, event.at) == ("alice", "claimed", 2, LATER)
    assert event.data["from_version"] == 1
    assert case.version == 1 and case.claimed_by is None  # the input is never mutated


@pytest.mark.parametrize("stale", [2, 7])
def test_a_decision_on_a_stale_version_is_refused(stale: int) -> None:
    case = make_case()
    with pytest.raises(StaleVersion, match="version 1"):
        decide(case, ALICE, Decision.HIDE, expected_version=stale)
    with pytest.raises(StaleVersion):
        policy.claim(case, ALICE, stale, LATER)
    with pytest.raises(StaleVersion):
        policy.propose_ban(case, ALICE, stale, "posts the same scam link", LATER, [])


def test_claimed_by_someone_else_refuses_decisions_and_claims() -> None:
    claimed = policy.claim(make_case(), ALICE, 1, LATER).case
    with pytest.raises(ClaimedByOther):
        policy.claim(claimed, BOB, claimed.version, LATER)
    with pytest.raises(ClaimedByOther):
        decide(claimed, BOB, Decision.HIDE)
    assert policy.claim(claimed, ALICE, claimed.version, LATER) is None  # already hers: nothing to write


def test_only_the_holder_or_an_approver_releases_a_claim() -> None:
    claimed = policy.claim(make_case(), ALICE, 1, LATER).case
    moderator = Reviewer("dave", "sub-dave", frozenset({"moderators"}))
    with pytest.raises(NotAllowed):
        policy.release(claimed, moderator, claimed.version, LATER, None)
    released = policy.release(claimed, BOB, claimed.version, LATER, "shift change").case
    assert released.claimed_by is None and released.status == "open"


# ---------------------------------------------------------------- decisions by label and status


@pytest.mark.parametrize(("label", "status", "decision", "allowed"), [
    (Label.SPAM, CaseStatus.OPEN, Decision.HIDE, True),
    (Label.SPAM, CaseStatus.OPEN, Decision.ACKNOWLEDGE, False),
    (Label.SPAM, CaseStatus.OPEN, Decision.RESOLVE, False),
    (Label.COMPLAINT, CaseStatus.OPEN, Decision.ACKNOWLEDGE, True),
    (Label.COMPLAINT, CaseStatus.OPEN, Decision.RESOLVE, False),  # acknowledge (promise) first
    (Label.COMPLAINT, CaseStatus.OPEN, Decision.CLOSE, False),
    (Label.COMPLAINT, CaseStatus.OPEN, Decision.DISMISS, False),
    (Label.COMPLAINT, CaseStatus.ACKNOWLEDGED, Decision.RESOLVE, True),
    (Label.CRISIS, CaseStatus.OPEN, Decision.ACKNOWLEDGE, True),
    (Label.CRISIS, CaseStatus.OPEN, Decision.HIDE, False),
    (Label.CRISIS, CaseStatus.OPEN, Decision.CLOSE, False),
    (Label.NORMAL, CaseStatus.OPEN, Decision.CLOSE, True),
    (Label.SPAM, CaseStatus.CLOSED, Decision.HIDE, False),
    (Label.SPAM, CaseStatus.CLOSED, Decision.RELABEL, True),
])
def test_allowed_decisions_depend_on_label_and_status(label, status, decision, allowed) -> None:
    case = make_case(label).model_copy(update={"status": status})
    assert (decision in policy.allowed_decisions(case)) is allowed


def test_a_refused_decision_says_what_is_allowed() -> None:
    with pytest.raises(DecisionNotAllowed, match=r"allowed: .*acknowledge"):
        decide(make_case(Label.COMPLAINT), ALICE, Decision.RESOLVE, outcome="done")


def test_hiding_spam_closes_the_case_and_queues_a_reversible_hide() -> None:
    change = decide(make_case(), ALICE, Decision.HIDE, reason="crypto scam")
    # Requested, not performed: the case must not claim the post is hidden before the platform did it.
    assert change.case.status == "closed" and not change.case.hidden
    assert visibility(change.case) == Visibility.HIDE_PENDING
    [action] = change.actions
    assert action.kind == ActionKind.HIDE and action.status == ActionStatus.REQUESTED
    assert change.case.actions == [action]
    assert change.event.action == "decided.hide" and change.event.data["action_id"] == action.action_id
    assert change.repeat_offender == ("facebook", "author-1") and change.event.data["repeat_offence"] is True


@pytest.mark.parametrize(("label", "platform"), [
    (Label.COMPLAINT, Platform.MESSENGER), (Label.COMPLAINT, Platform.INSTAGRAM), (Label.CRISIS, Platform.FACEBOOK)])
def test_no_post_of_a_person_with_an_open_complaint_or_crisis_is_hidden(label: Label, platform: Platform) -> None:
    # Her Facebook comment re-labelled spam, while her Messenger complaint is open: hiding it silences her.
    request = DecisionRequest(expected_version=1, decision=Decision.HIDE, reason="off-topic promo")
    with pytest.raises(ComplainantProtected) as refused:
        policy.decide(make_case(), ALICE, request, LATER, SLA, author_open_cases=[open_case("k1", label, platform)])
    assert f"{label.value} on {platform.value}: case k1" in refused.value.message
    assert "hiding this post refused" in refused.value.message and "must not be silenced" in refused.value.message


def test_only_confirmed_spam_counts_as_a_repeat_offence() -> None:
    assert decide(make_case(Label.NORMAL), ALICE, Decision.HIDE).repeat_offender is None


@pytest.mark.parametrize("label", [Label.COMPLAINT, Label.CRISIS])
@pytest.mark.parametrize("status", [CaseStatus.OPEN, CaseStatus.CLAIMED, CaseStatus.ACKNOWLEDGED])
def test_an_open_complaint_or_crisis_is_never_hidden(label: Label, status: CaseStatus) -> None:
    case = make_case(label).model_copy(update={"status": status})
    with pytest.raises(ComplainantProtected, match="must not be silenced"):
        decide(case, BOB, Decision.HIDE)


def test_a_complaint_relabelled_with_a_written_reason_can_then_be_hidden() -> None:
    case = make_case(Label.COMPLAINT)
    relabelled = decide(case, ALICE, Decision.RELABEL, label=Label.SPAM,
                        reason="fake support account phishing for card numbers")
    assert relabelled.case.label == "spam" and relabelled.case.queue == "SpamQueue"
    assert relabelled.feedback is not None and relabelled.feedback.to_label == "spam"
    hidden = decide(relabelled.case, ALICE, Decision.HIDE)
    assert [a.kind for a in hidden.actions] == [ActionKind.HIDE]


@pytest.mark.parametrize("reason", [None, "", "  spam   ", "short"])
def test_a_relabel_needs_a_written_reason(reason) -> None:
    with pytest.raises(InvalidRequest, match="written reason"):
        decide(make_case(Label.COMPLAINT), ALICE, Decision.RELABEL, label=Label.SPAM, reason=reason)


def test_relabel_to_the_same_label_or_without_label_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        decide(make_case(), ALICE, Decision.RELABEL, label=Label.SPAM, reason="it is really spam, yes")
    with pytest.raises(InvalidRequest):
        decide(make_case(), ALICE, Decision.RELABEL, reason="it is really something else")


def test_dismissing_spam_is_feedback_that_the_post_is_normal() -> None:
    change = decide(make_case(), ALICE, Decision.DISMISS, reason="a real customer question")
    assert change.case.status == "dismissed" and change.case.label == "normal" and change.case.queue is None
    assert change.feedback and (change.feedback.from_label, change.feedback.to_label) == ("spam", "normal")


def test_escalation_makes_a_crisis_with_a_fresh_acknowledgement_deadline() -> None:
    change = decide(make_case(Label.COMPLAINT), ALICE, Decision.ESCALATE,
                    reason="she says her child is in hospital after eating the chocolates")
    assert change.case.label == "crisis" and change.case.priority == 1 and change.case.queue == "CrisisQueue"
    assert change.case.sla_due_at == LATER + timedelta(minutes=SLA.crisis_ack_minutes)


# ---------------------------------------------------------------- SLAs: promise and resolution


def test_acknowledging_a_complaint_records_the_promise_and_its_deadline() -> None:
    due = LATER + timedelta(hours=3)
    change = decide(make_case(Label.COMPLAINT), ALICE, Decision.ACKNOWLEDGE,
                    promise="our delivery team will call you before 6 pm", promise_due_at=due)
    case = change.case
    assert case.status == "acknowledged"
    assert case.promise and case.promise.text.startswith("our delivery") and case.promise.due_at == due
    assert case.sla_due_at == case.created_at + timedelta(minutes=SLA.complaint_resolve_minutes)
    assert change.event.data["acknowledged_on_time"] is True
    assert change.event.data["promise_due_at"] == due.isoformat()


def test_a_complaint_cannot_be_acknowledged_without_a_promise_or_with_a_past_deadline() -> None:
    with pytest.raises(InvalidRequest, match="promise"):
        decide(make_case(Label.COMPLAINT), ALICE, Decision.ACKNOWLEDGE)
    with pytest.raises(InvalidRequest, match="past"):
        decide(make_case(Label.COMPLAINT), ALICE, Decision.ACKNOWLEDGE, promise="we call you",
               promise_due_at=T0 - timedelta(hours=1))


@pytest.mark.parametrize(("resolve_after", "kept"), [(timedelta(hours=1), True), (timedelta(hours=5), False)])
def test_resolving_records_whether_the_promise_was_kept(resolve_after, kept) -> None:
    due = LATER + timedelta(hours=3)
    acked = decide(make_case(Label.COMPLAINT), ALICE, Decision.ACKNOWLEDGE, promise="we call you before 6 pm",
                   promise_due_at=due).case
    request = DecisionRequest(expected_version=acked.version, decision=Decision.RESOLVE,
                              outcome="called her, new bouquet delivered")
    change = policy.decide(acked, ALICE, request, LATER + resolve_after, SLA)
    assert change.case.status == "resolved" and change.case.promise.kept is kept
    assert change.event.data["promise_kept"] is kept and change.event.data["resolved_within_sla"] is True


def test_a_late_acknowledgement_is_recorded_as_late() -> None:
    case = make_case(Label.CRISIS)
    request = DecisionRequest(expected_version=1, decision=Decision.ACKNOWLEDGE)
    change = policy.decide(case, ALICE, request, T0 + timedelta(hours=2), SLA)
    assert change.event.data["acknowledged_on_time"] is False


# ---------------------------------------------------------------- bans: two people, never the complainant


def test_a_ban_is_proposed_by_one_and_approved_by_another_approver() -> None:
    case = proposed(make_case())
    [proposal] = case.ban_proposals
    assert proposal.status == "pending" and proposal.proposed_by == "alice" and proposal.target_author_id == "author-1"
    change = policy.approve_ban(case, BOB, proposal.proposal_id, case.version, "agreed", LATER, [])
    approved = change.case.ban_proposals[0]
    assert approved.status == ProposalStatus.APPROVED and approved.decided_by == "bob"
    assert "approvers" in approved.decided_by_groups
    [action] = change.actions
    assert action.kind == ActionKind.BAN and action.proposal_id == proposal.proposal_id
    assert change.event.action == "ban.approved" and change.event.data["proposed_by"] == "alice"


def test_an_approver_cannot_approve_their_own_proposal() -> None:
    case = proposed(make_case(), by=BOB)
    with pytest.raises(NotAllowed, match="different person"):
        policy.approve_ban(case, BOB, case.ban_proposals[0].proposal_id, case.version, None, LATER, [])


def test_a_moderator_who_is_not_an_approver_cannot_approve() -> None:
    case = proposed(make_case(), by=BOB)
    with pytest.raises(NotAllowed, match="approvers"):
        policy.approve_ban(case, ALICE, case.ban_proposals[0].proposal_id, case.version, None, LATER, [])


def test_a_ban_of_the_author_of_this_open_complaint_is_refused_with_the_reason() -> None:
    with pytest.raises(ComplainantProtected) as refused:
        policy.propose_ban(make_case(Label.COMPLAINT), ALICE, 1, "keeps insulting the staff here", LATER, [])
    assert refused.value.status == 409
    assert "open complaint" in refused.value.message and "must not be silenced" in refused.value.message


def test_a_ban_of_an_author_with_an_open_complaint_elsewhere_is_refused() -> None:
    with pytest.raises(ComplainantProtected, match="complaint on messenger: case messenger-other"):
        policy.propose_ban(make_case(Label.SPAM), ALICE, 1, "posts the same link everywhere", LATER,
                           [open_case("messenger-other")])


def test_after_a_written_relabel_the_author_may_be_proposed_for_a_ban() -> None:
    case = decide(make_case(Label.COMPLAINT), ALICE, Decision.RELABEL, label=Label.SPAM,
                  reason="not a customer: a bot pasting a phishing link").case
    change = policy.propose_ban(case, ALICE, case.version, "phishing bot, ten threads today", LATER, [])
    assert change.case.ban_proposals[0].status == "pending"


@pytest.mark.parametrize("status", [CaseStatus.OPEN, CaseStatus.CLAIMED, CaseStatus.ACKNOWLEDGED])
def test_the_author_of_an_open_crisis_case_cannot_be_banned(status: CaseStatus) -> None:
    # E.g. a customer reporting a health hazard: silencing her is the worst possible answer.
    case = make_case(Label.CRISIS).model_copy(update={"status": status})
    with pytest.raises(ComplainantProtected) as refused:
        policy.propose_ban(case, ALICE, 1, "keeps posting about the chocolates", LATER, [])
    assert case.case_id in refused.value.message and "must not be silenced" in refused.value.message
    assert "crisis" in refused.value.message


def test_a_complaint_escalated_to_crisis_still_protects_its_author() -> None:
    escalated = decide(make_case(Label.COMPLAINT), ALICE, Decision.ESCALATE,
                       reason="her child is in hospital after eating the chocolates").case
    assert escalated.label == Label.CRISIS
    with pytest.raises(ComplainantProtected):
        policy.propose_ban(escalated, ALICE, escalated.version, "posts the same thing in every thread", LATER, [])


def test_a_resolved_crisis_no_longer_protects_its_author() -> None:
    resolved = make_case(Label.CRISIS).model_copy(update={"status": CaseStatus.RESOLVED})
    assert policy.propose_ban(resolved, ALICE, 1, "posts the same link everywhere", LATER, []).case.ban_proposals


def test_a_crisis_relabelled_with_a_written_reason_lifts_the_protection() -> None:
    case = decide(make_case(Label.CRISIS), ALICE, Decision.RELABEL, label=Label.SPAM,
                  reason="a fake 'health alert' linking to a phishing page").case
    change = policy.propose_ban(case, ALICE, case.version, "phishing bot, ten threads today", LATER, [])
    assert change.case.ban_proposals[0].status == "pending"
    assert change.case.relabel_reason == "a fake 'health alert' linking to a phishing page"


def test_approval_rechecks_the_complainant_guardrail() -> None:
    case = proposed(make_case())
    with pytest.raises(ComplainantProtected):
        policy.approve_ban(case, BOB, case.ban_proposals[0].proposal_id, case.version, None, LATER,
                           [open_case("c-9", platform=Platform.X)])


def test_one_live_proposal_at_a_time_and_approval_only_once() -> None:
    case = proposed(make_case())
    with pytest.raises(ProposalNotPending):
        proposed(case)
    pid = case.ban_proposals[0].proposal_id
    approved = policy.approve_ban(case, BOB, pid, case.version, None, LATER, []).case
    with pytest.raises(ProposalNotPending):
        policy.approve_ban(approved, CAROL, pid, approved.version, None, LATER, [])
    with pytest.raises(ProposalMissing):
        policy.approve_ban(approved, CAROL, "nope", approved.version, None, LATER, [])


def test_reject_by_approver_or_withdrawal_by_proposer_only() -> None:
    case = proposed(make_case())
    pid = case.ban_proposals[0].proposal_id
    with pytest.raises(NotAllowed):
        policy.reject_ban(case, Reviewer("dave", "sub-dave", frozenset({"moderators"})), pid, case.version, None, LATER)
    assert policy.reject_ban(case, ALICE, pid, case.version, "withdrawn", LATER).case.ban_proposals[0].status == \
        "rejected"
    assert policy.reject_ban(case, CAROL, pid, case.version, "no", LATER).case.ban_proposals[0].decided_by == "carol"


def test_a_ban_needs_an_author() -> None:
    case = make_case()
    anonymous = case.model_copy(update={"post": case.post.model_copy(update={"author": case.post.author.model_copy(
        update={"id": None})})})
    with pytest.raises(DecisionNotAllowed):
        policy.propose_ban(anonymous, ALICE, 1, "posts the same link everywhere", LATER, [])


# ---------------------------------------------------------------- undo hide


def performed(case, status=ActionStatus.DONE):
    """The case once the actions function performed its last action (as the executor records it)."""
    last = case.actions[-1].model_copy(update={"status": status, "completed_at": LATER})
    hidden = last.kind == ActionKind.HIDE if status in (ActionStatus.DONE, ActionStatus.DRY_RUN) else case.hidden
    return case.model_copy(update={"actions": [*case.actions[:-1], last], "hidden": hidden})


def test_undo_hide_is_reversible_and_only_for_hidden_posts() -> None:
    hidden = performed(decide(make_case(), ALICE, Decision.HIDE).case)
    change = policy.undo_hide(hidden, BOB, hidden.version, "a real customer after all", LATER)
    assert change.actions[0].kind == ActionKind.UNHIDE
    assert change.case.hidden and visibility(change.case) == Visibility.UNHIDE_PENDING  # until performed
    with pytest.raises(DecisionNotAllowed, match="already on its way"):
        policy.undo_hide(change.case, BOB, change.case.version, "again", LATER)
    visible = performed(change.case)
    with pytest.raises(DecisionNotAllowed, match="not hidden"):
        policy.undo_hide(visible, BOB, visible.version, "again", LATER)


def test_a_hide_still_on_its_way_can_be_undone() -> None:
    pending = decide(make_case(), ALICE, Decision.HIDE).case
    change = policy.undo_hide(pending, BOB, pending.version, "a real customer after all", LATER)
    assert change.event.data["visibility_before"] == "hide_pending"


def test_a_hide_refused_at_execution_leaves_nothing_to_undo() -> None:
    refused = performed(decide(make_case(), ALICE, Decision.HIDE).case, ActionStatus.REFUSED)
    assert not refused.hidden
    with pytest.raises(DecisionNotAllowed, match="not hidden"):
        policy.undo_hide(refused, BOB, refused.version, "undo", LATER)


# ---------------------------------------------------------------- execution-time re-check


def approved_ban():
    case = proposed(make_case())
    change = policy.approve_ban(case, BOB, case.ban_proposals[0].proposal_id, case.version, None, LATER, [])
    return change.case, change.actions[0]


def test_check_action_accepts_a_valid_approved_ban() -> None:
    case, action = approved_ban()
    assert recheck.check_action(case, action.action_id, LATER, []).kind == ActionKind.BAN


@pytest.mark.parametrize("tamper", ["self_approved", "not_approver", "expired", "rejected", "complaint", "unknown"])
def test_check_action_refuses_a_ban_that_is_no_longer_valid(tamper: str) -> None:
    case, action = approved_ban()
    proposal = case.ban_proposals[0]
    now, complaints, action_id = LATER, [], action.action_id
    if tamper == "self_approved":
        proposal = proposal.model_copy(update={"decided_by": "alice", "decided_by_sub": "sub-alice"})
    elif tamper == "not_approver":
        proposal = proposal.model_copy(update={"decided_by_groups": ["moderators"]})
    elif tamper == "expired":
        now = LATER + APPROVAL_VALID_FOR + timedelta(seconds=1)
    elif tamper == "rejected":
        proposal = proposal.model_copy(update={"status": ProposalStatus.REJECTED})
    elif tamper == "complaint":
        complaints = [open_case("facebook-complaint", platform=Platform.FACEBOOK)]
    else:
        action_id = "not-a-request"
    case = case.model_copy(update={"ban_proposals": [proposal]})
    with pytest.raises(recheck.ActionRefused):
        recheck.check_action(case, action_id, now, complaints)


def test_check_action_skips_what_was_already_done() -> None:
    case, action = approved_ban()
    done = case.model_copy(update={"actions": [action.model_copy(update={"status": ActionStatus.DONE})]})
    with pytest.raises(recheck.ActionAlreadyHandled):
        recheck.check_action(done, action.action_id, LATER, [])


def test_check_action_refuses_a_hide_undone_or_on_a_complaint() -> None:
    hidden = decide(make_case(), ALICE, Decision.HIDE)
    action_id = hidden.actions[0].action_id
    undone = policy.undo_hide(hidden.case, BOB, hidden.case.version, "a real customer", LATER).case
    with pytest.raises(recheck.ActionRefused, match="undone"):
        recheck.check_action(undone, action_id, LATER, [])
    for label in (Label.COMPLAINT, Label.CRISIS):
        protected = hidden.case.model_copy(update={"label": label, "status": CaseStatus.OPEN})
        with pytest.raises(recheck.ActionRefused, match="silenced"):
            recheck.check_action(protected, action_id, LATER, [])
    # The spam itself, while the same person's Messenger complaint opened since: refused too.
    with pytest.raises(recheck.ActionRefused, match="complaint on messenger: case messenger-k2"):
        recheck.check_action(hidden.case, action_id, LATER, [open_case("messenger-k2")])


def test_check_action_skips_a_permanently_failed_action_but_retries_a_transient_failure() -> None:
    case, action = approved_ban()
    transient = action.model_copy(update={"status": ActionStatus.FAILED, "attempts": 1})
    retry = case.model_copy(update={"actions": [transient]})
    assert recheck.check_action(retry, action.action_id, LATER, []).kind == ActionKind.BAN
    permanent = transient.model_copy(update={"completed_at": LATER})
    with pytest.raises(recheck.ActionAlreadyHandled):
        recheck.check_action(case.model_copy(update={"actions": [permanent]}), action.action_id, LATER, [])


def test_nothing_in_the_action_vocabulary_deletes() -> None:
    assert {kind.value for kind in ActionKind} == {"hide", "unhide", "reply", "ban"}

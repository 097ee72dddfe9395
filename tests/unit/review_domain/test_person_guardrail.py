"""The complainant guardrail holds for the person on every surface of a brand; re-labelled crises alert once.

The review service runs over an in-memory case store that answers the person index like CaseStore
does (tests/integration/test_review_people.py proves the DynamoDB side).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from moderato.guardrails import protects_author
from moderato.models import ActionRecord, Case, CaseEvent, CaseStatus, Label, Platform, PostKind
from moderato.people import PersonCase, person_key
from moderato.review.errors import AlertUnavailable, ComplainantProtected
from moderato.review.requests import Decision, DecisionRequest
from moderato.review.service import ReviewService
from tests.review_support import ALICE, BOB, SLA, T0, make_case

JEANNE = "24266381753005180"
X_ACCOUNT = "2244994945"
IG_ACCOUNT = "17841405726653026"


class MemoryCases:
    """CaseStore's review port, in memory: cases by id, a person index, the crisis alert claims."""

    def __init__(self, *cases: Case) -> None:
        self.cases = {case.case_id: case for case in cases}
        self.events: list[CaseEvent] = []
        self.alerted: dict[str, datetime] = {}

    def get(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def history(self, case_id: str) -> list[CaseEvent]:
        return [e for e in self.events if e.case_id == case_id]

    def save(self, case: Case, event: CaseEvent, expected_version: int, retain: bool = False) -> Case:
        assert self.cases[case.case_id].version == expected_version
        self.cases[case.case_id] = case
        self.events.append(event)
        return case

    def save_with_feedback(self, case: Case, event: CaseEvent, expected_version: int,
                           feedback: dict[str, Any]) -> Case:
        return self.save(case, event, expected_version)

    def cases_of_person(self, keys: list[str]) -> list[PersonCase]:
        return [PersonCase(case_id=c.case_id, label=c.label, status=c.status, platform=c.post.platform,
                           created_at=c.created_at)
                for c in sorted(self.cases.values(), key=lambda c: c.created_at, reverse=True)
                if (c.person_key or person_key(c.post)) in keys]

    def open_protected_cases(self, key: str) -> list[PersonCase]:
        return [c for c in self.cases_of_person([key]) if protects_author(self.cases[c.case_id])]

    def claim_crisis_alert(self, case_id: str, at: datetime) -> bool:
        if case_id in self.alerted:
            return False
        self.alerted[case_id] = at
        return True

    def release_crisis_alert(self, case_id: str, at: datetime) -> None:
        if self.alerted.get(case_id) == at:
            del self.alerted[case_id]


class Sent:
    def __init__(self) -> None:
        self.actions: list[ActionRecord] = []
        self.crises: list[str] = []
        self.fail = False

    def send(self, case: Case, action: ActionRecord) -> str:
        self.actions.append(action)
        return "m"

    def publish_crisis(self, case: Case) -> str:
        if self.fail:
            raise ConnectionError("SNS unreachable")
        self.crises.append(case.case_id)
        return "alert"


def service(cases: MemoryCases, sent: Sent) -> ReviewService:
    return ReviewService(cases=cases, actions=sent, sla=SLA, clock=lambda: T0 + timedelta(minutes=5), alerts=sent)


def jeanne(label: Label, case_id: str, platform: Platform, author_id: str = JEANNE, **kwargs: Any) -> Case:
    account = {Platform.X: X_ACCOUNT, Platform.INSTAGRAM: IG_ACCOUNT}.get(platform, "206070979425408")
    return make_case(label, case_id, author_id=author_id, platform=platform, account_id=account, **kwargs)


# The surfaces on which one person's open complaint protects her other posts: same Meta id on the Page's
# comments, Messenger and Instagram; one X account whether it mentions or writes a direct message.
SAME_PERSON = [
    (Platform.MESSENGER, Platform.FACEBOOK),
    (Platform.INSTAGRAM, Platform.FACEBOOK),
    (Platform.FACEBOOK, Platform.MESSENGER),
    (Platform.X, Platform.X),
]


@pytest.mark.parametrize(("complaint_on", "target_on"), SAME_PERSON)
@pytest.mark.parametrize("label", [Label.COMPLAINT, Label.CRISIS])
def test_a_ban_is_refused_while_the_person_has_an_open_case_on_another_surface(
    complaint_on: Platform, target_on: Platform, label: Label,
) -> None:
    cases = MemoryCases(jeanne(label, f"{complaint_on.value}-open", complaint_on),
                        jeanne(Label.SPAM, f"{target_on.value}-spam", target_on))
    with pytest.raises(ComplainantProtected) as refused:
        service(cases, Sent()).propose_ban(ALICE, f"{target_on.value}-spam", 1, "the same link in ten threads")
    assert f"{label.value} on {complaint_on.value}: case {complaint_on.value}-open" in refused.value.message
    assert cases.cases[f"{target_on.value}-spam"].ban_proposals == []


@pytest.mark.parametrize(("complaint_on", "target_on"), SAME_PERSON)
def test_a_hide_is_refused_while_the_person_has_an_open_complaint_on_another_surface(
    complaint_on: Platform, target_on: Platform,
) -> None:
    cases = MemoryCases(jeanne(Label.COMPLAINT, "open", complaint_on),
                        jeanne(Label.SPAM, "spam", target_on))
    sent = Sent()
    with pytest.raises(ComplainantProtected, match=f"complaint on {complaint_on.value}: case open"):
        service(cases, sent).decide(ALICE, "spam", DecisionRequest(expected_version=1, decision=Decision.HIDE))
    assert sent.actions == [] and cases.cases["spam"].status == CaseStatus.OPEN


def test_an_x_direct_message_complaint_protects_the_accounts_mentions() -> None:
    dm = jeanne(Label.COMPLAINT, "x-dm", Platform.X)
    dm = dm.model_copy(update={"post": dm.post.model_copy(update={"kind": PostKind.MESSAGE})})
    mention = jeanne(Label.SPAM, "x-mention", Platform.X)
    mention = mention.model_copy(update={"post": mention.post.model_copy(update={"kind": PostKind.MENTION})})
    with pytest.raises(ComplainantProtected, match="x-dm"):
        service(MemoryCases(dm, mention), Sent()).propose_ban(ALICE, "x-mention", 1, "the same link in ten threads")


def test_a_namesake_is_not_protected_by_jeannes_complaint() -> None:
    # Same display name (make_case names every author "Jeanne Martin"), another platform user id.
    cases = MemoryCases(jeanne(Label.COMPLAINT, "messenger-k", Platform.MESSENGER),
                        jeanne(Label.SPAM, "facebook-s", Platform.FACEBOOK, author_id="10000000000000001"))
    case = service(cases, Sent()).propose_ban(ALICE, "facebook-s", 1, "the same link in ten threads")
    assert case.ban_proposals[0].target_author_id == "10000000000000001"


def test_the_same_id_on_x_or_on_another_brand_is_another_person() -> None:
    on_x = jeanne(Label.COMPLAINT, "x-k", Platform.X)
    other_brand = jeanne(Label.COMPLAINT, "facebook-k", Platform.FACEBOOK, brand="Rosalie")
    cases = MemoryCases(on_x, other_brand, jeanne(Label.SPAM, "facebook-s", Platform.FACEBOOK))
    assert service(cases, Sent()).propose_ban(ALICE, "facebook-s", 1, "the same link in ten threads").ban_proposals


@pytest.mark.parametrize("status", [CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.DISMISSED])
def test_a_closed_complaint_no_longer_protects(status: CaseStatus) -> None:
    closed = jeanne(Label.COMPLAINT, "messenger-k", Platform.MESSENGER).model_copy(update={"status": status})
    cases = MemoryCases(closed, jeanne(Label.SPAM, "facebook-s", Platform.FACEBOOK))
    sent = Sent()
    review = service(cases, sent)
    assert review.propose_ban(ALICE, "facebook-s", 1, "the same link in ten threads").ban_proposals
    hidden = review.decide(ALICE, "facebook-s", DecisionRequest(expected_version=2, decision=Decision.HIDE))
    assert [a.kind.value for a in sent.actions] == ["hide"] and hidden.status == CaseStatus.CLOSED


def test_the_case_view_lists_the_persons_other_cases_on_the_brand() -> None:
    cases = MemoryCases(jeanne(Label.COMPLAINT, "facebook-k", Platform.FACEBOOK),
                        jeanne(Label.COMPLAINT, "messenger-k", Platform.MESSENGER, now=T0 + timedelta(minutes=1)),
                        jeanne(Label.COMPLAINT, "x-k", Platform.X),
                        jeanne(Label.SPAM, "facebook-other", Platform.FACEBOOK, author_id="1"))
    review = service(cases, Sent())
    related = review.related(cases.cases["facebook-k"])
    assert [(c.case_id, c.label, c.platform) for c in related] == [("messenger-k", Label.COMPLAINT, Platform.MESSENGER)]


# ---------------------------------------------------------------- a crisis however it became one alerts once


@pytest.mark.parametrize(("decision", "fields"), [
    (Decision.ESCALATE, {}), (Decision.RELABEL, {"label": Label.CRISIS})])
def test_a_re_label_or_escalation_to_crisis_alerts_once(decision: Decision, fields: dict[str, Any]) -> None:
    cases, sent = MemoryCases(jeanne(Label.COMPLAINT, "facebook-k", Platform.FACEBOOK)), Sent()
    review = service(cases, sent)
    request = DecisionRequest(expected_version=1, decision=decision, reason="her son is in hospital after it",
                              **fields)
    crisis = review.decide(ALICE, "facebook-k", request)
    assert crisis.label == Label.CRISIS and sent.crises == ["facebook-k"]
    # Re-labelled away and escalated back: the on-call team already knows.
    back = review.decide(BOB, "facebook-k", DecisionRequest(expected_version=2, decision=Decision.RELABEL,
                                                           label=Label.COMPLAINT, reason="a late delivery only"))
    review.decide(BOB, "facebook-k", DecisionRequest(expected_version=back.version, decision=Decision.ESCALATE,
                                                    reason="the press called about it"))
    assert sent.crises == ["facebook-k"]


def test_a_crisis_triage_already_alerted_is_not_alerted_again_when_escalated_back() -> None:
    cases, sent = MemoryCases(jeanne(Label.COMPLAINT, "facebook-k", Platform.FACEBOOK)), Sent()
    cases.alerted["facebook-k"] = T0  # triage published it as a crisis, before a reviewer re-labelled it
    service(cases, sent).decide(ALICE, "facebook-k", DecisionRequest(
        expected_version=1, decision=Decision.ESCALATE, reason="the press called about it"))
    assert sent.crises == []


def test_other_decisions_do_not_alert() -> None:
    cases, sent = MemoryCases(jeanne(Label.SPAM, "facebook-s", Platform.FACEBOOK)), Sent()
    service(cases, sent).decide(ALICE, "facebook-s", DecisionRequest(
        expected_version=1, decision=Decision.RELABEL, label=Label.COMPLAINT, reason="a real customer after all"))
    assert sent.crises == [] and cases.alerted == {}


def test_an_alert_that_cannot_be_published_is_reported_to_the_reviewer() -> None:
    cases, sent = MemoryCases(jeanne(Label.COMPLAINT, "facebook-k", Platform.FACEBOOK)), Sent()
    sent.fail = True
    with pytest.raises(AlertUnavailable, match="on-call"):
        service(cases, sent).decide(ALICE, "facebook-k", DecisionRequest(
            expected_version=1, decision=Decision.ESCALATE, reason="the press called about it"))
    assert cases.cases["facebook-k"].label == Label.CRISIS  # the decision stands
    assert cases.alerted == {}  # the claim was given back: nothing pretends the alert went out

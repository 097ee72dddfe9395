"""Platform calls per PLATFORMS.md, and the executor's re-check, lease, dry run, retries and ledger (fakes)."""

from __future__ import annotations

import ast
import importlib
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from moderato.actions.calls import ActionUnsupported, Endpoints, PlatformCall, build_call
from moderato.actions.executor import ActionBusy, ActionExecutor, Outcome, PlatformError
from moderato.actions.messages import ActionMessage
from moderato.actions.settings import actions_settings
from moderato.models import ActionStatus, Case, CaseEvent, CaseStatus, Label, Platform, ProposalStatus
from moderato.people import PersonCase
from moderato.review import policy
from moderato.review.requests import Decision, DecisionRequest
from moderato.visibility import Visibility, visibility
from tests.review_support import ALICE, BOB, SLA, T0, make_case

LATER = T0 + timedelta(minutes=5)
FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"
ENDPOINTS = Endpoints("https://graph.test/v21.0", "https://x.test")


class Stale(Exception):
    pass


class FakeCases:
    def __init__(self, case: Case, open_cases: list[PersonCase] | None = None) -> None:
        self.case = case
        self.events: list[CaseEvent] = []
        self.open_cases = open_cases or []
        self.asked: list[str] = []  # the person keys the executor looked up

    def get(self, case_id: str) -> Case | None:
        return self.case if case_id == self.case.case_id else None

    def save(self, case: Case, event: CaseEvent, expected_version: int) -> Case:
        if expected_version != self.case.version:
            raise Stale()
        self.case, _ = case, self.events.append(event)
        return case

    def open_protected_cases(self, key: str) -> list[PersonCase]:
        self.asked.append(key)
        return self.open_cases


class FakeLeases:
    """The conditional write of CaseStore.acquire, in memory: one unexpired holder per action."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[str, float]] = {}

    def acquire(self, case_id: str, action_id: str, holder: str, now: Any, seconds: int) -> bool:
        current = self.held.get(action_id)
        if current is not None and current[1] > now.timestamp():
            return False
        self.held[action_id] = (holder, now.timestamp() + seconds)
        return True

    def release(self, case_id: str, action_id: str, holder: str) -> None:
        if self.held.get(action_id, ("", 0))[0] == holder:
            self.held[action_id] = (holder, 0)


class FakeTransport:
    def __init__(self, fail: int = 0, status: int = 503) -> None:
        self.calls: list[tuple[PlatformCall, str]] = []
        self.fail = fail
        self.status = status

    def send(self, call: PlatformCall, token: str) -> dict[str, Any]:
        self.calls.append((call, token))
        if self.fail:
            self.fail -= 1
            raise PlatformError(self.status, "try later", answer='{"error": {"message": "nope", "code": 190}}')
        return {"success": True}


class Tokens:
    def __init__(self, token: str | None) -> None:
        self.token = token

    def token_for(self, family: str, account_id: str) -> str | None:
        return self.token


def approved(label: Label = Label.SPAM, platform: Platform = Platform.FACEBOOK) -> tuple[Case, ActionMessage]:
    case = make_case(label, platform=platform)
    case = policy.propose_ban(case, ALICE, 1, "posts the same scam link everywhere", LATER, []).case
    change = policy.approve_ban(case, BOB, case.ban_proposals[0].proposal_id, case.version, None, LATER, [])
    return change.case, message_for(change.case, change.actions[0])


def message_for(case: Case, action: Any) -> ActionMessage:
    return ActionMessage(case_id=case.case_id, action_id=action.action_id, kind=action.kind,
                         requested_by=action.requested_by, requested_at=action.requested_at)


def executor(cases: FakeCases, transport: Any, token: str | None = "tok",
             leases: FakeLeases | None = None) -> ActionExecutor:
    return ActionExecutor(cases=cases, transport=transport, tokens=Tokens(token), endpoints=ENDPOINTS,
                          leases=leases or FakeLeases(), stale_errors=(Stale,), clock=lambda: LATER)


# ---------------------------------------------------------------- calls


def hide_of(platform: Platform) -> Case:
    request = DecisionRequest(expected_version=1, decision=Decision.HIDE)
    return policy.decide(make_case(platform=platform, post_id="C1"), ALICE, request, LATER, SLA).case


def test_meta_calls_follow_the_graph_api() -> None:
    case = hide_of(Platform.FACEBOOK)
    call = build_call(case, case.actions[0], ENDPOINTS)
    assert (call.method, call.url, call.form) == ("POST", "https://graph.test/v21.0/C1", {"is_hidden": "true"})
    ig = hide_of(Platform.INSTAGRAM)
    assert build_call(ig, ig.actions[0], ENDPOINTS).form == {"hide": "true"}
    case, _ = approved()
    ban = build_call(case, case.actions[-1], ENDPOINTS)
    assert (ban.method, ban.url, ban.form) == ("POST", f"https://graph.test/v21.0/{case.post.account_id}/blocked",
                                               {"user": "author-1"})


def test_x_calls_follow_the_v2_api() -> None:
    case = hide_of(Platform.X)
    call = build_call(case, case.actions[0], ENDPOINTS)
    assert (call.method, call.url, call.json) == ("PUT", "https://x.test/2/tweets/C1/hidden", {"hidden": True})


def test_instagram_has_no_ban() -> None:
    case, _ = approved(platform=Platform.INSTAGRAM)
    with pytest.raises(ActionUnsupported):
        build_call(case, case.actions[-1], ENDPOINTS)


def test_a_platform_call_can_never_be_a_delete() -> None:
    with pytest.raises(ValueError, match="never sends DELETE"):
        PlatformCall("meta", "1", "DELETE", "https://graph.test/C1")  # type: ignore[arg-type]


ACTION_PATH = [*sorted((FUNCTIONS / "moderato" / "actions").glob("*.py")),
               *sorted((FUNCTIONS / "moderato" / "review").glob("*.py")),
               FUNCTIONS / "actions.py", FUNCTIONS / "review.py",
               *(FUNCTIONS / "moderato" / "adapters" / name for name in
                 ("platform_http.py", "platform_tokens.py", "actions_queue.py", "case_store.py"))]


def test_no_code_on_the_review_and_action_path_names_a_delete() -> None:
    # Guardrail by inspection: no "DELETE" method and no .delete*( call anywhere a reviewer's decision
    # can travel to a platform (SQS deletes processed messages itself: that is Lambda's, not ours).
    offenders = []
    assert len(ACTION_PATH) > 10
    for path in ACTION_PATH:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value == "DELETE":
                offenders.append(f"{path}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr.startswith("delete"):
                offenders.append(f"{path}:{node.lineno}")
    assert offenders == []


# ---------------------------------------------------------------- executor


def test_an_approved_ban_reaches_the_platform_once_and_is_recorded() -> None:
    case, message = approved()
    cases, transport = FakeCases(case), FakeTransport()
    assert executor(cases, transport).run(message) == Outcome.DONE
    assert executor(cases, transport).run(message) == Outcome.SKIPPED  # redelivery: nothing twice
    assert len(transport.calls) == 1 and transport.calls[0][1] == "tok"
    assert cases.case.ban_proposals[0].status == ProposalStatus.EXECUTED
    assert cases.case.actions[-1].status == ActionStatus.DONE
    [event] = cases.events
    assert event.action == "action.done" and event.actor == "system:actions" and event.data["attempt"] == 1
    assert "tok" not in str(event.model_dump())  # tokens never reach the history


def test_without_a_token_it_is_a_dry_run_that_records_the_call() -> None:
    case, message = approved()
    cases, transport = FakeCases(case), FakeTransport()
    assert executor(cases, transport, token=None).run(message) == Outcome.DRY_RUN
    assert transport.calls == []
    [event] = cases.events
    assert event.action == "action.dry_run" and event.data["call"]["url"].endswith("/blocked")
    assert cases.case.actions[-1].status == ActionStatus.DRY_RUN


def test_a_ban_that_became_invalid_is_refused_and_recorded_not_performed() -> None:
    case, message = approved()
    crisis = PersonCase(case_id="facebook-crisis", label=Label.CRISIS, status=CaseStatus.OPEN,
                        platform=Platform.FACEBOOK)
    cases, transport = FakeCases(case, open_cases=[crisis]), FakeTransport()
    assert executor(cases, transport).run(message) == Outcome.REFUSED
    assert transport.calls == []
    assert cases.events[0].action == "action.refused" and "silenced" in cases.events[0].reason


def test_a_hide_is_refused_at_execution_when_the_person_complained_since_on_another_surface() -> None:
    # Requested while she had no open case; her Messenger complaint arrived before the hide ran.
    hidden = policy.decide(make_case(), ALICE, DecisionRequest(expected_version=1, decision=Decision.HIDE), LATER, SLA)
    complaint = PersonCase(case_id="messenger-k", label=Label.COMPLAINT, status=CaseStatus.OPEN,
                           platform=Platform.MESSENGER)
    cases, transport = FakeCases(hidden.case, open_cases=[complaint]), FakeTransport()
    assert executor(cases, transport).run(message_for(hidden.case, hidden.actions[0])) == Outcome.REFUSED
    assert transport.calls == [] and cases.asked == ["floralys/meta/author-1"]
    assert "complaint on messenger: case messenger-k" in cases.events[0].reason


def test_a_self_approved_ban_never_reaches_the_platform() -> None:
    case, message = approved()
    # As if written around the API: the proposer's own sub as approver.
    forged = case.ban_proposals[0].model_copy(update={"decided_by": "alice", "decided_by_sub": "sub-alice"})
    cases, transport = FakeCases(case.model_copy(update={"ban_proposals": [forged]})), FakeTransport()
    assert executor(cases, transport).run(message) == Outcome.REFUSED
    assert transport.calls == []


@pytest.mark.parametrize("status", [429, 500, 503, 0])
def test_transient_platform_errors_are_recorded_and_raised_for_a_retry(status: int) -> None:
    case, message = approved()
    cases, transport = FakeCases(case), FakeTransport(fail=1, status=status)
    with pytest.raises(PlatformError):
        executor(cases, transport).run(message)
    record = cases.case.actions[-1]
    assert record.status == ActionStatus.FAILED and record.attempts == 1 and record.completed_at is None
    assert cases.events[-1].action == "action.failed" and cases.events[-1].data["http_status"] == status
    assert cases.events[-1].data["retry"] is True
    assert executor(cases, transport).run(message) == Outcome.DONE  # the retry
    assert cases.case.actions[-1].attempts == 2 and len(transport.calls) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_permanent_platform_errors_are_recorded_with_the_answer_and_never_retried(status: int) -> None:
    case, message = approved()
    cases, transport = FakeCases(case), FakeTransport(fail=5, status=status)
    assert executor(cases, transport).run(message) == Outcome.FAILED  # not raised: SQS deletes the message
    [event] = cases.events
    assert event.action == "action.failed" and event.data["http_status"] == status
    assert event.data["retry"] is False and '"code": 190' in event.data["answer"]
    record = cases.case.actions[-1]
    assert record.status == ActionStatus.FAILED and record.completed_at == LATER
    assert cases.case.ban_proposals[0].status == ProposalStatus.APPROVED  # not executed
    # A redelivery of the same message does not try again.
    assert executor(cases, transport).run(message) == Outcome.SKIPPED
    assert len(transport.calls) == 1 and len(cases.events) == 1


@pytest.mark.parametrize(("status", "retryable"), [(0, True), (400, False), (401, False), (403, False),
                                                    (404, False), (408, True), (410, False), (429, True),
                                                    (500, True), (502, True), (503, True)])
def test_which_platform_errors_are_worth_a_retry(status: int, retryable: bool) -> None:
    assert PlatformError(status, "x").retryable is retryable


def test_two_concurrent_deliveries_of_one_message_call_the_platform_once() -> None:
    case, message = approved()
    cases, leases = FakeCases(case), FakeLeases()
    second: list[BaseException] = []

    class DuplicateArrivesMidCall(FakeTransport):
        def send(self, call: PlatformCall, token: str) -> dict[str, Any]:
            # While the first delivery is on the platform, SQS hands the same message to a second one.
            try:
                executor(cases, self, leases=leases).run(message)
            except ActionBusy as busy:
                second.append(busy)
            return super().send(call, token)

    transport = DuplicateArrivesMidCall()
    assert executor(cases, transport, leases=leases).run(message) == Outcome.DONE
    assert len(transport.calls) == 1 and len(second) == 1
    assert [e.action for e in cases.events] == ["action.done"]
    # Once the lease is released, a late redelivery finds the action done and does nothing.
    assert executor(cases, transport, leases=leases).run(message) == Outcome.SKIPPED
    assert len(transport.calls) == 1


def test_a_lease_left_by_a_crashed_delivery_expires() -> None:
    case, message = approved()
    cases, leases, transport = FakeCases(case), FakeLeases(), FakeTransport()
    assert leases.acquire(case.case_id, message.action_id, "crashed", LATER - timedelta(minutes=10), 120)
    assert executor(cases, transport, leases=leases).run(message) == Outcome.DONE
    assert leases.acquire(case.case_id, message.action_id, "other", LATER, 120)  # released after the run


def hide_request(platform: Platform = Platform.FACEBOOK) -> tuple[Case, ActionMessage]:
    change = policy.decide(make_case(platform=platform, post_id="C1"), ALICE,
                           DecisionRequest(expected_version=1, decision=Decision.HIDE), LATER, SLA)
    return change.case, message_for(change.case, change.actions[0])


@pytest.mark.parametrize(("token", "fail", "hidden", "status"), [
    ("tok", 0, True, ActionStatus.DONE), (None, 0, True, ActionStatus.DRY_RUN),
    ("tok", 1, False, ActionStatus.FAILED),
])
def test_a_case_says_hidden_only_once_the_hide_was_performed(token, fail, hidden, status) -> None:
    case, message = hide_request()
    assert not case.hidden and visibility(case) == Visibility.HIDE_PENDING
    cases = FakeCases(case)
    transport = FakeTransport(fail=fail, status=403)
    executor(cases, transport, token=token).run(message)
    assert cases.case.hidden is hidden and cases.case.actions[-1].status == status
    assert visibility(cases.case) == (Visibility.HIDDEN if hidden else Visibility.VISIBLE)


def test_an_unhide_makes_the_post_visible_once_performed() -> None:
    case, message = hide_request()
    cases, transport = FakeCases(case), FakeTransport()
    executor(cases, transport).run(message)
    change = policy.undo_hide(cases.case, BOB, cases.case.version, "a real customer after all", LATER)
    assert change.case.hidden and visibility(change.case) == Visibility.UNHIDE_PENDING
    cases.case = change.case
    assert executor(cases, transport).run(message_for(change.case, change.actions[0])) == Outcome.DONE
    assert not cases.case.hidden and transport.calls[-1][0].form == {"is_hidden": "false"}


def test_a_hide_undone_before_it_ran_is_refused_and_the_unhide_still_runs() -> None:
    case, hide = hide_request()
    change = policy.undo_hide(case, BOB, case.version, "a real customer after all", LATER)
    cases, transport = FakeCases(change.case), FakeTransport()
    assert executor(cases, transport).run(hide) == Outcome.REFUSED
    assert cases.events[-1].reason == "the hide was undone before it ran"
    assert executor(cases, transport).run(message_for(change.case, change.actions[0])) == Outcome.DONE
    assert not cases.case.hidden and [c.form for c, _ in transport.calls] == [{"is_hidden": "false"}]


def test_backoff_doubles_and_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"CASES_TABLE_NAME": "t", "ACTIONS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/q",
                        "PLATFORM_TOKENS_SECRET_ID": "s", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    actions_settings.cache_clear()
    monkeypatch.delitem(sys.modules, "actions", raising=False)
    actions = importlib.import_module("actions")
    monkeypatch.delitem(sys.modules, "actions")
    actions_settings.cache_clear()
    assert [actions.backoff_seconds(n) for n in (1, 2, 3, 6, 10)] == [30, 60, 120, 900, 900]

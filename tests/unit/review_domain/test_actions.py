"""Platform calls per PLATFORMS.md, and the executor's re-check, dry run, retries and ledger (in-memory fakes)."""

from __future__ import annotations

import ast
import importlib
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from moderato.actions.calls import ActionUnsupported, Endpoints, PlatformCall, build_call
from moderato.actions.executor import ActionExecutor, Outcome, PlatformError
from moderato.actions.messages import ActionMessage
from moderato.models import ActionStatus, Case, CaseEvent, Label, Platform, ProposalStatus
from moderato.review import policy
from moderato.review.requests import Decision, DecisionRequest
from moderato.review.settings import clear_caches
from tests.review_support import ALICE, BOB, SLA, T0, make_case

LATER = T0 + timedelta(minutes=5)
FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"
ENDPOINTS = Endpoints("https://graph.test/v21.0", "https://x.test")


class Stale(Exception):
    pass


class FakeCases:
    def __init__(self, case: Case, open_complaints: list[str] | None = None) -> None:
        self.case = case
        self.events: list[CaseEvent] = []
        self.complaints = open_complaints or []

    def get(self, case_id: str) -> Case | None:
        return self.case if case_id == self.case.case_id else None

    def save(self, case: Case, event: CaseEvent, expected_version: int) -> Case:
        if expected_version != self.case.version:
            raise Stale()
        self.case, _ = case, self.events.append(event)
        return case

    def open_complaints_by_author(self, platform: str, author_id: str) -> list[str]:
        return self.complaints


class FakeTransport:
    def __init__(self, fail: int = 0) -> None:
        self.calls: list[tuple[PlatformCall, str]] = []
        self.fail = fail

    def send(self, call: PlatformCall, token: str) -> dict[str, Any]:
        self.calls.append((call, token))
        if self.fail:
            self.fail -= 1
            raise PlatformError(503, "try later")
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


def executor(cases: FakeCases, transport: FakeTransport, token: str | None = "tok") -> ActionExecutor:
    return ActionExecutor(cases=cases, transport=transport, tokens=Tokens(token), endpoints=ENDPOINTS,
                          stale_errors=(Stale,), clock=lambda: LATER)


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
    cases, transport = FakeCases(case, open_complaints=["facebook-complaint"]), FakeTransport()
    assert executor(cases, transport).run(message) == Outcome.REFUSED
    assert transport.calls == []
    assert cases.events[0].action == "action.refused" and "silenced" in cases.events[0].reason


def test_a_self_approved_ban_never_reaches_the_platform() -> None:
    case, message = approved()
    forged = case.ban_proposals[0].model_copy(update={"decided_by": "alice"})  # as if written around the API
    cases, transport = FakeCases(case.model_copy(update={"ban_proposals": [forged]})), FakeTransport()
    assert executor(cases, transport).run(message) == Outcome.REFUSED
    assert transport.calls == []


def test_platform_errors_are_recorded_and_raised_for_a_retry() -> None:
    case, message = approved()
    cases, transport = FakeCases(case), FakeTransport(fail=1)
    with pytest.raises(PlatformError):
        executor(cases, transport).run(message)
    assert cases.case.actions[-1].status == ActionStatus.FAILED and cases.case.actions[-1].attempts == 1
    assert cases.events[-1].action == "action.failed" and cases.events[-1].data["http_status"] == 503
    assert executor(cases, transport).run(message) == Outcome.DONE  # the retry
    assert cases.case.actions[-1].attempts == 2 and len(transport.calls) == 2


def test_backoff_doubles_and_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"CASES_TABLE_NAME": "t", "ACTIONS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/q",
                        "PLATFORM_TOKENS_SECRET_ID": "s", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    monkeypatch.delitem(sys.modules, "actions", raising=False)
    actions = importlib.import_module("actions")
    monkeypatch.delitem(sys.modules, "actions")
    clear_caches()
    assert [actions.backoff_seconds(n) for n in (1, 2, 3, 6, 10)] == [30, 60, 120, 900, 900]

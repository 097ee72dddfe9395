"""The reviewer CLI: versions it sends, what it prints, and the token and export commands (no server)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from moderato_cli.commands import export_feedback, review
from moderato_cli.commands.export_feedback import training_rows
from moderato_cli.main import build_parser, main
from moderato_local.jwt_issuer import JwtSettings, issue_token, verify_token
from tests.support import REPO

JWT = JwtSettings.load(REPO / "infra" / "local" / "secrets.json")
ALICE = issue_token(JWT, "alice", ["moderators"])
BOB = issue_token(JWT, "bob", ["approvers"])


def test_feedback_becomes_one_training_row_per_case_latest_wins() -> None:
    records: list[dict[str, Any]] = [
        {"case_id": "c1", "to_label": "spam", "text": "buy followers", "language": "en", "platform": "x"},
        {"case_id": "c2", "to_label": "normal", "text": "", "language": None, "platform": "facebook"},
        {"case_id": "c1", "to_label": "normal", "text": "buy followers", "language": "en", "platform": "x"},
    ]
    assert training_rows(records) == [{"id": "feedback-c1", "text": "buy followers", "label": "normal",
                                       "lang": "en", "platform": "x", "source": "feedback"}]


def test_review_without_a_token_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("MODERATO_TOKEN", raising=False)
    assert main(["review", "--api", "http://127.0.0.1:9", "list"]) == 2
    assert "moderato token" in capsys.readouterr().err


# ---------------------------------------------------------------- a fake review API


def case_json(version: int = 1, **extra: Any) -> dict[str, Any]:
    case = {"case_id": "facebook-c1", "label": "complaint", "status": "open", "version": version, "priority": 2,
            "sla_due_at": "2999-01-01T00:00:00Z", "ban_proposals": [], "claimed_by": None, "actions": [],
            "updated_at": "2026-11-25T09:00:00Z", "promise": None, "hidden": False,
            "reasons": [{"code": "rule.complaint.delivery", "message": "Late delivery.", "detail": "livraison"}],
            "post": {"platform": "facebook", "kind": "comment", "text": "Rien reçu", "permalink": None,
                     "author": {"id": "42", "name": "Jeanne Martin", "handle": None, "followers": 180}}}
    return {**case, **extra}


class FakeApi:
    """Stands in for ReviewClient.call: answers by (method, path), records what was sent."""

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.sent: list[tuple[str, str, Any, Any]] = []
        self.refuse: Callable[[str, str, Any], review.ApiError | None] = lambda method, path, body: None

    def __call__(self, client: review.ReviewClient, method: str, path: str, body: Any = None,
                 query: Any = None) -> Any:
        self.sent.append((method, path, body, query))
        refusal = self.refuse(method, path, body)
        if refusal is not None:
            raise refusal
        if method == "GET" and path == "/cases":
            return {"items": [{**summary(), "version": self.version}], "next_cursor": None}
        if method == "GET":
            return {"case": case_json(self.version), "history": [], "visibility": "visible"}
        if body["expected_version"] != self.version:
            raise review.ApiError(409, "stale", "stale_version")
        self.version += 1
        return case_json(self.version)

    @property
    def posts(self) -> list[Any]:
        return [body for method, _, body, _ in self.sent if method == "POST"]


def summary() -> dict[str, Any]:
    return {"case_id": "facebook-c1", "label": "complaint", "status": "open", "priority": 2, "version": 1,
            "sla_due_at": None, "platform": "facebook", "author": {"name": "Jeanne Martin"}, "text": "Rien reçu",
            "claimed_by": None, "reasons": ["rule.complaint.delivery", "signal.burst"]}


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeApi:
    monkeypatch.setenv("MODERATO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("MODERATO_TOKEN", ALICE)
    fake = FakeApi()
    monkeypatch.setattr(review.ReviewClient, "call",
                        lambda self, method, path, body=None, query=None: fake(self, method, path, body, query))
    return fake


def test_a_change_without_a_seen_version_asks_to_look_first_and_sends_nothing(
    api: FakeApi, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["review", "claim", "facebook-c1"]) == 2
    assert "run `moderato review show facebook-c1` first" in capsys.readouterr().err
    assert api.posts == []


def test_the_version_sent_is_the_one_the_reviewer_saw_not_the_current_one(api: FakeApi,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "show", "facebook-c1"]) == 0  # she sees version 1
    api.version = 2  # a colleague changes the case meanwhile
    assert main(["review", "decide", "facebook-c1", "close"]) == 1
    assert api.posts[-1]["expected_version"] == 1  # not silently upgraded to 2
    err = capsys.readouterr().err
    assert "the case changed since you looked at it (version 1 -> 2)" in err
    assert "run `moderato review show facebook-c1` again" in err
    assert main(["review", "show", "facebook-c1"]) == 0
    assert main(["review", "claim", "facebook-c1"]) == 0
    assert api.posts[-1]["expected_version"] == 2
    # What a change answers is what she sees next: a follow-up decision uses it.
    assert main(["review", "decide", "facebook-c1", "acknowledge", "--promise", "we call you today"]) == 0
    assert api.posts[-1] == {"expected_version": 3, "decision": "acknowledge", "promise": "we call you today"}


def test_list_remembers_versions_and_version_flag_wins(api: FakeApi) -> None:
    assert main(["review", "--json", "list"]) == 0
    assert main(["review", "release", "facebook-c1", "--reason", "shift over"]) == 0
    assert api.posts[-1] == {"expected_version": 1, "reason": "shift over"}
    assert main(["review", "claim", "facebook-c1", "--version", "7"]) == 1
    assert api.posts[-1]["expected_version"] == 7


def test_versions_are_remembered_per_reviewer(api: FakeApi, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "show", "facebook-c1"]) == 0
    monkeypatch.setenv("MODERATO_TOKEN", BOB)  # bob never looked at it
    assert main(["review", "approve-ban", "facebook-c1", "p1"]) == 2
    assert "have not looked at case facebook-c1" in capsys.readouterr().err


def test_a_corrupt_state_file_is_forgotten_not_fatal(api: FakeApi, tmp_path: Path) -> None:
    state = tmp_path / "cache" / "review-versions.json"
    state.parent.mkdir(parents=True)
    state.write_text("{not json")
    assert main(["review", "show", "facebook-c1"]) == 0
    assert json.loads(state.read_text()) == {"http://127.0.0.1:8787|alice|facebook-c1": 1}


def test_validation_errors_print_one_readable_line_per_field(api: FakeApi,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    api.refuse = lambda method, path, body: review.ApiError(422, "invalid request", "invalid_request", [
        "label: must be one of 'spam', 'complaint', 'crisis' or 'normal'", "reason: needs at least 10 characters"])
    assert main(["review", "decide", "facebook-c1", "relabel", "--version", "1", "--reason", "bot"]) == 1
    err = capsys.readouterr().err
    assert "invalid request (422):" in err and "  - reason: needs at least 10 characters" in err


def test_error_details_are_read_from_the_api_answer() -> None:
    answer = {"code": "invalid_request", "message": "invalid request: ...", "detail": [
        {"loc": ["body", "reason"], "type": "string_too_short", "message": "reason: needs at least 10 characters"},
        {"loc": ["body", "decision"], "type": "enum"}]}
    assert review._error_details(answer) == ["reason: needs at least 10 characters", "decision: enum"]


def test_show_prints_the_post_reasons_promise_outcome_actions_and_history(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    monkeypatch.setenv("MODERATO_CACHE_DIR", str(tmp_path))
    promise = {"text": "our delivery team calls you before 6 pm", "due_at": "2026-11-25T17:00:00Z", "made_by": "alice",
               "made_at": "2026-11-25T09:05:00Z", "resolved_at": "2026-11-25T18:30:00Z", "kept": False,
               "outcome": "new bouquet delivered"}
    actions = [{"action_id": "a1", "kind": "reply", "status": "failed", "attempts": 1, "completed_at": "2026-11-25T"
                "10:00:00Z", "last_error": "HTTP 403: token expired"},
               {"action_id": "a2", "kind": "hide", "status": "requested", "attempts": 0, "completed_at": None}]
    detail = {
        "case": case_json(5, status="resolved", promise=promise, actions=actions),
        "visibility": "hide_pending",
        "history": [{"version": 1, "at": "2026-11-25T09:00:00Z", "actor": "system:triage", "action": "triaged",
                     "reason": "rule.complaint.delivery", "data": {}},
                    {"version": 2, "at": "2026-11-25T09:05:00Z", "actor": "alice", "action": "acknowledged",
                     "data": {"acknowledged_on_time": True}},
                    {"version": 5, "at": "2026-11-25T18:30:00Z", "actor": "alice", "action": "resolved",
                     "data": {"outcome": "new bouquet delivered", "promise_kept": False,
                              "resolved_within_sla": True}}],
    }
    monkeypatch.setattr(review.ReviewClient, "call", lambda self, method, path, *a, **k: detail)
    assert main(["review", "--token", "t", "show", "facebook-c1"]) == 0
    out = capsys.readouterr().out
    assert "Jeanne Martin, 180 followers" in out and "Rien reçu" in out
    assert "rule.complaint.delivery: Late delivery. (livraison)" in out
    assert "acknowledged by alice at 2026-11-25 09:05 UTC (on time)" in out
    assert 'promise: "our delivery team calls you before 6 pm" (alice' in out
    assert "due 2026-11-25 17:00 UTC, resolved 2026-11-25 18:30 UTC: NOT kept" in out
    assert "outcome: new bouquet delivered (within SLA)" in out
    assert "on the platform: hide requested, not performed yet" in out
    assert "reply: failed (1 attempt): HTTP 403: token expired - not retried" in out
    assert "hide: requested" in out
    assert "alice acknowledged" in out


def test_show_prints_an_open_promise_with_its_clock(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv("MODERATO_CACHE_DIR", str(tmp_path))
    promise = {"text": "we call you", "due_at": "2999-01-01T00:00:00Z", "made_by": "bob",
               "made_at": "2026-11-25T09:05:00Z", "resolved_at": None, "kept": None, "outcome": None}
    detail = {"case": case_json(2, status="acknowledged", promise=promise), "history": [], "visibility": "visible"}
    monkeypatch.setattr(review.ReviewClient, "call", lambda self, method, path, *a, **k: detail)
    assert main(["review", "--token", "t", "show", "facebook-c1"]) == 0
    out = capsys.readouterr().out
    assert "due 2999-01-01 00:00 UTC (in " in out and "outcome" not in out


def test_list_shows_short_reasons_and_an_unwrapped_cursor(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv("MODERATO_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "60")  # a narrow terminal: rich would wrap a long line
    cursor = "eyJRVUVVRSNDcmlzaXNRdWV1ZSNvcGVuIjoiZG9uZSJ9" * 8  # longer than any console width
    page = {"items": [summary()], "next_cursor": cursor}
    monkeypatch.setattr(review.ReviewClient, "call", lambda self, method, path, *a, **k: page)
    assert main(["review", "--token", "t", "list"]) == 0
    out = capsys.readouterr().out
    assert f"more: --cursor {cursor}\n" in out
    assert "complaint.delivery" in out


def test_list_by_author_or_order_sends_them_to_the_api(api: FakeApi) -> None:
    assert main(["review", "list", "--author", "floralys/meta/24266381753005180", "--order", "FL-20931"]) == 0
    [(_, path, _, query)] = api.sent
    assert path == "/cases" and query["author"] == "floralys/meta/24266381753005180" and query["order"] == "FL-20931"


def test_show_prints_the_order_the_person_and_her_other_cases(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    monkeypatch.setenv("MODERATO_CACHE_DIR", str(tmp_path))
    related = [{"case_id": "messenger-9f", "label": "complaint", "status": "open", "platform": "messenger",
                "created_at": "2026-11-25T09:10:00Z", "order_numbers": ["FL-20931"]},
               {"case_id": "facebook-77", "label": "spam", "status": "closed", "platform": "facebook",
                "created_at": "2026-11-20T09:10:00Z", "order_numbers": []}]
    detail = {"case": case_json(1, order_numbers=["FL-20931"], person_key="floralys/meta/42"), "history": [],
              "visibility": "visible", "related": related}
    monkeypatch.setattr(review.ReviewClient, "call", lambda self, method, path, *a, **k: detail)
    assert main(["review", "--token", "t", "show", "facebook-c1"]) == 0
    out = capsys.readouterr().out
    assert "order: FL-20931" in out and "person: floralys/meta/42" in out
    assert "same person, 2 other cases on this brand:" in out
    assert "messenger-9f complaint / open on messenger (order FL-20931)" in out
    assert "facebook-77 spam / closed on facebook\n" in out


def _subparser(*path: str) -> Any:
    parser = build_parser()
    for name in path:
        sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        parser = sub.choices[name]
    return parser


def test_list_filters_and_reasons_are_checked_and_documented(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["review", "list", "--status", "pending"])
    assert "invalid choice: 'pending'" in capsys.readouterr().err
    listing = {a.dest: a for a in _subparser("review", "list")._actions}
    for name in ("queue", "status", "label", "platform", "brand", "since", "until", "author", "order", "cursor",
                 "limit"):
        assert listing[name].help and len(listing[name].help) > 10, name
    for command in ("release", "decide", "propose-ban", "approve-ban", "reject-ban", "undo-hide"):
        reason = next(a for a in _subparser("review", command)._actions if a.dest == "reason")
        assert reason.help and len(reason.help) > 10, command
    decide_reason = next(a for a in _subparser("review", "decide")._actions if a.dest == "reason")
    assert "at least 10 characters" in decide_reason.help


# ---------------------------------------------------------------- token and export-feedback


def test_token_accepts_only_the_review_groups(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["token", "--user", "eve", "--group", "admins"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.replace("'", "")  # argparse quotes the choices from Python 3.12 on
    assert "invalid choice: admins (choose from moderators, approvers)" in err
    assert main(["token", "--user", "bob", "--group", "moderators", "--group", "approvers"]) == 0
    claims = verify_token(JWT, capsys.readouterr().out.strip())
    assert claims["cognito:groups"] == ["moderators", "approvers"]


def test_export_feedback_finds_the_local_stacks_aws_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    class Health:
        def json(self) -> dict[str, Any]:
            return {"status": "ok", "aws_endpoint": "http://127.0.0.1:58055"}

    asked: list[str] = []
    monkeypatch.setattr(export_feedback.requests, "get", lambda url, timeout: asked.append(url) or Health())
    assert export_feedback.local_aws_endpoint("http://127.0.0.1:58787") == "http://127.0.0.1:58055"
    assert asked == ["http://127.0.0.1:58787/health"]


def test_export_feedback_says_clearly_when_nothing_answers(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("MODERATO_AWS_ENDPOINT", raising=False)
    monkeypatch.setenv("MODERATO_AWS_PORT", "9")  # nothing listens there, nor on the API port below
    assert main(["export-feedback", "--local", "--api", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "nothing answers at http://127.0.0.1:9" in err and "moderato local" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- bans named right, local times, 100 columns


def test_show_names_the_proposer_and_the_approver_in_the_reviewers_time_zone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    monkeypatch.setenv("MODERATO_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("TZ", "Europe/Paris")
    proposals = [{"proposal_id": "p1", "status": "executed", "proposed_by": "carol", "proposed_by_sub": "s-carol",
                  "proposed_at": "2026-11-25T09:00:00Z", "reason": "the same phishing link in ten threads",
                  "decided_by": "bob", "decided_by_sub": "s-bob", "decided_at": "2026-11-25T09:30:00Z",
                  "decision_reason": "agreed"},
                 {"proposal_id": "p2", "status": "rejected", "proposed_by": "dora", "proposed_by_sub": "s-dora",
                  "proposed_at": "2026-11-25T10:00:00Z", "reason": "too many posts today",
                  "decided_by": "dora", "decided_by_sub": "s-dora", "decided_at": "2026-11-25T10:05:00Z"}]
    detail = {"case": case_json(4, ban_proposals=proposals), "visibility": "visible",
              "history": [{"version": 1, "at": "2026-11-25T09:00:00Z", "actor": "system:triage", "action": "triaged",
                           "data": {}}]}
    monkeypatch.setattr(review.ReviewClient, "call", lambda self, method, path, *a, **k: detail)
    assert main(["review", "--token", "t", "show", "facebook-c1"]) == 0
    out = capsys.readouterr().out
    assert ("ban proposal p1: executed; proposed by carol at 2026-11-25 10:00 CET; approved by bob at "
            "2026-11-25 10:30 CET") in out
    assert "ban proposal p2: rejected; proposed by dora at 2026-11-25 11:00 CET; withdrawn by dora" in out
    assert "v1 2026-11-25 10:00 CET system:triage triaged" in out


def test_list_sends_the_console_filters(api: FakeApi) -> None:
    assert main(["review", "list", "--proposals", "awaiting-me", "--mine", "--search", "FL-20931"]) == 0
    [(_, path, _, query)] = api.sent
    assert (path, query["proposals"], query["claimed"], query["q"]) == ("/cases", "awaiting_me", "me", "FL-20931")


def test_list_fits_a_100_column_terminal_with_whole_case_ids(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv("MODERATO_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "100")
    long_id = "facebook-6302dfba6a7e70a800b1"
    items = [{**summary(), "case_id": long_id, "status": "acknowledged", "claimed_by": "alice-the-long-named",
              "sla_due_at": "2026-11-25T09:00:00Z", "platform": "messenger",
              "author": {"name": "Jeanne Martin-Dupont de la Tour"}, "text": "Bonjour, " * 40}]
    monkeypatch.setattr(review.ReviewClient, "call", lambda self, method, path, *a, **k: {"items": items})
    monkeypatch.setattr(review.Console, "is_terminal", property(lambda self: True))
    assert main(["review", "--token", "t", "list"]) == 0
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in capsys.readouterr().out.splitlines()]  # no colours
    assert max(len(line) for line in lines) <= 100
    [row] = [line for line in lines if long_id in line]
    assert "LATE" in row and "msgr" in row and "Bonjour" in row

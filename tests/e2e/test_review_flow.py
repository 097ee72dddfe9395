"""End to end: tokens, the review API through the local gateway, two-person bans and the fake platform.

Its own stack (not the shared session one): the actions function must be started pointing at a fake
platform (META_GRAPH_URL, X_API_URL in its environment), and a token is put into PlatformTokens so
the call is real instead of a dry run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from moderato.adapters.case_store import CaseStore
from moderato.models import Label
from moderato_cli.openapi_doc import OPENAPI_PATH
from moderato_local.fake_platform import FakePlatform
from moderato_local.jwt_issuer import JwtSettings, issue_token
from moderato_local.process import LocalStackProcess
from tests.review_support import PAGE_ID, make_case
from tests.support import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
JWT = JwtSettings.load(REPO / "infra" / "local" / "secrets.json")


@pytest.fixture(scope="module")
def fake_platform() -> Iterator[FakePlatform]:
    with FakePlatform() as platform:
        yield platform


@pytest.fixture(scope="module")
def stack(fake_platform: FakePlatform) -> Iterator[LocalStackProcess]:
    env = {"META_GRAPH_URL": fake_platform.url, "X_API_URL": fake_platform.url}
    with LocalStackProcess(REPO / "template.yaml", REPO / "functions", env=env) as local:
        local.client("secretsmanager").put_secret_value(
            SecretId=local.resources["PlatformTokens"],
            SecretString=json.dumps({"meta": {PAGE_ID: "fake-page-token"}, "x": {}}))
        yield local


def bearer(user: str, *groups: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(JWT, user, groups)}"}


def api(stack: LocalStackProcess, method: str, path: str, headers: dict[str, str] | None,
        body: dict[str, Any] | None = None) -> requests.Response:
    return requests.request(method, f"{stack.gateway_url}{path}", headers=headers or {}, json=body, timeout=10)


def history(stack: LocalStackProcess, case_id: str) -> list[str]:
    store = CaseStore(stack.resources["CasesTable"], stack.client("dynamodb"))
    return [event.action for event in store.history(case_id)]


def test_review_flow_from_token_to_the_platform(stack: LocalStackProcess, fake_platform: FakePlatform) -> None:
    # Given a spam case and an open complaint, written as triage would.
    now = datetime.now(UTC) - timedelta(minutes=1)
    store = CaseStore(stack.resources["CasesTable"], stack.client("dynamodb"))
    spam = make_case(Label.SPAM, "facebook-e2e-spam", author_id="spammer-1", now=now)
    complaint = make_case(Label.COMPLAINT, "facebook-e2e-complaint", author_id="jeanne-1", now=now)
    for case in (spam, complaint):
        store.create(case)
    alice, carol, bob = bearer("alice", "moderators"), bearer("carol", "approvers"), bearer("bob", "approvers")

    # No token, or a forged one: 401 and no case data.
    forged = issue_token(JwtSettings("a-wrong-key-of-at-least-32-bytes", JWT.issuer, JWT.audience), "eve",
                         ["approvers"])
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    registry = Registry().with_resource("urn:doc", Resource.from_contents(document, default_specification=DRAFT202012))
    documented_401 = Draft202012Validator(
        {"$ref": "urn:doc#/paths/~1cases/get/responses/401/content/application~1json/schema"}, registry=registry)
    for headers in (None, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": f"Bearer {forged}"}):
        answer = api(stack, "GET", "/cases", headers)
        assert answer.status_code == 401 and "facebook-e2e" not in answer.text
        assert list(documented_401.iter_errors(answer.json())) == []  # the gateway's body is the documented one

    # A moderator lists the queue, most urgent first.
    answer = api(stack, "GET", "/cases", alice)
    assert answer.status_code == 200
    assert [c["case_id"] for c in answer.json()["items"]] == ["facebook-e2e-complaint", "facebook-e2e-spam"]

    # The author of an open complaint cannot be banned, and is told why.
    answer = api(stack, "POST", "/cases/facebook-e2e-complaint/ban-proposals", alice,
                 {"expected_version": 1, "reason": "keeps writing to us in capitals"})
    assert answer.status_code == 409 and "must not be silenced" in answer.json()["message"]

    # Carol proposes a ban; approving it herself is refused and reaches no platform.
    answer = api(stack, "POST", "/cases/facebook-e2e-spam/ban-proposals", carol,
                 {"expected_version": 1, "reason": "the same phishing link in ten threads"})
    assert answer.status_code == 201, answer.text
    proposal_id, version = answer.json()["proposal"]["proposal_id"], answer.json()["case"]["version"]
    approve = f"/cases/facebook-e2e-spam/ban-proposals/{proposal_id}/approve"
    answer = api(stack, "POST", approve, carol, {"expected_version": version})
    assert answer.status_code == 403 and "different person" in answer.json()["message"]

    # A decision on a stale version: 409.
    answer = api(stack, "POST", "/cases/facebook-e2e-spam/decisions", alice,
                 {"expected_version": version - 1, "decision": "hide"})
    assert answer.status_code == 409 and answer.json()["code"] == "stale_version"

    assert stack.wait_idle(15)
    assert fake_platform.received() == []

    # Bob, another approver, approves: the actions function bans on the platform, once.
    answer = api(stack, "POST", approve, bob, {"expected_version": version, "reason": "agreed"})
    assert answer.status_code == 200 and answer.json()["proposal"]["status"] == "approved"
    deadline = time.monotonic() + 20
    while "action.done" not in history(stack, "facebook-e2e-spam") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert stack.wait_idle(15)
    [call] = fake_platform.received()
    assert (call.method, call.path, call.form, call.authorized) == ("POST", f"/{PAGE_ID}/blocked",
                                                                   {"user": "spammer-1"}, True)
    assert fake_platform.received("DELETE") == []

    # Every step is in the case history.
    detail = api(stack, "GET", "/cases/facebook-e2e-spam", alice).json()
    assert [e["action"] for e in detail["history"]] == ["triaged", "ban.proposed", "ban.approved", "action.done"]
    assert [e["actor"] for e in detail["history"]][1:] == ["carol", "bob", "system:actions"]
    assert detail["case"]["ban_proposals"][0]["status"] == "executed"


def test_the_cli_reviews_through_the_api_and_exports_feedback(
    stack: LocalStackProcess, tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moderato_cli.main import main

    now = datetime.now(UTC) - timedelta(minutes=1)
    case = make_case(Label.COMPLAINT, "facebook-e2e-cli", author_id="bot-7", now=now, text="free followers, DM me")
    CaseStore(stack.resources["CasesTable"], stack.client("dynamodb")).create(case)
    token = issue_token(JWT, "dora", ["moderators"])
    base = ["review", "--api", stack.gateway_url, "--token", token]
    monkeypatch.setenv("MODERATO_CACHE_DIR", str(tmp_path / "cache"))  # the versions dora has seen

    assert main([*base, "--json", "list", "--label", "complaint"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert "facebook-e2e-cli" in [item["case_id"] for item in listed["items"]]
    assert main([*base, "claim", "facebook-e2e-cli", "--version", "1"]) == 0
    # Hiding an open complaint is refused by the server, and the CLI says why (sent: version 2, from the claim).
    assert main([*base, "decide", "facebook-e2e-cli", "hide"]) == 1
    assert "must not be silenced" in capsys.readouterr().err
    assert main([*base, "decide", "facebook-e2e-cli", "relabel", "--label", "spam",
                 "--reason", "a follower-selling bot, not a customer"]) == 0
    # A stale version is refused, and the CLI says what to do.
    assert main([*base, "decide", "facebook-e2e-cli", "hide", "--version", "2"]) == 1
    err = capsys.readouterr().err
    assert "refused (409)" in err and "the case changed since you looked at it (version 2 -> 3)" in err
    # A validation error names the field and the rule.
    assert main([*base, "propose-ban", "facebook-e2e-cli", "--reason", "bot"]) == 1
    assert "reason: needs at least 10 characters" in capsys.readouterr().err
    # The hide is requested; the case says hidden only once the actions function performed it.
    assert main([*base, "decide", "facebook-e2e-cli", "hide"]) == 0
    assert stack.wait_idle(15)
    detail = api(stack, "GET", "/cases/facebook-e2e-cli", {"Authorization": f"Bearer {token}"}).json()
    assert detail["visibility"] == "hidden" and detail["case"]["actions"][0]["status"] in ("done", "dry_run")

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")  # the emulator's fake credentials
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    out = tmp_path / "feedback.jsonl"
    assert main(["export-feedback", "--out", str(out), "--table", stack.resources["CasesTable"],
                 "--endpoint-url", stack.aws_endpoint, "--region", "eu-west-1"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    expected = {"id": "feedback-facebook-e2e-cli", "text": "free followers, DM me", "label": "spam", "lang": "fr",
                "platform": "facebook", "source": "feedback"}
    assert expected in rows
    # --local finds the stack's embedded AWS from its /health, whatever port it runs on.
    local = tmp_path / "feedback-local.jsonl"
    assert main(["export-feedback", "--local", "--api", stack.gateway_url, "--table", stack.resources["CasesTable"],
                 "--out", str(local)]) == 0
    assert expected in [json.loads(line) for line in local.read_text().splitlines()]


# ---------------------------------------------------------------- one person across the brand's surfaces


def test_jeannes_facebook_comment_cannot_be_banned_while_her_messenger_complaint_is_open(
    stack: LocalStackProcess, tmp_path: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moderato_cli.commands.replay import replay
    from moderato_cli.deliveries import load_secrets, read_rows
    from moderato_cli.demo import DEMO_FILE, expected_case_ids
    from moderato_cli.main import main
    from moderato_cli.paths import LOCAL_SECRETS

    # Given Jeanne's four demo posts, signed and sent to the webhooks, triaged by the real pipeline:
    # her Facebook comment (demo-02) and Messenger message (demo-07) on the Page, two posts on X.
    rows = [row for row in read_rows(DEMO_FILE) if row["id"] in ("demo-02", "demo-03", "demo-07", "demo-13")]
    assert replay(rows, stack.gateway_url, load_secrets(LOCAL_SECRETS)) == {200: 4}
    assert stack.wait_idle(30)
    ids = dict(zip((row["id"] for row in rows), expected_case_ids(rows), strict=True))
    alice, bob = bearer("alice", "moderators"), bearer("bob", "approvers")

    # The Facebook comment quotes her order, and its case view lists her Messenger case (same Page, same id).
    detail = api(stack, "GET", f"/cases/{ids['demo-02']}", alice).json()
    assert detail["case"]["label"] == "complaint" and detail["case"]["order_numbers"] == ["FL-20931"]
    person = detail["case"]["person_key"]
    assert person.startswith("floralys/meta/")
    assert [(c["case_id"], c["label"], c["status"], c["platform"]) for c in detail["related"]] == [
        (ids["demo-07"], "complaint", "open", "messenger")]
    # Her cases are listed by person key; her platform user id also finds the same account on X.
    listed = api(stack, "GET", f"/cases?author={person}", alice).json()["items"]
    assert sorted(c["case_id"] for c in listed) == sorted([ids["demo-02"], ids["demo-07"]])
    user_id = person.rsplit("/", 1)[1]
    listed = api(stack, "GET", f"/cases?author={user_id}", alice).json()["items"]
    assert sorted(c["case_id"] for c in listed) == sorted(ids.values())
    # The CLI shows the same: her cases by person key, and her Messenger case beside the comment.
    monkeypatch.setenv("MODERATO_CACHE_DIR", str(tmp_path / "cache"))
    cli = ["review", "--api", stack.gateway_url, "--token", issue_token(JWT, "alice", ["moderators"])]
    capsys.readouterr()
    assert main([*cli, "list", "--author", person]) == 0 and ids["demo-07"] in capsys.readouterr().out
    assert main([*cli, "show", ids["demo-02"]]) == 0
    shown = capsys.readouterr().out
    assert "order: FL-20931" in shown and f"{ids['demo-07']} complaint / open on messenger (order FL-20931)" in shown

    # A reviewer moves the Facebook comment out of the complaint queue (she is helped in Messenger)...
    answer = api(stack, "POST", f"/cases/{ids['demo-02']}/decisions", alice,
                 {"expected_version": detail["case"]["version"], "decision": "relabel", "label": "normal",
                  "reason": "the same order is handled in her Messenger conversation"})
    assert answer.status_code == 200, answer.text
    # ...and then proposes banning its author: refused, naming the open Messenger complaint.
    answer = api(stack, "POST", f"/cases/{ids['demo-02']}/ban-proposals", bob,
                 {"expected_version": answer.json()["version"], "reason": "she keeps posting about the same order"})
    assert answer.status_code == 409 and answer.json()["code"] == "complaint_open"
    assert f"complaint on messenger: case {ids['demo-07']}" in answer.json()["message"]
    assert "must not be silenced" in answer.json()["message"]
    assert api(stack, "GET", f"/cases/{ids['demo-02']}", alice).json()["case"]["ban_proposals"] == []


def test_a_re_label_to_crisis_alerts_on_call_once(stack: LocalStackProcess) -> None:
    from moderato_cli.demo import AlertsInbox

    inbox = AlertsInbox(stack.client("sqs"), stack.client("sns")).open(stack.resources["AlertsTopic"])
    try:
        now = datetime.now(UTC) - timedelta(minutes=1)
        case = make_case(Label.COMPLAINT, "facebook-e2e-escalated", author_id="sophie-9", now=now,
                         text="@Floralys mon fils a fait une réaction allergique à vos lys")
        CaseStore(stack.resources["CasesTable"], stack.client("dynamodb")).create(case)
        alice = bearer("alice", "moderators")
        path = "/cases/facebook-e2e-escalated/decisions"
        answer = api(stack, "POST", path, alice, {"expected_version": 1, "decision": "escalate",
                                                  "reason": "a child in hospital after our lilies"})
        assert answer.status_code == 200 and answer.json()["label"] == "crisis"
        [alert] = [a for a in inbox.take_new() if a.get("kind") == "crisis_case"]
        assert alert["case_id"] == "facebook-e2e-escalated" and alert["label"] == "crisis"
        # Re-labelled away, then escalated again: no second page for the same case.
        answer = api(stack, "POST", path, alice, {"expected_version": 2, "decision": "relabel", "label": "complaint",
                                                  "reason": "a mild rash, the doctor says it is nothing"})
        answer = api(stack, "POST", path, alice, {"expected_version": 3, "decision": "escalate",
                                                  "reason": "the press called about the lilies"})
        assert answer.status_code == 200
        assert [a for a in inbox.take_new() if a.get("kind") == "crisis_case"] == []
    finally:
        inbox.close()

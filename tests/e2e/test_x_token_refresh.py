"""End to end: an X access token that has expired is refreshed once, and the reviewers' hides succeed.

Its own stack, its actions pointed at the fake platform (X_API_URL), which checks X bearer tokens the
way X does: an expired access token gets 401, ``POST /2/oauth2/token`` with ``grant_type=refresh_token``
rotates the pair and retires the refresh token it was given. X delivers spam replies to the webhook;
a moderator hides them through the review API, with a token from the local JWT issuer; the actions
function finds the X token expired, refreshes it once (two hides at the same time included), writes
the new pair back to PlatformTokens, and hides with it.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from moderato.platforms import get_platform
from moderato.platforms.base import DeliveryContext
from moderato.triage.cases import case_id_for
from moderato_local.fake_platform import FakePlatform, token_fingerprint
from moderato_local.jwt_issuer import JwtSettings, issue_token
from moderato_local.process import LocalStackProcess
from tests.support import LOCAL_SECRETS, REPO, stack_with_platform

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
JWT = JwtSettings.load(REPO / "infra" / "local" / "secrets.json")
ACCOUNT = "2244994945"  # Floralys on X (functions/moderato/config/brands.json)
CLIENT_ID = "cGxhdGZvcm0tY2xpZW50"
FIRST_ACCESS, FIRST_REFRESH = "x-access-1", "x-refresh-1"
REPLY_SAMPLE = json.loads((REPO / "tests" / "fixtures" / "platforms" / "x_xaa_reply.json").read_text("utf-8"))[
    "payload"]


@pytest.fixture(scope="module")
def x_and_stack() -> Iterator[tuple[FakePlatform, LocalStackProcess]]:
    with stack_with_platform("X_API_URL") as pair:
        yield pair


@pytest.fixture(scope="module")
def fake_x(x_and_stack: tuple[FakePlatform, LocalStackProcess]) -> FakePlatform:
    return x_and_stack[0]


@pytest.fixture(scope="module")
def stack(x_and_stack: tuple[FakePlatform, LocalStackProcess]) -> LocalStackProcess:
    return x_and_stack[1]


def secret(stack: LocalStackProcess) -> dict[str, Any]:
    answer = stack.client("secretsmanager").get_secret_value(SecretId=stack.resources["PlatformTokens"])
    return dict(json.loads(answer["SecretString"]))


def spam_reply(stack: LocalStackProcess, post_id: str, text: str) -> str:
    """X delivers a spam reply to the brand's post (X Activity API, signed as X signs); returns its case id."""
    payload = copy.deepcopy(REPLY_SAMPLE)
    event = payload["data"]
    event["filter"]["user_id"] = ACCOUNT
    event["payload"].update({"id": post_id, "edit_history_tweet_ids": [post_id], "text": text,
                             "in_reply_to_user_id": ACCOUNT})
    body = json.dumps(payload, ensure_ascii=False).encode()
    digest = hmac.new(LOCAL_SECRETS["x"]["consumer_secret"].encode(), body, hashlib.sha256).digest()
    answer = requests.post(f"{stack.gateway_url}/webhooks/x", data=body, timeout=10, headers={
        "Content-Type": "application/json",
        "x-twitter-webhooks-signature": "sha256=" + base64.b64encode(digest).decode()})
    assert answer.status_code == 200, answer.text
    case_id = case_id_for(get_platform("x").parse(payload, DeliveryContext(received_at=datetime.now(UTC))).posts[0])
    detail = wait_for(stack, case_id, lambda case: case["case"]["status"] == "open")
    assert detail["case"]["label"] == "spam" and detail["case"]["post"]["kind"] == "reply", detail["case"]
    return case_id


def api(stack: LocalStackProcess, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    token = issue_token(JWT, "alice", ["moderators"])
    return requests.request(method, f"{stack.gateway_url}{path}", json=body, timeout=10,
                            headers={"Authorization": f"Bearer {token}"})


def wait_for(stack: LocalStackProcess, case_id: str, ready: Callable[[dict[str, Any]], bool],
             seconds: float = 60) -> dict[str, Any]:
    """The case as the review API shows it (case and history), once ``ready`` says so."""
    deadline = time.monotonic() + seconds
    detail: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = api(stack, "GET", f"/cases/{case_id}")
        if answer.status_code == 200:
            detail = answer.json()
            if ready(detail):
                return detail
        time.sleep(0.2)
    raise AssertionError(f"case {case_id} never got there: {detail}")


def hide(stack: LocalStackProcess, case_id: str) -> None:
    version = api(stack, "GET", f"/cases/{case_id}").json()["case"]["version"]
    answer = api(stack, "POST", f"/cases/{case_id}/decisions", {"expected_version": version, "decision": "hide"})
    assert answer.status_code == 200, answer.text


def action_finished(detail: dict[str, Any]) -> bool:
    actions = detail["case"].get("actions") or []
    return bool(actions) and actions[-1]["status"] in ("done", "failed", "refused")


def test_an_expired_x_token_is_refreshed_once_and_the_hides_succeed(stack: LocalStackProcess,
                                                                      fake_x: FakePlatform) -> None:
    # Given X issued a pair two hours ago: the access token has expired, the refresh token still works
    fake_x.issue_x_tokens(FIRST_ACCESS, FIRST_REFRESH)
    fake_x.expire_x_access_tokens()
    expired = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    stack.client("secretsmanager").put_secret_value(
        SecretId=stack.resources["PlatformTokens"],
        SecretString=json.dumps({"meta": {}, "x_client": {"client_id": CLIENT_ID},
                                 "x": {ACCOUNT: {"access_token": FIRST_ACCESS, "refresh_token": FIRST_REFRESH,
                                                 "expires_at": expired}}}))
    posts = {"1866000000000000001": "@Floralys 🚀 Get 10,000 followers FREE today 👉 DM me now! https://t.co/AbC123xyz",
             "1866000000000000002": "@Floralys Crypto giveaway! Send 0.1 BTC, get 1 BTC back, DM me 👉 https://t.co/Zz9"}
    first = {spam_reply(stack, post_id, text): post_id for post_id, text in posts.items()}

    # When a moderator hides both spam replies, one right after the other
    for case_id in first:
        hide(stack, case_id)
    done = {case_id: wait_for(stack, case_id, action_finished) for case_id in first}
    assert stack.wait_idle(30)

    # Then X was asked for a new pair exactly once, with the refresh token it had issued
    [refresh] = fake_x.received("POST", "/2/oauth2/token")
    assert refresh.form == {"grant_type": "refresh_token", "refresh_token": FIRST_REFRESH, "client_id": CLIENT_ID}
    assert refresh.query == "" and not refresh.authorized  # the refresh token never travels in a URL
    new_access, new_refresh = fake_x.x_tokens()
    assert new_access not in (None, FIRST_ACCESS) and new_refresh not in (None, FIRST_REFRESH)
    # And both hides were made with the new access token, never with the expired one
    hides = fake_x.received("PUT", "/hidden")
    assert sorted(call.path for call in hides) == [f"/2/tweets/{post_id}/hidden" for post_id in sorted(posts)]
    assert all(call.json == {"hidden": True} for call in hides)
    assert {call.token_fingerprint for call in hides} == {token_fingerprint(new_access or "")}
    assert token_fingerprint(FIRST_ACCESS) not in {call.token_fingerprint for call in fake_x.received()}
    # And the new pair is in PlatformTokens, the claim released, the rest of the secret untouched
    stored = secret(stack)
    entry = stored["x"][ACCOUNT]
    assert (entry["access_token"], entry["refresh_token"]) == (new_access, new_refresh)
    assert datetime.fromisoformat(entry["expires_at"]) > datetime.now(UTC) + timedelta(hours=1, minutes=50)
    assert set(entry) == {"access_token", "refresh_token", "expires_at"}
    assert stored["x_client"] == {"client_id": CLIENT_ID} and stored["meta"] == {}
    # And each case says the hide was performed, and its history records it once
    for case_id, detail in done.items():
        assert detail["case"]["hidden"] is True
        assert [action["status"] for action in detail["case"]["actions"]] == ["done"]
        history = [event["action"] for event in detail["history"]]
        assert history.count("action.done") == 1 and "action.failed" not in history, (case_id, history)

    # When another hide comes while the new token is valid
    later = spam_reply(stack, "1866000000000000003",
                       "@Floralys Earn $500/day from home, click the link in my bio 💰 https://t.co/QqR")
    hide(stack, later)
    assert wait_for(stack, later, action_finished)["case"]["hidden"] is True
    assert stack.wait_idle(30)
    # Then it uses the refreshed token as is: still exactly one refresh
    assert len(fake_x.received("POST", "/2/oauth2/token")) == 1
    assert fake_x.received("PUT", "/hidden")[-1].token_fingerprint == token_fingerprint(new_access or "")
    assert secret(stack)["x"][ACCOUNT]["access_token"] == new_access
    assert fake_x.received("DELETE") == []

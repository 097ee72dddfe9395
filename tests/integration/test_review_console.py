"""What the review console asks the review function, in process against moto: its static files (no token),
search, my claims, bans awaiting my approval, the actions offered on a case, the claim lease setting."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from moderato.models import Label, Platform
from moderato_local.events import HttpRequest, http_api_event
from tests.integration.conftest import AwsEnv, FakeContext
from tests.integration.test_review import APPROVER, MODERATOR, call, handler, now_case, seed
from tests.review_support import claims_of

CAROL = claims_of("carol", "approvers")


def static(review: Any, path: str) -> dict[str, Any]:
    route = "GET /console" if path == "/console" else "GET /console/{name}"
    params = {} if path == "/console" else {"name": path.rsplit("/", 1)[1]}
    event = http_api_event(HttpRequest(method="GET", raw_path=path, raw_query="", headers=[], body=b""), route,
                           params, api_id="local", domain_name="127.0.0.1:8787", authorizer=None)
    return review.lambda_handler(event, FakeContext())


@pytest.fixture
def review(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CLAIM_LEASE_MINUTES", "5")
    return handler("review")


def test_the_console_files_are_served_without_a_token_and_nothing_else_is(aws: AwsEnv, review: Any) -> None:
    page = static(review, "/console")
    assert page["statusCode"] == 200 and page["headers"]["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page["headers"]["Content-Security-Policy"]
    for name, kind in (("app.js", "text/javascript"), ("i18n.js", "text/javascript"), ("app.css", "text/css")):
        answer = static(review, f"/console/{name}")
        assert answer["statusCode"] == 200 and answer["headers"]["Content-Type"].startswith(kind), name
    config = json.loads(static(review, "/console/config.json")["body"])
    assert config == {"auth": None, "claim_lease_minutes": 5}  # no hosted UI configured: reviewers paste a token
    for name in ("..%2F..%2Freview.py", "__init__.py", ".hidden.js", "APP.JS", "settings.py"):
        assert static(review, f"/console/{name}")["statusCode"] == 404, name


def test_search_my_claims_and_bans_awaiting_my_approval(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.COMPLAINT, "facebook-order", text="Commande n° FL-20931 jamais arrivée à Lyon"),
         now_case(Label.SPAM, "facebook-bot", author_id="bot-1", text="Free followers, DM me"),
         now_case(Label.SPAM, "x-bot", author_id="bot-2", platform=Platform.X, text="Crypto gains, DM me"))
    status, page = call(review, "GET", "/cases", MODERATOR, query={"q": "arrivee a LYON"})
    assert status == 200 and [c["case_id"] for c in page["items"]] == ["facebook-order"]
    assert [c["case_id"] for c in call(review, "GET", "/cases", MODERATOR, query={"q": "dm me", "platform": "x"})[1][
        "items"]] == ["x-bot"]

    assert call(review, "POST", "/cases/facebook-bot/claim", MODERATOR, {"expected_version": 1})[0] == 200
    assert [c["case_id"] for c in call(review, "GET", "/cases", MODERATOR, query={"claimed": "me"})[1]["items"]] \
        == ["facebook-bot"]
    assert call(review, "GET", "/cases", APPROVER, query={"claimed": "me"})[1]["items"] == []

    # A ban proposed on a case that is then closed (hidden) still waits for an approver.
    reason = "the same phishing link in ten threads"
    status, answer = call(review, "POST", "/cases/facebook-bot/ban-proposals", MODERATOR,
                          {"expected_version": 2, "reason": reason})
    assert status == 201
    status, _ = call(review, "POST", "/cases/facebook-bot/decisions", MODERATOR,
                     {"expected_version": answer["case"]["version"], "decision": "hide", "reason": "phishing"})
    assert status == 200
    awaiting = call(review, "GET", "/cases", APPROVER, query={"proposals": "awaiting_me"})[1]["items"]
    assert [(c["case_id"], c["status"]) for c in awaiting] == [("facebook-bot", "closed")]
    assert call(review, "GET", "/cases", MODERATOR, query={"proposals": "awaiting_me"})[1]["items"] == []  # hers
    assert call(review, "GET", "/cases", MODERATOR, query={"proposals": "anything"})[0] == 422


def test_the_case_says_what_this_reviewer_may_do(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.COMPLAINT, "messenger-dm", platform=Platform.MESSENGER, author_id="jeanne"),
         now_case(Label.SPAM, "facebook-her-spam", author_id="jeanne"))
    status, detail = call(review, "GET", "/cases/messenger-dm", MODERATOR)
    assert status == 200
    offer = detail["available"]
    assert offer["claim"] and "acknowledge" in offer["decisions"] and "reply" not in offer["decisions"]
    assert "private messenger message" in offer["unavailable"]["reply"]
    status, detail = call(review, "GET", "/cases/facebook-her-spam", MODERATOR)
    # Same Page, same Meta id: her open Messenger complaint protects her Facebook comment.
    assert "hide" not in detail["available"]["decisions"] and not detail["available"]["propose_ban"]
    assert "messenger-dm" in detail["available"]["unavailable"]["propose_ban"]

    status, claimed = call(review, "POST", "/cases/messenger-dm/claim", MODERATOR, {"expected_version": 1})
    offer = call(review, "GET", "/cases/messenger-dm", MODERATOR)[1]["available"]
    lapses = datetime.fromisoformat(offer["claim_expires_at"])
    assert lapses == datetime.fromisoformat(claimed["updated_at"]) + timedelta(minutes=5)  # CLAIM_LEASE_MINUTES
    assert lapses > datetime.now(UTC)
    for_carol = call(review, "GET", "/cases/messenger-dm", CAROL)[1]["available"]
    assert for_carol["decisions"] == [] and for_carol["release"]


def test_with_the_hosted_ui_configured_the_console_signs_in_through_cognito(
    aws: AwsEnv, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONSOLE_AUTH_DOMAIN_PREFIX", "floralys-review")
    monkeypatch.setenv("CONSOLE_URL", "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/console")
    review = handler("review")
    config = json.loads(static(review, "/console/config.json")["body"])
    domain = "https://floralys-review.auth.eu-west-1.amazoncognito.com"
    assert config["auth"]["domain"] == domain and config["auth"]["client_id"]
    # The page may talk to the API and to the hosted UI's token endpoint, nothing else.
    assert f"connect-src 'self' {domain};" in static(review, "/console")["headers"]["Content-Security-Policy"]

"""Local JWT issuer and the API-Gateway-style checks and claim flattening."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from moderato_cli.main import main
from moderato_local.jwt_issuer import (
    JwtSettings,
    TokenError,
    bearer_token,
    flatten_claims,
    issue_token,
    token_scopes,
    verify_token,
)

SECRETS = Path(__file__).resolve().parents[3] / "infra" / "local" / "secrets.json"
SETTINGS = JwtSettings.load(SECRETS)


def test_issued_token_verifies_with_cognito_like_claims() -> None:
    claims = verify_token(SETTINGS, issue_token(SETTINGS, "alice", ["moderators", "approvers"], ttl=60))
    assert claims["username"] == "alice" and claims["cognito:groups"] == ["moderators", "approvers"]
    assert claims["token_use"] == "id" and claims["iss"] == SETTINGS.issuer and claims["aud"] == SETTINGS.audience
    assert claims["exp"] - claims["iat"] == 60
    # The same user always gets the same sub, so audit records line up across tokens.
    assert claims["sub"] == verify_token(SETTINGS, issue_token(SETTINGS, "alice"))["sub"]


@pytest.mark.parametrize("change", ["key", "issuer", "audience", "expired", "garbage", "none-alg"])
def test_bad_tokens_are_refused(change: str) -> None:
    claims = {"sub": "s", "iss": SETTINGS.issuer, "aud": SETTINGS.audience, "exp": int(time.time()) + 60}
    key = SETTINGS.secret
    if change == "key":
        key = "another-key-that-is-long-enough-for-hs256"
    elif change in ("issuer", "audience"):
        claims["iss" if change == "issuer" else "aud"] = "someone-else"
    elif change == "expired":
        claims["exp"] = int(time.time()) - 10
    token = jwt.encode(claims, key, algorithm="HS256")
    if change == "garbage":
        token = "not.a.jwt"
    elif change == "none-alg":
        token = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(TokenError):
        verify_token(SETTINGS, token)


def test_claims_are_flattened_like_api_gateway() -> None:
    flat = flatten_claims({"cognito:groups": ["moderators", "approvers"], "exp": 1700000000,
                           "email_verified": True, "name": "Jeanne", "address": {"city": "Lyon"}})
    assert flat == {"cognito:groups": "[moderators approvers]", "exp": "1700000000", "email_verified": "true",
                    "name": "Jeanne", "address": "map[city:Lyon]"}


def test_bearer_prefix_is_optional_and_scopes_come_from_the_scope_claim() -> None:
    assert bearer_token("Bearer abc") == "abc" and bearer_token("abc") == "abc"
    assert bearer_token("") is None and bearer_token("Bearer ") is None
    assert token_scopes({"scope": "read write"}) == ["read", "write"] and token_scopes({}) is None


def test_token_command_prints_a_token_the_gateway_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--user", "bob", "--group", "approvers", "--ttl", "120"]) == 0
    claims = verify_token(SETTINGS, capsys.readouterr().out.strip())
    assert claims["username"] == "bob" and claims["cognito:groups"] == ["approvers"]

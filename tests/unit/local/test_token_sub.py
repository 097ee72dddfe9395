"""``moderato token`` puts a stable sub in every token: the person the review API compares."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from moderato_cli.main import main
from moderato_local.jwt_issuer import JwtSettings, issue_token, local_sub, verify_token

SETTINGS = JwtSettings.load(Path(__file__).resolve().parents[3] / "infra" / "local" / "secrets.json")


def _printed_claims(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["token", *args]) == 0
    return verify_token(SETTINGS, capsys.readouterr().out.strip())


def test_every_token_of_a_user_carries_the_same_uuid_sub(capsys: pytest.CaptureFixture[str]) -> None:
    first = _printed_claims(capsys, "--user", "alice", "--group", "moderators")
    second = _printed_claims(capsys, "--user", "alice", "--group", "approvers", "--ttl", "60")
    assert first["sub"] == second["sub"] == str(uuid.UUID(first["sub"]))
    assert _printed_claims(capsys, "--user", "bob")["sub"] != first["sub"]


@pytest.mark.parametrize("spelling", ["Alice", "ALICE", " alice ", "\uff41\uff4c\uff49\uff43\uff45"])
def test_like_the_case_insensitive_user_pool_one_name_in_other_case_is_one_user(spelling: str) -> None:
    claims = verify_token(SETTINGS, issue_token(SETTINGS, spelling))
    assert claims["sub"] == local_sub("alice") and claims["cognito:username"] == spelling


# Each looks like "alice" to a reviewer reading a name: locally, one user (in AWS, Cognito's sub decides).
LOOK_ALIKES = ["alice", "Alice", "alice ", "alice\u200b", "\u0430lice", "ALICE", "\uff41\uff4c\uff49\uff43\uff45",
               "al\u00adice", "alic\u0435"]


@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_a_name_that_looks_like_alice_is_alice_locally(spelling: str) -> None:
    claims = verify_token(SETTINGS, issue_token(SETTINGS, spelling))
    assert claims["sub"] == local_sub("alice")


def test_so_a_look_alike_cannot_approve_alices_proposal_locally() -> None:
    assert len({local_sub(spelling) for spelling in LOOK_ALIKES}) == 1


def test_names_that_look_different_stay_different_users() -> None:
    names = ("alice", "alicia", "bob", "al ice", "\u0430\u043b\u0438\u0441\u0430")  # the last: Russian "Алиса"
    assert len({local_sub(name) for name in names}) == len(names)


def test_a_configured_sub_is_used_as_given(capsys: pytest.CaptureFixture[str]) -> None:
    claims = _printed_claims(capsys, "--user", "alice", "--sub", "0f0e0d0c-aaaa-4bbb-8ccc-123456789abc")
    assert claims["sub"] == "0f0e0d0c-aaaa-4bbb-8ccc-123456789abc" and claims["username"] == "alice"
    assert main(["token", "--user", "alice", "--sub", " "]) == 2

"""The local stand-in for the Cognito user pool: HS256 tokens signed with a committed, fake key.

In AWS, the HTTP API's JWT authorizer checks Cognito's RS256 tokens; locally the gateway checks
tokens from ``issue_token`` with the ``local_jwt`` block of infra/local/secrets.json, then hands the
claims to the handler flattened to strings, the way API Gateway does (see ``flatten_claims``).
"""

from __future__ import annotations

import json
import time
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from moderato.classify.confusables import CONFUSABLES

DEFAULT_SECRETS_PATH = Path(__file__).resolve().parents[1] / "local" / "secrets.json"
_SUB_NAMESPACE = uuid.UUID("6f1d0c5e-3f5a-4d0e-9a53-6d6f64657261")


@dataclass(frozen=True)
class JwtSettings:
    secret: str
    issuer: str
    audience: str

    @classmethod
    def load(cls, secrets_path: str | Path = DEFAULT_SECRETS_PATH) -> JwtSettings:
        data = json.loads(Path(secrets_path).read_text(encoding="utf-8"))
        block = data["local_jwt"]
        return cls(secret=block["secret"], issuer=block["issuer"], audience=block["audience"])


class TokenError(Exception):
    """The token is missing, malformed, badly signed, expired, or for another issuer/audience."""


def name_skeleton(user: str) -> str:
    """What a user name looks like to a person: invisible characters dropped (zero-width, soft hyphen),
    NFKC (full-width letters), case folded, Cyrillic and Greek look-alikes folded to the Latin letter,
    spaces trimmed and collapsed. "alice", "ALICE", "ａｌｉｃｅ", "al\u00adice" and "аlice" (Cyrillic а) share one.
    """
    visible = "".join(ch for ch in user if unicodedata.category(ch) != "Cf")
    folded = unicodedata.normalize("NFKC", visible).casefold().translate(CONFUSABLES)
    return " ".join(folded.split())


def local_sub(user: str) -> str:
    """The sub the local pool gives a user name: stable, so audit records line up across tokens.

    Names that look the same are one local user (their ``name_skeleton``), so a look-alike cannot approve
    a colleague's proposal locally. In AWS identity is Cognito's own ``sub``: a look-alike name there is
    another account, which only an administrator can create. The review API compares subs, never names.
    """
    return str(uuid.uuid5(_SUB_NAMESPACE, name_skeleton(user)))


def issue_token(
    settings: JwtSettings,
    user: str,
    groups: Iterable[str] = (),
    ttl: int = 3600,
    scopes: Iterable[str] = (),
    now: float | None = None,
    sub: str | None = None,
) -> str:
    """A Cognito-ID-token-shaped JWT; ``sub`` defaults to the user name's ``local_sub``."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": sub or local_sub(user),
        "username": user,
        "cognito:username": user,
        "cognito:groups": list(groups),
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": issued,
        "exp": issued + int(ttl),
        "token_use": "id",
    }
    if scopes:
        claims["scope"] = " ".join(scopes)
    return jwt.encode(claims, settings.secret, algorithm="HS256")


def verify_token(settings: JwtSettings, token: str) -> dict[str, Any]:
    """Claims of a valid token, else TokenError (API Gateway answers 401 for every such case)."""
    try:
        return jwt.decode(
            token,
            settings.secret,
            algorithms=["HS256"],
            audience=settings.audience,
            issuer=settings.issuer,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise TokenError(str(error)) from error


def bearer_token(header_value: str | None) -> str | None:
    """API Gateway accepts the identity source with or without the ``Bearer`` prefix."""
    if not header_value:
        return None
    scheme, _, rest = header_value.strip().partition(" ")
    value = rest.strip() if scheme.lower() == "bearer" else header_value.strip()
    return value or None


def flatten_claim(value: Any) -> str:
    """API Gateway HTTP APIs pass every claim as a string; arrays look like ``[moderators approvers]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + " ".join(flatten_claim(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{flatten_claim(inner)}" for key, inner in value.items()) + "]"
    return str(value)


def flatten_claims(claims: dict[str, Any]) -> dict[str, str]:
    return {key: flatten_claim(value) for key, value in claims.items()}


def token_scopes(claims: dict[str, Any]) -> list[str] | None:
    """``requestContext.authorizer.jwt.scopes``: the token's ``scope``/``scp`` claim, else null."""
    raw = claims.get("scope", claims.get("scp"))
    if raw is None:
        return None
    return list(raw) if isinstance(raw, list) else str(raw).split()

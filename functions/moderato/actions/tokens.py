"""Platform token state as the PlatformTokens secret holds it, and when an X token must be refreshed. Pure.

X OAuth 2.0 user access tokens live two hours. With the ``offline.access`` scope X also issues a
refresh token, which is single-use: each refresh answers a new access token and a new refresh token,
and the old refresh token stops working. So the pair is state that the actions function rewrites,
and two refreshes of the same pair must never both reach X (the second would be refused and the
account would need a person to authorize the app again).

An X entry in the secret is either a plain string (an access token without expiry, used as is) or::

    {"access_token": "...", "refresh_token": "...", "expires_at": "2026-12-04T14:00:00Z"}

plus, while the function works on it, ``refreshing_by``/``refreshing_since`` (a claim) or
``reauthorize`` (why X refused the refresh token: a person must authorize the app again).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

# Refresh a little before the end: a token that expires between the check and X's answer fails the call.
REFRESH_BEFORE_EXPIRY = timedelta(minutes=5)
# Longer than one refresh can take (token endpoint timeout 5 s, two secret writes), far shorter than the
# queue's backoff: a claim left by a crashed invocation does not block the account for long.
CLAIM_SECONDS = 30


class TokenNeedsReauthorization(Exception):
    """The platform refused to refresh the account's token: a person must authorize the app again.

    The action is kept for retry (not a final failure): once an operator has put new tokens in
    PlatformTokens, the next delivery of the message succeeds.
    """

    def __init__(self, family: str, account_id: str, why: str) -> None:
        super().__init__(f"the {family} token of account {account_id} needs re-authorization: {why}. "
                         "Authorize the app again (OAuth 2.0 with offline.access) and put the new tokens "
                         "in PlatformTokens")
        self.family = family
        self.account_id = account_id


class RefreshRefused(Exception):
    """The token endpoint refused the refresh token (400/401, e.g. invalid_grant): retrying cannot help."""


class XClientCredentials(BaseModel):
    """The X app's OAuth 2.0 client (``x_client`` in the secret): a secret only for confidential clients."""

    model_config = ConfigDict(extra="ignore")
    client_id: str
    client_secret: str | None = None


class XGrant(BaseModel):
    """What X's token endpoint answers to a refresh."""

    model_config = ConfigDict(extra="ignore")
    access_token: str
    refresh_token: str | None = None  # without offline.access none comes: the next expiry needs a person
    expires_in: int = 7200


class XTokenState(BaseModel):
    model_config = ConfigDict(extra="ignore")
    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    refreshing_by: str | None = None
    refreshing_since: datetime | None = None
    reauthorize: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> XTokenState | None:
        if isinstance(raw, str):
            return cls(access_token=raw) if raw else None
        if isinstance(raw, dict) and raw.get("access_token"):
            return cls.model_validate(raw)
        return None

    def usable(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at - REFRESH_BEFORE_EXPIRY

    def claimed(self, now: datetime) -> bool:
        """Another invocation is refreshing this pair right now: wait for its result, do not refresh."""
        return (self.refreshing_by is not None and self.refreshing_since is not None
                and now < self.refreshing_since + timedelta(seconds=CLAIM_SECONDS))

    def claim(self, holder: str, now: datetime) -> XTokenState:
        return self.model_copy(update={"refreshing_by": holder, "refreshing_since": now})

    def released(self) -> XTokenState:
        return self.model_copy(update={"refreshing_by": None, "refreshing_since": None})

    def refreshed(self, grant: XGrant, now: datetime) -> XTokenState:
        return XTokenState(access_token=grant.access_token, refresh_token=grant.refresh_token,
                           expires_at=now + timedelta(seconds=grant.expires_in))

    def refused(self, why: str) -> XTokenState:
        return self.released().model_copy(update={"reauthorize": why})

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

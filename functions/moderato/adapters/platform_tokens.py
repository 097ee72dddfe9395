"""Platform access tokens from the PlatformTokens secret (read and written only by the actions function).

Shape (docs/REVIEW.md, "Platform tokens")::

    {"meta": {"<page id or Facebook-Login IG account id>": "<page token>", "default": "<page token>"},
     "instagram": {"<Instagram-Login IG account id>": "<Instagram user token>"},
     "x": {"<account id>": {"access_token": "...", "refresh_token": "...", "expires_at": "<ISO 8601>"}},
     "x_client": {"client_id": "...", "client_secret": "<confidential clients only>"}}

An empty or missing token means dry run for that account: the call is recorded, not made.

X tokens are refreshed here, before they expire, and the new pair is written back to the secret.
Why the secret and not a DynamoDB item: the tokens stay where operators put them, under the resource
policy that lets only the actions role read them, with no second store of credentials to protect.
Secrets Manager has no conditional write, but a ``ClientRequestToken`` names the new version and
can be used once per secret. Every write of this function names its version after the version it
read (``uuid5(read VersionId)``), so of two invocations that read the same version only the first
write succeeds; the other gets ``ResourceExistsException``, reads again and finds the first one's
claim or its new tokens. That makes the claim a lock: only its holder calls X (refresh tokens are
single-use), the others wait for its result and never refresh a second time. Known limit: an
operator's put-secret-value landing in the milliseconds between our read and our write is
overwritten (put the tokens again; the history of versions keeps it).
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from moderato.actions.executor import PlatformError
from moderato.actions.tokens import (
    RefreshRefused,
    TokenNeedsReauthorization,
    XClientCredentials,
    XGrant,
    XTokenState,
)

_VERSION_NAMESPACE = uuid.UUID("5b0e3f0c-6a1d-4f7e-9a57-0d6f3c1e2b44")  # only makes version names repeatable
COMMIT_ATTEMPTS = 4
_NO_REFRESH_TOKEN = "the access token expired and there is no refresh token (was offline.access granted?)"


class PlatformTokensUnavailable(Exception):
    """Secrets Manager did not answer, or a refresh is in progress elsewhere: retry the message later."""


class SecretChanged(Exception):
    """Another writer wrote a version after the one we read: read again."""


@dataclass(frozen=True)
class SecretSnapshot:
    value: dict[str, Any]
    version_id: str


class TokenVault(Protocol):
    def read(self) -> SecretSnapshot: ...

    def write_after(self, version_id: str, value: dict[str, Any]) -> str: ...


class XTokenRefresher(Protocol):
    def refresh(self, refresh_token: str, client: XClientCredentials) -> XGrant: ...


class SecretsManagerVault:
    def __init__(self, secret_id: str, client: Any) -> None:
        self._secret_id = secret_id
        self._client = client

    def read(self) -> SecretSnapshot:
        try:
            answer = self._client.get_secret_value(SecretId=self._secret_id)
        except (ClientError, BotoCoreError) as error:
            raise PlatformTokensUnavailable("platform tokens are unavailable; retry later") from error
        try:
            value = json.loads(answer.get("SecretString") or "{}")
        except ValueError as error:
            raise PlatformTokensUnavailable("PlatformTokens does not hold JSON; fix the secret") from error
        return SecretSnapshot(value if isinstance(value, dict) else {}, answer["VersionId"])

    def write_after(self, version_id: str, value: dict[str, Any]) -> str:
        """Write ``value`` as the version that follows ``version_id``; SecretChanged if one already does."""
        try:
            answer = self._client.put_secret_value(
                SecretId=self._secret_id, SecretString=json.dumps(value, sort_keys=True),
                ClientRequestToken=str(uuid.uuid5(_VERSION_NAMESPACE, version_id)))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceExistsException":
                raise SecretChanged(f"a version after {version_id} exists already") from error
            raise PlatformTokensUnavailable("could not write the platform tokens; retry later") from error
        except BotoCoreError as error:
            raise PlatformTokensUnavailable("could not write the platform tokens; retry later") from error
        return str(answer["VersionId"])


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_holder() -> str:
    return uuid.uuid4().hex


class PlatformTokens:
    def __init__(self, vault: TokenVault, refresher: XTokenRefresher | None = None, max_age_seconds: int = 300,
                 clock: Callable[[], datetime] = _utcnow, sleep: Callable[[float], None] = time.sleep,
                 new_holder: Callable[[], str] = _new_holder, wait_seconds: float = 0.5,
                 wait_attempts: int = 20) -> None:
        self._vault = vault
        self._refresher = refresher
        self._max_age = max_age_seconds
        self._clock = clock
        self._sleep = sleep
        self._new_holder = new_holder
        self._wait_seconds = wait_seconds
        self._wait_attempts = wait_attempts
        self._snapshot: SecretSnapshot | None = None
        self._read_at = 0.0

    def token_for(self, family: str, account_id: str) -> str | None:
        snapshot = self._cached()
        if family == "x":
            return self._x_token(account_id, snapshot)
        tokens = snapshot.value.get(family)
        if not isinstance(tokens, dict):
            return None
        token = tokens.get(account_id) or tokens.get("default")
        return str(token) if isinstance(token, str) and token else None

    # ------------------------------------------------------------------ X

    def _x_token(self, account_id: str, snapshot: SecretSnapshot) -> str | None:
        _, state = _x_state(snapshot, account_id)
        if state is None:
            return None
        now = self._clock()
        if state.reauthorize:
            raise TokenNeedsReauthorization("x", account_id, state.reauthorize)
        if state.usable(now):
            return state.access_token
        if not state.refresh_token or self._refresher is None:
            raise TokenNeedsReauthorization("x", account_id, _NO_REFRESH_TOKEN)
        return self._refresh_x(account_id)

    def _refresh_x(self, account_id: str) -> str | None:
        for _ in range(self._wait_attempts):
            snapshot = self._read()
            key, state = _x_state(snapshot, account_id)
            now = self._clock()
            if state is None:
                return None
            if state.reauthorize:
                raise TokenNeedsReauthorization("x", account_id, state.reauthorize)
            if state.usable(now):
                return state.access_token  # the winner's token, or an operator's
            if state.claimed(now):
                self._sleep(self._wait_seconds)
                continue
            if not state.refresh_token or self._refresher is None:
                raise TokenNeedsReauthorization("x", account_id, _NO_REFRESH_TOKEN)
            try:
                claimed = self._write(snapshot, key, state.claim(self._new_holder(), now))
            except SecretChanged:
                continue  # someone wrote first: read their claim or their tokens
            return self._exchange(account_id, key, state, claimed)
        raise PlatformTokensUnavailable(f"the X token of account {account_id} is being refreshed elsewhere; "
                                        "retry later")

    def _exchange(self, account_id: str, key: str, state: XTokenState, claimed: SecretSnapshot) -> str:
        """Holder of the claim: call X once, then write the new pair (or the refusal) back."""
        if self._refresher is None or not state.refresh_token:  # checked before claiming
            raise TokenNeedsReauthorization("x", account_id, _NO_REFRESH_TOKEN)
        try:
            client = XClientCredentials.model_validate(claimed.value.get("x_client"))
        except ValueError:
            why = "x_client.client_id is missing from PlatformTokens"
            self._commit(claimed, key, state.refused(why))
            raise TokenNeedsReauthorization("x", account_id, why) from None
        try:
            grant = self._refresher.refresh(state.refresh_token, client)
        except RefreshRefused as refusal:
            self._commit(claimed, key, state.refused(str(refusal)))
            raise TokenNeedsReauthorization("x", account_id, str(refusal)) from refusal
        except PlatformError as error:
            # X did not answer: the refresh token was not used, so release the claim for the next try.
            self._commit(claimed, key, state.released())
            raise PlatformTokensUnavailable(f"X token endpoint failed: {error}") from error
        fresh = state.refreshed(grant, self._clock())
        self._commit(claimed, key, fresh)
        return fresh.access_token

    def _commit(self, base: SecretSnapshot, key: str, state: XTokenState) -> None:
        """Write our result after our claim; if anyone wrote meanwhile, put it on top of theirs.

        The new pair must never be lost: X has already retired the refresh token it replaces.
        """
        for _ in range(COMMIT_ATTEMPTS):
            try:
                self._write(base, key, state)
                return
            except SecretChanged:
                base = self._read()
        raise PlatformTokensUnavailable("could not record the refreshed X token; retry later")

    # ------------------------------------------------------------------ the secret

    def _cached(self) -> SecretSnapshot:
        if self._snapshot is None or time.monotonic() - self._read_at >= self._max_age:
            return self._read()
        return self._snapshot

    def _read(self) -> SecretSnapshot:
        self._snapshot, self._read_at = self._vault.read(), time.monotonic()
        return self._snapshot

    def _write(self, base: SecretSnapshot, key: str, state: XTokenState) -> SecretSnapshot:
        value = copy.deepcopy(base.value)
        entries = value.get("x")
        value["x"] = {**(entries if isinstance(entries, dict) else {}), key: state.stored()}
        written = SecretSnapshot(value, self._vault.write_after(base.version_id, value))
        self._snapshot, self._read_at = written, time.monotonic()
        return written


def _x_state(snapshot: SecretSnapshot, account_id: str) -> tuple[str, XTokenState | None]:
    entries = snapshot.value.get("x")
    if not isinstance(entries, dict):
        return account_id, None
    key = account_id if account_id in entries else "default"
    return key, XTokenState.parse(entries.get(key))

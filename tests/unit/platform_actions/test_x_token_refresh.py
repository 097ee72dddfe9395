"""X tokens are refreshed before they expire, once, even when two invocations need them at the same time.

The vault fake keeps the one property of Secrets Manager the refresh relies on: a version named after
the version it follows can be written once (``ClientRequestToken``); a second writer from the same
read gets SecretChanged. tests/integration/test_platform_tokens.py checks that moto (and so the API)
behaves that way, and runs the whole flow through the actions handler against the fake platform.
"""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from moderato.actions.executor import PlatformError
from moderato.actions.tokens import RefreshRefused, TokenNeedsReauthorization, XClientCredentials, XGrant
from moderato.adapters.platform_tokens import PlatformTokens, PlatformTokensUnavailable, SecretChanged, SecretSnapshot

NOW = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
ACCOUNT = "2244994945"


def secret(expires_at: datetime, **x_entry: Any) -> dict[str, Any]:
    return {"meta": {"default": "page-token"},
            "x": {ACCOUNT: {"access_token": "x-access-1", "refresh_token": "x-refresh-1",
                            "expires_at": expires_at.isoformat(), **x_entry}},
            "x_client": {"client_id": "cGxhdGZvcm0tY2xpZW50", "client_secret": "s3cr3t"}}


class MemoryVault:
    """Versions in memory; ``write_after`` is atomic, as Secrets Manager's ClientRequestToken check is."""

    def __init__(self, value: dict[str, Any], read_barrier: threading.Barrier | None = None) -> None:
        self.versions: list[tuple[str, dict[str, Any]]] = [("v1", value)]
        self.successor: dict[str, str] = {}
        self.lock = threading.Lock()
        self.read_barrier = read_barrier  # two readers see the same version before either writes
        self.writes = 0

    def read(self) -> SecretSnapshot:
        with self.lock:
            version_id, value = self.versions[-1]
        if self.read_barrier is not None and not self.writes:
            self.read_barrier.wait(timeout=10)  # until the first write, each read waits for the other reader
        return SecretSnapshot(copy.deepcopy(value), version_id)

    def write_after(self, version_id: str, value: dict[str, Any]) -> str:
        with self.lock:
            if version_id in self.successor:
                raise SecretChanged(version_id)
            new = f"v{len(self.versions) + 1}"
            self.successor[version_id] = new
            self.versions.append((new, copy.deepcopy(value)))
            self.writes += 1
            return new

    @property
    def current(self) -> dict[str, Any]:
        return self.versions[-1][1]


class FakeX:
    """X's token endpoint: rotating, single-use refresh tokens; counts every call."""

    def __init__(self, refuse: bool = False, fail: bool = False, hold: threading.Event | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.valid_refresh = "x-refresh-1"
        self.refuse, self.fail, self.hold = refuse, fail, hold

    def refresh(self, refresh_token: str, client: XClientCredentials) -> XGrant:
        self.calls.append((refresh_token, client.client_id))
        if self.hold is not None:
            self.hold.wait(timeout=10)
        if self.fail:
            raise PlatformError(503, "over capacity")
        if self.refuse or refresh_token != self.valid_refresh:
            raise RefreshRefused("X refused the refresh token (HTTP 400: invalid_request: Value passed for the "
                                 "token was invalid.)")
        self.valid_refresh = f"x-refresh-{len(self.calls) + 1}"
        return XGrant(access_token=f"x-access-{len(self.calls) + 1}", refresh_token=self.valid_refresh,
                      expires_in=7200)


def tokens(vault: MemoryVault, x: FakeX, now: datetime = NOW, sleep: Any = None) -> PlatformTokens:
    return PlatformTokens(vault, x, max_age_seconds=300, clock=lambda: now,
                          sleep=sleep or (lambda seconds: None), wait_seconds=0.01)


def test_a_valid_token_is_used_without_calling_x() -> None:
    vault, x = MemoryVault(secret(NOW + timedelta(hours=1))), FakeX()
    assert tokens(vault, x).token_for("x", ACCOUNT) == "x-access-1"
    assert x.calls == [] and vault.writes == 0


def test_a_token_about_to_expire_is_refreshed_once_and_the_new_pair_is_written_back() -> None:
    vault, x = MemoryVault(secret(NOW + timedelta(minutes=2))), FakeX()
    source = tokens(vault, x)
    assert source.token_for("x", ACCOUNT) == "x-access-2"
    assert source.token_for("x", ACCOUNT) == "x-access-2"  # from the cache: no second refresh
    assert x.calls == [("x-refresh-1", "cGxhdGZvcm0tY2xpZW50")]
    entry = vault.current["x"][ACCOUNT]
    assert entry == {"access_token": "x-access-2", "refresh_token": "x-refresh-2",
                     "expires_at": (NOW + timedelta(hours=2)).isoformat().replace("+00:00", "Z")}
    assert vault.current["meta"] == {"default": "page-token"}  # the other families are kept as they were
    assert vault.writes == 2  # the claim, then the result


def test_two_concurrent_refreshes_call_x_once_and_both_get_the_new_token() -> None:
    vault = MemoryVault(secret(NOW - timedelta(minutes=1)), read_barrier=threading.Barrier(2))
    x = FakeX()
    results: list[str | None] = []
    errors: list[BaseException] = []

    def until_the_pair_is_written(seconds: float) -> None:
        while vault.writes < 2:  # the winner's claim and result
            threading.Event().wait(0.005)

    def need_token() -> None:
        try:  # each invocation has its own cache, as two Lambda environments do
            results.append(tokens(vault, x, sleep=until_the_pair_is_written).token_for("x", ACCOUNT))
        except Exception as error:
            errors.append(error)  # a thread cannot raise into the test

    threads = [threading.Thread(target=need_token) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert results == ["x-access-2", "x-access-2"]
    assert x.calls == [("x-refresh-1", "cGxhdGZvcm0tY2xpZW50")]  # one refresh: the loser read the winner's pair
    assert vault.current["x"][ACCOUNT]["refresh_token"] == "x-refresh-2"


def test_the_loser_of_the_claim_waits_for_the_winners_pair_and_never_refreshes() -> None:
    # Deterministic interleaving: B reads while A holds the claim and is on the phone to X.
    vault, x_hold = MemoryVault(secret(NOW - timedelta(minutes=1))), threading.Event()
    x = FakeX(hold=x_hold)
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        x_hold.set()  # A's refresh answers while B waits
        winner.join(timeout=10)  # and A writes the new pair before B reads again

    winner = threading.Thread(target=lambda: tokens(vault, x).token_for("x", ACCOUNT))
    winner.start()
    while not x.calls:  # A has claimed and called X
        threading.Event().wait(0.001)
    assert tokens(vault, x, sleep=sleep).token_for("x", ACCOUNT) == "x-access-2"
    winner.join(timeout=10)
    assert waited and len(x.calls) == 1


def test_a_refused_refresh_marks_the_account_for_reauthorization_and_x_is_not_asked_again() -> None:
    vault, x = MemoryVault(secret(NOW - timedelta(minutes=1))), FakeX(refuse=True)
    with pytest.raises(TokenNeedsReauthorization, match=r"needs re-authorization.*invalid_request"):
        tokens(vault, x).token_for("x", ACCOUNT)
    entry = vault.current["x"][ACCOUNT]
    assert "invalid_request" in entry["reauthorize"] and "refreshing_by" not in entry
    with pytest.raises(TokenNeedsReauthorization):
        tokens(vault, x).token_for("x", ACCOUNT)  # a later invocation: straight from the secret
    assert len(x.calls) == 1


def test_x_down_releases_the_claim_and_asks_for_a_retry() -> None:
    vault, x = MemoryVault(secret(NOW - timedelta(minutes=1))), FakeX(fail=True)
    with pytest.raises(PlatformTokensUnavailable, match="X token endpoint failed"):
        tokens(vault, x).token_for("x", ACCOUNT)
    entry = vault.current["x"][ACCOUNT]
    assert "refreshing_by" not in entry and "reauthorize" not in entry
    x.fail = False
    assert tokens(vault, x).token_for("x", ACCOUNT) not in (None, "x-access-1")
    assert [refresh for refresh, _ in x.calls] == ["x-refresh-1", "x-refresh-1"]  # it was not spent


def test_a_claim_left_by_a_crashed_invocation_expires() -> None:
    stale = secret(NOW - timedelta(minutes=1), refreshing_by="crashed",
                   refreshing_since=(NOW - timedelta(minutes=5)).isoformat())
    vault, x = MemoryVault(stale), FakeX()
    assert tokens(vault, x).token_for("x", ACCOUNT) == "x-access-2"
    fresh_claim = secret(NOW - timedelta(minutes=1), refreshing_by="busy", refreshing_since=NOW.isoformat())
    with pytest.raises(PlatformTokensUnavailable, match="being refreshed elsewhere"):
        tokens(MemoryVault(fresh_claim), FakeX()).token_for("x", ACCOUNT)


def test_plain_string_tokens_still_work_and_missing_ones_mean_dry_run() -> None:
    vault = MemoryVault({"meta": {"206070979425408": "page-token"}, "instagram": {"17841400000000001": "ig-user"},
                         "x": {ACCOUNT: "x-legacy"}})
    source = tokens(vault, FakeX())
    assert source.token_for("x", ACCOUNT) == "x-legacy"
    assert source.token_for("meta", "206070979425408") == "page-token"
    assert source.token_for("instagram", "17841400000000001") == "ig-user"
    assert source.token_for("instagram", "206070979425408") is None
    assert source.token_for("x", "someone-else") is None


def test_an_expired_token_without_a_refresh_token_needs_reauthorization() -> None:
    value = secret(NOW - timedelta(minutes=1))
    del value["x"][ACCOUNT]["refresh_token"]
    with pytest.raises(TokenNeedsReauthorization, match=r"offline\.access"):
        tokens(MemoryVault(value), FakeX()).token_for("x", ACCOUNT)

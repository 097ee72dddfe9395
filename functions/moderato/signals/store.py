"""The port to the signals table, as the pure signal engine sees it (DynamoDB adapter: adapters/signal_store.py).

Every write names its ``expires_at`` (epoch seconds): nothing in the signals table lives forever.
Counters are generic (key, bucket) -> number, incremented atomically, so concurrent triage invocations
never lose a count. Updates that could race (the learned baseline, a wave's claim and escalation) are
conditional: one writer wins, the others read what it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FingerprintRecord:
    """One fingerprinted post, as stored under each of its band keys."""

    case_id: str
    signature: tuple[int, ...]  # MinHash values (signals/fingerprint.py)
    at: datetime
    author: str  # "<platform>:<author id>"
    thread: str  # "<account id>:<thread id>": a community, page or conversation
    label: str  # the label the post got (after signals)
    flagged: bool = False  # True once the post carries the duplicate reason it deserves


@dataclass(frozen=True, slots=True)
class WavePost:
    """One negative post counted in a wave: enough to name samples, top terms and amplification."""

    case_id: str
    at: datetime
    terms: tuple[str, ...] = ()
    followers: int = 0
    author: str = ""
    text: str = ""  # a short excerpt, quoted in the alert


@dataclass(frozen=True, slots=True)
class Baseline:
    """The usual rate of counted posts for one account and subject, learned hour by hour."""

    rate: float  # posts per hour, exponentially weighted
    through: str  # the last hour bucket folded in ("H#2026053008")


@dataclass(frozen=True, slots=True)
class WaveState:
    """The last wave of an account and subject: ongoing, or ended once quiet for ``quiet_minutes``."""

    wave_id: str
    started_at: datetime
    starter: str
    last_active_at: datetime | None = None  # the last time a post saw it above its threshold


class SignalStore(Protocol):
    def add_fingerprint(self, record: FingerprintRecord, bands: list[str], expires_at: int) -> None: ...

    def similar(self, bands: list[str], since: datetime, limit: int) -> list[FingerprintRecord]:
        """Posts stored under any of these band keys since ``since``, newest first, one per case."""
        ...

    def mark_flagged(self, record: FingerprintRecord, bands: list[str]) -> None: ...

    def increment(self, key: str, bucket: str, amount: int, expires_at: int, also: str | None = None) -> int:
        """Atomically add ``amount`` to the counter and return its new value; ``also``: another bucket of the
        same key that gets the same amount in the same write (a minute and its hour)."""
        ...

    def counts(self, key: str, first_bucket: str, last_bucket: str) -> dict[str, int]:
        """Counters of ``key`` whose bucket is between the two (inclusive, string order)."""
        ...

    def baseline(self, key: str) -> Baseline | None: ...

    def save_baseline(self, key: str, baseline: Baseline, previous: Baseline | None, expires_at: int) -> bool:
        """Store ``baseline`` only if the stored one is still ``previous`` (None: none yet); False if another
        invocation folded the same hours first."""
        ...

    def add_wave_post(self, wave_key: str, post: WavePost, expires_at: int) -> None: ...

    def wave_posts(self, wave_key: str, since: datetime, limit: int) -> list[WavePost]: ...

    def wave_state(self, wave_key: str) -> WaveState | None: ...

    def claim_wave_alert(self, wave_key: str, case_id: str, wave_id: str, now: datetime, quiet_since: datetime,
                         expires_at: int) -> bool:
        """True if ``case_id`` starts a new wave and publishes its alert: no wave yet, the last one has been
        quiet since before ``quiet_since`` (it ended), or its own unpublished claim (a retried post
        re-publishes; a second post never does)."""
        ...

    def touch_wave(self, wave_key: str, now: datetime, expires_at: int) -> None:
        """The ongoing wave is still above its threshold at ``now`` (it has not ended)."""
        ...

    def mark_wave_published(self, wave_key: str, case_id: str, at: datetime) -> None: ...

    def claim_escalation(self, wave_key: str, case_id: str, now: datetime) -> WaveState | None:
        """The published wave, if ``case_id`` may publish its one escalation (or retry its own unpublished one)."""
        ...

    def mark_escalation_published(self, wave_key: str, case_id: str, at: datetime) -> None: ...

    def prefetch(self, keys: list[tuple[str, str]]) -> None:
        """Read these (key, bucket) counters now, together; ``counts`` of one of them then reads no more
        until ``flush`` (a store may also do nothing here)."""
        ...

    def flush(self) -> None:
        """Write what the store kept in memory (fingerprints and wave posts of one batch); reads before
        that already see it."""
        ...

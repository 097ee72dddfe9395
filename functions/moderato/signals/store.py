"""The port to the signals table, as the pure signal engine sees it (DynamoDB adapter: adapters/signal_store.py).

What the engine needs of the recent past (near-duplicates, an author's rate, a wave's minutes, hours
and posts) comes from the **journal**: every new post leaves one ``JournalEntry``, the store writes
those of a batch together and keeps the recent ones of every invocation in memory, in a
``SignalWindow`` (signals/window.py) that answers without a call. What must be shared exactly and
at once, and is rare (a wave's claim and escalation, the learned baseline, repeat offenders), stays
one item each, with conditional writes: one writer wins, the others read what it wrote.

Every write names its ``expires_at`` (epoch seconds): nothing in the signals table lives forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from moderato.signals.window import SignalWindow


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
class JournalEntry:
    """What one new post adds to the recent past: its rate, its fingerprint, its place in a wave."""

    case_id: str
    at: datetime
    author: str  # "<platform>:<author id>"
    thread: str  # "<account id>:<thread id>"
    label: str  # the label the post got (after signals; a protected normal post is stored as complaint)
    flagged: bool = False
    signature: tuple[int, ...] | None = None  # None: too short to be fingerprinted
    wave_key: str | None = None  # "<account>#<subject>" when the post counts in a wave
    wave_post: WavePost | None = None  # its samples, terms and audience, with ``wave_key``


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
    @property
    def window(self) -> SignalWindow:
        """The recent past as journaled by every invocation (as of the last ``refresh``), with this
        invocation's own entries at once."""
        ...

    def refresh(self) -> None:
        """Read what other invocations journaled since the last refresh (once per batch, before it)."""
        ...

    def journal(self, entry: JournalEntry, expires_at: int) -> None:
        """Record a new post: in the window at once, written at ``flush`` (with the batch's others)."""
        ...

    def mark_flagged(self, record: FingerprintRecord, bands: list[str]) -> None:
        """The post now carries the duplicate reason it deserves: no flood revisits it."""
        ...

    def increment(self, key: str, bucket: str, amount: int, expires_at: int, also: str | None = None) -> int:
        """Atomically add ``amount`` to the counter and return its new value (repeat offenders); ``also``:
        another bucket of the same key that gets the same amount in the same write."""
        ...

    def counts(self, key: str, first_bucket: str, last_bucket: str) -> dict[str, int]:
        """Counters of ``key`` whose bucket is between the two (inclusive, string order)."""
        ...

    def baseline(self, key: str) -> Baseline | None: ...

    def save_baseline(self, key: str, baseline: Baseline, previous: Baseline | None, expires_at: int) -> bool:
        """Store ``baseline`` only if the stored one is still ``previous`` (None: none yet); False if another
        invocation folded the same hours first."""
        ...

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
        """Write what the store kept in memory (the batch's journal entries, wave touches); reads before
        that already see it."""
        ...

"""The port to the signals table, as the pure signal engine sees it (DynamoDB adapter: adapters/signal_store.py).

Every write names its ``expires_at`` (epoch seconds): nothing in the signals table lives forever.
Counters are generic (key, bucket) -> number, incremented atomically, so concurrent triage invocations
never lose a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class FingerprintRecord:
    """One fingerprinted post, as stored under each of its four band keys."""

    case_id: str
    simhash: int
    at: datetime
    author: str  # "<platform>:<author id>"
    thread: str  # "<account id>:<thread id>": a community, page or conversation
    label: str  # the label the post got (after signals)
    flagged: bool = False  # True once the post carries the duplicate reason it deserves


@dataclass(frozen=True, slots=True)
class WavePost:
    """One complaint counted in a wave: enough to name samples, top terms and amplification."""

    case_id: str
    at: datetime
    terms: tuple[str, ...] = ()
    followers: int = 0
    author: str = ""


class SignalStore(Protocol):
    def first_sighting(self, case_id: str, expires_at: int) -> bool:
        """Record that this post was counted; False when it already was (a redelivery counts nothing)."""
        ...

    def add_fingerprint(self, record: FingerprintRecord, bands: list[str], expires_at: int) -> None: ...

    def similar(self, bands: list[str], since: datetime, limit: int) -> list[FingerprintRecord]:
        """Posts stored under any of these band keys since ``since``, newest first, one per case."""
        ...

    def mark_flagged(self, record: FingerprintRecord, bands: list[str]) -> None: ...

    def increment(self, key: str, bucket: str, amount: int, expires_at: int) -> int:
        """Atomically add ``amount`` to the counter and return its new value."""
        ...

    def counts(self, key: str, first_bucket: str, last_bucket: str) -> dict[str, int]:
        """Counters of ``key`` whose bucket is between the two (inclusive, string order)."""
        ...

    def add_wave_post(self, wave_key: str, post: WavePost, expires_at: int) -> None: ...

    def wave_posts(self, wave_key: str, since: datetime, limit: int) -> list[WavePost]: ...

    def claim_wave_alert(self, wave_key: str, case_id: str, now: datetime, cooldown_until: datetime,
                         expires_at: int) -> bool:
        """True if ``case_id`` may publish the wave alert: no alert within the cooldown, or its own
        unpublished claim (a retried post re-publishes; a second post never does)."""
        ...

    def mark_wave_published(self, wave_key: str, case_id: str, at: datetime) -> None: ...

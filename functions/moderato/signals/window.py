"""The recent past in memory: every journaled post of the last hour or so, indexed for the engine's reads.

The store (adapters/signal_store.py) fills it from the journal, once per batch, and adds the batch's own
posts as they are assessed, so a post sees the earlier posts of its own batch. It answers, without a
call: near-duplicates (through the LSH bands of signals/fingerprint.py, in a dict), an author's posts per
minute, a wave's posts per minute and per hour, and a wave's posts for its alert.

Two horizons: every post stays ``recent`` long (the longest duplicate or burst window, one hour by
default); a post counted in a wave stays ``waves`` long (the journal's retention, 4 hours: the 3-hour
long window and the hour before it, whole, for the learned baseline). Older posts are dropped at each
``prune``. Memory is bounded by ``max_entries`` per horizon: past it the oldest posts are dropped first,
so the windows then reach back less far than configured (``dropped`` counts them, ``known_since``
moves forward, and the learned baseline folds only hours it holds whole).

Pure: no clock, no I/O; times come from the caller.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from moderato.signals.fingerprint import BANDS, PERMUTATIONS, ROWS, VALUE_BITS
from moderato.signals.store import FingerprintRecord, JournalEntry, WavePost

MAX_ENTRIES = 200_000  # per horizon: about 220 MB each at 1.1 KB a post (docs/SIGNALS.md, "Memory")
_SIGNATURE = struct.Struct(f">{PERMUTATIONS}H")


def pack_signature(signature: tuple[int, ...]) -> bytes:
    """64 values of 16 bits, 128 bytes: the form kept in memory and written to the journal."""
    return _SIGNATURE.pack(*signature)


def unpack_signature(packed: bytes) -> tuple[int, ...]:
    return _SIGNATURE.unpack(packed)


def _band_keys(signature: tuple[int, ...]) -> list[int]:
    """The LSH band keys as small ints (band index, then its values): equal keys, equal band."""
    keys = []
    for band in range(BANDS):
        key = band
        for value in signature[band * ROWS:(band + 1) * ROWS]:
            key = (key << VALUE_BITS) | value
        keys.append(key)
    return keys


class _Entry:
    """A journaled post as kept in memory: compact (times as epoch seconds, the signature packed)."""

    __slots__ = ("at", "author", "case_id", "flagged", "kept", "label", "signature", "thread", "wave_key",
                 "wave_post")

    def __init__(self, entry: JournalEntry, kept: datetime) -> None:
        self.case_id = entry.case_id
        self.at = entry.at.timestamp()
        self.kept = kept.timestamp()
        self.author = entry.author
        self.thread = entry.thread
        self.label = entry.label
        self.flagged = entry.flagged
        self.signature = pack_signature(entry.signature) if entry.signature is not None else None
        self.wave_key = entry.wave_key
        self.wave_post = entry.wave_post if entry.wave_key is not None else None

    def record(self) -> FingerprintRecord:
        assert self.signature is not None
        return FingerprintRecord(self.case_id, unpack_signature(self.signature), datetime.fromtimestamp(self.at, UTC),
                                 self.author, self.thread, self.label, self.flagged)


def _remove(index: dict[str, list[_Entry]] | dict[int, list[_Entry]], key: str | int, entry: _Entry) -> None:
    entries = index.get(key)  # type: ignore[arg-type]
    if not entries:
        return
    if entries[0] is entry:  # entries leave in the order they came: almost always the first
        del entries[0]
    else:
        for i, other in enumerate(entries):
            if other is entry:
                del entries[i]
                break
    if not entries:
        del index[key]  # type: ignore[arg-type]


def _minute(at: float) -> str:
    return f"M#{datetime.fromtimestamp(at, UTC):%Y%m%d%H%M}"


class SignalWindow:
    def __init__(self, recent: timedelta = timedelta(hours=1), waves: timedelta = timedelta(hours=4),
                 max_entries: int = MAX_ENTRIES) -> None:
        self.recent = recent
        self.waves = max(waves, recent)
        self.max_entries = max_entries
        # Since when the window holds every journaled post (None: since the beginning, a new deployment).
        self.known_since: datetime | None = None
        self.dropped = 0  # posts dropped before their time because of max_entries
        self._recent: deque[_Entry] = deque()
        self._waves: deque[_Entry] = deque()
        self._by_case: dict[str, _Entry] = {}
        self._by_band: dict[int, list[_Entry]] = {}
        self._by_author: dict[str, list[_Entry]] = {}
        self._by_wave: dict[str, list[_Entry]] = {}
        # Per wave, its posts per minute (epoch minute): read for every counted post, so kept up to date
        # rather than counted again over a wave's thousands of posts.
        self._wave_minutes: dict[str, dict[int, int]] = {}
        self._batches: dict[str, float] = {}  # journal items already read, by batch id, with their time

    def configure(self, recent: timedelta, waves: timedelta) -> None:
        """The horizons the engine's windows need (the store's owner knows no configuration)."""
        self.recent, self.waves = recent, max(waves, recent)

    def __len__(self) -> int:
        return len(self._by_case)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._by_case

    # --- filling ------------------------------------------------------------------------------------

    def add(self, entry: JournalEntry, journaled: datetime | None = None, waves_only: bool = False) -> bool:
        """Keep a journaled post; False (and nothing changes) if the window already holds this case: a post
        journaled twice (a retried batch, an overlapping read) counts once. ``journaled``: when it was
        (default: the post's time); the horizons count from then, so posts triaged late (a backlog
        drained hours later) still meet each other, each window being read from the post's own time.
        ``waves_only``: a post of a wave journaled before the recent horizon (read back by a cold start):
        kept for its wave only, as it would be by now had it been added in its time."""
        if entry.case_id in self._by_case or (waves_only and entry.wave_key is None):
            return False
        kept = _Entry(entry, journaled or entry.at)
        self._by_case[kept.case_id] = kept
        if waves_only:
            kept.signature = None  # past the recent horizon: no fingerprint, no author's rate
        else:
            self._recent.append(kept)
            self._by_author.setdefault(kept.author, []).append(kept)
            if kept.signature is not None and entry.signature is not None:
                for key in _band_keys(entry.signature):
                    self._by_band.setdefault(key, []).append(kept)
        if kept.wave_key is not None:
            self._waves.append(kept)
            self._by_wave.setdefault(kept.wave_key, []).append(kept)
            minutes = self._wave_minutes.setdefault(kept.wave_key, {})
            minutes[int(kept.at // 60)] = minutes.get(int(kept.at // 60), 0) + 1
        if len(self._recent) > self.max_entries:
            self._drop_recent(self._recent.popleft(), early=True)
        if len(self._waves) > self.max_entries:
            self._drop_wave(self._waves.popleft(), early=True)
        return True

    def flag(self, case_ids: Iterable[str]) -> None:
        for case_id in case_ids:
            if (entry := self._by_case.get(case_id)) is not None:
                entry.flagged = True

    def seen_batch(self, batch_id: str, at: datetime) -> bool:
        """Remember a journal item; True if it was already read (its posts are in the window)."""
        if batch_id in self._batches:
            return True
        self._batches[batch_id] = at.timestamp()
        return False

    def prune(self, now: datetime) -> None:
        """Drop what no window reaches any more."""
        recent_since = (now - self.recent).timestamp()
        while self._recent and self._recent[0].kept < recent_since:
            self._drop_recent(self._recent.popleft(), early=False)
        waves_since = now - self.waves
        while self._waves and self._waves[0].kept < waves_since.timestamp():
            self._drop_wave(self._waves.popleft(), early=False)
        self.known_since = waves_since if self.known_since is None else max(self.known_since, waves_since)
        self._batches = {b: t for b, t in self._batches.items() if t >= waves_since.timestamp() - 3600}

    def _drop_recent(self, entry: _Entry, early: bool) -> None:
        _remove(self._by_author, entry.author, entry)
        if entry.signature is not None:
            for key in _band_keys(unpack_signature(entry.signature)):
                _remove(self._by_band, key, entry)
            entry.signature = None  # a wave post kept longer needs no fingerprint
        if entry.wave_key is None:
            self._forget(entry, early)

    def _drop_wave(self, entry: _Entry, early: bool) -> None:
        assert entry.wave_key is not None
        _remove(self._by_wave, entry.wave_key, entry)
        minutes = self._wave_minutes[entry.wave_key]
        minute = int(entry.at // 60)
        minutes[minute] -= 1
        if not minutes[minute]:
            del minutes[minute]
            if not minutes:
                del self._wave_minutes[entry.wave_key]
        self._forget(entry, early)

    def _forget(self, entry: _Entry, early: bool) -> None:
        if self._by_case.get(entry.case_id) is entry:
            del self._by_case[entry.case_id]
        if early:
            self.dropped += 1
            since = datetime.fromtimestamp(entry.at, UTC)
            self.known_since = since if self.known_since is None else max(self.known_since, since)

    # --- reading ------------------------------------------------------------------------------------

    def similar(self, signature: tuple[int, ...], since: datetime, limit: int) -> list[FingerprintRecord]:
        """Posts sharing an LSH band with ``signature`` since ``since`` (at most ``limit`` per band, newest
        first), one per case, newest first. The caller keeps those similar enough."""
        start = since.timestamp()
        found: dict[str, _Entry] = {}
        for key in _band_keys(signature):
            taken = 0
            for entry in reversed(self._by_band.get(key, ())):
                if taken >= limit:
                    break
                if entry.at >= start and entry.signature is not None:
                    taken += 1
                    found.setdefault(entry.case_id, entry)
        return sorted((entry.record() for entry in found.values()), key=lambda r: r.at, reverse=True)

    def author_minutes(self, author: str, first_bucket: str, last_bucket: str) -> dict[str, int]:
        """The author's posts per minute bucket ("M#YYYYMMDDHHMM"), both ends included."""
        return _per_minute(self._by_author.get(author, ()), first_bucket, last_bucket)

    def wave_minutes(self, wave_key: str, first_bucket: str, last_bucket: str) -> dict[str, int]:
        """A wave's counted posts per minute bucket, both ends included."""
        low, high = _epoch_minute(first_bucket), _epoch_minute(last_bucket)
        return {_minute(minute * 60.0): n for minute, n in self._wave_minutes.get(wave_key, {}).items()
                if low <= minute <= high}

    def wave_hours(self, wave_key: str, first: datetime, last: datetime) -> dict[str, int]:
        """A wave's counted posts per hour bucket ("H#YYYYMMDDHH") from the hour of ``first`` to that of
        ``last``, both included."""
        low = int(first.replace(minute=0, second=0, microsecond=0).timestamp()) // 3600
        high = int(last.replace(minute=0, second=0, microsecond=0).timestamp()) // 3600
        hours: dict[int, int] = {}
        for minute, n in self._wave_minutes.get(wave_key, {}).items():
            if low <= minute // 60 <= high:
                hours[minute // 60] = hours.get(minute // 60, 0) + n
        return {f"H#{datetime.fromtimestamp(hour * 3600, UTC):%Y%m%d%H}": n for hour, n in hours.items()}

    def first_whole_hour(self) -> datetime | None:
        """The first hour the window holds whole (None: every hour, since nothing came before)."""
        if self.known_since is None:
            return None
        hour = self.known_since.replace(minute=0, second=0, microsecond=0)
        return hour if hour == self.known_since else hour + timedelta(hours=1)

    def wave_posts(self, wave_key: str, since: datetime, limit: int) -> list[WavePost]:
        """A wave's counted posts since ``since``, oldest first, at most ``limit``."""
        start = since.timestamp()
        posts = [entry for entry in self._by_wave.get(wave_key, ()) if entry.at >= start]
        posts.sort(key=lambda entry: entry.at)
        return [entry.wave_post for entry in posts[:limit] if entry.wave_post is not None]


def _epoch_minute(bucket: str) -> int:
    return int(datetime.strptime(bucket[2:], "%Y%m%d%H%M").replace(tzinfo=UTC).timestamp()) // 60


def _per_minute(entries: Iterable[_Entry], first_bucket: str, last_bucket: str) -> dict[str, int]:
    low, high = _epoch_minute(first_bucket) * 60, (_epoch_minute(last_bucket) + 1) * 60
    minutes: dict[int, int] = {}
    for entry in entries:  # counted by minute number first: a bucket string per minute, not per post
        if low <= entry.at < high:
            minute = int(entry.at // 60)
            minutes[minute] = minutes.get(minute, 0) + 1
    return {_minute(minute * 60.0): n for minute, n in minutes.items()}

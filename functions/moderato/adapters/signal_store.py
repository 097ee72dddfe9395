"""DynamoSignalStore: the signals table (SignalsTable in template.yaml; pk/sk strings, TTL ``expires_at``).

| item               | pk                         | sk                     | attributes                              |
|--------------------|----------------------------|------------------------|-----------------------------------------|
| journal (one per   | JOURNAL#<day written>      | <time written>#<batch> | d: zlib JSON of the batch's entries     |
| batch)             | ("YYYYMMDD")               |                        | (case, time, author, thread, label,     |
|                    |                            |                        | flagged; for a wave: key, terms,        |
|                    |                            |                        | followers, author name, excerpt) and    |
|                    |                            |                        | flagged cases; s: packed signatures     |
| counter            | OFFENDER#<platform>:<id>   | TOTAL                  | n (atomic ADD)                          |
| learned baseline   | WAVE#<account>#<subject>   | BASELINE               | rate (per hour), through (last hour)    |
| wave               | WAVE#<account>#<subject>   | ALERT                  | starter, wave_id, started_at,           |
|                    |                            |                        | last_active_at, published_at,           |
|                    |                            |                        | escalated_by, escalation_published_at   |

**The journal.** Triage writes one item per SQS batch (PutItem) with an entry for every new post, and
keeps the recent entries of every invocation in memory: ``window``, a SignalWindow held by this object,
which triage builds once per execution environment, so it survives warm invocations. ``refresh``, once
per batch, reads what was journaled since the last one: one Query of the day's partition (two across
midnight) from the last read minus ``JOURNAL_OVERLAP`` (a concurrent writer's item can become visible a
little after the time in its key: eventual consistency, clocks; a writer whose PutItem returned late
writes it again under a later time); items already read are skipped by batch id, posts already held
by case id. A cold start reads ``window.waves`` (4 hours) back, the same
way, paged. A partition per day, not per hour: a cold start and an hour boundary cost no extra query,
and TTL empties it. Its load at 50 posts/s, 5 items and about 15 WCU a second, is far below a
partition's 1,000, so no sharding.

Posts a flood flags (``mark_flagged``) are flagged in memory at once and written with the next journal
item; other invocations stop revisiting them from then on (a revisit is harmless: triage re-reads the
case and finds the reason there).

Rare events keep an item each: wave claims and escalations (conditional writes), the learned baseline
(a conditional write once an hour per account and subject; read once an hour per execution
environment), repeat offenders (one BatchGetItem per batch). Within a batch a wave's state is read
once, a claim that state already refuses is not sent, and the wave is touched once, at ``flush``.

Every item is written with ``expires_at`` (epoch seconds) and updates only touch items that exist, so
the table cannot grow without bound. Strings are capped, lists are short.
"""

from __future__ import annotations

import json
import logging
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from moderato.adapters.aws import conditional_failed
from moderato.signals.fingerprint import PERMUTATIONS, VALUE_BITS
from moderato.signals.store import Baseline, FingerprintRecord, JournalEntry, WavePost, WaveState
from moderato.signals.window import SignalWindow, pack_signature, unpack_signature

logger = logging.getLogger(__name__)

MAX_STRING = 200
MAX_TERMS = 8
MAX_EXCERPT = 120
BATCH_GET_SIZE = 100  # DynamoDB's limit per batch_get_item
# A reader reads again from its last read minus JOURNAL_OVERLAP: an item is stamped before its PutItem
# returns, and a Query may not show it for a moment after (eventual consistency; clocks differ by far less).
# A writer whose PutItem returned more than JOURNAL_LATE_WRITE after the item's stamp (the SDK's retries:
# up to about 20 s) writes it again under a fresh stamp, so the overlap only has to cover a prompt write,
# not a retried one. Each refresh re-reads the overlap's items: at 50 posts/s, 5 s is 25 items (~50 KB,
# about 6 read units) per batch, where 30 s was 150.
JOURNAL_OVERLAP = timedelta(seconds=5)
JOURNAL_LATE_WRITE = timedelta(seconds=2)
JOURNAL_REWRITES = 3
# A cold start at volume reads hours of journal: past its first page, in slices of this span, several at
# once, so the pages' round trips (about 116 of 1 MB at 50 posts/s over 4 hours) overlap (bench_signals).
COLD_READ_SLICE = timedelta(minutes=30)
COLD_READ_THREADS = 4
JOURNAL_ITEM_ENTRIES = 250  # entries per journal item: about 100 KB at most, far below DynamoDB's 400 KB
_SIGNATURE_BYTES = PERMUTATIONS * VALUE_BITS // 8


def _iso(at: datetime) -> str:
    # Fixed width, so string order is time order in sort keys.
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str) -> datetime:
    """The inverse of ``_iso`` (fromisoformat reads its "Z" since Python 3.11, at a tenth of strptime's cost:
    a cold start parses tens of thousands of these)."""
    return datetime.fromisoformat(value)


def _s(value: str) -> dict[str, str]:
    return {"S": value[:MAX_STRING]}


def _n(value: int | float) -> dict[str, str]:
    return {"N": str(value)}


def _epoch_attribute(item: dict[str, Any], name: str) -> datetime | None:
    return datetime.fromtimestamp(int(item[name]["N"]), UTC) if name in item else None


def _wave_state(item: dict[str, Any]) -> WaveState:
    return WaveState(wave_id=item.get("wave_id", {}).get("S", ""),
                     started_at=_epoch_attribute(item, "started_at") or datetime.fromtimestamp(0, UTC),
                     starter=item.get("starter", {}).get("S", ""),
                     last_active_at=_epoch_attribute(item, "last_active_at"))


_Slice = tuple[datetime, datetime, bool]  # since, until, without signatures


def _slices(since: datetime, until: datetime, without_signatures: bool) -> list[_Slice]:
    """``since`` to ``until`` in spans of COLD_READ_SLICE at most (none if empty), for reading in parallel.
    Consecutive slices share a bound: ``BETWEEN`` takes an item stamped on it into the later slice only,
    its key being the bound followed by "#<batch>"."""
    slices = []
    while since < until:
        end = min(until, since + COLD_READ_SLICE)
        slices.append((since, end, without_signatures))
        since = end
    return slices


def _journal_partitions(since: datetime, until: datetime) -> list[str]:
    """The journal partitions ("JOURNAL#YYYYMMDD") holding items written from ``since`` to ``until``."""
    day = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    partitions = []
    while day <= until:
        partitions.append(f"JOURNAL#{day:%Y%m%d}")
        day += timedelta(days=1)
    return partitions


def encode_journal(entries: list[JournalEntry], flags: list[str], at: datetime) -> tuple[bytes, bytes]:
    """(d, s): the entries as compressed JSON (times in milliseconds before ``at``), and their packed
    signatures (random bits: compressing them gains nothing)."""
    base = int(at.timestamp() * 1000)
    rows: list[list[Any]] = []
    signatures = bytearray()
    for entry in entries:
        wave: list[Any] | None = None
        if entry.wave_key is not None and entry.wave_post is not None:
            post = entry.wave_post
            wave = [entry.wave_key[:MAX_STRING], [term[:32] for term in post.terms[:MAX_TERMS]],
                    max(0, post.followers), post.author[:MAX_STRING], post.text[:MAX_EXCERPT]]
        rows.append([entry.case_id[:MAX_STRING], base - int(entry.at.timestamp() * 1000), entry.author[:MAX_STRING],
                     entry.thread[:MAX_STRING], entry.label, int(entry.flagged), int(entry.signature is not None),
                     wave])
        if entry.signature is not None:
            signatures += pack_signature(entry.signature)
    payload = json.dumps({"t": base, "e": rows, "f": flags}, ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(payload.encode("utf-8"), 9), bytes(signatures)


def decode_journal(d: bytes, s: bytes, waves_only: bool = False) -> tuple[list[JournalEntry], list[str]]:
    """The entries and flags of a journal item; ``waves_only``: only the posts counted in a wave, without
    their fingerprints (all a cold start keeps of the hours before the recent one)."""
    payload = json.loads(zlib.decompress(d))
    base: int = payload["t"]
    entries = []
    offset = 0
    for case_id, before, author, thread, label, flagged, signed, wave in payload["e"]:
        if waves_only:
            offset += _SIGNATURE_BYTES if signed else 0
            if wave is None:
                continue
            signed = 0
        at = datetime.fromtimestamp((base - before) / 1000, UTC)
        signature = None
        if signed:
            signature = unpack_signature(s[offset:offset + _SIGNATURE_BYTES])
            offset += _SIGNATURE_BYTES
        key, post = None, None
        if wave is not None:
            key = wave[0]
            post = WavePost(case_id, at, tuple(wave[1]), int(wave[2]), wave[3], wave[4])
        entries.append(JournalEntry(case_id, at, author, thread, label, bool(flagged), signature, key, post))
    return entries, list(payload.get("f", []))


class DynamoSignalStore:
    """``buffer_writes`` (triage): the journal entries of a batch wait in memory until ``flush``, one
    PutItem for the batch, and the per-batch caches (offenders, wave states) live until then. Without
    it (the review side, tests) every write goes out at once and nothing is cached for a batch.
    ``clock``: the time of journal items and of the window's horizon (the wall clock in Lambda)."""

    def __init__(self, table_name: str, dynamodb: Any, buffer_writes: bool = False,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._table = table_name
        self._db = dynamodb
        self._buffer_writes = buffer_writes
        self._clock = clock or (lambda: datetime.now(UTC))
        self.window = SignalWindow()
        self._journaled: list[tuple[JournalEntry, int]] = []  # waiting for flush()
        self._flags: list[str] = []  # flagged cases, written with the next journal item
        self._read_through: datetime | None = None  # the journal is read up to here (None: not yet)
        # Per batch (buffered mode), cleared at flush: counters read by key, waves' items as read at the
        # start of the batch (consistently), waves to touch once.
        self._read_cache: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._waves: dict[str, dict[str, Any] | None] = {}
        self._touches: dict[str, tuple[datetime, int]] = {}
        # Learned baselines, kept for the wall-clock hour they were read in: a fold changes one at most
        # once an hour, and a refused save drops it, so the winner's is read next.
        self._baselines: dict[str, tuple[str, dict[str, Any] | None]] = {}

    # --- the journal --------------------------------------------------------------------------------

    def refresh(self) -> None:
        now = self._clock()
        if self._read_through is None:
            since = now - self.window.waves
            self.window.known_since = since
        else:
            # Not past the waves' horizon after a long idle: nothing older is kept.
            since = max(self._read_through - JOURNAL_OVERLAP, now - self.window.waves)
        recent_since = now - self.window.recent
        # Before the recent horizon only wave posts are kept, and no fingerprint: their items are read
        # without the signatures (most of an item's bytes; DynamoDB bills the read the same, but the
        # function receives, parses and decodes less than half of it).
        for start, until, without_signatures in ((since, min(recent_since, now), True),
                                                 (max(since, recent_since), now, False)):
            if start < until:
                for items in self._journal_pages(start, until, without_signatures, now):
                    for item in items:
                        self._read_journal_item(item, now)
        self._read_through = now
        dropped = self.window.dropped
        self.window.prune(now)
        if self.window.dropped != dropped:
            logger.warning("signal window full: oldest posts dropped early",
                           extra={"held": len(self.window), "dropped": self.window.dropped})

    def _journal_pages(self, since: datetime, until: datetime, without_signatures: bool,
                       now: datetime) -> Iterator[list[dict[str, Any]]]:
        """The journal items stamped from ``since`` to ``until``, in time order. Once a day's first page
        shows more to come (a cold start at volume), the rest of the range is read in slices, several at
        once; a small range costs one Query a day, as a warm refresh does."""
        for partition in _journal_partitions(since, until):
            response = self._db.query(**self._journal_query(partition, since, until, without_signatures, now))
            items = response.get("Items", [])
            yield items
            if "LastEvaluatedKey" in response:
                # From the last item's stamp: an item read again is skipped by its batch id.
                resume = _parse(items[-1]["sk"]["S"].split("#", 1)[0]) if items else since
                yield from self._read_ahead(_slices(resume, until, without_signatures), now)
                return

    def _read_ahead(self, slices: list[_Slice], now: datetime) -> Iterator[list[dict[str, Any]]]:
        """Slices fetched by COLD_READ_THREADS at once and handed over in time order (the window keeps its
        posts in the order they came), at most COLD_READ_THREADS slices ahead. In Lambda each thread's calls
        are traced under the invocation's segment (the X-Ray SDK derives it from the environment in every
        thread). If the reader stops (an error), what is still queued is dropped, not waited for."""
        pool = ThreadPoolExecutor(max_workers=COLD_READ_THREADS, thread_name_prefix="journal")
        try:
            pending = deque(pool.submit(self._journal_items, *piece, now) for piece in slices[:COLD_READ_THREADS])
            for piece in slices[COLD_READ_THREADS:]:
                ready = pending.popleft().result()
                pending.append(pool.submit(self._journal_items, *piece, now))
                yield ready
            while pending:
                yield pending.popleft().result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _journal_items(self, since: datetime, until: datetime, without_signatures: bool,
                       now: datetime) -> list[dict[str, Any]]:
        return [item for partition in _journal_partitions(since, until)
                for item in self._partition_items(partition, since, until, without_signatures, now)]

    def _partition_items(self, partition: str, since: datetime, until: datetime, without_signatures: bool,
                         now: datetime) -> list[dict[str, Any]]:
        request = self._journal_query(partition, since, until, without_signatures, now)
        items: list[dict[str, Any]] = []
        while True:
            response = self._db.query(**request)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _journal_query(self, partition: str, since: datetime, until: datetime, without_signatures: bool,
                       now: datetime) -> dict[str, Any]:
        """Items of ``partition`` stamped after ``since``, up to ``until`` unless it is ``now`` (a writer's
        clock may run a little ahead of ours)."""
        bounded = until < now
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND " + ("sk BETWEEN :since AND :until" if bounded else "sk > :since"),
            "ExpressionAttributeValues": {":pk": _s(partition), ":since": _s(_iso(since)),
                                          **({":until": _s(_iso(until))} if bounded else {})}}
        if without_signatures:
            request.update(ProjectionExpression="pk, sk, #d", ExpressionAttributeNames={"#d": "d"})
        return request

    def _read_journal_item(self, item: dict[str, Any], now: datetime) -> None:
        at, batch_id = item["sk"]["S"].split("#", 1)
        journaled = _parse(at)
        if self.window.seen_batch(batch_id, journaled):
            return
        # A cold start reads the waves' hours back; of the hours before the recent one it needs only the
        # posts counted in a wave, and only as wave posts: the rest is not decoded at all, rather than kept
        # and dropped (early, at the cap) a moment later.
        waves_only = journaled < now - self.window.recent
        entries, flags = decode_journal(item["d"]["B"], item.get("s", {}).get("B", b""), waves_only)
        for entry in entries:
            self.window.add(entry, journaled, waves_only=waves_only)
        self.window.flag(flags)

    def journal(self, entry: JournalEntry, expires_at: int) -> None:
        if not self.window.add(entry, self._clock()):
            return  # journaled already (a retried post): it counts once
        self._journaled.append((entry, expires_at))
        if not self._buffer_writes:
            self.flush()

    def mark_flagged(self, record: FingerprintRecord, bands: list[str]) -> None:
        self.window.flag([record.case_id])
        self._flags.append(record.case_id)
        if not self._buffer_writes:
            self.flush()

    def flush(self) -> None:
        """Write the batch's journal entries (and flags) in one item, and touch the waves; the next batch
        reads afresh."""
        self._read_cache.clear()
        self._waves.clear()
        touches, self._touches = self._touches, {}
        for key, (now, expires_at) in sorted(touches.items()):
            self._touch(key, now, expires_at)
        if not self._journaled and not self._flags:
            return
        written = self._clock()
        entries = [entry for entry, _ in self._journaled]
        expires_at = max([expires for _, expires in self._journaled],
                         default=int((written + self.window.waves).timestamp()))
        for start in range(0, max(1, len(entries)), JOURNAL_ITEM_ENTRIES):
            batch_id = uuid.uuid4().hex[:16]
            if start:
                written = self._clock()  # each item's own stamp: its lateness is its own put's
            d, s = encode_journal(entries[start:start + JOURNAL_ITEM_ENTRIES], self._flags if start == 0 else [],
                                  written)
            attributes = {"d": {"B": d}, "expires_at": _n(expires_at), **({"s": {"B": s}} if s else {})}
            self._put_journal_item(batch_id, written, attributes)
            self.window.seen_batch(batch_id, written)
        # Dropped only once written: a failed write goes out with the retried batch (the posts stay in
        # the window, so they are not journaled twice).
        self._journaled, self._flags = [], []

    def _put_journal_item(self, batch_id: str, stamp: datetime, attributes: dict[str, Any]) -> None:
        """PutItem under ``stamp``; again under a fresh stamp while it returned too late for the readers'
        overlap (same batch id: a reader that saw the first copy skips the next; the entries keep their own
        times). A copy left behind is harmless and expires with the others."""
        for rewrite in range(JOURNAL_REWRITES + 1):
            self._db.put_item(TableName=self._table, Item={
                "pk": _s(f"JOURNAL#{stamp.astimezone(UTC):%Y%m%d}"), "sk": _s(f"{_iso(stamp)}#{batch_id}"),
                **attributes})
            returned = self._clock()
            if returned - stamp <= JOURNAL_LATE_WRITE:
                return
            if rewrite < JOURNAL_REWRITES:
                stamp = returned
        logger.warning("journal item written late every time: other environments may not count its posts",
                       extra={"batch_id": batch_id, "late_seconds": (returned - stamp).total_seconds()})

    # --- counters (repeat offenders) ----------------------------------------------------------------

    def increment(self, key: str, bucket: str, amount: int, expires_at: int, also: str | None = None) -> int:
        if also is not None:
            self.increment(key, also, amount, expires_at)
        response = self._db.update_item(
            TableName=self._table,
            Key={"pk": _s(key), "sk": _s(bucket)},
            UpdateExpression="ADD n :amount SET expires_at = :expires",
            ExpressionAttributeValues={":amount": _n(amount), ":expires": _n(expires_at)},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["n"]["N"])

    def counts(self, key: str, first_bucket: str, last_bucket: str) -> dict[str, int]:
        if first_bucket == last_bucket:
            if (key, first_bucket) in self._read_cache:
                item = self._read_cache[(key, first_bucket)]
            else:
                item = self._db.get_item(TableName=self._table,
                                         Key={"pk": _s(key), "sk": _s(first_bucket)}).get("Item")
            return {first_bucket: int(item["n"]["N"])} if item and "n" in item else {}
        response = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={":pk": _s(key), ":first": _s(first_bucket), ":last": _s(last_bucket)})
        return {item["sk"]["S"]: int(item["n"]["N"]) for item in response.get("Items", []) if "n" in item}

    def prefetch(self, keys: list[tuple[str, str]]) -> None:
        """Counters of a whole batch (repeat offenders), kept until ``flush``, and baselines ("BASELINE"
        items) not read yet this hour, in one BatchGetItem."""
        if not self._buffer_writes:
            return
        hour = f"{self._clock():%Y%m%d%H}"
        wanted = sorted({(pk, sk) for pk, sk in keys if (pk, sk) not in self._read_cache and not (
            sk == "BASELINE" and self._baselines.get(pk.removeprefix("WAVE#"), ("",))[0] == hour)})
        if not wanted:
            return
        found: dict[tuple[str, str], dict[str, Any] | None] = dict.fromkeys(wanted)  # absent unless found below
        for start in range(0, len(wanted), BATCH_GET_SIZE):
            request: dict[str, Any] = {self._table: {
                "Keys": [{"pk": _s(pk), "sk": _s(sk)} for pk, sk in wanted[start:start + BATCH_GET_SIZE]]}}
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    found[(item["pk"]["S"], item["sk"]["S"])] = item
                request = response.get("UnprocessedKeys") or {}
        for (pk, sk), item in found.items():
            if sk == "BASELINE":
                self._baselines[pk.removeprefix("WAVE#")] = (hour, item)
            else:
                self._read_cache[(pk, sk)] = item

    # --- learned baseline ---------------------------------------------------------------------------

    def baseline(self, key: str) -> Baseline | None:
        hour = f"{self._clock():%Y%m%d%H}"
        cached = self._baselines.get(key)
        if cached is not None and cached[0] == hour:
            item = cached[1]
        else:
            item = self._db.get_item(TableName=self._table, Key={"pk": _s(f"WAVE#{key}"), "sk": _s("BASELINE")},
                                     ProjectionExpression="rate, through").get("Item")
            self._baselines[key] = (hour, item)
        if not item:
            return None
        return Baseline(rate=float(item["rate"]["N"]), through=item["through"]["S"])

    def save_baseline(self, key: str, baseline: Baseline, previous: Baseline | None, expires_at: int) -> bool:
        condition, values = "attribute_not_exists(pk)", {}
        if previous is not None:
            # One folder per hour: whoever saw the same previous state first wins, the others re-read.
            condition, values = "through = :previous", {":previous": _s(previous.through)}
        item = {"pk": _s(f"WAVE#{key}"), "sk": _s("BASELINE"), "rate": _n(baseline.rate),
                "through": _s(baseline.through), "expires_at": _n(expires_at)}
        try:
            self._db.put_item(TableName=self._table, ConditionExpression=condition, Item=item,
                              **({"ExpressionAttributeValues": values} if values else {}))
        except ClientError as error:
            if conditional_failed(error):
                self._baselines.pop(key, None)  # the winner's baseline is read next
                return False
            raise
        self._baselines[key] = (f"{self._clock():%Y%m%d%H}", item)
        return True

    # --- waves --------------------------------------------------------------------------------------

    def wave_state(self, wave_key: str) -> WaveState | None:
        item = self._wave_item(wave_key)
        return _wave_state(item) if item else None

    def _wave_item(self, wave_key: str) -> dict[str, Any] | None:
        if wave_key in self._waves:
            return self._waves[wave_key]
        item: dict[str, Any] | None = self._db.get_item(
            TableName=self._table, Key={"pk": _s(f"WAVE#{wave_key}"), "sk": _s("ALERT")},
            ConsistentRead=True).get("Item")
        if self._buffer_writes:
            self._waves[wave_key] = item
        return item

    def claim_wave_alert(self, wave_key: str, case_id: str, wave_id: str, now: datetime, quiet_since: datetime,
                         expires_at: int) -> bool:
        known = self._waves.get(wave_key)
        if known is not None and "last_active_at" in known and int(known["last_active_at"]["N"]) >= int(
                quiet_since.timestamp()) and (known.get("starter", {}).get("S") != case_id or "published_at" in known):
            return False  # as read in this batch, the wave goes on: the conditional write would be refused
        item = {"pk": _s(f"WAVE#{wave_key}"), "sk": _s("ALERT"), "starter": _s(case_id), "wave_id": _s(wave_id),
                "started_at": _n(int(now.timestamp())), "last_active_at": _n(int(now.timestamp())),
                "expires_at": _n(expires_at)}
        try:
            self._db.put_item(
                TableName=self._table,
                Item=item,
                # One writer wins: no wave yet, the last wave ended (quiet since before quiet_since), or our
                # own claim whose alert was never published (the post is being retried). Items written
                # before waves had an end carry no last_active_at: they count as ended.
                ConditionExpression=("attribute_not_exists(pk) OR attribute_not_exists(last_active_at)"
                                     " OR last_active_at < :quiet_since"
                                     " OR (starter = :case AND attribute_not_exists(published_at))"),
                ExpressionAttributeValues={":quiet_since": _n(int(quiet_since.timestamp())), ":case": _s(case_id)},
            )
        except ClientError as error:
            if conditional_failed(error):
                self._waves.pop(wave_key, None)  # another invocation claimed it: read it again if needed
                return False
            raise
        if self._buffer_writes:
            self._waves[wave_key] = item
        return True

    def touch_wave(self, wave_key: str, now: datetime, expires_at: int) -> None:
        if not self._buffer_writes:
            self._touch(wave_key, now, expires_at)
            return
        known = self._waves.get(wave_key)
        if known is not None and int(known.get("last_active_at", {}).get("N", "0")) >= int(now.timestamp()):
            return  # claimed (or touched) at this time already
        previous = self._touches.get(wave_key)
        if previous is None or previous[0] < now:
            self._touches[wave_key] = (now, max(expires_at, previous[1] if previous else 0))

    def _touch(self, wave_key: str, now: datetime, expires_at: int) -> None:
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": _s(f"WAVE#{wave_key}"), "sk": _s("ALERT")},
                UpdateExpression="SET last_active_at = :now, expires_at = :expires",
                # Never create an item (it would lack a wave); never move the clock back.
                ConditionExpression="attribute_exists(pk) AND last_active_at < :now",
                ExpressionAttributeValues={":now": _n(int(now.timestamp())), ":expires": _n(expires_at)},
            )
        except ClientError as error:
            if not conditional_failed(error):
                raise

    def mark_wave_published(self, wave_key: str, case_id: str, at: datetime) -> None:
        self._set_if(wave_key, "published_at", at, "starter = :case", case_id)

    def claim_escalation(self, wave_key: str, case_id: str, now: datetime) -> WaveState | None:
        try:
            response = self._db.update_item(
                TableName=self._table,
                Key={"pk": _s(f"WAVE#{wave_key}"), "sk": _s("ALERT")},
                UpdateExpression="SET escalated_by = :case, escalated_at = :now",
                # After the wave's own alert, once per wave (or our own unpublished escalation, retried).
                ConditionExpression=("attribute_exists(published_at) AND (attribute_not_exists(escalated_by)"
                                     " OR (escalated_by = :case AND attribute_not_exists(escalation_published_at)))"),
                ExpressionAttributeValues={":case": _s(case_id), ":now": _n(int(now.timestamp()))},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if conditional_failed(error):
                return None
            raise
        return _wave_state(response["Attributes"])

    def mark_escalation_published(self, wave_key: str, case_id: str, at: datetime) -> None:
        self._set_if(wave_key, "escalation_published_at", at, "escalated_by = :case", case_id)

    def _set_if(self, wave_key: str, attribute: str, at: datetime, condition: str, case_id: str) -> None:
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": _s(f"WAVE#{wave_key}"), "sk": _s("ALERT")},
                UpdateExpression=f"SET {attribute} = :at",
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeValues={":at": _s(_iso(at)), ":case": _s(case_id)},
            )
        except ClientError as error:
            if not conditional_failed(error):
                raise

"""DynamoSignalStore: the signals table (SignalsTable in template.yaml; pk/sk strings, TTL ``expires_at``).

| item               | pk                         | sk                     | attributes                              |
|--------------------|----------------------------|------------------------|-----------------------------------------|
| fingerprint (x10)  | FP#<band>:<8 hex>          | <at>#<case id>         | d (signature, label, author, thread),   |
|                    |                            |                        | flagged                                 |
| counter            | RATE#/WAVE#/OFFENDER#...   | H#<hour>, TOTAL        | n (atomic ADD); an hour item also holds |
|                    |                            |                        | its minute counters, m00..m59           |
| learned baseline   | WAVE#<account>#<subject>   | BASELINE               | rate (per hour), through (last hour)    |
| wave post          | WAVEPOST#<account>#<subj>  | <at>#<case id>         | terms (<= 8), followers, author, text   |
| wave               | WAVE#<account>#<subject>   | ALERT                  | starter, wave_id, started_at,           |
|                    |                            |                        | last_active_at, published_at,           |
|                    |                            |                        | escalated_by, escalation_published_at   |

Every item is written with ``expires_at`` (epoch seconds) and updates only touch items that exist, so
the table cannot grow without bound. Strings are capped, lists are short: items stay far below 1 KB.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from moderato.adapters.aws import conditional_failed
from moderato.signals.fingerprint import from_hex, to_hex
from moderato.signals.store import Baseline, FingerprintRecord, WavePost, WaveState

MAX_STRING = 200
MAX_TERMS = 8
MAX_EXCERPT = 120
BATCH_ATTEMPTS = 5
BATCH_SIZE = 25  # DynamoDB's limit per batch_write_item
BATCH_GET_SIZE = 100  # ... and per batch_get_item


def _iso(at: datetime) -> str:
    # Fixed width, so string order is time order in sort keys.
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


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




def _minute_of(bucket: str) -> str | None:
    """"YYYYMMDDHHMM" of a minute bucket, None for any other bucket."""
    return bucket[2:] if bucket.startswith("M#") and len(bucket) == 14 else None


def _hours_between(first: str, last: str) -> list[str]:
    """Hour buckets "H#YYYYMMDDHH" from first to last ("YYYYMMDDHH"), both included."""
    start = datetime.strptime(first, "%Y%m%d%H").replace(tzinfo=UTC)
    end = datetime.strptime(last, "%Y%m%d%H").replace(tzinfo=UTC)
    hours = []
    while start <= end:
        hours.append(f"H#{start:%Y%m%d%H}")
        start += timedelta(hours=1)
    return hours


class DynamoSignalStore:
    """``buffer_writes``: fingerprints and wave posts (plain puts, nothing reads their answer) wait in
    memory until ``flush``, so triage writes those of a whole SQS batch in one BatchWriteItem; reads in
    the meantime see them (a flood inside one batch is still found)."""

    def __init__(self, table_name: str, dynamodb: Any, buffer_writes: bool = False) -> None:
        self._table = table_name
        self._db = dynamodb
        self._buffer_writes = buffer_writes
        self._pending: list[dict[str, Any]] = []  # items waiting for flush()
        # The hour item the last increment returned, for the read that follows it (then dropped).
        self._fresh: tuple[str, str, dict[str, Any]] | None = None
        # In buffered mode (one SQS batch between flushes): hours before the latest one of a read, and
        # baselines, read once per batch. A closed hour only changes by a late post, a baseline once an
        # hour (a refused save re-reads it from the table).
        self._read_cache: dict[tuple[str, str], dict[str, Any] | None] = {}

    # --- fingerprints -------------------------------------------------------------------------------

    def add_fingerprint(self, record: FingerprintRecord, bands: list[str], expires_at: int) -> None:
        # One compact attribute: queries read dozens of these per post, so fewer, smaller attributes.
        packed = "|".join([to_hex(record.signature), record.label, record.author[:MAX_STRING].replace("|", "/"),
                           record.thread[:MAX_STRING].replace("|", "/")])
        requests = [{"PutRequest": {"Item": {
            "pk": _s(f"FP#{band}"),
            "sk": _s(f"{_iso(record.at)}#{record.case_id}"),
            "d": {"S": packed},
            "flagged": {"BOOL": record.flagged},
            "expires_at": _n(expires_at),
        }}} for band in bands]
        self._put([request["PutRequest"]["Item"] for request in requests])

    def flush(self) -> None:
        """Write the buffered items (BatchWriteItem, 25 a call); the next batch reads afresh."""
        self._read_cache.clear()
        pending, self._pending = self._pending, []
        requests = [{"PutRequest": {"Item": item}} for item in pending]
        for start in range(0, len(requests), BATCH_SIZE):
            self._batch_write(requests[start:start + BATCH_SIZE])

    def _put(self, items: list[dict[str, Any]]) -> None:
        self._pending.extend(items)
        if not self._buffer_writes:
            self.flush()

    def _buffered(self, pk: str, since: datetime) -> list[dict[str, Any]]:
        """Buffered items of one partition from ``since`` on, as a query would return them."""
        return [item for item in self._pending if item["pk"]["S"] == pk and item["sk"]["S"] >= _iso(since)]

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        # One call for the band items; DynamoDB may hand some back under load: retry those.
        for attempt in range(BATCH_ATTEMPTS):
            response = self._db.batch_write_item(RequestItems={self._table: requests})
            requests = response.get("UnprocessedItems", {}).get(self._table, [])
            if not requests:
                return
            time.sleep(0.05 * 2**attempt)
        raise RuntimeError(f"signals table kept {len(requests)} writes unprocessed")

    def similar(self, bands: list[str], since: datetime, limit: int) -> list[FingerprintRecord]:
        found: dict[str, FingerprintRecord] = {}
        for band in bands:
            response = self._db.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk >= :since",
                ExpressionAttributeValues={":pk": _s(f"FP#{band}"), ":since": _s(_iso(since))},
                ProjectionExpression="sk, d, flagged",
                ScanIndexForward=False,
                Limit=limit,
            )
            for item in [*self._buffered(f"FP#{band}", since), *response.get("Items", [])]:
                at, case_id = item["sk"]["S"].split("#", 1)
                signature, label, author, thread = item["d"]["S"].split("|", 3)
                found.setdefault(case_id, FingerprintRecord(
                    case_id=case_id, signature=from_hex(signature), at=_parse(at), author=author, thread=thread,
                    label=label, flagged=item.get("flagged", {}).get("BOOL", False),
                ))
        return sorted(found.values(), key=lambda r: r.at, reverse=True)

    def mark_flagged(self, record: FingerprintRecord, bands: list[str]) -> None:
        sk = f"{_iso(record.at)}#{record.case_id}"
        for item in self._pending:
            if item["sk"]["S"] == sk and item["pk"]["S"].startswith("FP#"):
                item["flagged"] = {"BOOL": True}
        for band in bands:
            try:
                self._db.update_item(
                    TableName=self._table,
                    Key={"pk": _s(f"FP#{band}"), "sk": _s(f"{_iso(record.at)}#{record.case_id}")},
                    UpdateExpression="SET flagged = :t",
                    # Never create an item here: it would have no expires_at.
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":t": {"BOOL": True}},
                )
            except ClientError as error:
                if not conditional_failed(error):
                    raise

    # --- counters -----------------------------------------------------------------------------------
    #
    # A minute counter ("M#YYYYMMDDHHMM") is attribute m<MM> of its hour's item ("H#YYYYMMDDHH"), beside
    # that hour's own counter n: incrementing a minute returns the whole hour, so the read that usually
    # follows (the author's last ten minutes, a wave's windows) needs no query for the current hour, and
    # older hours are read by key (BatchGetItem), never by a query over a growing partition.

    def increment(self, key: str, bucket: str, amount: int, expires_at: int, also: str | None = None) -> int:
        minute = _minute_of(bucket)
        sk, attribute = (f"H#{minute[:10]}", f"m{minute[10:]}") if minute else (bucket, "n")
        names = {"#count": attribute}
        if also is not None:
            if also != sk:
                raise ValueError(f"{also} is not the hour of {bucket}: one write counts a minute and its hour")
            names["#also"] = "n"
        response = self._db.update_item(
            TableName=self._table,
            Key={"pk": _s(key), "sk": _s(sk)},
            UpdateExpression="ADD " + ", ".join(f"{name} :amount" for name in names) + " SET expires_at = :expires",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":amount": _n(amount), ":expires": _n(expires_at)},
            ReturnValues="ALL_NEW",
        )
        self._fresh = (key, sk, response["Attributes"])
        return int(response["Attributes"][attribute]["N"])

    def counts(self, key: str, first_bucket: str, last_bucket: str) -> dict[str, int]:
        first_minute, last_minute = _minute_of(first_bucket), _minute_of(last_bucket)
        if first_minute and last_minute:
            items = self._hour_items(key, _hours_between(first_minute[:10], last_minute[:10]))
            return {f"M#{hour[2:]}{name[1:]}": int(value["N"]) for hour, item in items.items()
                    for name, value in item.items() if name.startswith("m") and name[1:].isdigit()
                    and first_minute <= f"{hour[2:]}{name[1:]}" <= last_minute}
        if first_bucket.startswith("H#") and last_bucket.startswith("H#"):
            items = self._hour_items(key, _hours_between(first_bucket[2:], last_bucket[2:]))
            return {hour: int(item["n"]["N"]) for hour, item in items.items() if "n" in item}
        if first_bucket == last_bucket:
            if (key, first_bucket) in self._read_cache:
                item = self._read_cache[(key, first_bucket)]
            else:
                item = self._db.get_item(TableName=self._table,
                                         Key={"pk": _s(key), "sk": _s(first_bucket)}).get("Item")
            return {first_bucket: int(item["n"]["N"])} if item and "n" in item else {}
        raise ValueError(f"counter range {first_bucket}..{last_bucket}: minutes, hours or one bucket")

    def prefetch(self, keys: list[tuple[str, str]]) -> None:
        """Counters of a whole batch (repeat offenders) in one BatchGetItem; kept until ``flush``."""
        wanted = sorted({key for key in keys if key not in self._read_cache})
        if not self._buffer_writes or not wanted:
            return
        self._read_cache.update(dict.fromkeys(wanted))  # absent unless found below
        for start in range(0, len(wanted), BATCH_GET_SIZE):
            request: dict[str, Any] = {self._table: {
                "Keys": [{"pk": _s(pk), "sk": _s(sk)} for pk, sk in wanted[start:start + BATCH_GET_SIZE]]}}
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    self._read_cache[(item["pk"]["S"], item["sk"]["S"])] = item
                request = response.get("UnprocessedKeys") or {}

    def _hour_items(self, key: str, hours: list[str]) -> dict[str, dict[str, Any]]:
        """The hour items ("H#...") of a counter; the one just incremented comes from that update's answer."""
        found: dict[str, dict[str, Any]] = {}
        fresh, self._fresh = self._fresh, None
        if fresh is not None and fresh[0] == key and fresh[1] in hours:
            found[fresh[1]] = fresh[2]
        closed = set(hours[:-1])  # the latest hour of a read may still be counting: never cached
        cached = [hour for hour in closed if hour not in found and (key, hour) in self._read_cache]
        found.update({hour: item for hour in cached if (item := self._read_cache[(key, hour)]) is not None})
        wanted = [hour for hour in hours if hour not in found and hour not in cached]
        for start in range(0, len(wanted), BATCH_GET_SIZE):
            keys = [{"pk": _s(key), "sk": _s(hour)} for hour in wanted[start:start + BATCH_GET_SIZE]]
            request: dict[str, Any] = {self._table: {"Keys": keys}}
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    found[item["sk"]["S"]] = item
                request = response.get("UnprocessedKeys") or {}
        if self._buffer_writes:
            self._read_cache.update({(key, hour): found.get(hour) for hour in wanted if hour in closed})
        return found

    # --- learned baseline ---------------------------------------------------------------------------

    def baseline(self, key: str) -> Baseline | None:
        cache_key = (f"WAVE#{key}", "BASELINE")
        if cache_key in self._read_cache:
            item = self._read_cache[cache_key]
        else:
            item = self._db.get_item(TableName=self._table, Key={"pk": _s(f"WAVE#{key}"), "sk": _s("BASELINE")},
                                     ProjectionExpression="rate, through").get("Item")
            if self._buffer_writes:
                self._read_cache[cache_key] = item
        if not item:
            return None
        return Baseline(rate=float(item["rate"]["N"]), through=item["through"]["S"])

    def save_baseline(self, key: str, baseline: Baseline, previous: Baseline | None, expires_at: int) -> bool:
        condition, values = "attribute_not_exists(pk)", {}
        if previous is not None:
            # One folder per hour: whoever saw the same previous state first wins, the others re-read.
            condition, values = "through = :previous", {":previous": _s(previous.through)}
        try:
            self._db.put_item(TableName=self._table, ConditionExpression=condition,
                              Item={"pk": _s(f"WAVE#{key}"), "sk": _s("BASELINE"), "rate": _n(baseline.rate),
                                    "through": _s(baseline.through), "expires_at": _n(expires_at)},
                              **({"ExpressionAttributeValues": values} if values else {}))
        except ClientError as error:
            if conditional_failed(error):
                self._read_cache.pop((f"WAVE#{key}", "BASELINE"), None)  # the winner's baseline is read next
                return False
            raise
        self._read_cache.pop((f"WAVE#{key}", "BASELINE"), None)
        return True

    # --- waves --------------------------------------------------------------------------------------

    def add_wave_post(self, wave_key: str, post: WavePost, expires_at: int) -> None:
        self._put([{
            "pk": _s(f"WAVEPOST#{wave_key}"),
            "sk": _s(f"{_iso(post.at)}#{post.case_id}"),
            "case_id": _s(post.case_id),
            "terms": {"L": [_s(term[:32]) for term in post.terms[:MAX_TERMS]]},
            "followers": _n(max(0, post.followers)),
            "author": _s(post.author),
            "text": _s(post.text[:MAX_EXCERPT]),
            "expires_at": _n(expires_at),
        }])

    def wave_posts(self, wave_key: str, since: datetime, limit: int) -> list[WavePost]:
        response = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk >= :since",
            ExpressionAttributeValues={":pk": _s(f"WAVEPOST#{wave_key}"), ":since": _s(_iso(since))},
            Limit=limit,
        )
        buffered = self._buffered(f"WAVEPOST#{wave_key}", since)
        return [
            WavePost(
                case_id=item["case_id"]["S"],
                at=_parse(item["sk"]["S"].split("#", 1)[0]),
                terms=tuple(term["S"] for term in item.get("terms", {}).get("L", [])),
                followers=int(item.get("followers", {}).get("N", "0")),
                author=item.get("author", {}).get("S", ""),
                text=item.get("text", {}).get("S", ""),
            )
            for item in sorted([*buffered, *response.get("Items", [])], key=lambda item: item["sk"]["S"])[:limit]
        ]

    def wave_state(self, wave_key: str) -> WaveState | None:
        item = self._db.get_item(TableName=self._table, Key={"pk": _s(f"WAVE#{wave_key}"), "sk": _s("ALERT")},
                                 ConsistentRead=True).get("Item")
        return _wave_state(item) if item else None

    def claim_wave_alert(self, wave_key: str, case_id: str, wave_id: str, now: datetime, quiet_since: datetime,
                         expires_at: int) -> bool:
        try:
            self._db.put_item(
                TableName=self._table,
                Item={"pk": _s(f"WAVE#{wave_key}"), "sk": _s("ALERT"), "starter": _s(case_id),
                      "wave_id": _s(wave_id), "started_at": _n(int(now.timestamp())),
                      "last_active_at": _n(int(now.timestamp())), "expires_at": _n(expires_at)},
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
                return False
            raise
        return True

    def touch_wave(self, wave_key: str, now: datetime, expires_at: int) -> None:
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

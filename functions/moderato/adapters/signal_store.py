"""DynamoSignalStore: the signals table (SignalsTable in template.yaml; pk/sk strings, TTL ``expires_at``).

| item               | pk                         | sk                     | attributes                              |
|--------------------|----------------------------|------------------------|-----------------------------------------|
| post seen          | SEEN#<case id>             | SEEN                   |                                         |
| fingerprint (x10)  | FP#<band>:<8 hex>          | <at>#<case id>         | d (signature, label, author, thread),   |
|                    |                            |                        | flagged                                 |
| counter            | RATE#/WAVE#/OFFENDER#...   | M#<minute>, H#<hour>,  | n (atomic ADD)                          |
|                    |                            | TOTAL                  |                                         |
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
from datetime import UTC, datetime
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




class DynamoSignalStore:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._db = dynamodb

    # --- once per post ------------------------------------------------------------------------------

    def first_sighting(self, case_id: str, expires_at: int) -> bool:
        try:
            self._db.put_item(TableName=self._table, ConditionExpression="attribute_not_exists(pk)",
                              Item={"pk": _s(f"SEEN#{case_id}"), "sk": _s("SEEN"), "expires_at": _n(expires_at)})
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

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
        for start in range(0, len(requests), BATCH_SIZE):
            self._batch_write(requests[start:start + BATCH_SIZE])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        # One call for the band items; DynamoDB may hand some back under load: retry those.
        for attempt in range(BATCH_ATTEMPTS):
            response = self._db.batch_write_item(RequestItems={self._table: requests})
            requests = response.get("UnprocessedItems", {}).get(self._table, [])
            if not requests:
                return
            time.sleep(0.05 * 2**attempt)
        raise RuntimeError(f"signals table kept {len(requests)} fingerprint writes unprocessed")

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
            for item in response.get("Items", []):
                at, case_id = item["sk"]["S"].split("#", 1)
                signature, label, author, thread = item["d"]["S"].split("|", 3)
                found.setdefault(case_id, FingerprintRecord(
                    case_id=case_id, signature=from_hex(signature), at=_parse(at), author=author, thread=thread,
                    label=label, flagged=item.get("flagged", {}).get("BOOL", False),
                ))
        return sorted(found.values(), key=lambda r: r.at, reverse=True)

    def mark_flagged(self, record: FingerprintRecord, bands: list[str]) -> None:
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

    def increment(self, key: str, bucket: str, amount: int, expires_at: int) -> int:
        response = self._db.update_item(
            TableName=self._table,
            Key={"pk": _s(key), "sk": _s(bucket)},
            UpdateExpression="ADD n :amount SET expires_at = :expires",
            ExpressionAttributeValues={":amount": _n(amount), ":expires": _n(expires_at)},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["n"]["N"])

    def counts(self, key: str, first_bucket: str, last_bucket: str) -> dict[str, int]:
        response = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={":pk": _s(key), ":first": _s(first_bucket), ":last": _s(last_bucket)},
        )
        return {item["sk"]["S"]: int(item["n"]["N"]) for item in response.get("Items", []) if "n" in item}

    # --- learned baseline ---------------------------------------------------------------------------

    def baseline(self, key: str) -> Baseline | None:
        item = self._db.get_item(TableName=self._table, Key={"pk": _s(f"WAVE#{key}"), "sk": _s("BASELINE")},
                                 ProjectionExpression="rate, through").get("Item")
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
                return False
            raise
        return True

    # --- waves --------------------------------------------------------------------------------------

    def add_wave_post(self, wave_key: str, post: WavePost, expires_at: int) -> None:
        self._db.put_item(TableName=self._table, Item={
            "pk": _s(f"WAVEPOST#{wave_key}"),
            "sk": _s(f"{_iso(post.at)}#{post.case_id}"),
            "case_id": _s(post.case_id),
            "terms": {"L": [_s(term[:32]) for term in post.terms[:MAX_TERMS]]},
            "followers": _n(max(0, post.followers)),
            "author": _s(post.author),
            "text": _s(post.text[:MAX_EXCERPT]),
            "expires_at": _n(expires_at),
        })

    def wave_posts(self, wave_key: str, since: datetime, limit: int) -> list[WavePost]:
        response = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk >= :since",
            ExpressionAttributeValues={":pk": _s(f"WAVEPOST#{wave_key}"), ":since": _s(_iso(since))},
            Limit=limit,
        )
        return [
            WavePost(
                case_id=item["case_id"]["S"],
                at=_parse(item["sk"]["S"].split("#", 1)[0]),
                terms=tuple(term["S"] for term in item.get("terms", {}).get("L", [])),
                followers=int(item.get("followers", {}).get("N", "0")),
                author=item.get("author", {}).get("S", ""),
                text=item.get("text", {}).get("S", ""),
            )
            for item in response.get("Items", [])
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

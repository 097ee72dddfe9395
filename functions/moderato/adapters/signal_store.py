"""DynamoSignalStore: the signals table (SignalsTable in template.yaml; pk/sk strings, TTL ``expires_at``).

| item               | pk                         | sk                     | attributes                              |
|--------------------|----------------------------|------------------------|-----------------------------------------|
| post seen          | SEEN#<case id>             | SEEN                   |                                         |
| fingerprint (x4)   | FP#<band>:<16 bits hex>    | <at>#<case id>         | d (hash, label, author, thread), flagged|
| counter            | RATE#/WAVE#/OFFENDER#...   | M#<minute>, H#<hour>,  | n (atomic ADD)                          |
|                    |                            | TOTAL                  |                                         |
| wave post          | WAVEPOST#<account>#<subj>  | <at>#<case id>         | terms (<= 8), followers, author         |
| wave alert claim   | WAVE#<account>#<subject>   | ALERT                  | starter, cooldown_until, published_at   |

Every item is written with ``expires_at`` (epoch seconds) and updates only touch items that exist, so
the table cannot grow without bound. Strings are capped, lists are short: items stay far below 1 KB.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from moderato.signals.store import FingerprintRecord, WavePost

MAX_STRING = 200
MAX_TERMS = 8
BATCH_ATTEMPTS = 5


def _iso(at: datetime) -> str:
    # Fixed width, so string order is time order in sort keys.
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _s(value: str) -> dict[str, str]:
    return {"S": value[:MAX_STRING]}


def _n(value: int | float) -> dict[str, str]:
    return {"N": str(value)}


def _conditional_failed(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


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
            if _conditional_failed(error):
                return False
            raise
        return True

    # --- fingerprints -------------------------------------------------------------------------------

    def add_fingerprint(self, record: FingerprintRecord, bands: list[str], expires_at: int) -> None:
        # One compact attribute: queries read dozens of these per post, so fewer, smaller attributes.
        packed = "|".join([f"{record.simhash:016x}", record.label, record.author[:MAX_STRING].replace("|", "/"),
                           record.thread[:MAX_STRING].replace("|", "/")])
        requests = [{"PutRequest": {"Item": {
            "pk": _s(f"FP#{band}"),
            "sk": _s(f"{_iso(record.at)}#{record.case_id}"),
            "d": {"S": packed},
            "flagged": {"BOOL": record.flagged},
            "expires_at": _n(expires_at),
        }}} for band in bands]
        # One call for the four band items; DynamoDB may hand some back under load: retry those.
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
                simhash, label, author, thread = item["d"]["S"].split("|", 3)
                found.setdefault(case_id, FingerprintRecord(
                    case_id=case_id, simhash=int(simhash, 16), at=_parse(at), author=author, thread=thread,
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
                if not _conditional_failed(error):
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

    # --- waves --------------------------------------------------------------------------------------

    def add_wave_post(self, wave_key: str, post: WavePost, expires_at: int) -> None:
        self._db.put_item(TableName=self._table, Item={
            "pk": _s(f"WAVEPOST#{wave_key}"),
            "sk": _s(f"{_iso(post.at)}#{post.case_id}"),
            "case_id": _s(post.case_id),
            "terms": {"L": [_s(term[:32]) for term in post.terms[:MAX_TERMS]]},
            "followers": _n(max(0, post.followers)),
            "author": _s(post.author),
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
            )
            for item in response.get("Items", [])
        ]

    def claim_wave_alert(self, wave_key: str, case_id: str, now: datetime, cooldown_until: datetime,
                         expires_at: int) -> bool:
        try:
            self._db.put_item(
                TableName=self._table,
                Item={"pk": _s(f"WAVE#{wave_key}"), "sk": _s("ALERT"), "starter": _s(case_id),
                      "cooldown_until": _n(int(cooldown_until.timestamp())), "expires_at": _n(expires_at)},
                # One writer wins: no claim yet, the last wave's cooldown is over, or it is our own
                # claim whose alert was never published (the post is being retried).
                ConditionExpression=("attribute_not_exists(pk) OR cooldown_until < :now"
                                     " OR (starter = :case AND attribute_not_exists(published_at))"),
                ExpressionAttributeValues={":now": _n(int(now.timestamp())), ":case": _s(case_id)},
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def mark_wave_published(self, wave_key: str, case_id: str, at: datetime) -> None:
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": _s(f"WAVE#{wave_key}"), "sk": _s("ALERT")},
                UpdateExpression="SET published_at = :at",
                ConditionExpression="attribute_exists(pk) AND starter = :case",
                ExpressionAttributeValues={":at": _s(_iso(at)), ":case": _s(case_id)},
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise

"""CaseStore: cases and their append-only history in CasesTable (DynamoDB, single table).

Layout (template.yaml declares the keys and indexes):

| item          | pk            | sk                          | notes                                    |
|---------------|---------------|-----------------------------|------------------------------------------|
| case          | CASE#<id>     | CASE                        | ``docz``: the Case, compressed; ``version`` |
| history event | CASE#<id>     | EVENT#<version:08d>#<at>    | written once, never updated              |

The case is what DynamoDB bills by (a write unit per started KB, for every put): its JSON, without the
fields at their defaults, is deflated into ``docz`` with a preset dictionary of what every case repeats
(the reason sentences, the field names: ``case_dictionary/v1.txt``), about 330 bytes for a 1.4 KB case,
and only what a key, an index or a condition needs sits beside it, so a new case is one write unit.
``docz`` starts with its format's version byte: a dictionary is never edited once cases were written
with it (a test pins it), a better one is added as v2. Cases written before ``docz`` carry ``doc``
(plain JSON), which every read still accepts.

GSI ``ByQueueStatus``: gsi1pk ``QUEUE#<queue>#<status>``, gsi1sk ``<priority>#<sla due>#<created>``,
so a query in ascending order lists the most urgent first. It projects only what a listing filters on
(label, platform, brand, created, order numbers, status), not ``docz``: a listing reads one page of
keys, then the page's cases with one BatchGetItem, so the case is not copied into the index on every
write (an index copy costs write units like the item). Every index entry carries the table key, so the
case id is read from ``pk``. GSI ``ByPerson``:
gsi3pk the case's person key (``<brand>/<identity family>/<user id>``, moderato/people.py), gsi3sk
``<created>#<id>``; it projects only what the person's case list and the complainant guardrail read
(label, status, platform, created, order numbers), never the post.
Every state change writes the case (conditional on its version) and its event in one transaction,
so history and state never disagree and a stale writer is refused.

Triage reads the cases of a whole SQS batch at once (``existing``, one BatchGetItem) and writes each
new case once, in its final state (``create_many``: one conditional PutItem each). Its opening event
is not written beside it: while the case is at version 1 the case *is* its opening state, and the
event is derived from it (``opening_event``). The first change writes that event, from the stored
version 1, in the same transaction as the change, so the history is complete from then on. No function
may BatchWriteItem on this table: a batch write can delete, and nothing deletes a case.

Beside ``docz``, the case item carries ``order_numbers`` (a string set, for ``?order=`` filters) and,
once a crisis alert was claimed, ``crisis_alerted_at`` (moderato/triage/crisis_alert.py): every save keeps
it, and a save that read the case before the claim is refused, so the claim is never erased.

Review feedback adds one item type, written in the same transaction as the re-label:

| item          | pk            | sk                          | notes                                    |
|---------------|---------------|-----------------------------|------------------------------------------|
| feedback      | FEEDBACK      | <at>#<case id>#<version>    | a reviewer's correction of the label     |

Re-labels happen at human speed, so one partition holds them all and an export is one query.

The actions function leases each action before calling the platform (one item per action, never
deleted; its lease is released by setting ``lease_until`` to 0):

| item          | pk            | sk                          | notes                                    |
|---------------|---------------|-----------------------------|------------------------------------------|
| action lease  | CASE#<id>     | LEASE#<action id>           | ``holder``, ``lease_until`` (epoch s)    |

Retention: only normal cases carry ``expires_at`` (DynamoDB TTL). A save with ``retain=True`` (every
change a reviewer makes) removes it from the case and from every history event, in the same
transaction, so the audit trail of anything a person acted on is never expired.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from moderato.adapters.aws import conditional_failed
from moderato.case_errors import CaseNotFound, StaleCaseVersion
from moderato.guardrails import PROTECTED_LABELS
from moderato.models import ACTIVE_STATUSES, Case, CaseEvent, Label, ReviewQueue
from moderato.orders import order_numbers
from moderato.people import NO_LINKS, PersonCase, PersonLinks, person_key, person_of
from moderato.triage.cases import opening_event
from moderato.triage.routing import QUEUE_FOR_LABEL

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
NO_DUE_DATE = "9999-12-31T23:59:59Z"
FEEDBACK_PK = "FEEDBACK"
# The ByQueueStatus partition of cases in no review queue (normal ones), so a listing can still read them.
NO_QUEUE = "NONE"
INDEXED_QUEUES: tuple[str, ...] = (*(queue.value for queue in ReviewQueue), NO_QUEUE)
PERSON_INDEX = "ByPerson"
# DynamoDB's BatchGetItem reads at most 100 keys per call (the review API's page size limit too).
_MAX_BATCH_GET = 100
# A lease row outlives its action by far; DynamoDB's TTL removes it (the functions never delete).
LEASE_RETENTION_SECONDS = 7 * 24 * 3600
_INDEX_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")
# A transaction holds at most 100 items: the case, its event, a feedback item, and TTL removals.
_MAX_TRANSACTION_ITEMS = 100


class InvalidCursor(Exception):
    """A pagination cursor that is not a position this store handed out for this filter."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def case_key(case_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": "CASE"}}


_DICTIONARY_DIR = Path(__file__).with_name("case_dictionary")
_DOC_FORMAT = 1  # the version byte of docz: deflate with case_dictionary/v1.txt


@lru_cache(maxsize=4)
def _dictionary(version: int) -> bytes:
    return (_DICTIONARY_DIR / f"v{version}.txt").read_bytes()


def compress_case(case: Case) -> bytes:
    # Fields at their defaults are left out (a model read fills them in): most of a new case is defaults.
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _dictionary(_DOC_FORMAT))
    raw = case.model_dump_json(exclude_defaults=True).encode("utf-8")
    return bytes([_DOC_FORMAT]) + packer.compress(raw) + packer.flush()


def case_of(item: dict[str, Any]) -> Case:
    """The Case in a stored item (plain values): ``docz``, or ``doc`` on items written before it."""
    if "docz" in item:
        blob = bytes(getattr(item["docz"], "value", item["docz"]))
        unpacker = zlib.decompressobj(-15, _dictionary(blob[0]))
        return Case.model_validate_json(unpacker.decompress(blob[1:]) + unpacker.flush())
    return Case.model_validate_json(item["doc"])


def _case_id(item: dict[str, Any]) -> str:
    return str(item["pk"]).removeprefix("CASE#")


def _case_item(case: Case, expires_at: datetime | None, crisis_alerted_at: str | None = None) -> dict[str, Any]:
    queue = case.queue or NO_QUEUE
    # A case written before person keys existed gets one (without configured links) when next saved.
    person = person_of(case)
    item: dict[str, Any] = {
        "pk": f"CASE#{case.case_id}",
        "sk": "CASE",
        "gsi1pk": f"QUEUE#{queue}#{case.status.value}",
        "gsi1sk": f"{case.priority}#{_iso(case.sla_due_at) or NO_DUE_DATE}#{_iso(case.created_at)}",
        "label": case.label.value,
        "status": case.status.value,
        "version": case.version,
        "platform": case.post.platform.value,
        "created_at": _iso(case.created_at),
        "docz": compress_case(case),
    }
    optional = {
        "brand": case.post.brand,
        "crisis_alerted_at": crisis_alerted_at,
        "expires_at": int(expires_at.timestamp()) if expires_at else None,
        "gsi3pk": person,
        "gsi3sk": f"{_iso(case.created_at)}#{case.case_id}" if person else None,
        # A string set, so a listing can filter with contains(); DynamoDB stores no empty set.
        "order_numbers": set(case.order_numbers) or None,
    }
    item.update({key: value for key, value in optional.items() if value is not None})
    return {key: _serializer.serialize(value) for key, value in item.items()}


def _event_item(event: CaseEvent, expires_at: datetime | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": f"CASE#{event.case_id}",
        "sk": f"EVENT#{event.version:08d}#{_iso(event.at)}",
        "action": event.action,
        "actor": event.actor,
        "doc": event.model_dump_json(),
    }
    if expires_at:
        item["expires_at"] = int(expires_at.timestamp())
    return {key: _serializer.serialize(value) for key, value in item.items()}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


@dataclass(frozen=True)
class CaseFilter:
    """What the review API can filter on. Queue and status pick index partitions; the rest filters them."""

    queue: str | None = None
    status: str | None = None
    label: str | None = None
    platform: str | None = None
    brand: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    order: str | None = None  # an order number, as moderato.orders normalizes it

    @property
    def label_queue(self) -> str:
        queue = QUEUE_FOR_LABEL.get(Label(self.label)) if self.label in set(Label) else None
        return queue.value if queue else NO_QUEUE

    def expression(self) -> tuple[str, dict[str, Any], dict[str, str]]:
        parts: list[str] = []
        values: dict[str, Any] = {}
        names: dict[str, str] = {}
        for attribute, value in (("label", self.label), ("platform", self.platform), ("brand", self.brand)):
            if value:
                names[f"#{attribute}"] = attribute
                parts.append(f"#{attribute} = :{attribute}")
                values[f":{attribute}"] = {"S": value}
        if self.since:
            parts.append("created_at >= :since")
            values[":since"] = {"S": _iso(self.since.astimezone(UTC))}
        if self.until:
            parts.append("created_at < :until")
            values[":until"] = {"S": _iso(self.until.astimezone(UTC))}
        if self.order:
            parts.append("contains(order_numbers, :order)")
            values[":order"] = {"S": self.order}
        return " AND ".join(parts), values, names

    def matches(self, case: PersonCase) -> bool:
        """The same filters, on a case of the person index (its projected attributes)."""
        return ((not self.queue or QUEUE_FOR_LABEL[case.label] == self.queue)
                and (not self.status or case.status.value == self.status)
                and (not self.label or case.label.value == self.label)
                and (not self.platform or case.platform.value == self.platform)
                and (not self.since or (case.created_at is not None and case.created_at >= self.since))
                and (not self.until or (case.created_at is not None and case.created_at < self.until))
                and (not self.order or self.order in case.order_numbers))


class CaseStore:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._db = dynamodb

    def create(self, case: Case, expires_at: datetime | None = None) -> tuple[Case, bool]:
        """Write a new case (one conditional PutItem). Returns (stored case, created now): a redelivered
        post finds its case already there, and nothing is overwritten."""
        try:
            self._db.put_item(TableName=self._table, Item=_case_item(case, expires_at),
                              ConditionExpression="attribute_not_exists(pk)",
                              ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as error:
            if not conditional_failed(error):
                raise
            old = error.response.get("Item")
            existing = _plain(old) if old else self._get_item(case.case_id)
            if existing is None:
                raise
            return case_of(existing), False
        return case, True

    def existing(self, case_ids: list[str]) -> dict[str, Case]:
        """The cases among these ids that exist (one consistent BatchGetItem per 100 ids)."""
        found: dict[str, Case] = {}
        unique = sorted(set(case_ids))
        for start in range(0, len(unique), _MAX_BATCH_GET):
            for item in self._batch_get([case_key(case_id) for case_id in unique[start:start + _MAX_BATCH_GET]]):
                found[_case_id(item)] = case_of(item)
        return found

    def create_many(self, new: list[tuple[Case, datetime | None]]) -> set[str]:
        """Write new cases, each conditional on not existing; returns the ids written now (a case that
        already exists, written by a concurrent redelivery, is left as it is and not returned).

        One PutItem per case, not a transaction: a transaction bills every item twice and is refused
        as a whole by one existing case, and a case and its history no longer need to be written together
        (see the module docstring).
        """
        return {case.case_id for case, expires in new if self.create(case, expires)[1]}

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            response = self._db.batch_get_item(RequestItems=request)
            items.extend(_plain(item) for item in response.get("Responses", {}).get(self._table, []))
            request = response.get("UnprocessedKeys") or {}
        return items

    def save(self, case: Case, event: CaseEvent, expected_version: int, retain: bool = False,
             expires_at: datetime | None = None) -> Case:
        """Write a changed case and the event that changed it, refusing a stale version.

        ``retain``: a person acted on the case, so it and its history lose any retention TTL.
        ``expires_at``: the retention a case gets when it becomes normal before anyone acted on it (a post
        whose text came late); ignored for a case in a queue or one a person acted on.
        """
        return self._save(case, event, expected_version, [], retain, expires_at)

    def save_with_feedback(self, case: Case, event: CaseEvent, expected_version: int,
                           feedback: dict[str, Any]) -> Case:
        """``save`` plus a feedback item (a reviewer's re-label), all or nothing; a re-label is a person
        acting on the case, so it always loses its retention TTL."""
        item = {
            "pk": FEEDBACK_PK,
            "sk": f"{feedback['at']}#{case.case_id}#{event.version:08d}",
            "case_id": case.case_id,
            "doc": json.dumps(feedback, ensure_ascii=False, default=str),
        }
        put = {"Put": {"TableName": self._table, "Item": {k: _serializer.serialize(v) for k, v in item.items()},
                       "ConditionExpression": "attribute_not_exists(pk)"}}
        return self._save(case, event, expected_version, [put], retain=True)

    def _save(self, case: Case, event: CaseEvent, expected_version: int, extra: list[dict[str, Any]],
              retain: bool, expires_at: datetime | None = None) -> Case:
        existing = self._get_item(case.case_id)
        if existing is None:
            raise CaseNotFound(case.case_id)
        had_expiry = "expires_at" in existing
        # Only normal cases nobody acted on expire; a case re-labelled into a queue, or one a reviewer
        # touched, is kept with its whole history.
        keep_expiry = (had_expiry or expires_at is not None) and not retain and case.queue is None
        expires = ((datetime.fromtimestamp(int(existing["expires_at"]), tz=UTC) if had_expiry else expires_at)
                   if keep_expiry else None)
        alerted = existing.get("crisis_alerted_at")
        case_item = _case_item(case, expires, alerted)
        if "docz" in existing and int(existing["version"]) == 1:
            # The first change: the opening event, so far derived from the case, is written now from the
            # version it describes (see the module docstring).
            extra = [{"Put": {"TableName": self._table, "Item": _event_item(opening_event(case_of(existing)), expires),
                              "ConditionExpression": "attribute_not_exists(pk)"}}, *extra]
        # A crisis alert claimed between our read and this write must not be erased by it.
        condition = "#v = :expected" + ("" if alerted else " AND attribute_not_exists(crisis_alerted_at)")
        items = [
            {"Put": {"TableName": self._table, "Item": case_item,
                     "ConditionExpression": condition,
                     "ExpressionAttributeNames": {"#v": "version"},
                     "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}}}},
            {"Put": {"TableName": self._table, "Item": _event_item(event, expires),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            *extra,
        ]
        # The history loses its TTL in the same transaction as the case: never a kept case with
        # expiring events. Only a very long history overflows the transaction and is finished after.
        expiring = self._expiring_events(case.case_id) if had_expiry and not keep_expiry else []
        room = _MAX_TRANSACTION_ITEMS - len(items)
        items.extend(self._keep_event(key) for key in expiring[:room])
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise StaleCaseVersion(f"case {case.case_id} is no longer at version {expected_version}") from error
            raise
        for key in expiring[room:]:
            self._db.update_item(**self._keep_event(key)["Update"])
        return case

    def _expiring_events(self, case_id: str) -> list[dict[str, Any]]:
        """Keys of the case's history events that still carry a retention TTL."""
        return [{"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}} for item in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"CASE#{case_id}"}, ":prefix": {"S": "EVENT#"}},
        ) if "expires_at" in item]

    def _keep_event(self, key: dict[str, Any]) -> dict[str, Any]:
        """Drop an event's TTL. Its content is never changed, only how long it lives."""
        return {"Update": {"TableName": self._table, "Key": key, "UpdateExpression": "REMOVE expires_at",
                           "ConditionExpression": "attribute_exists(pk)"}}

    def get(self, case_id: str) -> Case | None:
        item = self._get_item(case_id)
        return case_of(item) if item else None

    def history(self, case_id: str) -> list[CaseEvent]:
        """The case's events, oldest first; a case still at version 1 has only its derived opening event."""
        events: list[CaseEvent] = []
        case: Case | None = None
        for item in self._query(KeyConditionExpression="pk = :pk",
                                ExpressionAttributeValues={":pk": {"S": f"CASE#{case_id}"}}):
            if item["sk"] == "CASE":
                case = case_of(item)
            elif str(item["sk"]).startswith("EVENT#"):
                events.append(CaseEvent.model_validate_json(item["doc"]))
        if case is not None and case.version == 1 and not events:
            events.append(opening_event(case))
        return events

    def list_queue(self, queue: str, status: str, limit: int = 50,
                   cursor: dict[str, Any] | None = None) -> tuple[list[Case], dict[str, Any] | None]:
        """Cases in one queue and status, most urgent first (priority, then SLA due time)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "ByQueueStatus",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"QUEUE#{queue}#{status}"}},
            "ScanIndexForward": True,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        response = self._db.query(**kwargs)
        cases = self.get_many([_case_id(_plain(item)) for item in response.get("Items", [])])
        return cases, response.get("LastEvaluatedKey")

    def all_cases(self) -> Iterable[Case]:
        """Every case (a scan: for the local demo summary and operator tools, not for hot paths)."""
        paginator = self._db.get_paginator("scan")
        for page in paginator.paginate(TableName=self._table, FilterExpression="sk = :sk",
                                       ExpressionAttributeValues={":sk": {"S": "CASE"}}):
            for item in page.get("Items", []):
                yield case_of(_plain(item))

    # ------------------------------------------------------------ review

    def list_cases(self, filters: CaseFilter, limit: int = 50,
                   cursor: dict[str, Any] | None = None) -> tuple[list[Case], dict[str, Any] | None]:
        """Cases matching ``filters``, most urgent first (priority, SLA due, created), across queues.

        Each (queue, status) pair is one sorted stream of the ByQueueStatus index; a page merges the
        streams and the cursor keeps, per stream, the key of the last item returned (or "done"), so
        the next page continues every stream where this one stopped.
        """
        queues = [filters.queue] if filters.queue else (
            [filters.label_queue] if filters.label else [queue.value for queue in ReviewQueue])
        statuses = [filters.status] if filters.status else [status.value for status in ACTIVE_STATUSES]
        streams = [f"QUEUE#{queue}#{status}" for queue in queues for status in statuses]
        positions = _checked_cursor(cursor, streams) if cursor is not None else {}
        found: dict[str, tuple[list[dict[str, Any]], bool]] = {}
        for stream in streams:
            if positions.get(stream) == "done":
                continue
            start = positions.get(stream)
            try:
                found[stream] = self._read_stream(stream, filters, start if isinstance(start, dict) else None,
                                                  limit)
            except ClientError as error:
                # Last line of defence: DynamoDB refuses a start key that passed the checks below.
                if error.response["Error"]["Code"] == "ValidationException" and start:
                    raise InvalidCursor("the cursor does not point into this listing") from error
                raise
        merged = sorted(((item["gsi1sk"], item["pk"], stream, item)
                         for stream, (items, _) in found.items() for item in items))[:limit]
        next_positions: dict[str, Any] = {}
        for stream in streams:
            if stream not in found:
                next_positions[stream] = "done"
                continue
            items, exhausted = found[stream]
            taken = [entry[3] for entry in merged if entry[2] == stream]
            if exhausted and len(taken) == len(items):
                next_positions[stream] = "done"
            elif taken:
                next_positions[stream] = {key: taken[-1][key] for key in _INDEX_KEYS}
            else:
                next_positions[stream] = positions.get(stream)
        # The index holds no doc (see the module docstring): the page's cases in one BatchGetItem.
        cases = self.get_many([_case_id(entry[3]) for entry in merged])
        done = all(value == "done" for value in next_positions.values())
        return cases, None if done else next_positions

    def _read_stream(self, stream: str, filters: CaseFilter, start: dict[str, Any] | None,
                     want: int) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``want`` matching items of one stream from ``start``; True when the stream has no more."""
        conditions, values, names = filters.expression()
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": "ByQueueStatus", "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": stream}, **values}, "ScanIndexForward": True,
            "Limit": max(want, 25),
        }
        if conditions:
            kwargs["FilterExpression"] = conditions
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if start:
            kwargs["ExclusiveStartKey"] = {key: {"S": str(value)} for key, value in start.items()}
        items: list[dict[str, Any]] = []
        while True:
            response = self._db.query(**kwargs)
            items.extend(_plain(item) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if len(items) >= want:
                return items[:want], last is None and len(items) == want
            if not last:
                return items, True
            kwargs["ExclusiveStartKey"] = last

    # ------------------------------------------------------------ one person's cases (ByPerson index)

    def cases_of_person(self, keys: Iterable[str]) -> list[PersonCase]:
        """Every case of these person keys, newest first (a person's partition is small: read it whole)."""
        return [case for _, case in self._person_entries(keys)]

    def _person_entries(self, keys: Iterable[str]) -> list[tuple[str, PersonCase]]:
        """(index position, case) of every case of these keys, newest first."""
        found: list[tuple[str, PersonCase]] = []
        for key in sorted(set(keys)):
            for item in self._query(IndexName=PERSON_INDEX, KeyConditionExpression="gsi3pk = :person",
                                    ExpressionAttributeValues={":person": {"S": key}}):
                found.append((str(item["gsi3sk"]), _person_case(item)))
        return sorted(found, key=lambda entry: entry[0], reverse=True)

    def open_protected_cases(self, key: str) -> list[PersonCase]:
        """The person's complaint and crisis cases still open: whoever complained or raised a crisis
        must not be silenced, on any surface of the brand (the complainant guardrail)."""
        return [case for case in self.cases_of_person([key])
                if case.label in PROTECTED_LABELS and case.status in ACTIVE_STATUSES]

    def list_person_cases(self, keys: list[str], filters: CaseFilter, limit: int = 50,
                          cursor: dict[str, Any] | None = None) -> tuple[list[Case], dict[str, Any] | None]:
        """The cases of these person keys matching ``filters``, newest first, any status by default.

        The cursor holds the keys and the index position of the last case returned.
        """
        before = _checked_person_cursor(cursor, keys) if cursor is not None else None
        matching = [(position, case) for position, case in self._person_entries(keys)
                    if filters.matches(case) and (before is None or position < before)]
        page = matching[:limit]
        more = len(matching) > limit
        return self.get_many([case.case_id for _, case in page]), (
            {"person": sorted(keys), "before": page[-1][0]} if more and page else None)

    def get_many(self, case_ids: list[str]) -> list[Case]:
        """The cases, in the order asked (BatchGetItem; ids that do not exist are left out)."""
        found: dict[str, Case] = {}
        for start in range(0, len(case_ids), _MAX_BATCH_GET):
            keys = [case_key(case_id) for case_id in case_ids[start:start + _MAX_BATCH_GET]]
            request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = self._db.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    case = case_of(_plain(item))
                    found[case.case_id] = case
                request = response.get("UnprocessedKeys") or {}
        return [found[case_id] for case_id in case_ids if case_id in found]

    def index_people(self, links: PersonLinks = NO_LINKS, at: datetime | None = None) -> list[str]:
        """Give cases written before person keys existed their key and order numbers (an operator's one-off
        after upgrading): each becomes a new version with a ``person_indexed`` event, like any change.

        A scan: for an operator, never for a hot path. Returns the ids of the cases it indexed.
        """
        indexed: list[str] = []
        paginator = self._db.get_paginator("scan")
        for page in paginator.paginate(TableName=self._table,
                                       FilterExpression="sk = :sk AND attribute_not_exists(gsi3pk)",
                                       ExpressionAttributeValues={":sk": {"S": "CASE"}}):
            for item in page.get("Items", []):
                case = case_of(_plain(item))
                key = person_key(case.post, links)
                if key is None:
                    continue  # the platform did not say who: nobody to protect, nothing to list
                now = at or datetime.now(UTC)
                updated = case.model_copy(update={"person_key": key, "order_numbers": order_numbers(case.post.text),
                                                  "version": case.version + 1, "updated_at": now})
                event = CaseEvent(case_id=case.case_id, at=now, actor="system:index-people",
                                  action="person_indexed", version=updated.version,
                                  data={"from_version": case.version, "person_key": key,
                                        "order_numbers": updated.order_numbers})
                try:
                    self.save(updated, event, expected_version=case.version)
                except StaleCaseVersion:
                    continue  # changed meanwhile: that save put it in the index (without links)
                indexed.append(case.case_id)
        return indexed

    # ------------------------------------------------------------ the one crisis alert per case

    def claim_crisis_alert(self, case_id: str, at: datetime) -> bool:
        """True for the one caller that may publish this case's crisis alert (a conditional write)."""
        try:
            self._db.update_item(
                TableName=self._table, Key=case_key(case_id), UpdateExpression="SET crisis_alerted_at = :at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(crisis_alerted_at)",
                ExpressionAttributeValues={":at": {"S": _iso(at) or ""}})
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def release_crisis_alert(self, case_id: str, at: datetime) -> None:
        """Give back a claim whose alert could not be published (only our own claim, by its time)."""
        try:
            self._db.update_item(
                TableName=self._table, Key=case_key(case_id), UpdateExpression="REMOVE crisis_alerted_at",
                ConditionExpression="crisis_alerted_at = :at", ExpressionAttributeValues={":at": {"S": _iso(at) or ""}})
        except ClientError as error:
            if not conditional_failed(error):
                raise

    # ------------------------------------------------------------ action leases (actions function)

    def acquire(self, case_id: str, action_id: str, holder: str, now: datetime, seconds: int) -> bool:
        """Take the lease on an action unless another holder has an unexpired one (conditional write)."""
        now_s = int(now.timestamp())
        try:
            self._db.put_item(
                TableName=self._table,
                Item={"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": f"LEASE#{action_id}"},
                      "holder": {"S": holder}, "lease_until": {"N": str(now_s + seconds)},
                      "taken_at": {"S": _iso(now) or ""},
                      "expires_at": {"N": str(now_s + LEASE_RETENTION_SECONDS)}},
                ConditionExpression="attribute_not_exists(pk) OR lease_until <= :now",
                ExpressionAttributeValues={":now": {"N": str(now_s)}},
            )
        except ClientError as error:
            if conditional_failed(error):
                return False
            raise
        return True

    def release(self, case_id: str, action_id: str, holder: str) -> None:
        """Give the lease back (only our own: an expired lease may have been taken by someone else)."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": f"LEASE#{action_id}"}},
                UpdateExpression="SET lease_until = :zero",
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":zero": {"N": "0"}, ":holder": {"S": holder}},
            )
        except ClientError as error:
            if not conditional_failed(error):
                raise

    def feedback(self) -> Iterable[dict[str, Any]]:
        """Every stored re-label, oldest first."""
        for item in self._query(KeyConditionExpression="pk = :pk",
                                ExpressionAttributeValues={":pk": {"S": FEEDBACK_PK}}):
            yield json.loads(item["doc"])

    def _get_item(self, case_id: str) -> dict[str, Any] | None:
        response = self._db.get_item(TableName=self._table, Key=case_key(case_id), ConsistentRead=True)
        item = response.get("Item")
        return _plain(item) if item else None

    def _query(self, **kwargs: Any) -> Iterable[dict[str, Any]]:
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(TableName=self._table, **kwargs):
            for item in page.get("Items", []):
                yield _plain(item)


def _checked_cursor(cursor: Any, streams: list[str]) -> dict[str, Any]:
    """The cursor's positions, if every one is a position in one of ``streams`` (what list_cases returns)."""
    if not isinstance(cursor, dict):
        raise InvalidCursor("the cursor is not one this API returned")
    for stream, position in cursor.items():
        if stream not in streams:
            raise InvalidCursor("the cursor belongs to another listing: use it with the same filters")
        if position is None or position == "done":
            continue
        if (not isinstance(position, dict) or set(position) != set(_INDEX_KEYS)
                or not all(isinstance(value, str) for value in position.values())
                or position["gsi1pk"] != stream or not position["pk"].startswith("CASE#")
                or position["sk"] != "CASE"):
            raise InvalidCursor("the cursor is not one this API returned")
    return cursor


def _person_case(item: dict[str, Any]) -> PersonCase:
    return PersonCase(case_id=_case_id(item), label=item["label"], status=item["status"],
                      platform=item["platform"], created_at=item.get("created_at"),
                      order_numbers=sorted(item.get("order_numbers") or ()))


def _checked_person_cursor(cursor: Any, keys: list[str]) -> str:
    """The position in a person listing, if the cursor is one ``list_person_cases`` returned for ``keys``."""
    if (not isinstance(cursor, dict) or set(cursor) != {"person", "before"} or cursor["person"] != sorted(keys)
            or not isinstance(cursor["before"], str)):
        raise InvalidCursor("the cursor belongs to another listing: use it with the same filters")
    return cursor["before"]


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)

"""Count every AWS call a piece of code makes, and what DynamoDB would bill for it.

Hooks botocore's ``before-call`` / ``after-call`` events on a boto3 session: clients created from it
afterwards inherit the handlers (botocore copies the session's event emitter into each client).

Capacity: moto answers ``ReturnConsumedCapacity`` with a constant (1.0 per call, whatever the item
or its indexes), so the units are computed here from the items themselves with DynamoDB's rules:

- write: 1 WCU per started KB of the item (the larger of before and after), per item written; each
  global secondary index whose projected attributes change costs its own write (a key change costs a
  delete and a put); a transaction costs twice; a refused conditional write still costs its units;
- read: 1 RCU per started 4 KB (strongly consistent), half for an eventually consistent read, twice
  in a transaction. A Query is charged on the size of the items it returned (a ProjectionExpression
  makes that a lower bound; the items read here are all far below 4 KB, so the rounding dominates).

Item sizes follow DynamoDB's definition: attribute name bytes plus value bytes (strings UTF-8,
numbers about one byte per two digits plus one, 1 byte for booleans, 3 bytes plus one per element for
lists and maps).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3

_WRITE_OPS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def value_size(value: dict[str, Any]) -> int:
    (kind, inner), = value.items()
    if kind in ("S",):
        return len(inner.encode("utf-8"))
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else len(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "BS"):
        return sum(value_size({kind[0]: element}) for element in inner)
    if kind == "NS":
        return sum(value_size({"N": element}) for element in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def query_read_units(size: float, consistent: bool = False) -> float:
    """What a Query or Scan bills for items of ``size`` bytes in all: 4 KB units, at least one; half as
    many when eventually consistent."""
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def _kb(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass
class _Index:
    name: str
    keys: tuple[str, ...]
    projection: str
    include: tuple[str, ...]

    def project(self, item: dict[str, Any] | None, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        if not item or not all(key in item for key in self.keys):
            return None
        if self.projection == "ALL":
            return item
        kept = set(self.keys) | set(table_keys) | (set(self.include) if self.projection == "INCLUDE" else set())
        return {name: value for name, value in item.items() if name in kept}


@dataclass
class _Table:
    keys: tuple[str, ...]
    indexes: list[_Index]


@dataclass
class AwsMeter:
    """Attach to a session, run code, then read ``calls``, ``wcu``, ``rcu`` and ``aws_seconds``.

    ``before-parameter-build`` keeps each call's parameters in its context, ``before-call`` reads the
    items a write will change, ``after-call`` counts the call and charges its units."""

    calls: Counter[str] = field(default_factory=Counter)
    wcu: Counter[str] = field(default_factory=Counter)  # per table name
    rcu: Counter[str] = field(default_factory=Counter)
    wcu_by_index: Counter[str] = field(default_factory=Counter)  # "<table>/<index>"
    aws_seconds: float = 0.0
    overhead_seconds: float = 0.0  # the meter's own reads of items: not the code's time, nor AWS's
    sent_messages: int = 0  # SQS messages sent (SendMessage, or entries of SendMessageBatch)
    queues_sent_to: set[str] = field(default_factory=set)
    _raw: Any = None
    _tables: dict[str, _Table] = field(default_factory=dict)
    _pending: dict[int, tuple[float, list[tuple[str, dict[str, Any], dict[str, Any] | None]]]] = field(
        default_factory=dict)

    def attach(self, session: boto3.session.Session, region: str) -> None:
        # A client of its own, outside the session: its reads for the arithmetic are not counted.
        self._raw = boto3.session.Session(region_name=region).client("dynamodb")
        events = session.events
        events.register("before-parameter-build", self._params)
        events.register("before-call", self._before)
        events.register("after-call", self._after)

    def reset(self) -> None:
        self.calls.clear()
        self.wcu.clear()
        self.rcu.clear()
        self.wcu_by_index.clear()
        self.aws_seconds = 0.0
        self.overhead_seconds = 0.0
        self.sent_messages = 0
        self.queues_sent_to.clear()

    # --- hooks --------------------------------------------------------------------------------------

    def _params(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        # before-call sees the serialized request; the API's own parameters are kept from here.
        context["metered_params"] = params

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        params = context.get("metered_params", {})
        service = model.service_model.service_name
        writes = self._writes(model.name, params) if service == "dynamodb" and model.name in _WRITE_OPS else []
        before = [(table, key, self._get(table, key)) for table, key in writes]
        self._pending[id(context)] = (time.perf_counter(), before)

    def _after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = context.get("metered_params", {})
        started, before = self._pending.pop(id(context), (time.perf_counter(), []))
        self.aws_seconds += time.perf_counter() - started
        service = model.service_model.service_name
        self.calls[f"{service}.{model.name}"] += 1
        if service == "sqs" and model.name in ("SendMessage", "SendMessageBatch"):
            self.sent_messages += len(params.get("Entries", [])) or 1
            self.queues_sent_to.add(params["QueueUrl"])
        if service != "dynamodb":
            return
        if model.name in _WRITE_OPS:
            factor = 2 if model.name.startswith("Transact") else 1
            for table, key, old in before:
                self._charge_write(table, old, self._get(table, key), factor)
        else:
            self._charge_read(model.name, params, parsed)

    # --- writes -------------------------------------------------------------------------------------

    def _writes(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            table = params["TableName"]
            return [(table, self._key(table, params.get("Item") or params["Key"]))]
        found: list[tuple[str, dict[str, Any]]] = []
        if operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    item = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key")
                    found.append((table, self._key(table, item)))
        else:
            for entry in params["TransactItems"]:
                (kind, body), = entry.items()
                if kind != "ConditionCheck":
                    found.append((body["TableName"], self._key(body["TableName"], body.get("Item") or body["Key"])))
        return found

    def _charge_write(self, table: str, old: dict[str, Any] | None, new: dict[str, Any] | None, factor: int) -> None:
        self.wcu[table] += factor * _kb(max(item_size(old), item_size(new)))
        schema = self._table(table)
        for index in schema.indexes:
            before, after = index.project(old, schema.keys), index.project(new, schema.keys)
            units = 0
            if before is None and after is not None:
                units = _kb(item_size(after))
            elif before is not None and after is None:
                units = _kb(item_size(before))
            elif before is not None and after is not None:
                if any(before.get(key) != after.get(key) for key in index.keys):
                    units = _kb(item_size(before)) + _kb(item_size(after))
                elif before != after:
                    units = _kb(max(item_size(before), item_size(after)))
            self.wcu[table] += factor * units
            self.wcu_by_index[f"{table}/{index.name}"] += factor * units

    # --- reads --------------------------------------------------------------------------------------

    def _charge_read(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        if operation == "GetItem":
            self._read_units(params["TableName"], [parsed.get("Item")], params.get("ConsistentRead", False), 1)
        elif operation in ("Query", "Scan"):
            items = parsed.get("Items", [])
            size = sum(item_size(item) for item in items)
            self.rcu[params["TableName"]] += query_read_units(size, bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, items in parsed.get("Responses", {}).items():
                consistent = params["RequestItems"].get(table, {}).get("ConsistentRead", False)
                self._read_units(table, items, consistent, 1)
        elif operation == "TransactGetItems":
            for entry, response in zip(params["TransactItems"], parsed.get("Responses", []), strict=False):
                self._read_units(entry["Get"]["TableName"], [response.get("Item")], True, 2)

    def _read_units(self, table: str, items: list[dict[str, Any] | None], consistent: bool, factor: int) -> None:
        for item in items:
            units = max(1, math.ceil(item_size(item) / 4096))
            self.rcu[table] += factor * units * (1.0 if consistent else 0.5)

    # --- table shapes -------------------------------------------------------------------------------

    def _table(self, name: str) -> _Table:
        if name not in self._tables:
            described = self._raw.describe_table(TableName=name)["Table"]
            keys = tuple(k["AttributeName"] for k in described["KeySchema"])
            indexes = [_Index(
                index["IndexName"], tuple(k["AttributeName"] for k in index["KeySchema"]),
                index["Projection"]["ProjectionType"], tuple(index["Projection"].get("NonKeyAttributes", ())))
                for index in described.get("GlobalSecondaryIndexes", [])]
            self._tables[name] = _Table(keys, indexes)
        return self._tables[name]

    def _key(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self._table(table).keys}

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        start = time.perf_counter()
        item: dict[str, Any] | None = self._raw.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        self.overhead_seconds += time.perf_counter() - start
        return item

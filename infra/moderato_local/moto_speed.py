"""Keep moto's own cost out of the local stack's hot path.

Each patch keeps moto's behaviour (the same answers, the same errors) and only removes a cost that
grows with what moto holds rather than with what a call asks for; AWS has none of them. Measured on
moto 5.2.5 under ``moderato load`` (py-spy on the stack's process), in the order they mattered:

* DynamoDB ``Query`` on a table's key sorted *every item of the table* before keeping the partition
  asked for (``Table.all_items``): a band query cost more with every case written (29 % of the
  stack's CPU at 500 deliveries, batches of triage from 0.2 s to 14 s). Now it reads the partition.
* ``TransactWriteItems`` deep-copied the whole table once per item of the transaction to roll back a
  refused one. Now only the items the transaction names are saved and put back.
* SQS: ``ReceiveMessage`` listed every visible message of the queue before taking ten, and checked
  each taken message's retention by computing all the queue's attributes (three scans of the queue
  per message); every ``SendMessage`` computed them too, to read one flag; ``DeleteMessage`` scanned
  the queue twice per receipt handle; ``GetQueueAttributes`` computed all attributes up to three
  times per name asked. With a backlog of thousands that is most of a poller's time. Now a receive
  stops at the messages it takes, a send counts nothing, a delete looks among the received messages
  first, and attributes are computed once per call, reading the clock once.
* DynamoDB answers to item reads (``GetItem``, ``BatchGetItem``, ``Query``, ``Scan``) went through moto's
  generic response serializer, which walks the output shape value by value: 13.5 % of the stack's CPU
  under ``moderato load`` (py-spy ``--gil``), most of it the signal journal's reads. Those answers are
  already DynamoDB's JSON (attribute values as ``{"S": ...}`` maps): they are written with
  ``json.dumps``, binary values in base64, as the serializer would.
* Every call looked up its response class's methods with ``inspect.getmembers`` (moto's
  ``method_names_from_class``): 2 % of the stack's CPU. The list is read once per class.
* Every request to the moto server listed moto's package directory (``list_of_moto_modules``: ~150
  ``stat`` calls) under the server's global lock. The list is read once.

moto also never deletes expired TTL items: ``TtlSweeper`` does, as DynamoDB's TTL would, so a local
stack that runs for days keeps its tables (and so its scans) the size of the retention windows.

tests/unit/local/test_moto_speed.py pins the behaviour each patch must keep.
"""

from __future__ import annotations

import base64
import copy
import functools
import inspect
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger("moderato_local")

_LOCK = threading.RLock()  # transactions, and the TTL sweeper's deletes, one at a time
_installed = False
_sending = threading.local()  # inside SQS send_message (queue counts are not read there)
_query_partition = threading.local()  # the partition a base-table Query reads (moto's server: a thread per request)


# --- DynamoDB: transactions ----------------------------------------------------------------------


class _NoTableCopy:
    """Stands in for the ``copy`` module inside moto's transact_write_items: tables are not copied (the
    items the transaction touches are saved beforehand instead); anything else is copied as usual."""

    def deepcopy(self, value: Any) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value)


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key, a copy of the item before) for every item the transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched = []
    for entry in transact_items:
        ((_, operation),) = entry.items()
        table = backend.tables.get(operation.get("TableName"))
        key = operation.get("Item") or operation.get("Key")
        if table is None or not key:
            continue
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        before = table.items.get(hash_key, {}).get(range_key) if range_key is not None else table.items.get(hash_key)
        touched.append((table, hash_key, range_key, copy.deepcopy(before)))
    return touched


def _restore(touched: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_key, range_key, before in reversed(touched):
        if range_key is None:
            if before is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = before
            continue
        partition = table.items.get(hash_key)
        if before is not None:
            table.items[hash_key][range_key] = before
        elif partition is not None:
            partition.pop(range_key, None)
            if not partition:
                table.items.pop(hash_key, None)


def _install_transactions() -> None:
    from moto.dynamodb import models

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            touched = _touched(self, transact_items)
            saved = models.copy
            models.copy = _NoTableCopy()  # type: ignore[assignment]
            try:
                original(self, transact_items)
            except Exception:
                _restore(touched)  # all or nothing, as moto's own table copy did
                raise
            finally:
                models.copy = saved

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# --- DynamoDB: Query on the table's key ----------------------------------------------------------


def _install_partition_query() -> None:
    """moto's Table.query on the table's own key takes ``all_items()`` (the whole table, sorted) and
    keeps the items of one partition. While such a query runs, ``all_items`` of that table answers
    with the partition alone, already in range-key order (moto sorts again: a pass over sorted data),
    and, for a string sort key, only the items the key condition can keep (moto checks them again): a
    growing partition read from a cursor (the signal journal, sk > the last read) then costs a query
    what it returns, not a Python comparison per item it holds. Index queries and scans still see the
    whole table, as they must."""
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    original_all_items = Table.all_items
    # moto's backend passes index_name positionally (the 8th parameter after self): read it by name.
    signature = inspect.signature(original_query)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, hash_key, *args, **kwargs).arguments
        if arguments.get("index_name") or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        _query_partition.value = (self, hash_key, arguments.get("range_comparison"), arguments.get("range_objs"))
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _query_partition.value = None

    def all_items(self: Any) -> list[Any]:
        asked = getattr(_query_partition, "value", None)
        if asked is None or asked[0] is not self:
            return original_all_items(self)
        _query_partition.value = None  # once: anything else this query does sees the whole table
        partition = self.items.get(asked[1])
        if partition is None:
            return []
        if not self.range_key_attr:
            return [partition]
        keep = _string_key_condition(asked[2], asked[3])
        items = [item for key, item in partition.items() if keep is None or keep(getattr(key, "value", key))]
        return sorted(items, key=lambda item: item.range_key.cast_value)

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]


def _string_key_condition(comparison: str | None, values: list[Any] | None) -> Callable[[Any], bool] | None:
    """The sort key condition as a test on the key's raw string, or None (no condition, or not strings:
    then every item goes on to moto's own check)."""
    if not comparison or not values or any(getattr(v, "type", None) != "S" for v in values):
        return None
    bounds = [str(v.value) for v in values]
    tests: dict[str, Callable[[Any], bool]] = {
        ">": lambda key: isinstance(key, str) and key > bounds[0],
        ">=": lambda key: isinstance(key, str) and key >= bounds[0],
        "<": lambda key: isinstance(key, str) and key < bounds[0],
        "<=": lambda key: isinstance(key, str) and key <= bounds[0],
        "=": lambda key: key == bounds[0],
        "BEGINS_WITH": lambda key: isinstance(key, str) and key.startswith(bounds[0]),
        "BETWEEN": lambda key: isinstance(key, str) and len(bounds) == 2 and bounds[0] <= key <= bounds[1],
    }
    return tests.get(comparison.upper())


# --- SQS -----------------------------------------------------------------------------------------


class _VisibleMessages:
    """moto's ``Queue.messages`` without building the list: receive_message stops iterating at the
    messages it takes, so a backlog of thousands costs a receive what it skips at the front (the
    received-but-not-deleted messages), not the whole queue. ``len`` and truth still count them all."""

    def __init__(self, messages: list[Any]) -> None:
        self._messages = list(messages)  # a snapshot, as moto's list was: sends and deletes go on meanwhile

    def __iter__(self) -> Iterator[Any]:
        return (message for message in self._messages if message.visible and not message.delayed)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None


def _install_sqs() -> None:
    from moto.sqs import models
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    models.Queue.messages = property(lambda self: _VisibleMessages(self._messages))  # type: ignore[assignment]

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)  # the attribute moto reads
        return retention + message.sent_timestamp / 1000 > models.unix_time()

    models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]

    original_delete = models.Queue.delete_message

    def delete_message(self: Any, receipt_handle: str) -> None:
        # A handle being deleted is almost always the latest of a received message, and every received
        # message not yet deleted is in pending_messages: look there before scanning the queue.
        if receipt_handle in self.deleted_messages:
            return
        found = next((m for m in list(self.pending_messages) if m.had_receipt_handle(receipt_handle)), None)
        if found is None:
            original_delete(self, receipt_handle)  # moto's way: scans the queue, or refuses the handle
            return
        try:
            self._messages.remove(found)  # by identity: Message has no __eq__
        except ValueError:
            raise ReceiptHandleIsInvalid() from None  # gone to the DLQ: moto refuses its handles too
        self.pending_messages.discard(found)
        self.deleted_messages.update(found.all_receipt_handles)

    models.Queue.delete_message = delete_message  # type: ignore[method-assign]

    original_attributes = models.SQSBackend.get_queue_attributes

    def get_queue_attributes(self: Any, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        if not attribute_names or "All" in attribute_names:
            return original_attributes(self, queue_name, attribute_names)  # validates, computes once
        queue = self.get_queue(queue_name)  # an unknown queue raises, as in moto
        valid = ["All", *queue.BASE_ATTRIBUTES, *queue.FIFO_ATTRIBUTES, *queue.KMS_ATTRIBUTES]
        invalid = next((name for name in attribute_names if name not in valid), None)
        if invalid or invalid == "":
            raise models.InvalidAttributeName(invalid)
        attributes = queue.attributes  # once, not up to three times per name
        return {name: attributes[name] for name in attribute_names if attributes.get(name) is not None}

    models.SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]

    # The three counts read the clock once per call, not twice per message (moto's visible/delayed).
    def count(test: Any) -> Any:
        def counted(self: Any) -> int:
            if getattr(_sending, "active", False):
                return 0  # send_message reads one flag of queue.attributes: its counts are never seen
            now = models.unix_time_millis()
            return sum(1 for message in list(self._messages) if test(message, now))
        return property(counted)

    models.Queue.approximate_number_of_messages = count(  # type: ignore[assignment]
        lambda m, now: now > m.visible_at and not now < m.delayed_until)
    models.Queue.approximate_number_of_messages_not_visible = count(  # type: ignore[assignment]
        lambda m, now: not now > m.visible_at)
    models.Queue.approximate_number_of_messages_delayed = count(  # type: ignore[assignment]
        lambda m, now: now < m.delayed_until)

    original_send = models.SQSBackend.send_message

    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        # moto computes every queue attribute to read ContentBasedDeduplication: three passes over the
        # queue per message sent, whose results it throws away.
        _sending.active = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            _sending.active = False

    models.SQSBackend.send_message = send_message  # type: ignore[method-assign]


# --- DynamoDB: item reads answered as JSON directly -----------------------------------------------

_ITEM_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})


def _wire_json(value: Any) -> Any:
    """``dynamo_to_dict``'s output as DynamoDB's JSON: binary values in base64, no null members (the
    serializer leaves out a member whose value is None)."""
    if isinstance(value, dict):
        return {key: _wire_json(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_wire_json(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    return value


def _install_item_read_answers() -> None:
    from moto.dynamodb.responses import DynamoResult

    serialize = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in _ITEM_READS or not isinstance(self.result, dict):
            return serialize(self, context)
        body = json.dumps(_wire_json(self.result), separators=(",", ":"))
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body

    execute_result.moto_serializer = serialize  # type: ignore[attr-defined]  # what the tests compare with
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


# --- the server ----------------------------------------------------------------------------------


def _install_module_list() -> None:
    from moto import backends

    listed = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = functools.cache(lambda: listed)  # type: ignore[assignment]


def _install_method_names() -> None:
    from moto.core import responses

    names = functools.cache(responses.method_names_from_class)
    responses.method_names_from_class = names  # type: ignore[assignment]


def install() -> None:
    global _installed
    if _installed:
        return
    _install_transactions()
    _install_partition_query()
    _install_sqs()
    _install_item_read_answers()
    _install_method_names()
    _install_module_list()
    _installed = True


# --- TTL -----------------------------------------------------------------------------------------


def sweep_expired(now: float | None = None) -> int:
    """Delete every item whose TTL attribute is a number of seconds at or before ``now``, in every
    table with TTL enabled (what DynamoDB does within a few days of expiry; moto never does). Returns
    how many items went."""
    from moto.dynamodb.models import dynamodb_backends

    now = time.time() if now is None else now
    deleted = 0
    for account in list(dynamodb_backends.values()):
        for backend in list(account.values()):
            for table in list(backend.tables.values()):
                ttl = getattr(table, "ttl", {}) or {}
                if ttl.get("TimeToLiveStatus") != "ENABLED" or not ttl.get("AttributeName"):
                    continue
                deleted += _sweep_table(table, ttl["AttributeName"], now)
    return deleted


def _sweep_table(table: Any, attribute: str, now: float) -> int:
    expired = []
    for hash_key, stored in list(table.items.items()):
        items = list(stored.values()) if table.range_key_attr else [stored]
        for item in items:
            value = item.attrs.get(attribute)
            if value is None or value.type != "N":
                continue  # DynamoDB ignores a TTL attribute that is not a number
            try:
                expires = float(value.value)
            except ValueError:
                continue
            if expires <= now:
                expired.append((hash_key, item.range_key))
    with _LOCK:  # never in the middle of a transaction's save-and-restore
        for hash_key, range_key in expired:
            table.delete_item(hash_key, range_key)  # moto's own delete: streams see a REMOVE
            if range_key is not None and not table.items.get(hash_key):
                table.items.pop(hash_key, None)
    return len(expired)


class TtlSweeper:
    """Runs ``sweep_expired`` every ``interval`` seconds in a daemon thread, until stopped."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.deleted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="moderato-ttl-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.deleted += sweep_expired()
            except Exception:  # a sweep racing a request may trip on moto's unlocked dicts: try next time
                log.warning("TTL sweep failed; trying again in %.0f s", self.interval, exc_info=True)

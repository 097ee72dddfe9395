"""Keep moto's own cost out of the local stack's hot path.

Measured (moto 5.2.5): ``TransactWriteItems`` deep-copies the whole table *once per item of the
transaction* before applying it, to roll back on a refused condition. A triage batch writes its
cases and their first events in one transaction of up to 20 items, so with 2,000 cases in CasesTable
every batch copied ~4,000 items twenty times: the stack slowed down as the table filled (the cost of
a transaction grows with the table, not with the transaction). DynamoDB itself has no such cost.

``install`` keeps moto's behaviour (all or nothing, the same errors) but saves only the items the
transaction names and puts them back if it is refused, so a transaction costs what it writes, whatever
the table holds. Transactions run one at a time under a lock (the local stack runs several handler
environments at once). tests/unit/local/test_moto_speed.py checks the all-or-nothing part.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_LOCK = threading.RLock()
_installed = False


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


def install() -> None:
    global _installed
    if _installed:
        return
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
    _installed = True

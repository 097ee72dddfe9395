"""Repeat offender memory: authors whose posts a reviewer confirmed as spam.

The review side calls :func:`record_confirmed_spam` when a moderator confirms a spam case (the
"confirm spam" decision). Triage then adds ``signal.repeat_offender`` to that author's next posts, a
WEAK signal: it turns an otherwise normal post into spam only together with another weak signal (a
shortener, an empty account...), and it never touches a complaint. The memory fades: each
confirmation keeps it for ``behaviour.offender_memory_days`` (TTL), counted from the last one.

    from moderato.adapters.signal_store import DynamoSignalStore
    from moderato.signals.offenders import record_confirmed_spam
    record_confirmed_spam(DynamoSignalStore(table, dynamodb), case.post.platform.value,
                          case.post.author.id, now=datetime.now(UTC))
"""

from __future__ import annotations

from datetime import datetime, timedelta

from moderato.signals.config import SignalsConfig, signals_config
from moderato.signals.engine import offender_key
from moderato.signals.store import SignalStore


def record_confirmed_spam(store: SignalStore, platform: str, author_id: str, now: datetime,
                          config: SignalsConfig | None = None) -> int:
    """Count one more confirmed spam case for this author; returns how many are remembered."""
    if not author_id:
        raise ValueError("a confirmed spammer needs the platform's author id")
    days = (config or signals_config()).behaviour.offender_memory_days
    expires = int((now + timedelta(days=days)).timestamp())
    return store.increment(offender_key(platform, author_id), "TOTAL", 1, expires)

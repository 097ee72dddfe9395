"""The webhook function's configuration from the environment, parsed once and validated at start.

Plain Python on purpose: the webhook's cold start is its latency budget, and pydantic (what
``moderato.settings`` uses for the other functions) costs more to import than the whole check below.
``moderato.settings`` re-exports every name here, so callers keep importing them from there.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import NamedTuple


class ConfigurationError(RuntimeError):
    pass


class WebhookSettings(NamedTuple):
    """Immutable, as the pydantic model was (a NamedTuple: a frozen dataclass costs ten times as much to define)."""

    ingest_queue_url: str
    delivery_bucket_name: str
    webhook_secret_id: str
    max_body_bytes: int = 1_048_576
    claim_check_threshold_bytes: int = 200_000
    secrets_max_age_seconds: int = 300


_REQUIRED = ("INGEST_QUEUE_URL", "DELIVERY_BUCKET_NAME", "WEBHOOK_SECRET_ID")
# Each integer setting with the smallest value it may take.
_INTEGERS = {"MAX_BODY_BYTES": 1, "CLAIM_CHECK_THRESHOLD_BYTES": 1, "SECRETS_MAX_AGE_SECONDS": 0}


def _set(name: str) -> str | None:
    """The variable's value; unset and empty are the same (a template parameter left blank)."""
    value = os.environ.get(name)
    return value if value else None


@lru_cache(maxsize=1)
def webhook_settings() -> WebhookSettings:
    problems = [f"{name} is required" for name in _REQUIRED if _set(name) is None]
    numbers: dict[str, int] = {}
    for name, least in _INTEGERS.items():
        raw = _set(name)
        if raw is None:
            continue
        try:
            number = int(raw)
        except ValueError:
            problems.append(f"{name} must be an integer, not {raw[:40]!r}")
            continue
        if number < least:
            problems.append(f"{name} must be at least {least}, not {number}")
        numbers[name.lower()] = number
    if problems:
        raise ConfigurationError(f"webhook function misconfigured: {'; '.join(problems)}")
    return WebhookSettings(
        ingest_queue_url=os.environ["INGEST_QUEUE_URL"], delivery_bucket_name=os.environ["DELIVERY_BUCKET_NAME"],
        webhook_secret_id=os.environ["WEBHOOK_SECRET_ID"], **numbers,
    )

"""How long a message that calls a platform waits before its next try. Pure.

The actions and enrich functions both call platform APIs that rate-limit and fail for a while; both
put the message back with this delay (SQS visibility), so a platform in trouble gets room to recover.
"""

from __future__ import annotations

BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 900


def backoff_seconds(receive_count: int) -> int:
    """30 s, 60 s, 120 s, ... capped at 15 min."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(0, receive_count - 1), BACKOFF_MAX_SECONDS)

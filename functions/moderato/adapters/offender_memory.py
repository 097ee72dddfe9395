"""The repeat-offender memory the review side writes to when a moderator confirms spam (SignalsTable)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from moderato.adapters.signal_store import DynamoSignalStore
from moderato.signals import record_confirmed_spam

logger = logging.getLogger(__name__)


class DynamoOffenderMemory:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._store = DynamoSignalStore(table_name, dynamodb)

    def record(self, platform: str, author_id: str, at: datetime) -> None:
        try:
            record_confirmed_spam(self._store, platform, author_id, at)
        except (ClientError, BotoCoreError):
            # The moderator's decision is already saved; a missed count only weakens a later signal,
            # so it must not turn a recorded decision into an error for the reviewer.
            logger.warning("could not record the confirmed spammer", exc_info=True,
                           extra={"platform": platform, "author_id": author_id})

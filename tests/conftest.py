"""What every layer of the suite shares: one process-wide logger, kept as each test found it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _service_logger_level_restored() -> Iterator[None]:
    # Every handler's Powertools logger is the one "moderato" logger of the process, and loading a handler
    # sets its level from POWERTOOLS_LOG_LEVEL: a suite that loads the webhook quiet (the fuzz fakes log at
    # CRITICAL) would otherwise silence the log lines later tests read, depending on test order.
    logger = logging.getLogger("moderato")
    level = logger.level
    yield
    if logger.level > max(level, logging.INFO):  # made quieter by the test: as it was, or Powertools' INFO
        logger.setLevel(level or logging.INFO)

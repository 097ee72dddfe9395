"""An SQS event source fills its batch for up to MaximumBatchingWindowInSeconds, as Lambda's pollers do."""

from __future__ import annotations

import time
from typing import Any

from moderato_local.pollers import SqsPoller
from tests.support import REPO


class TrickleQueue:
    """Hands out one message per receive, from a fixed supply."""

    def __init__(self, supply: int) -> None:
        self.supply = supply
        self.receives = 0

    def receive_message(self, MaxNumberOfMessages: int, **_: Any) -> dict[str, Any]:
        self.receives += 1
        if not self.supply:
            return {}
        self.supply -= 1
        return {"Messages": [{"MessageId": f"m{self.supply}", "ReceiptHandle": "h", "Body": "{}"}]}


class Function:
    name = "f"
    concurrency = 1


def poller(queue: TrickleQueue, window: float, batch: int = 5) -> SqsPoller:
    return SqsPoller("p", Function(), queue, "url", "arn", batch, True, 1, batching_window=window)  # type: ignore[arg-type]


def test_the_batch_fills_up_to_its_size_within_the_window() -> None:
    assert len(poller(TrickleQueue(supply=20), window=2).receive()) == 5


def test_a_batch_that_does_not_fill_goes_when_the_window_ends() -> None:
    started = time.monotonic()
    assert len(poller(TrickleQueue(supply=2), window=0.3).receive()) == 2
    assert 0.25 <= time.monotonic() - started < 1.5


def test_without_a_window_the_first_receive_is_the_batch() -> None:
    queue = TrickleQueue(supply=20)
    assert len(poller(queue, window=0).receive()) == 1 and queue.receives == 1


def test_only_http_functions_free_of_powertools_shared_state_run_concurrently() -> None:
    # The review API uses Powertools' event handler (a request kept in a class attribute): one at a time.
    # The webhook has its own router and writes single EMF lines: it runs as many as API Gateway would.
    from moderato_local.runtime import HTTP_CONCURRENCY, concurrency_of, serialized
    from moderato_local.template import Template

    functions = {spec.logical_id: spec for spec in Template.load(REPO / "template.yaml").functions()}
    assert serialized(functions["ReviewFunction"]) and concurrency_of(functions["ReviewFunction"]) == 1
    assert not serialized(functions["WebhookFunction"])
    assert concurrency_of(functions["WebhookFunction"]) == HTTP_CONCURRENCY > 1

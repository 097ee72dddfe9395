"""The local runtime serves concurrent HTTP calls as Lambda does: each request sees its own event."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from moderato_local.runtime import Activity, FunctionRuntime
from moderato_local.template import FunctionSpec
from tests.support import api_event, encode, signed_headers, x_tweet
from tests.webhook_fakes import webhook_with_fakes

HTTP_EVENT = {"Api": {"Type": "HttpApi", "Properties": {"Path": "/webhooks/{platform}", "Method": "POST"}}}


@pytest.fixture
def fine_thread_switching() -> Iterator[None]:
    # Threads switch every few microseconds instead of every 5 ms, so requests overlap inside handlers.
    saved = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(saved)


def http_function(logical_id: str, handler: Any) -> FunctionRuntime:
    spec = FunctionSpec(logical_id, "webhook.lambda_handler", timeout=30, memory=256, environment={},
                        events=HTTP_EVENT)
    function = FunctionRuntime(spec, f"moderato-local-{logical_id}", {}, Activity())
    function._handler = handler
    return function


def test_concurrent_signed_deliveries_through_two_http_functions_are_each_enqueued_once(
        monkeypatch: pytest.MonkeyPatch, fine_thread_switching: None) -> None:
    # Given two HTTP functions in one local process (Powertools keeps the current request in a class
    # attribute shared by every resolver of the process), both serving the real webhook handler
    webhook = webhook_with_fakes(monkeypatch)
    functions = [http_function("WebhookFunction", webhook.module.lambda_handler),
                 http_function("OtherHttpFunction", webhook.module.lambda_handler)]
    threads, per_thread = 4, 60
    sent = [[encode(x_tweet(f"@Floralys where is order #{t}-{n}? no reply since monday", tweet_id=f"{t}{n:04d}"))
             for n in range(per_thread)] for t in range(threads)]
    statuses: list[int] = []

    def deliver(bodies: list[bytes], function: FunctionRuntime) -> None:
        for body in bodies:
            event = api_event("POST", "/webhooks/x", body, signed_headers("x", body))
            statuses.append(function.invoke(event)["statusCode"])

    # When four clients post correctly signed deliveries at the same time
    workers = [threading.Thread(target=deliver, args=(bodies, functions[index % 2]))
               for index, bodies in enumerate(sent)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # Then every delivery is accepted and enqueued exactly once, with its own body
    assert statuses == [200] * threads * per_thread
    enqueued = sorted(body for _, body in webhook.ingest.enqueued)
    assert enqueued == sorted(body for bodies in sent for body in bodies)

"""The gateway's own answers: health before/after ready, 413, chunked bodies, 404 (no moto needed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from moderato_local.gateway import MAX_BODY_BYTES, Gateway, GatewayServer, bind_gateway, serve_in_thread
from moderato_local.routes import Route


class FakeFunction:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return {"statusCode": 202, "body": "queued"}


@pytest.fixture
def server() -> Iterator[GatewayServer]:
    running = bind_gateway(0)
    serve_in_thread(running)
    yield running
    running.shutdown()
    running.server_close()


def url(server: GatewayServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_health_is_503_until_the_stack_is_ready_then_200(server: GatewayServer) -> None:
    assert requests.get(url(server, "/health"), timeout=5).status_code == 503
    ready = {"value": False}
    server.gateway = Gateway([], {}, None, {}, lambda: (ready["value"], {"inflight": 0}))
    assert requests.get(url(server, "/health"), timeout=5).status_code == 503
    ready["value"] = True
    answer = requests.get(url(server, "/health"), timeout=5)
    assert (answer.status_code, answer.json()) == (200, {"status": "ok", "inflight": 0})


def test_bodies_over_the_api_limit_get_413_and_chunked_bodies_arrive_whole(server: GatewayServer) -> None:
    function = FakeFunction()
    route = Route("Fn", "Post", "Api", "POST", "/webhooks/{platform}")
    server.gateway = Gateway([route], {"Fn": function}, None, {"Api": "api"},  # type: ignore[dict-item]
                             lambda: (True, {}))
    too_big = requests.post(url(server, "/webhooks/meta"), data=b"x" * (MAX_BODY_BYTES + 1), timeout=30)
    assert too_big.status_code == 413 and function.events == []
    chunked = requests.post(url(server, "/webhooks/meta"), data=iter([b"hello ", b"world"]), timeout=10)
    assert (chunked.status_code, chunked.text) == (202, "queued")
    assert function.events[0]["body"] == "hello world"
    assert requests.post(url(server, "/other"), timeout=10).json() == {"message": "Not Found"}

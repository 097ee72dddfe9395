"""/health is not "ok" while AWS is unreachable: it probes the queue and the table, and answers 503."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from moderato_local.gateway import (
    Gateway,
    GatewayServer,
    bind_gateway,
    dependency_probes,
    dependency_status,
    serve_in_thread,
)

UNREACHABLE = {"endpoint_url": "http://127.0.0.1:9", "region_name": "eu-west-1",
               "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def server() -> Iterator[GatewayServer]:
    running = bind_gateway(0)
    serve_in_thread(running)
    yield running
    running.shutdown()
    running.server_close()


def health(server: GatewayServer) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{server.server_address[1]}/health", timeout=10)


def test_probes_of_an_unreachable_aws_say_which_dependency_is_down() -> None:
    probes = dependency_probes(UNREACHABLE, "http://127.0.0.1:9/123456789012/IngestQueue", "Cases")
    assert dependency_status(probes) == {"IngestQueue": "unavailable: EndpointConnectionError",
                                         "CasesTable": "unavailable: EndpointConnectionError"}


def test_health_is_503_with_retry_after_while_a_dependency_is_down(server: GatewayServer) -> None:
    state: dict[str, Any] = {"dependencies": {"IngestQueue": "ok", "CasesTable": "unavailable: ConnectTimeoutError"}}
    server.gateway = Gateway([], {}, None, {}, lambda: (True, dict(state)))
    down = health(server)
    assert down.status_code == 503 and down.headers["retry-after"] == "5"
    assert down.json()["status"] == "degraded" and down.json()["dependencies"]["CasesTable"].startswith("unavailable")
    assert down.json()["unavailable"] == ["CasesTable"]  # named as the deployed /health names it
    # When AWS is back, health is ok again
    state["dependencies"] = {"IngestQueue": "ok", "CasesTable": "ok"}
    assert (health(server).status_code, health(server).json()["status"]) == (200, "ok")

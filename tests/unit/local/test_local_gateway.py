"""The gateway's own answers: health before/after ready, 413, chunked bodies, 404; its access log (moto's
CloudWatch Logs, in process)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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


# --- the access log: a line per request, in the template's Format, sent in batches ---------------------

def template_access_log_format() -> str:
    from moderato_cli.paths import TEMPLATE
    from moderato_local.template import Template

    return str(Template.load(TEMPLATE).http_api("HttpApi")["AccessLogSettings"]["Format"])


@pytest.fixture
def logs() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("logs", region_name="eu-west-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        yield client


class CountingLogs:
    """The moto client, counting PutLogEvents calls, failing the first ``fail`` of them."""

    def __init__(self, client: Any, fail: int = 0) -> None:
        self._client, self.puts, self.fail = client, 0, fail
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_log_events(self, **kwargs: Any) -> Any:
        self.puts += 1
        if self.fail:
            from botocore.exceptions import EndpointConnectionError

            self.fail -= 1
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
        return self._client.put_log_events(**kwargs)


def test_every_request_writes_one_access_log_line_with_the_handlers_request_id(server: GatewayServer,
                                                                               logs: Any) -> None:
    from moderato_cli.commands.reconcile import accepted_deliveries
    from moderato_local.gateway import AccessLog

    group = "/aws/vendedlogs/moderato-local/http-api-access"
    counting = CountingLogs(logs)
    # Given the template's access-log format, a group the gateway did not create, and a slow flush
    access_log = AccessLog(template_access_log_format(), group, "httpapi_$default", counting,
                           flush_seconds=60).start()
    function = FakeFunction()
    accept = Route("Fn", "Post", "HttpApi", "POST", "/webhooks/{platform}")
    handshake = Route("Fn", "Get", "HttpApi", "GET", "/webhooks/{platform}")
    server.gateway = Gateway([accept, handshake], {"Fn": function},  # type: ignore[dict-item]
                             None, {"HttpApi": "httpapi"}, lambda: (True, {}), {"HttpApi": access_log})
    # When two deliveries, a handshake and an unrouted request arrive
    for _ in range(2):
        requests.post(url(server, "/webhooks/meta?x=1"), data=b"{}", headers={"user-agent": 'fb "ua"'},
                      timeout=10)
    requests.get(url(server, "/webhooks/meta?hub.verify_token=secret"), timeout=10)
    assert requests.post(url(server, "/other"), timeout=10).status_code == 404
    # Then nothing was sent yet (buffered), and one flush sends the four lines in one call
    assert counting.puts == 0
    access_log.close()
    assert counting.puts == 1 and access_log.sent == 4
    events = logs.filter_log_events(logGroupName=group)["events"]
    lines = [json.loads(event["message"]) for event in events]
    assert not any("$context" in event["message"] for event in events)
    ids = [event["requestContext"]["requestId"] for event in function.events]
    by_id = {line["requestId"]: line for line in lines}
    # Each handler's requestContext.requestId has its line, with the route key, the status and the path
    assert [by_id[rid]["routeKey"] for rid in ids] == ["POST /webhooks/{platform}"] * 2 + [
        "GET /webhooks/{platform}"]
    assert {by_id[rid]["status"] for rid in ids} == {"202"} and by_id[ids[0]]["method"] == "POST"
    assert by_id[ids[0]]["userAgent"] == 'fb "ua"' and by_id[ids[2]]["path"] == "/webhooks/meta"  # no query
    [unrouted] = [line for line in lines if line["requestId"] not in ids]
    assert (unrouted["routeKey"], unrouted["status"], unrouted["method"]) == ("-", "404", "POST")
    # Every value the format asks for is rendered ("-" when API Gateway would have none)
    assert all(value for line in lines for value in line.values())
    # And reconcile's reader finds the deliveries the webhook route answered 200... none here: they were 202
    now = datetime.now(UTC)
    assert accepted_deliveries(logs, group, now - timedelta(minutes=5), now + timedelta(minutes=1)) == {}


def test_the_access_log_flushes_in_the_background_and_keeps_lines_a_failed_put_could_not_send(
        logs: Any) -> None:
    from moderato_local.events import HttpRequest
    from moderato_local.gateway import AccessLog, AccessRecord

    counting = CountingLogs(logs, fail=1)
    logs.create_log_group(logGroupName="g")
    log_format = '{"requestId":"$context.requestId","status":"$context.status","x":"$context.unknown"}'
    access_log = AccessLog(log_format, "g", "s", counting, flush_seconds=0.05).start()
    request = HttpRequest("POST", "/webhooks/meta", "", [], b"{}")
    for index in range(3):
        access_log.write(AccessRecord(request, time.time(), request_id=f"r{index}", status=200))
    # The first put fails (AWS unreachable): the lines wait for the next flush, in the background
    deadline = time.monotonic() + 5
    while access_log.sent < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    access_log.close()
    assert access_log.sent == 3 and counting.puts >= 2
    messages = [json.loads(event["message"]) for event in logs.filter_log_events(logGroupName="g")["events"]]
    assert messages == [{"requestId": f"r{index}", "status": "200", "x": "-"} for index in range(3)]

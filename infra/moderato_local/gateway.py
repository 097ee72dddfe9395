"""The local API Gateway (HTTP API): HTTP requests in, payload 2.0 events to the real handlers.

Error answers copy API Gateway's own bodies ({"message": "Not Found"}, "Unauthorized", ...), so
clients and tests see locally what they will see in AWS.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from moderato_local.events import HttpRequest, HttpResponse, http_api_event, http_api_response
from moderato_local.jwt_issuer import (
    JwtSettings,
    TokenError,
    bearer_token,
    flatten_claims,
    token_scopes,
    verify_token,
)
from moderato_local.routes import Route, select_route
from moderato_local.runtime import FunctionRuntime

log = logging.getLogger("moderato_local")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
HEALTH_PATH = "/health"
HEALTH_RETRY_AFTER_SECONDS = 5
# A health probe must answer fast even when AWS does not: one attempt, short timeouts.
_PROBE_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1, "mode": "standard"})


def dependency_probes(aws_settings: dict[str, Any], queue_url: str | None,
                      table_name: str | None) -> dict[str, Callable[[], object]]:
    """What the API needs to do its work: the queue deliveries go to and the table cases live in."""
    probes: dict[str, Callable[[], object]] = {}
    # A session of their own: the local fault injector hooks the default one, and /health must report
    # AWS as it is, without adding its polls to the faults counted under `make load`.
    session = boto3.session.Session()
    if queue_url:
        sqs = session.client("sqs", config=_PROBE_CONFIG, **aws_settings)
        probes["IngestQueue"] = lambda: sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    if table_name:
        dynamodb = session.client("dynamodb", config=_PROBE_CONFIG, **aws_settings)
        probes["CasesTable"] = lambda: dynamodb.describe_table(TableName=table_name)
    return probes


def dependency_status(probes: dict[str, Callable[[], object]]) -> dict[str, str]:
    """"ok" per dependency that answered, else the error's name (never its text: it may hold an address)."""
    status: dict[str, str] = {}
    for name, probe in probes.items():
        try:
            probe()
            status[name] = "ok"
        except (BotoCoreError, ClientError) as error:
            status[name] = f"unavailable: {type(error).__name__}"
    return status


def _json(status: int, payload: dict[str, Any], headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    body = json.dumps(payload).encode()
    return HttpResponse(status, [("content-type", "application/json"), *(headers or [])], body)


class Gateway:
    """Routes and invokes; the HTTP server part is ``GatewayServer`` below."""

    def __init__(
        self,
        routes: list[Route],
        functions: dict[str, FunctionRuntime],
        jwt_settings: JwtSettings | None,
        api_ids: dict[str, str],
        health: Callable[[], tuple[bool, dict[str, Any]]],
    ) -> None:
        self.routes = routes
        self.functions = functions
        self.jwt_settings = jwt_settings
        self.api_ids = api_ids  # logical id of the HttpApi -> its local api id
        self.health = health

    def handle(self, request: HttpRequest, domain_name: str) -> HttpResponse:
        if request.method == "GET" and request.raw_path.rstrip("/") == HEALTH_PATH:
            ready, details = self.health()
            down = [name for name, state in (details.get("dependencies") or {}).items() if state != "ok"]
            if ready and not down:
                return _json(200, {"status": "ok", **details})
            # Starting, or AWS unreachable: either way not healthy, and worth asking again shortly.
            # The deployed /health's shape (functions/moderato/health.py): names what is down.
            return _json(503, {"status": "starting" if not ready else "degraded", "unavailable": down, **details},
                         [("retry-after", str(HEALTH_RETRY_AFTER_SECONDS))])
        if len(request.body) > MAX_BODY_BYTES:
            return _json(413, {"message": "Request Entity Too Large"})
        selected = select_route(self.routes, request.method, request.raw_path)
        if selected is None:
            return _json(404, {"message": "Not Found"})
        route, path_parameters = selected
        authorizer: dict[str, Any] | None = None
        if route.auth is not None:
            outcome = self._authorize(route, request)
            if isinstance(outcome, HttpResponse):
                return outcome
            authorizer = outcome
        event = http_api_event(
            request, route.route_key, path_parameters, self.api_ids.get(route.api_id, route.api_id),
            domain_name, authorizer,
        )
        try:
            result = self.functions[route.function_id].invoke(event)
            return http_api_response(result)
        except Exception:
            log.error("%s failed on %s:\n%s", route.function_id, route.route_key, traceback.format_exc())
            return _json(500, {"message": "Internal Server Error"})

    def _authorize(self, route: Route, request: HttpRequest) -> dict[str, Any] | HttpResponse:
        assert route.auth is not None
        header = next((value for name, value in request.headers if name.lower() == route.auth.header), None)
        token = bearer_token(header)
        denied = _json(401, {"message": "Unauthorized"},
                       [("www-authenticate", 'Bearer error="invalid_token"')])
        if token is None or self.jwt_settings is None:
            return denied
        try:
            claims = verify_token(self.jwt_settings, token)
        except TokenError as error:
            log.info("401 on %s: %s", route.route_key, error)
            return denied
        scopes = token_scopes(claims)
        if route.auth.scopes and not set(route.auth.scopes) & set(scopes or ()):
            return _json(403, {"message": "Forbidden"})
        return {"jwt": {"claims": flatten_claims(claims), "scopes": scopes}}


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    gateway: Gateway | None = None  # set once provisioning is done; until then only /health answers


def _make_handler() -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server: GatewayServer

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                # Refuse without buffering; reading it off the socket (up to a bound) lets the client
                # finish sending and see the 413 instead of a connection reset.
                remaining = min(length, 8 * MAX_BODY_BYTES)
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                self._send(_json(413, {"message": "Request Entity Too Large"}), close=True)
                return
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                body = self._read_chunked()
            else:
                body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            request = HttpRequest(
                method=self.command, raw_path=path, raw_query=query, headers=list(self.headers.items()),
                body=body, source_ip=self.client_address[0], protocol=self.request_version,
            )
            gateway = self.server.gateway
            if gateway is None:
                starting = {"status": "starting"} if path == HEALTH_PATH else {"message": "Service Unavailable"}
                response = _json(503, starting)
            else:
                response = gateway.handle(request, self.headers.get("host") or "127.0.0.1")
            self._send(response)

        def _read_chunked(self) -> bytes:
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()  # the CRLF after each chunk
                if len(body) > MAX_BODY_BYTES:
                    return bytes(body)  # handle() answers 413

        def _send(self, response: HttpResponse, close: bool = False) -> None:
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("content-length", str(len(response.body)))
            if close:
                self.send_header("connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            log.info("gateway %s %s", self.address_string(), format % args)

    return Handler


def bind_gateway(port: int, host: str = "127.0.0.1") -> GatewayServer:
    """Bind now (so a busy port fails fast, before anything starts); serve later."""
    return GatewayServer((host, port), _make_handler())


def serve_in_thread(server: GatewayServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="moderato-gateway", daemon=True)
    thread.start()
    return thread

"""The local API Gateway (HTTP API): HTTP requests in, payload 2.0 events to the real handlers.

Error answers copy API Gateway's own bodies ({"message": "Not Found"}, "Unauthorized", ...), so
clients and tests see locally what they will see in AWS. Each request also writes one access-log line,
in the API's AccessLogSettings.Format, to its CloudWatch Logs group (``AccessLog``): ``moderato
reconcile`` reads acceptance from those lines, so the local stack must write them as API Gateway does.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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


# --- access log ------------------------------------------------------------------------------------

_CONTEXT_VARIABLE = re.compile(r"\$context\.([A-Za-z][A-Za-z0-9_.]*[A-Za-z0-9_])")
# PutLogEvents' limits: 10,000 events and 1,048,576 bytes a call, counting 26 bytes per event.
_PUT_MAX_EVENTS = 10_000
_PUT_MAX_BYTES = 1_048_576 - 64 * 1024
_EVENT_OVERHEAD = 26
# Lines kept for a later flush while PutLogEvents fails (moto restarting): bounded, so a stack whose
# AWS is gone does not grow without end.
_MAX_PENDING = 200_000


@dataclass
class AccessRecord:
    """What API Gateway knows of one request when it writes the access-log line."""

    request: HttpRequest
    started: float  # epoch seconds
    request_id: str = ""
    route_key: str = "-"
    api_id: str | None = None  # the logical id of the HttpApi whose route took it; None: no route matched
    status: int = 0
    response_length: int = 0
    latency_ms: int = 0
    integration_latency_ms: int | None = None
    integration_status: int | None = None
    integration_error: str | None = None
    error_message: str | None = None

    def variables(self) -> dict[str, str]:
        """``$context.*`` values by name; absent ones render as "-", as API Gateway renders them."""
        user_agent = next((value for name, value in self.request.headers if name.lower() == "user-agent"), None)
        values: dict[str, Any] = {
            "requestId": self.request_id, "extendedRequestId": self.request_id,
            "requestTime": datetime.fromtimestamp(self.started, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(self.started * 1000),
            "identity.sourceIp": self.request.source_ip, "identity.userAgent": user_agent,
            "httpMethod": self.request.method, "routeKey": self.route_key, "path": self.request.raw_path,
            "protocol": self.request.protocol, "stage": "$default",
            "status": self.status, "responseLength": self.response_length, "responseLatency": self.latency_ms,
            "integrationLatency": self.integration_latency_ms, "integration.latency": self.integration_latency_ms,
            "integrationStatus": self.integration_status, "integration.status": self.integration_status,
            "integrationErrorMessage": self.integration_error, "integration.error": self.integration_error,
            "error.message": self.error_message,
        }
        return {name: "-" if value is None or value == "" else str(value) for name, value in values.items()}


class AccessLog:
    """One HTTP API's access log: a line per request in its template Format, sent in batches.

    ``write`` only renders the line and appends it under a lock (a few microseconds on the request's
    thread); a background thread sends what accumulated every ``flush_seconds`` with PutLogEvents,
    and ``close`` sends the rest, so the log costs the gateway no AWS call per request.
    """

    def __init__(self, log_format: str, group: str, stream: str, logs: Any, flush_seconds: float = 0.5) -> None:
        self.group = group
        self.stream = stream
        self._logs = logs
        self._flush_seconds = flush_seconds
        # The format split once: literal text, then the variable to put after it, then literal text...
        self._parts = _CONTEXT_VARIABLE.split(log_format)
        self._pending: list[tuple[int, str]] = []  # (timestamp in ms, line)
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # one PutLogEvents at a time: the flusher's or close()'s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.dropped = 0

    def render(self, record: AccessRecord) -> str:
        values = record.variables()
        out = []
        for index, part in enumerate(self._parts):
            if index % 2:
                # JSON-escaped: a quote in a user agent must not break the line's JSON
                out.append(json.dumps(values.get(part, "-"))[1:-1])
            else:
                out.append(part)
        return "".join(out)

    def write(self, record: AccessRecord) -> None:
        line = self.render(record)
        with self._lock:
            self._pending.append((int(record.started * 1000), line))

    def start(self) -> AccessLog:
        """Create the stream (and the group, when the provisioner did not), then flush in the background."""
        exists = self._logs.exceptions.ResourceAlreadyExistsException
        try:
            with contextlib.suppress(exists):
                self._logs.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
        except self._logs.exceptions.ResourceNotFoundException:
            with contextlib.suppress(exists):
                self._logs.create_log_group(logGroupName=self.group)
            self._logs.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
        self._thread = threading.Thread(target=self._run, name="moderato-access-log", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()

    def flush(self) -> int:
        """Send every line written so far; on failure keep them for the next flush. Returns lines sent."""
        with self._send_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            batch.sort(key=lambda event: event[0])  # PutLogEvents wants each call in time order
            sent = 0
            try:
                for chunk in _chunks(batch):
                    self._logs.put_log_events(logGroupName=self.group, logStreamName=self.stream,
                                              logEvents=[{"timestamp": ts, "message": line} for ts, line in chunk])
                    sent += len(chunk)
            except (ClientError, BotoCoreError) as error:  # a log write must never take the gateway down
                rest = batch[sent:]
                log.warning("access log: PutLogEvents to %s failed (%s); %d line(s) kept for the next flush",
                            self.group, type(error).__name__, len(rest))
                with self._lock:
                    self._pending[:0] = rest
                    if len(self._pending) > _MAX_PENDING:
                        self.dropped += len(self._pending) - _MAX_PENDING
                        del self._pending[:len(self._pending) - _MAX_PENDING]
            self.sent += sent
            return sent

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        self.flush()


def _chunks(events: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    chunks: list[list[tuple[int, str]]] = [[]]
    size = 0
    for event in events:
        cost = len(event[1].encode()) + _EVENT_OVERHEAD
        if chunks[-1] and (len(chunks[-1]) >= _PUT_MAX_EVENTS or size + cost > _PUT_MAX_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(event)
        size += cost
    return chunks


class Gateway:
    """Routes and invokes; the HTTP server part is ``GatewayServer`` below."""

    def __init__(
        self,
        routes: list[Route],
        functions: dict[str, FunctionRuntime],
        jwt_settings: JwtSettings | None,
        api_ids: dict[str, str],
        health: Callable[[], tuple[bool, dict[str, Any]]],
        access_logs: dict[str, AccessLog] | None = None,
    ) -> None:
        self.routes = routes
        self.functions = functions
        self.jwt_settings = jwt_settings
        self.api_ids = api_ids  # logical id of the HttpApi -> its local api id
        self.health = health
        self.access_logs = access_logs or {}  # logical id of the HttpApi -> its access log

    def handle(self, request: HttpRequest, domain_name: str) -> HttpResponse:
        record = AccessRecord(request, time.time())
        response = self._handle(request, domain_name, record)
        if self.access_logs:
            self._log_access(record, response)
        return response

    def _log_access(self, record: AccessRecord, response: HttpResponse) -> None:
        access_log = self.access_logs.get(record.api_id) if record.api_id else None
        if access_log is None and record.api_id is None and len(self.access_logs) == 1:
            # Every API shares this one local port: a request no route took is the only API's.
            [access_log] = self.access_logs.values()
        if access_log is None:
            return
        record.request_id = record.request_id or str(uuid.uuid4())
        record.status = response.status
        record.response_length = len(response.body)
        record.latency_ms = int((time.time() - record.started) * 1000)
        if response.status >= 400 and record.integration_status is None:
            with contextlib.suppress(ValueError, AttributeError):
                record.error_message = json.loads(response.body).get("message")
        access_log.write(record)

    def _handle(self, request: HttpRequest, domain_name: str, record: AccessRecord) -> HttpResponse:
        if request.method == "GET" and request.raw_path.rstrip("/") == HEALTH_PATH:
            selected = select_route(self.routes, request.method, request.raw_path)
            if selected is not None:
                record.route_key, record.api_id = selected[0].route_key, selected[0].api_id
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
        record.route_key, record.api_id = route.route_key, route.api_id
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
        # The handler sees this id as requestContext.requestId: the access log must name the same one.
        record.request_id = event["requestContext"]["requestId"]
        invoked = time.time()
        try:
            result = self.functions[route.function_id].invoke(event)
            record.integration_status = 200
            return http_api_response(result)
        except Exception as error:
            log.error("%s failed on %s:\n%s", route.function_id, route.route_key, traceback.format_exc())
            record.integration_status, record.integration_error = 200, type(error).__name__
            return _json(500, {"message": "Internal Server Error"})
        finally:
            record.integration_latency_ms = int((time.time() - invoked) * 1000)

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

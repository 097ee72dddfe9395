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
            return _json(200 if ready else 503, {"status": "ok" if ready else "starting", **details})
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

"""A fake social platform API (Graph API and X API v2 shapes) that records every call it receives.

The actions function points at it through META_GRAPH_URL / X_API_URL, so tests (and curious
developers) see exactly what Moderato would have sent: method, path, body and whether a token came.
It answers POST and PUT with a success and anything else (DELETE above all) with 405, recorded too,
so a test can prove no delete was ever attempted. ``fail_next(status, times)`` makes the next calls
fail the way a real platform does (429 rate limit, 503 outage, 403 token refused, 404 post gone), so
retries and permanent failures can be watched end to end.

    python -m moderato_local.fake_platform --port 8790   # GET /_calls lists what it received
"""

from __future__ import annotations

import argparse
import json
import threading
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

CALLS_PATH = "/_calls"


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    query: str
    body: str
    form: dict[str, str]
    json: Any
    authorized: bool  # a Bearer token was sent (its value is not kept)


class FakePlatform:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.calls: list[RecordedCall] = []
        self._failures: list[tuple[int, Any]] = []  # (status, body) of the next answers, in order
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-platform", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakePlatform:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def record(self, call: RecordedCall) -> None:
        with self._lock:
            self.calls.append(call)

    def fail_next(self, status: int, times: int = 1, body: Any = None) -> None:
        """Answer the next ``times`` POST/PUT calls with ``status`` (a Graph-API-like error body by default)."""
        payload = body if body is not None else {"error": {"message": f"fake platform error {status}",
                                                           "type": "OAuthException", "code": status}}
        with self._lock:
            self._failures.extend([(status, payload)] * times)

    def next_failure(self) -> tuple[int, Any] | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def received(self, method: str | None = None, path_suffix: str = "") -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if (method is None or c.method == method) and c.path.endswith(path_suffix)]


def _handler(platform: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            path, _, query = self.path.partition("?")
            if self.command == "GET" and path == CALLS_PATH:
                self._answer(200, [asdict(call) for call in platform.received()])
                return
            content_type = self.headers.get("content-type") or ""
            body_json: Any = None
            form: dict[str, str] = {}
            if "json" in content_type and raw:
                try:
                    body_json = json.loads(raw)
                except ValueError:
                    body_json = None
            elif raw:
                form = dict(parse_qsl(raw, keep_blank_values=True))
            authorized = (self.headers.get("authorization") or "").lower().startswith("bearer ")
            platform.record(RecordedCall(self.command, path, query, raw, form, body_json, authorized))
            if self.command not in ("POST", "PUT"):
                self._answer(405, {"error": {"message": f"{self.command} is not allowed here"}})
            elif not authorized:
                self._answer(401, {"error": {"message": "no access token"}})
            elif (failure := platform.next_failure()) is not None:
                self._answer(*failure)
            else:
                self._answer(200, {"success": True, "data": {"hidden": True} if "hidden" in path else {}})

        def _answer(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the calls are recorded, not printed

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a fake platform API that records calls.")
    parser.add_argument("--port", type=int, default=8790)
    args = parser.parse_args()
    with FakePlatform(port=args.port) as platform:
        print(f"fake platform on {platform.url} (GET {platform.url}{CALLS_PATH} lists calls); "
              f"start the stack with META_GRAPH_URL={platform.url} X_API_URL={platform.url}")
        threading.Event().wait()


if __name__ == "__main__":
    main()

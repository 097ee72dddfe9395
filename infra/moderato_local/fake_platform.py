"""A fake social platform API (Graph API and X API v2 shapes) that records every call it receives.

The actions function points at it through META_GRAPH_URL / X_API_URL, so tests (and curious
developers) see exactly what Moderato would have sent: method, path, body and whether a token came.
It answers POST and PUT with a success and anything else (DELETE above all) with 405, recorded too,
so a test can prove no delete was ever attempted. ``fail_next(status, times)`` makes the next calls
fail the way a real platform does (429 rate limit, 503 outage, 403 token refused, 404 post gone), so
retries and permanent failures can be watched end to end.

X OAuth 2.0 is emulated too: ``issue_x_tokens()`` hands out an access token and a single-use refresh
token; from then on X API calls (``/2/...``) need a valid, unexpired access token (401 otherwise),
``expire_x_access_tokens()`` ends them early, and ``POST /2/oauth2/token`` with
``grant_type=refresh_token`` rotates the pair the way X does (the old refresh token stops working:
400 ``invalid_request``). ``x_tokens()`` is the pair X holds now, and each call records a fingerprint of
the bearer token it came with (``token_fingerprint(token)``), so a test can tell which token an
action used without the fake keeping token values.

Instagram @mentions arrive with ids only, and the enrich function reads their text with a GET the Graph
API documents: ``GET /{ig-user-id}?fields=mentioned_comment.comment_id(<id>){id,text,timestamp,media}``
(or ``mentioned_media.media_id(<id>){caption,...}``). ``add_mention(id, text, username)`` makes the fake
answer it; any other GET is still refused with 405.

    python -m moderato_local.fake_platform --port 8790   # GET /_calls lists what it received
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl

CALLS_PATH = "/_calls"
X_TOKEN_PATH = "/2/oauth2/token"
_MENTION_FIELDS = re.compile(r"(mentioned_comment)\.comment_id\(([^)]+)\)|(mentioned_media)\.media_id\(([^)]+)\)")


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    query: str
    body: str
    form: dict[str, str]
    json: Any
    authorized: bool  # a Bearer token was sent (its value is not kept)
    basic_user: str | None = None  # the user (client id) of an HTTP Basic header; the password is not kept
    token_fingerprint: str | None = None  # token_fingerprint() of the Bearer token, to compare, not to reuse


def token_fingerprint(token: str) -> str:
    """A short one-way digest of a bearer token: enough to tell two tokens apart in a test."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


class FakePlatform:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.calls: list[RecordedCall] = []
        self._failures: list[tuple[int, Any]] = []  # (status, body) of the next answers, in order
        self._lock = threading.Lock()
        self._x_access: dict[str, float] | None = None  # access token -> expiry (epoch s); None: not checked
        self._x_refresh: str | None = None
        self._x_serial = itertools.count(2)
        self._mentions: dict[str, dict[str, str]] = {}
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

    def issue_x_tokens(self, access_token: str = "x-access-1", refresh_token: str = "x-refresh-1",
                       expires_in: int = 7200) -> None:
        """Start checking X bearer tokens: this pair is the one X issued to the brand account."""
        with self._lock:
            self._x_access = {access_token: time.time() + expires_in}
            self._x_refresh = refresh_token

    def expire_x_access_tokens(self) -> None:
        with self._lock:
            self._x_access = dict.fromkeys(self._x_access or {}, 0.0)

    def x_tokens(self) -> tuple[str | None, str | None]:
        """The newest access token and the refresh token X would accept now (None before issue_x_tokens)."""
        with self._lock:
            access = max(self._x_access or {}, key=lambda token: (self._x_access or {})[token], default=None)
            return access, self._x_refresh

    def x_token_valid(self, token: str) -> bool:
        with self._lock:
            return self._x_access is None or self._x_access.get(token, 0.0) > time.time()

    def refresh_x_tokens(self, form: dict[str, str]) -> tuple[int, Any]:
        with self._lock:
            if form.get("grant_type") != "refresh_token" or not form.get("client_id"):
                return 400, {"error": "invalid_request", "error_description": "Missing required parameter."}
            if self._x_refresh is None or form.get("refresh_token") != self._x_refresh:
                return 400, {"error": "invalid_request",
                             "error_description": "Value passed for the token was invalid."}
            serial = next(self._x_serial)
            access, refresh = f"x-access-{serial}", f"x-refresh-{serial}"
            self._x_access = {**(self._x_access or {}), access: time.time() + 7200}
            self._x_refresh = refresh  # single-use: the one just presented stops working
            return 200, {"token_type": "bearer", "expires_in": 7200, "access_token": access,
                         "scope": "tweet.read users.read tweet.moderate.write tweet.write offline.access",
                         "refresh_token": refresh}

    def add_mention(self, target_id: str, text: str, username: str = "someone",
                    timestamp: str = "2026-12-04T10:00:00+0000") -> None:
        """The comment (or caption) with this id mentions the account: the Graph GET now answers with it."""
        with self._lock:
            self._mentions[target_id] = {"id": target_id, "text": text, "caption": text, "username": username,
                                         "timestamp": timestamp}

    def mention_answer(self, query: str) -> tuple[int, Any] | None:
        """The Graph answer to a mentioned_comment / mentioned_media read, or None if the query is not one."""
        fields = parse_qs(query).get("fields", [""])[0]
        match = _MENTION_FIELDS.match(fields)
        if match is None:
            return None
        edge, target = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        with self._lock:
            found = self._mentions.get(target)
        if found is None:
            return 400, {"error": {"message": f"Unsupported get request: no mention {target}", "code": 100}}
        # Only the fields each node's reference lists: a mentioned comment has no username.
        keep = ("id", "timestamp", "text") if edge == "mentioned_comment" else (
            "id", "username", "timestamp", "caption")
        return 200, {edge: {key: found[key] for key in keep}}

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
            authorization = self.headers.get("authorization") or ""
            authorized = authorization.lower().startswith("bearer ")
            bearer = authorization[len("bearer "):] if authorized else None
            platform.record(RecordedCall(self.command, path, query, raw, form, body_json, authorized,
                                         _basic_user(authorization),
                                         token_fingerprint(bearer) if bearer is not None else None))
            mention = platform.mention_answer(query) if self.command == "GET" else None
            if mention is not None:
                failure = platform.next_failure() if authorized else (401, {"error": {"message": "no access token"}})
                self._answer(*(failure or mention))
            elif self.command not in ("POST", "PUT"):
                self._answer(405, {"error": {"message": f"{self.command} is not allowed here"}})
            elif self.command == "POST" and path == X_TOKEN_PATH:
                self._answer(*platform.refresh_x_tokens(form))
            elif not authorized:
                self._answer(401, {"error": {"message": "no access token"}})
            elif path.startswith("/2/") and not platform.x_token_valid(bearer or ""):
                self._answer(401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                                   "detail": "Unauthorized"})
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


def _basic_user(authorization: str) -> str | None:
    if not authorization.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(authorization[len("basic "):]).decode().partition(":")[0]
    except ValueError:
        return None


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

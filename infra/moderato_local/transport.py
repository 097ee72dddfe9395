"""The handlers' AWS calls reach the embedded moto without a socket.

Every call through moto's HTTP server opened a TCP connection (werkzeug's server always answers
``Connection: close``), started a server thread and parsed HTTP twice, all under the one GIL the handlers
need too: a DynamoDB GetItem cost 4-5 ms of the stack's process, 2.2 ms without it (measured, moto
5.2.5). Here botocore does all it does for AWS (serialize, sign, retry, parse, the fault injector's
hooks) and at its ``before-send`` event, where urllib3 would take over, the request goes to moto's
own WSGI application (the one the server runs: same routing, same backends, same answers) and its
answer comes back as the HTTP response would. Only requests to this stack's moto endpoint are taken;
anything else, and every client outside this process (the CLI, tests, ``make load``), still goes over
HTTP to the same moto. ``MODERATO_LOCAL_MOTO_HTTP=1`` turns it off.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse

_HOOK_ID = "moderato-local-inprocess-moto"


class InProcessMoto:
    def __init__(self, endpoint: str) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.endpoint = endpoint.rstrip("/")
        self._app = DomainDispatcherApplication(create_backend_app)
        self._events: Any = None
        self.calls = 0

    def install(self, events: Any) -> None:
        """Hook a session's events: clients created from it from now on send to moto in process. Last
        of the before-send handlers, so a handler that answers first (an injected 503) still wins."""
        events.register_last("before-send", self.send, unique_id=_HOOK_ID)
        self._events = events

    def uninstall(self) -> None:
        if self._events is not None:
            self._events.unregister("before-send", unique_id=_HOOK_ID)
            self._events = None

    def send(self, request: Any, **_: Any) -> AWSResponse | None:
        if not (request.url == self.endpoint or request.url.startswith(self.endpoint + "/")
                or request.url.startswith(self.endpoint + "?")):
            return None
        from moto.core.botocore_stubber import MockRawResponse
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        parts = urlsplit(request.url)
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {name: value.decode("utf-8") if isinstance(value, bytes) else value
                   for name, value in request.headers.items()}
        environ = EnvironBuilder(method=request.method, base_url=self.endpoint, path=parts.path or "/",
                                 query_string=parts.query, headers=headers, data=body or b"").get_environ()
        environ["REMOTE_ADDR"] = "127.0.0.1"
        app_iter, status, response_headers = run_wsgi_app(self._app, environ, buffered=True)
        try:
            content = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        self.calls += 1
        return AWSResponse(request.url, int(status.split(" ", 1)[0]), dict(response_headers.items()),
                           MockRawResponse(content))

"""Run the real handlers in this process, one warm "container" per function.

Each function gets a lock: Lambda never runs two invocations in one execution environment at once,
and Powertools (Logger keys, idempotency, metrics buffers) relies on that. Different functions may
run at the same time, as they would in AWS. That also makes a function's effective concurrency 1,
which honours any MaximumConcurrency in the template (loosely: AWS would allow more).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from moderato_local.resolver import ACCOUNT_ID, REGION
from moderato_local.template import FunctionSpec

log = logging.getLogger("moderato_local")


@dataclass
class LambdaContext:
    """The attributes and method of the Lambda Python context object that handlers use."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class Activity:
    """Counts invocations in flight, so the stack can tell when it is idle."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0
        self.total = 0
        self.last_change = time.monotonic()

    @contextmanager
    def running(self) -> Iterator[None]:
        with self._lock:
            self.in_flight += 1
            self.total += 1
            self.last_change = time.monotonic()
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1
                self.last_change = time.monotonic()


class FunctionRuntime:
    """One function: its handler (imported once, like a warm start) and how to invoke it."""

    def __init__(self, spec: FunctionSpec, name: str, environment: dict[str, str], activity: Activity) -> None:
        self.spec = spec
        self.name = name
        self.environment = environment
        self.activity = activity
        self._lock = threading.Lock()
        self._handler: Any = None

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"

    def load(self) -> None:
        """Import the handler module with this function's own environment, as its cold start would.

        Powertools reads POWERTOOLS_SERVICE_NAME and friends when Logger/Metrics are created at import,
        so a value that differs between functions must be in os.environ at that moment.
        """
        module_name, _, attribute = self.spec.handler.rpartition(".")
        saved = {key: os.environ.get(key) for key in self.environment}
        os.environ.update(self.environment)
        try:
            module = importlib.import_module(module_name)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise RuntimeError(f"{self.spec.logical_id}: {self.spec.handler} is not a function")
        self._handler = handler

    def invoke(self, event: dict[str, Any]) -> Any:
        """Call the handler; exceptions propagate (each event source decides what failure means)."""
        if self._handler is None:
            self.load()
        with self.activity.running(), self._lock:
            request_id = str(uuid.uuid4())
            context = LambdaContext(
                function_name=self.name,
                function_version="$LATEST",
                invoked_function_arn=self.arn,
                memory_limit_in_mb=self.spec.memory,
                aws_request_id=request_id,
                log_group_name=f"/aws/lambda/{self.name}",
                log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
                deadline=time.monotonic() + self.spec.timeout,
            )
            started = time.monotonic()
            try:
                return self._handler(event, context)
            finally:
                elapsed = (time.monotonic() - started) * 1000
                log.info("REPORT %s RequestId: %s Duration: %.1f ms", self.name, request_id, elapsed)
                if elapsed > self.spec.timeout * 1000:
                    # Not enforced (a thread cannot be killed), but visible: AWS would have timed out.
                    log.warning("%s ran %.0f ms, past its %d s timeout", self.name, elapsed, self.spec.timeout)


class OutputRedirect:
    """Send handler stdout/stderr (Powertools JSON logs, EMF metrics) to a file, not the console.

    Must be active before handlers are imported: Powertools' Logger binds sys.stdout at creation.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._file: TextIO | None = None
        self._saved: tuple[TextIO, TextIO] | None = None

    def __enter__(self) -> TextIO:
        self._file = open(self.path, "a", encoding="utf-8", buffering=1)
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = sys.stderr = self._file
        return self._file

    def __exit__(self, *_: object) -> None:
        if self._saved:
            # Only undo our own redirect: someone else may have replaced the streams since.
            if sys.stdout is self._file:
                sys.stdout = self._saved[0]
            if sys.stderr is self._file:
                sys.stderr = self._saved[1]
        if self._file:
            # Left open on purpose: loggers created by handlers at import keep a reference to it,
            # and a closed stream would turn their next write into a logging error.
            self._file.flush()

"""Run the real handlers in this process, with as many warm "containers" per function as the template allows.

Lambda never runs two invocations in one execution environment at once, and module-level state
(Powertools' Logger keys, the batch's signal-store buffer) relies on that. So each environment is its
own copy of the handler module (imported again under another name, so its globals are its own), and
an invocation takes one environment for itself. A function gets as many as the template gives its
event sources (an SQS event's ``ScalingConfig.MaximumConcurrency``, 2 without one; HTTP functions
``HTTP_CONCURRENCY``, see there); the pollers run that many batches at once. Shared by all environments,
as they would not be in AWS:
the ``moderato`` package's modules (pure, or caches of thread-safe boto3 clients) and Powertools
Metrics' class-level buffer (metrics of concurrent invocations may be flushed together: local logs only).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from moderato_local.faults import FaultInjector, run_crashing
from moderato_local.resolver import ACCOUNT_ID, REGION
from moderato_local.template import FunctionSpec

log = logging.getLogger("moderato_local")

# API Gateway invokes as many environments as requests in flight. Locally, an HTTP function that uses
# Powertools' event handler or its Metrics buffer keeps one: the handler keeps the current request in a
# class attribute (BaseRouter.current_event) and Metrics its buffer in class attributes, shared by every
# copy of the module in this process, so two requests at once would read each other's request (measured:
# deliveries recorded under another delivery's id, a crash in the shared buffer). The same attributes are
# shared by every such function of the process (the review API), so one of their invocations runs at a
# time across all of them. A function with neither (the webhook: its own router, single EMF lines) runs
# HTTP_CONCURRENCY environments, so one request waiting on an AWS retry's backoff does not hold the others
# (its log lines may then carry a neighbour's Lambda context: Powertools' Logger formatter is per process).
HTTP_CONCURRENCY = 8
_SHARED_STATE = ("aws_lambda_powertools.event_handler", "Metrics(")
_HTTP_INVOCATION = threading.Lock()


def is_http_function(spec: FunctionSpec) -> bool:
    return any(event.get("Type") in ("HttpApi", "Api") for event in spec.events.values())


def shares_process_state(spec: FunctionSpec) -> bool:
    """Whether the handler's module uses what Powertools keeps per process, not per environment."""
    found = importlib.util.find_spec(spec.handler.rpartition(".")[0])
    if found is None or not found.origin:
        return True
    source = Path(found.origin).read_text(encoding="utf-8")
    return any(marker in source for marker in _SHARED_STATE)


def serialized(spec: FunctionSpec) -> bool:
    return is_http_function(spec) and shares_process_state(spec)


def concurrency_of(spec: FunctionSpec) -> int:
    """How many environments the template lets this function run at once (locally)."""
    limits = [int(((event.get("Properties") or {}).get("ScalingConfig") or {}).get("MaximumConcurrency", 2))
              for event in spec.events.values() if event.get("Type") == "SQS"]
    if is_http_function(spec):
        limits.append(1 if shares_process_state(spec) else HTTP_CONCURRENCY)
    return max(limits, default=1)


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

    def __init__(self, spec: FunctionSpec, name: str, environment: dict[str, str], activity: Activity,
                 faults: FaultInjector | None = None) -> None:
        self.spec = spec
        self.name = name
        self.environment = environment
        self.activity = activity
        self.faults = faults  # local fault injection (faults.py); None in normal runs
        self.concurrency = concurrency_of(spec)
        # Read once: whether the handler's source uses Powertools' per-process state (not per invocation).
        self._one_at_a_time = serialized(spec)
        self._load_lock = threading.Lock()
        self._idle: queue.Queue[Any] = queue.Queue()  # handlers of environments not running an invocation
        self._handler: Any = None
        self._pooled = False  # environments put in _idle (a handler set from outside joins on first use)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"

    def load(self) -> None:
        """Import the handler module with this function's own environment, as its cold start would,
        once per environment (the first under its own name, the others as copies with their own globals).

        Powertools reads POWERTOOLS_SERVICE_NAME and friends when Logger/Metrics are created at import,
        so a value that differs between functions must be in os.environ at that moment.
        """
        with self._load_lock:
            if self._handler is not None:
                return
            module_name, _, attribute = self.spec.handler.rpartition(".")
            saved = {key: os.environ.get(key) for key in self.environment}
            os.environ.update(self.environment)
            try:
                module = importlib.import_module(module_name)
                handlers = [getattr(module, attribute, None)]
                for copy in range(1, self.concurrency):
                    handlers.append(getattr(_module_copy(module, f"{module_name}__env{copy}"), attribute, None))
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
            if not all(callable(handler) for handler in handlers):
                raise RuntimeError(f"{self.spec.logical_id}: {self.spec.handler} is not a function")
            for handler in handlers:
                self._idle.put(handler)
            self._handler = handlers[0]
            self._pooled = True

    def invoke(self, event: dict[str, Any]) -> Any:
        """Call the handler; exceptions propagate (each event source decides what failure means)."""
        if self._handler is None:
            self.load()
        scope = self.faults.handler_running() if self.faults else nullcontext()
        one_at_a_time = _HTTP_INVOCATION if self._one_at_a_time else nullcontext()
        with self.activity.running(), one_at_a_time, self._environment() as handler, scope:
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
                if self.faults is not None and self.faults.crash_halfway(self.spec.logical_id, event):
                    return run_crashing(handler, event, context)
                return handler(event, context)
            finally:
                elapsed = (time.monotonic() - started) * 1000
                log.info("REPORT %s RequestId: %s Duration: %.1f ms", self.name, request_id, elapsed)
                if elapsed > self.spec.timeout * 1000:
                    # Not enforced (a thread cannot be killed), but visible: AWS would have timed out.
                    log.warning("%s ran %.0f ms, past its %d s timeout", self.name, elapsed, self.spec.timeout)


    @contextmanager
    def _environment(self) -> Iterator[Any]:
        """One idle environment for one invocation (waits while all are busy, as throttling would)."""
        with self._load_lock:
            if not self._pooled:
                self._idle.put(self._handler)
                self._pooled = True
        handler = self._idle.get()
        try:
            yield handler
        finally:
            self._idle.put(handler)


def _module_copy(module: Any, name: str) -> Any:
    """The handler module imported again under another name: its own module-level state."""
    spec = importlib.util.spec_from_file_location(name, module.__file__)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {module.__name__} again as {name}")
    copy = importlib.util.module_from_spec(spec)
    sys.modules[name] = copy
    spec.loader.exec_module(copy)
    return copy


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

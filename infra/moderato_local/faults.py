"""Fault injection for the local stack only: the handlers' AWS calls fail, and a batch crashes halfway.

Never part of deployed code: it hooks botocore's events on the default session of this process (the one
the handlers' clients come from) and acts only while a handler runs (FunctionRuntime marks its thread),
so the pollers' and tests' own calls are never touched. Enabled by environment variables:

    MODERATO_LOCAL_FAULT_RATE=0.05        share of the handlers' SQS, DynamoDB, S3 and SNS calls that fail
    MODERATO_LOCAL_FAULT_SEED=7           make the draw repeatable
    MODERATO_LOCAL_CRASH_BATCHES=1        how many SQS batches crash halfway (default: 1 when the rate is set)
    MODERATO_LOCAL_CRASH_FUNCTION=TriageFunction
    MODERATO_LOCAL_FAULTS_OFF_FILE=PATH   while this file exists, nothing is injected (to redrive after a storm)

One fault in four of each kind: a server error raised before the call (not retried by botocore), a
connection failure (not retried either), a 503 answer (botocore's standard retries see it, as they would
a throttle), and a lost answer after AWS did the work (the caller sees a timeout; the write happened).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

SERVICES = frozenset({"sqs", "dynamodb", "s3", "sns"})
KINDS = ("server_error", "connection", "throttle", "lost_answer")
_HOOK_ID = "moderato-local-faults"


class InjectedCrash(RuntimeError):
    """The execution environment died halfway through a batch (what a crash or an OOM looks like)."""


@dataclass(frozen=True)
class FaultPlan:
    rate: float
    seed: int | None = None
    crash_batches: int = 1
    crash_function: str = "TriageFunction"
    off_file: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> FaultPlan | None:
        env = os.environ if environ is None else environ
        rate = float(env.get("MODERATO_LOCAL_FAULT_RATE") or 0)
        if not 0 <= rate < 1:
            raise ValueError("MODERATO_LOCAL_FAULT_RATE must be in [0, 1)")
        crashes = int(env.get("MODERATO_LOCAL_CRASH_BATCHES") or (1 if rate > 0 else 0))
        if rate == 0 and crashes <= 0:
            return None
        seed = env.get("MODERATO_LOCAL_FAULT_SEED")
        return cls(rate=rate, seed=int(seed) if seed else None, crash_batches=crashes,
                   crash_function=env.get("MODERATO_LOCAL_CRASH_FUNCTION") or "TriageFunction",
                   off_file=env.get("MODERATO_LOCAL_FAULTS_OFF_FILE") or None)


class FaultInjector:
    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.injected: Counter[str] = Counter()
        self._random = random.Random(plan.seed)  # nosec B311  # a test's dice, not a secret
        self._lock = threading.Lock()
        self._in_handler = threading.local()
        self._crashes_left = plan.crash_batches
        self._installed: Any = None
        self._off = False  # once the switch file is there, faults stay off
        self._off_checked_at = float("-inf")

    # --- botocore hooks ---------------------------------------------------------------------------

    def install(self) -> None:
        """Hook the default session: clients created from now on (the handlers') carry the hooks."""
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        assert session is not None
        events = session.events
        events.register("before-call", self._before_call, unique_id=f"{_HOOK_ID}-call")
        events.register("before-send", self._before_send, unique_id=f"{_HOOK_ID}-send")
        events.register("after-call", self._after_call, unique_id=f"{_HOOK_ID}-after")
        self._installed = events

    def uninstall(self) -> None:
        if self._installed is not None:
            self._installed.unregister("before-call", unique_id=f"{_HOOK_ID}-call")
            self._installed.unregister("before-send", unique_id=f"{_HOOK_ID}-send")
            self._installed.unregister("after-call", unique_id=f"{_HOOK_ID}-after")
            self._installed = None

    @contextmanager
    def handler_running(self) -> Iterator[None]:
        self._in_handler.active = True
        try:
            yield
        finally:
            self._in_handler.active = False

    def _draw(self, event_name: str) -> str | None:
        """One draw per API call (at before-call); the kind waits in the thread for its hook."""
        self._in_handler.pending = None
        parts = event_name.split(".")
        if len(parts) < 3 or parts[1] not in SERVICES or not getattr(self._in_handler, "active", False):
            return None
        if self.switched_off():
            return None
        with self._lock:
            if self._random.random() >= self.plan.rate:
                return None
            kind = self._random.choice(KINDS)
            self.injected[kind] += 1
        return kind

    def switched_off(self) -> bool:
        # A stat per AWS call showed in profiles: look at most every half second (the switch is
        # followed by a wait of many seconds before anything depends on it).
        if self.plan.off_file is None or self._off:
            return self._off
        now = time.monotonic()
        if now >= self._off_checked_at + 0.5:
            self._off, self._off_checked_at = os.path.exists(self.plan.off_file), now
        return self._off

    def _pending(self, kind: str) -> bool:
        if getattr(self._in_handler, "pending", None) != kind:
            return False
        self._in_handler.pending = None  # once: botocore's retry of a throttled call goes through
        return True

    def _before_call(self, event_name: str, model: Any, **_: Any) -> None:
        kind = self._draw(event_name)
        if kind == "server_error":
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected by the local stack"}},
                              model.name)
        if kind == "connection":
            raise EndpointConnectionError(endpoint_url="http://injected.local")
        self._in_handler.pending = kind

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        if not self._pending("throttle"):
            return None
        return AWSResponse(request.url, 503, {}, _EmptyBody())

    def _after_call(self, **_: Any) -> None:
        if self._pending("lost_answer"):
            raise ReadTimeoutError(endpoint_url="http://injected.local")

    # --- crash halfway through a batch ------------------------------------------------------------

    def crash_halfway(self, logical_id: str, event: dict[str, Any]) -> bool:
        records = event.get("Records") if isinstance(event, dict) else None
        if logical_id != self.plan.crash_function or not isinstance(records, list) or len(records) < 2:
            return False
        if self.switched_off():
            return False
        with self._lock:
            if self._crashes_left <= 0:
                return False
            self._crashes_left -= 1
            self.injected["crash"] += 1
            return True


class _EmptyBody:
    """The raw stream botocore reads an HTTP body from."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""

    def read(self, *_: Any) -> bytes:
        return b""


def run_crashing(handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any], context: Any) -> None:
    """Run the first half of the batch for real, then die: its effects stay, its answer never comes."""
    records = event["Records"]
    handler({**event, "Records": records[: len(records) // 2]}, context)
    raise InjectedCrash(f"injected crash after {len(records) // 2} of {len(records)} records")

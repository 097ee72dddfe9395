"""webhook function: answer the handshake, verify the signature, enqueue the raw delivery, answer.

It parses nothing it does not need, so it acknowledges within milliseconds and a parsing bug can
never lose a delivery: what is accepted waits in IngestQueue (or its DLQ) until triage handles it.

Its cold start and CPU per request are measured against a minimal handler (bench/bench_webhook.py), so
it imports only what verifying and enqueueing need: the platforms' gates (no models, no pydantic), plain
settings, a three-route router instead of Powertools' event handler, and the X-Ray SDK only when call
tracing is switched on (template parameter WebhookCallTracingDisabled).
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from moderato.adapters.aws import AWS_RETRY_AFTER_SECONDS, client
from moderato.adapters.ingest_queue import IngestQueue
from moderato.adapters.secrets import WebhookSecrets
from moderato.health import dependency_status, health_answer
from moderato.platforms.errors import PayloadRejected, PayloadTooLarge, WebhookError
from moderato.platforms.webhooks import UNKNOWN_SHAPE_KEPT, WebhookGate, get_webhook
from moderato.platforms.wire import decode_json
from moderato.webhook_settings import webhook_settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer
    from aws_lambda_powertools.utilities.typing import LambdaContext

_Function = TypeVar("_Function", bound=Callable[..., Any])


def _call_tracing_enabled() -> bool:
    """What Powertools' Tracer decides, without importing the X-Ray SDK to decide it: off when
    POWERTOOLS_TRACE_DISABLED is true, outside Lambda, and under SAM local or Chalice local."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower()
    if disabled in ("1", "y", "yes", "t", "true", "on"):
        return False
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not (
        os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE"))


def _build_tracer() -> Tracer | None:
    if not _call_tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer()


logger = Logger()
_SERVICE = {"service": os.environ.get("POWERTOOLS_SERVICE_NAME", "moderato")}


def count(name: str) -> None:
    """One EMF line now: a request counts one or two of these, so Powertools' metrics buffer (shared by
    every Metrics object of the process) would only add a flush step and state shared between requests."""
    with single_metric(name=name, unit=MetricUnit.Count, value=1, default_dimensions=_SERVICE):
        pass
# None while call tracing is off: the X-Ray SDK is then never imported, and no request pays for dummy
# subsegments. Lambda's active tracing still records every invocation, its duration and its cold start.
tracer = _build_tracer()

_settings = webhook_settings()
_secrets = WebhookSecrets(_settings.webhook_secret_id, _settings.secrets_max_age_seconds)
# Every call's parameters are built here, in a fixed shape: botocore's check of them is CPU for nothing.
_ingest = IngestQueue(_settings.ingest_queue_url, _settings.delivery_bucket_name,
                      _settings.claim_check_threshold_bytes, client("sqs", check_parameters=False),
                      lambda: client("s3", check_parameters=False))


_FORWARDED_HEADERS = frozenset({"content-type", "user-agent"})
# Powertools' pattern for a path segment (RFC 3986 safe and unsafe characters), so the same paths reach a
# platform's gate (and its 404 naming the known platforms) as with its event handler.
_WEBHOOK_PATH = re.compile(r"/webhooks/(?P<platform>[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+)")
_NOT_FOUND_BODY = json.dumps({"statusCode": 404, "message": "Not found"}, separators=(",", ":"))


def _traced(function: _Function) -> _Function:
    return tracer.capture_method(function) if tracer is not None else function


def _response(status: int, body: str, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An HTTP API (payload 2.0) answer, as Powertools' event handler shapes it."""
    return {"statusCode": status, "body": body, "isBase64Encoded": False,
            "headers": {**(headers or {}), "Content-Type": content_type}, "cookies": []}


def _retry_after(status: int) -> dict[str, str] | None:
    # A 503 is ours (AWS or configuration): tell the platform when to try again.
    return {"Retry-After": str(AWS_RETRY_AFTER_SECONDS)} if status == 503 else None


def health() -> dict[str, Any]:
    """What the webhook needs to accept a delivery: IngestQueue reachable and its secrets loadable.

    Unauthenticated (as the local gateway's): it names dependencies and error types, nothing secret.
    """
    status, answer = health_answer(dependency_status({
        "IngestQueue": _ingest.check_reachable, "WebhookSecrets": _secrets.check_loadable}))
    if status != 200:
        logger.warning("health check failed", extra={"dependencies": answer["dependencies"]})
    return _response(status, json.dumps(answer), headers=_retry_after(status))


@_traced
def handshake(platform_name: str, event: dict[str, Any]) -> dict[str, Any]:
    platform = get_webhook(platform_name)
    query = event.get("queryStringParameters") or {}
    answer = platform.handshake(query, _secrets.for_platform(platform.name))
    logger.info("handshake answered", extra={"platform": platform.name})
    return _response(answer.status, answer.body, answer.content_type)


@_traced
def receive(platform_name: str, event: dict[str, Any]) -> dict[str, Any]:
    platform = get_webhook(platform_name)
    raw_body = _raw_body(event)
    if len(raw_body) > _settings.max_body_bytes:
        raise PayloadTooLarge(f"body of {len(raw_body)} bytes is over the {_settings.max_body_bytes}-byte limit")
    headers = event.get("headers") or {}
    platform.verify(headers, raw_body, _secrets.for_platform(platform.name))
    payload = decode_json(raw_body)  # the same reading as triage's: accepted means readable there
    note = _unknown_shape(platform, payload)
    request_id = event["requestContext"]["requestId"]
    received_at = datetime.now(UTC)
    forwarded = {name.lower(): value for name, value in headers.items() if name.lower() in _FORWARDED_HEADERS}
    # The delivery's one write. That it was accepted is witnessed by API Gateway's access log line (this
    # request id, status 200), which `moderato reconcile` reads: a write of our own here would cost a
    # DynamoDB write unit per delivery for a record the gateway already keeps.
    message_id = _ingest.enqueue(platform.name, raw_body, request_id, received_at, forwarded, note=note)
    count("DeliveriesAccepted")
    logger.info("delivery enqueued", extra={"platform": platform.name, "message_id": message_id,
                                            "bytes": len(raw_body)})
    return _response(200, '{"status": "accepted"}')


def reject(error: WebhookError, path: str) -> dict[str, Any]:
    # Never log the body: it may hold personal data, and a forged one is an attacker's text.
    logger.warning("delivery rejected", extra={"status": error.status, "error": type(error).__name__,
                                               "detail": error.message, "path": path})
    count("DeliveriesRejected")
    return _response(error.status, json.dumps({"message": error.message}), headers=_retry_after(error.status))


def _unknown_shape(platform: WebhookGate, payload: Any) -> str | None:
    """Why a signed delivery is of no shape we know, or None. It is kept all the same: the platform signed it,
    and answering 400 would make it disable the webhook. Triage sets it aside in IngestDLQ (alarmed)."""
    try:
        platform.check_shape(payload)
    except PayloadRejected as error:
        count("UnknownShapesKept")
        logger.warning("signed delivery of an unknown shape kept", extra={
            "platform": platform.name, "reason": UNKNOWN_SHAPE_KEPT, "detail": error.message})
        return f"{UNKNOWN_SHAPE_KEPT}: {error.message}"
    return None


def _raw_body(event: dict[str, Any]) -> bytes:
    """The bytes the platform signed: API Gateway base64-encodes bodies it does not treat as text."""
    body = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            return base64.b64decode(body, validate=True)
        return body.encode("utf-8")
    except (ValueError, UnicodeEncodeError):  # binascii.Error is a ValueError
        raise PayloadRejected("body could not be read as bytes (bad base64 or unencodable text)") from None


def _path(event: dict[str, Any]) -> str:
    """The request path without the stage: HTTP API puts a named stage (not ``$default``) in ``rawPath``."""
    path = str(event.get("rawPath") or "/")
    stage = (event.get("requestContext") or {}).get("stage") or "$default"
    return path[len(stage) + 1:] if stage != "$default" else path


def route(event: dict[str, Any]) -> dict[str, Any]:
    """GET /health, GET /webhooks/{platform} (handshake), POST /webhooks/{platform} (delivery); else 404."""
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "").upper()
    path = _path(event)
    match = _WEBHOOK_PATH.fullmatch(path)
    try:
        if match is not None and method == "POST":
            return receive(match["platform"], event)
        if match is not None and method == "GET":
            return handshake(match["platform"], event)
    except WebhookError as error:
        return reject(error, path)
    if path == "/health" and method == "GET":
        return health()
    return _response(404, _NOT_FOUND_BODY)


def _decorated() -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The handler inside Powertools' logging context and (when on) call tracing."""

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # The correlation id Powertools' correlation_paths.API_GATEWAY_HTTP names, read without a JMESPath
        # search on every request.
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        return route(event)

    handler = lambda_handler
    if tracer is not None:
        handler = tracer.capture_lambda_handler(handler)
    return logger.inject_lambda_context(handler)


lambda_handler = _decorated()

"""webhook function: answer the handshake, verify the signature, enqueue the raw delivery, answer.

It parses nothing it does not need, so it acknowledges within milliseconds and a parsing bug can
never lose a delivery: what is accepted waits in IngestQueue (or its DLQ) until triage handles it.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from moderato.adapters.aws import AWS_RETRY_AFTER_SECONDS, client
from moderato.adapters.delivery_ledger import DeliveryLedger
from moderato.adapters.ingest_queue import IngestQueue
from moderato.adapters.secrets import WebhookSecrets
from moderato.health import dependency_status, health_answer
from moderato.platforms import get_platform
from moderato.platforms.base import (
    PayloadRejected,
    PayloadTooLarge,
    WebhookError,
    WebhookPlatform,
    decode_json,
)
from moderato.reasons import UNKNOWN_SHAPE_KEPT
from moderato.settings import webhook_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()

_settings = webhook_settings()
_secrets = WebhookSecrets(_settings.webhook_secret_id, _settings.secrets_max_age_seconds)
_ingest = IngestQueue(_settings.ingest_queue_url, _settings.delivery_bucket_name,
                      _settings.claim_check_threshold_bytes, client("sqs"), lambda: client("s3"))
_ledger = (DeliveryLedger(_settings.delivery_ledger_table_name, client("dynamodb"))
           if _settings.delivery_ledger_table_name else None)
_FORWARDED_HEADERS = ("content-type", "user-agent")


@app.get("/health")
def health() -> Response:
    """What the webhook needs to accept a delivery: IngestQueue reachable and its secrets loadable.

    Unauthenticated (as the local gateway's): it names dependencies and error types, nothing secret.
    """
    status, answer = health_answer(dependency_status({
        "IngestQueue": _ingest.check_reachable, "WebhookSecrets": _secrets.check_loadable}))
    if status != 200:
        logger.warning("health check failed", extra={"dependencies": answer["dependencies"]})
    retry = {"Retry-After": str(AWS_RETRY_AFTER_SECONDS)} if status == 503 else None
    return Response(status_code=status, content_type="application/json", body=json.dumps(answer), headers=retry)


@app.get("/webhooks/<platform_name>")
@tracer.capture_method
def handshake(platform_name: str) -> Response:
    platform = get_platform(platform_name)
    query = app.current_event.query_string_parameters or {}
    answer = platform.handshake(query, _secrets.for_platform(platform.name))
    logger.info("handshake answered", extra={"platform": platform.name})
    return Response(status_code=answer.status, content_type=answer.content_type, body=answer.body)


@app.post("/webhooks/<platform_name>")
@tracer.capture_method
def receive(platform_name: str) -> Response:
    platform = get_platform(platform_name)
    raw_body = _raw_body(app.current_event.raw_event)
    if len(raw_body) > _settings.max_body_bytes:
        raise PayloadTooLarge(f"body of {len(raw_body)} bytes is over the {_settings.max_body_bytes}-byte limit")
    headers = app.current_event.headers or {}
    platform.verify(headers, raw_body, _secrets.for_platform(platform.name))
    payload = decode_json(raw_body)  # the same reading as triage's: accepted means readable there
    note = _unknown_shape(platform, payload)
    request_id = app.current_event.request_context.request_id
    received_at = datetime.now(UTC)
    message_id = _ingest.enqueue(
        platform.name, raw_body, request_id, received_at,
        {name: headers[name] for name in _FORWARDED_HEADERS if name in headers}, note=note,
    )
    # The ledger entry comes after the enqueue, never before: written first, a failed enqueue (503,
    # the platform retries under a new request id) would leave an entry for a delivery no one holds.
    # Its own failure only costs reconcile's bookkeeping, not the delivery (queued already, and
    # triage creates the entry when it records the outcome), so it never turns the 200 into a 5xx.
    if _ledger is not None and not _ledger.note_accepted(request_id, platform.name, received_at):
        metrics.add_metric(name="LedgerWriteFailures", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="DeliveriesAccepted", unit=MetricUnit.Count, value=1)
    logger.info("delivery enqueued", extra={"platform": platform.name, "message_id": message_id,
                                            "bytes": len(raw_body)})
    return Response(status_code=200, content_type="application/json", body=json.dumps({"status": "accepted"}))


@app.exception_handler(WebhookError)
def reject(error: WebhookError) -> Response:
    # Never log the body: it may hold personal data, and a forged one is an attacker's text.
    logger.warning("delivery rejected", extra={"status": error.status, "error": type(error).__name__,
                                               "detail": error.message, "path": app.current_event.path})
    metrics.add_metric(name="DeliveriesRejected", unit=MetricUnit.Count, value=1)
    # A 503 is ours (AWS or configuration): tell the platform when to try again.
    retry = {"Retry-After": str(AWS_RETRY_AFTER_SECONDS)} if error.status == 503 else None
    return Response(status_code=error.status, content_type="application/json",
                    body=json.dumps({"message": error.message}), headers=retry)


def _unknown_shape(platform: WebhookPlatform, payload: Any) -> str | None:
    """Why a signed delivery is of no shape we know, or None. It is kept all the same: the platform signed it,
    and answering 400 would make it disable the webhook. Triage sets it aside in IngestDLQ (alarmed)."""
    try:
        platform.check_shape(payload)
    except PayloadRejected as error:
        metrics.add_metric(name="UnknownShapesKept", unit=MetricUnit.Count, value=1)
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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

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

from moderato.adapters.aws import client
from moderato.adapters.ingest_queue import IngestQueue
from moderato.adapters.secrets import WebhookSecrets
from moderato.platforms import get_platform
from moderato.platforms.base import PayloadRejected, PayloadTooLarge, WebhookError
from moderato.settings import webhook_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()

_settings = webhook_settings()
_secrets = WebhookSecrets(_settings.webhook_secret_id, _settings.secrets_max_age_seconds)
_ingest = IngestQueue(_settings.ingest_queue_url, _settings.delivery_bucket_name,
                      _settings.claim_check_threshold_bytes, client("sqs"), lambda: client("s3"))
_FORWARDED_HEADERS = ("content-type", "user-agent")


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
    try:
        payload = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as error:
        raise PayloadRejected("body is not valid JSON") from error
    platform.check_shape(payload)
    request_id = app.current_event.request_context.request_id
    message_id = _ingest.enqueue(
        platform.name, raw_body, request_id, datetime.now(UTC),
        {name: headers[name] for name in _FORWARDED_HEADERS if name in headers},
    )
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
    return Response(status_code=error.status, content_type="application/json",
                    body=json.dumps({"message": error.message}))


def _raw_body(event: dict[str, Any]) -> bytes:
    """The bytes the platform signed: API Gateway base64-encodes bodies it does not treat as text."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

"""The webhook handler with in-memory fakes for its queue and secrets: thousands of requests a second,
for the fuzz and forgery suites (the moto-backed integration tests prove the real adapters)."""

from __future__ import annotations

import importlib
import sys
from datetime import datetime
from typing import Any

import pytest

from tests.support import LOCAL_SECRETS, api_event

WEBHOOK_ENV = {
    "INGEST_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/IngestQueue",
    "DELIVERY_BUCKET_NAME": "deliveries", "WEBHOOK_SECRET_ID": "moderato/webhook",
    "MAX_BODY_BYTES": "1048576", "CLAIM_CHECK_THRESHOLD_BYTES": "200000", "SECRETS_MAX_AGE_SECONDS": "300",
    "DELIVERY_LEDGER_TABLE_NAME": "", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Moderato", "POWERTOOLS_SERVICE_NAME": "moderato",
    "POWERTOOLS_LOG_LEVEL": "CRITICAL",
}


class FakeIngest:
    def __init__(self) -> None:
        self.enqueued: list[tuple[str, bytes]] = []
        self.notes: list[str | None] = []  # why a delivery of an unknown shape was kept, per enqueue

    def enqueue(self, platform: str, raw_body: bytes, request_id: str, received_at: datetime,
                headers: dict[str, str], note: str | None = None) -> str:
        self.enqueued.append((platform, raw_body))
        self.notes.append(note)
        return f"m{len(self.enqueued)}"


class FakeSecrets:
    def for_platform(self, platform: str) -> dict[str, Any]:
        return dict(LOCAL_SECRETS.get(platform, {}))


class FakeContext:
    function_name = "webhook"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:webhook"
    memory_limit_in_mb = 256
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class Webhook:
    """Calls the real handler; ``enqueued`` is what reached the (fake) IngestQueue."""

    def __init__(self, module: Any, ingest: FakeIngest) -> None:
        self.module = module
        self.ingest = ingest

    def call(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
             query: dict[str, str] | None = None, event: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.module.lambda_handler(event or api_event(method, path, body, headers, query), FakeContext())


def webhook_with_fakes(monkeypatch: pytest.MonkeyPatch) -> Webhook:
    import moderato.adapters.aws
    import moderato.webhook_settings

    for name, value in WEBHOOK_ENV.items():
        monkeypatch.setenv(name, value)
    moderato.webhook_settings.webhook_settings.cache_clear()
    moderato.adapters.aws.client.cache_clear()
    sys.modules.pop("webhook", None)
    module = importlib.import_module("webhook")
    ingest = FakeIngest()
    monkeypatch.setattr(module, "_ingest", ingest)
    monkeypatch.setattr(module, "_secrets", FakeSecrets())
    monkeypatch.setattr(module, "_ledger", None, raising=False)
    return Webhook(module, ingest)

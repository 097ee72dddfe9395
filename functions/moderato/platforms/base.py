"""What every platform module provides, and the errors a webhook delivery can meet.

Each error carries the HTTP status the webhook answers with, so the handler turns any of them
into a response in one place.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from moderato.models import Post


class WebhookError(Exception):
    """A delivery we refuse; ``status`` is the HTTP answer, ``message`` is safe to show the caller."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownPlatform(WebhookError):
    status = 404


class SignatureMissing(WebhookError):
    status = 401


class SignatureInvalid(WebhookError):
    status = 401


class HandshakeRejected(WebhookError):
    status = 403


class HandshakeMalformed(WebhookError):
    status = 400


class PayloadRejected(WebhookError):
    status = 400


class PayloadTooLarge(WebhookError):
    status = 413


class EnqueueFailed(WebhookError):
    status = 503


class SecretsUnavailable(WebhookError):
    status = 503


class UnparseableDelivery(Exception):
    """Triage could not turn an accepted delivery into posts: retried, then kept in the DLQ."""


@dataclass(frozen=True)
class HandshakeAnswer:
    body: str
    content_type: str = "text/plain"
    status: int = 200


@dataclass(frozen=True)
class DeliveryContext:
    """What triage knows about a delivery besides its body."""

    received_at: datetime
    raw_ref: str | None = None
    brands: dict[str, str] = field(default_factory=dict)  # account id -> brand name


class WebhookPlatform(Protocol):
    """One platform's webhook knowledge: handshake, signature, shape check and parsing."""

    name: str
    signature_header: str

    def handshake(self, query: dict[str, str], secrets: dict[str, Any]) -> HandshakeAnswer: ...

    def verify(self, headers: dict[str, str], raw_body: bytes, secrets: dict[str, Any]) -> None: ...

    def check_shape(self, payload: Any) -> None: ...

    def parse(self, payload: Any, context: DeliveryContext) -> list[Post]: ...

    def sign(self, raw_body: bytes, secrets: dict[str, Any]) -> dict[str, str]: ...


def hmac_sha256(key: str, message: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()


def require_secret(secrets: dict[str, Any], platform: str, name: str) -> str:
    value = secrets.get(name)
    if not isinstance(value, str) or not value:
        # A missing secret is our misconfiguration, not the caller's fault: 503 makes the platform retry.
        raise SecretsUnavailable(f"the {platform} webhook secret '{name}' is not configured")
    return value


_Default = TypeVar("_Default", datetime, datetime | None)


def epoch_to_datetime(value: Any, default: _Default) -> datetime | _Default:
    """Platforms send seconds, milliseconds, numeric strings or ISO strings: accept them all."""
    if value is None or value == "":
        return default
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return default
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if number > 1e11:  # milliseconds
        number /= 1000.0
    return datetime.fromtimestamp(number, tz=UTC)


def header(headers: dict[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (API Gateway v2 lower-cases names; tests may not)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None

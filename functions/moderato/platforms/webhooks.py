"""The webhook side of every platform: handshake, signature and shape check, without any parsing.

This is all the webhook function imports from ``moderato.platforms``: no models, no pydantic, so its cold
start pays for verifying and enqueueing only. Triage uses ``moderato.platforms.get_platform``, whose
platforms extend these gates with ``parse``.
"""

from __future__ import annotations

from typing import Any, Protocol

from moderato.platforms.errors import UnknownPlatform
from moderato.platforms.meta_webhook import MetaWebhook
from moderato.platforms.wire import HandshakeAnswer
from moderato.platforms.x_webhook import XWebhook

# The reason code of a signed delivery kept although its shape is unknown. Registered with its sentence in
# moderato.reasons, which the webhook does not import: that module brings pydantic.
UNKNOWN_SHAPE_KEPT = "delivery.unknown_shape_kept"


class WebhookGate(Protocol):
    """One platform's webhook knowledge short of parsing: handshake, signature and shape check."""

    name: str
    signature_header: str

    def handshake(self, query: dict[str, str], secrets: dict[str, Any]) -> HandshakeAnswer: ...

    def verify(self, headers: dict[str, str], raw_body: bytes, secrets: dict[str, Any]) -> None: ...

    def check_shape(self, payload: Any) -> None: ...

    def sign(self, raw_body: bytes, secrets: dict[str, Any]) -> dict[str, str]: ...


WEBHOOKS: dict[str, WebhookGate] = {"meta": MetaWebhook(), "x": XWebhook()}


def unknown_platform(name: str) -> UnknownPlatform:
    known = ", ".join(sorted(WEBHOOKS))
    return UnknownPlatform(f"unknown platform '{name[:40]}': webhooks exist for {known}")


def get_webhook(name: str) -> WebhookGate:
    try:
        return WEBHOOKS[name]
    except KeyError:
        raise unknown_platform(name) from None

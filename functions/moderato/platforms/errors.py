"""The errors a webhook delivery can meet, each with the HTTP status the webhook answers with.

Kept apart from parsing (no pydantic, no models) so that the webhook function imports only what it needs
to verify and enqueue: ``moderato.platforms.base`` re-exports every name for the parsing side.
"""

from __future__ import annotations


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

"""Meta's webhook gate: the ``hub.challenge`` handshake, the ``X-Hub-Signature-256`` check, the shape check.

Handshake: ``hub.mode=subscribe`` + ``hub.verify_token`` → echo ``hub.challenge``.
Signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>``.
Parsing lives in ``moderato.platforms.meta``; this module stays free of models so the webhook stays light.
"""

from __future__ import annotations

import hmac
from typing import Any

from moderato.platforms.errors import (
    HandshakeMalformed,
    HandshakeRejected,
    PayloadRejected,
    SignatureInvalid,
    SignatureMissing,
)
from moderato.platforms.wire import HandshakeAnswer, header, hmac_sha256, require_secret

SIGNATURE_HEADER = "X-Hub-Signature-256"
_LOWER_HEX = frozenset("0123456789abcdef")


class MetaWebhook:
    name = "meta"
    signature_header = SIGNATURE_HEADER

    def handshake(self, query: dict[str, str], secrets: dict[str, Any]) -> HandshakeAnswer:
        mode, token, challenge = (query.get(k) for k in ("hub.mode", "hub.verify_token", "hub.challenge"))
        if not mode or token is None or challenge is None:
            raise HandshakeMalformed("expected hub.mode, hub.verify_token and hub.challenge")
        expected = require_secret(secrets, "meta", "verify_token")
        if mode != "subscribe" or not hmac.compare_digest(token.encode(), expected.encode()):
            raise HandshakeRejected("verify token does not match")
        return HandshakeAnswer(body=challenge)

    def verify(self, headers: dict[str, str], raw_body: bytes, secrets: dict[str, Any]) -> None:
        value = header(headers, SIGNATURE_HEADER)
        if not value:
            raise SignatureMissing(f"missing {SIGNATURE_HEADER} header")
        algorithm, _, digest = value.partition("=")
        # Exactly what Meta sends (lower-case hex): anything else is refused before any comparison.
        if algorithm != "sha256" or len(digest) != 64 or not _LOWER_HEX.issuperset(digest):
            raise SignatureMissing(f"malformed {SIGNATURE_HEADER} header: expected sha256=<64 lower-case hex digits>")
        expected = hmac_sha256(require_secret(secrets, "meta", "app_secret"), raw_body).hex()
        if not hmac.compare_digest(expected, digest):
            raise SignatureInvalid("signature does not match the body")

    def sign(self, raw_body: bytes, secrets: dict[str, Any]) -> dict[str, str]:
        digest = hmac_sha256(require_secret(secrets, "meta", "app_secret"), raw_body).hex()
        return {SIGNATURE_HEADER: f"sha256={digest}"}

    def check_shape(self, payload: Any) -> None:
        if not isinstance(payload, dict) or payload.get("object") not in ("page", "instagram"):
            raise PayloadRejected("expected a Meta webhook object of type 'page' or 'instagram'")
        entries = payload.get("entry")
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise PayloadRejected("expected 'entry' to be a list of objects")

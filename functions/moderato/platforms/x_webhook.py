"""X's webhook gate (Account Activity API and X Activity API): the CRC, the signature, the shape check.

CRC: ``GET ?crc_token=T`` → ``{"response_token": "sha256=" + base64(HMAC-SHA256(consumer_secret, T))}``.
Signature: ``x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer_secret, raw body)>``.
Parsing lives in ``moderato.platforms.x``; this module stays free of models so the webhook stays light.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from typing import Any

from moderato.platforms.errors import HandshakeMalformed, PayloadRejected, SignatureInvalid, SignatureMissing
from moderato.platforms.wire import MAX_ID_CHARS, HandshakeAnswer, header, hmac_sha256, require_secret

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
KNOWN_EVENT_ARRAYS = (
    "tweet_create_events",
    "direct_message_events",
    "favorite_events",
    "follow_events",
    "block_events",
    "mute_events",
    "tweet_delete_events",
    "direct_message_indicate_typing_events",
    "direct_message_mark_read_events",
    "user_event",
)
# Sent without for_user_id: an app revoke concerns the app, not one subscribed account.
ACCOUNTLESS_EVENTS = ("user_event",)
# The CRC answer is HMAC(consumer_secret, crc_token): exactly the POST signature of a body equal to the
# token. Answering any token would sign any body an attacker chooses (a forged delivery). X sends short
# URL-safe strings (base64 of a random id, about 48 characters). The shape alone is not enough: `null`,
# `true`, `123`, `-1` or `1e5` are token-shaped and also valid JSON, and the webhook keeps every signed JSON
# body (an unknown shape is set aside, not refused), so signing one would forge an accepted delivery. A
# token is therefore refused if it parses as JSON at all; what remains can never be a body we accept.
CRC_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_=+/-]{1,128}")


def _parses_as_json(token: str) -> bool:
    try:
        json.loads(token)
    except ValueError:  # JSONDecodeError, and integers over Python's digit limit
        return False
    return True


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    return "sha256=" + base64.b64encode(hmac_sha256(consumer_secret, crc_token.encode("utf-8"))).decode()


def is_activity_event(payload: Any) -> bool:
    """An X Activity API event: ``{"data": {"event_type": ...}}`` (an AAA delivery carries ``for_user_id``)."""
    data = payload.get("data") if isinstance(payload, dict) else None
    return isinstance(data, dict) and isinstance(data.get("event_type"), str) and "for_user_id" not in payload


class XWebhook:
    name = "x"
    signature_header = SIGNATURE_HEADER

    def handshake(self, query: dict[str, str], secrets: dict[str, Any]) -> HandshakeAnswer:
        token = query.get("crc_token")
        if not token:
            raise HandshakeMalformed("expected a crc_token query parameter")
        if not CRC_TOKEN_SHAPE.fullmatch(token):
            raise HandshakeMalformed("crc_token must be 1 to 128 URL-safe characters (letters, digits, - _ = + /)")
        if _parses_as_json(token):
            raise HandshakeMalformed("crc_token must be 1 to 128 URL-safe characters that are not a JSON value "
                                     "(a number, true, false or null)")
        secret = require_secret(secrets, "x", "consumer_secret")
        body = json.dumps({"response_token": crc_response_token(secret, token)})
        return HandshakeAnswer(body=body, content_type="application/json")

    def verify(self, headers: dict[str, str], raw_body: bytes, secrets: dict[str, Any]) -> None:
        value = header(headers, SIGNATURE_HEADER)
        if not value:
            raise SignatureMissing(f"missing {SIGNATURE_HEADER} header")
        algorithm, _, encoded = value.partition("=")
        try:
            digest = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if algorithm != "sha256" or len(digest) != 32:
            raise SignatureMissing(f"malformed {SIGNATURE_HEADER} header: expected sha256=<base64 digest>")
        expected = hmac_sha256(require_secret(secrets, "x", "consumer_secret"), raw_body)
        if not hmac.compare_digest(expected, digest):
            raise SignatureInvalid("signature does not match the body")

    def sign(self, raw_body: bytes, secrets: dict[str, Any]) -> dict[str, str]:
        digest = hmac_sha256(require_secret(secrets, "x", "consumer_secret"), raw_body)
        return {SIGNATURE_HEADER: "sha256=" + base64.b64encode(digest).decode()}

    def check_shape(self, payload: Any) -> None:
        if is_activity_event(payload):
            return
        if not isinstance(payload, dict) or not any(key in payload for key in KNOWN_EVENT_ARRAYS):
            raise PayloadRejected("neither an X Activity event (data.event_type) nor a known Account Activity "
                                  "event array")
        account = payload.get("for_user_id")
        if account is None and any(key in payload for key in ACCOUNTLESS_EVENTS):
            return
        if isinstance(account, bool) or not isinstance(account, str | int) or account == "" \
                or len(str(account)) > MAX_ID_CHARS:
            raise PayloadRejected("expected an Account Activity event with 'for_user_id' (the account's id)")

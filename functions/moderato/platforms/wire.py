"""What the webhook reads off the wire before anything is parsed: headers, secrets, HMACs, the JSON body.

Light on purpose (standard library only): the webhook function imports it on every cold start, and
triage reads bodies through the same ``decode_json``, so a body the webhook accepts is one triage can read.
"""

from __future__ import annotations

import codecs
import hashlib
import hmac
import json
from typing import Any, NamedTuple

from moderato.json_depth import json_depth
from moderato.platforms.errors import PayloadRejected, SecretsUnavailable

MAX_ID_CHARS = 256  # platform ids are at most ~200 characters (Instagram message ids); a case key must stay small
# Platform deliveries nest about eight levels (entry, changes, value, from...); far deeper is no delivery.
MAX_JSON_DEPTH = 64
# Below this many brackets a body cannot nest deeper than MAX_JSON_DEPTH: counting them is a C-speed scan,
# far cheaper than json_depth's tokenizing, and every real delivery is under it.
_CHEAP_DEPTH_BRACKETS = MAX_JSON_DEPTH


class HandshakeAnswer(NamedTuple):
    """What a handshake answers (a NamedTuple: a frozen dataclass costs ten times as much to define)."""

    body: str
    content_type: str = "text/plain"
    status: int = 200


def decode_json(raw_body: bytes) -> Any:
    """The body as JSON, read the one way RFC 8259 allows on the wire: UTF-8 without a byte order mark.

    ``json.loads(bytes)`` would also guess UTF-16 and UTF-32 and skip a BOM. The webhook and triage both
    read bodies through this function, so a body the webhook accepts is one triage can read.
    """
    if raw_body.startswith(codecs.BOM_UTF8):
        raise PayloadRejected("body starts with a byte order mark: JSON must be UTF-8 without one (RFC 8259)")
    if b"\x00" in raw_body:  # never in UTF-8 JSON (control characters are escaped); UTF-16/32 is full of them
        raise PayloadRejected("body holds NUL bytes (UTF-16 or UTF-32?): JSON must be UTF-8 (RFC 8259)")
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PayloadRejected(f"body is not UTF-8 (invalid byte at offset {error.start}): JSON must be UTF-8 "
                              "(RFC 8259)") from None
    if _may_nest_deeper(raw_body) and json_depth(text) > MAX_JSON_DEPTH:
        raise PayloadRejected(f"body is JSON nested too deeply to read (more than {MAX_JSON_DEPTH} levels)")
    try:
        return json.loads(text)
    except RecursionError:
        raise PayloadRejected("body is JSON nested too deeply to read") from None
    except json.JSONDecodeError as error:
        raise PayloadRejected(f"body is not valid JSON: {error.msg} at offset {error.pos}") from None
    except ValueError as error:  # integers over Python's 4,300-digit limit
        raise PayloadRejected(f"body is not valid JSON: {str(error)[:80]}") from None


def _may_nest_deeper(raw_body: bytes) -> bool:
    """False when the body has too few opening brackets to nest past MAX_JSON_DEPTH (brackets in strings
    count too, so this only ever overestimates: json_depth then decides)."""
    return raw_body.count(b"{") + raw_body.count(b"[") > _CHEAP_DEPTH_BRACKETS


def hmac_sha256(key: str, message: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()


def require_secret(secrets: dict[str, Any], platform: str, name: str) -> str:
    value = secrets.get(name)
    if not isinstance(value, str) or not value:
        # A missing secret is our misconfiguration, not the caller's fault: 503 makes the platform retry.
        raise SecretsUnavailable(f"the {platform} webhook secret '{name}' is not configured")
    return value


def header(headers: dict[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (API Gateway v2 lower-cases names; tests may not).

    Repeated headers come comma-joined, as API Gateway joins them: a signature header sent twice is then
    malformed and refused, whichever copy is genuine.
    """
    wanted = name.lower()
    values = [value for key, value in headers.items() if key.lower() == wanted]
    return ",".join(values) if values else None

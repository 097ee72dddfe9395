"""What every platform module provides, and the errors a webhook delivery can meet.

Each error carries the HTTP status the webhook answers with, so the handler turns any of them
into a response in one place.
"""

from __future__ import annotations

import codecs
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from moderato.json_depth import json_depth
from moderato.models import Post
from moderato.reasons import UNPARSEABLE_CHANGE


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


class ChangeUnparseable(ValueError):
    """One update of a delivery has a field of a shape no platform sends (an id that is an object...)."""


# What reading one update can raise on a signed but odd payload (wrong types, absurd numbers, a field
# the model refuses). Caught per update, so one bad update never costs the others of its delivery.
CHANGE_ERRORS: tuple[type[Exception], ...] = (AttributeError, KeyError, TypeError, ValueError, OverflowError,
                                              RecursionError)
MAX_ID_CHARS = 256  # platform ids are at most ~200 characters (Instagram message ids); a case key must stay small
MAX_LINK_CHARS = 2048
FRAGMENT_CHARS = 4000  # what is kept of an update set aside: enough to fix the parser, far from any size limit


@dataclass(frozen=True)
class Unparseable:
    """One update of a delivery that could not become a post: where it was, why, and its raw form."""

    where: str  # "entry[0].changes[3]"
    detail: str  # what was wrong, in words that quote no user content
    fragment: str  # the update as JSON, cut at FRAGMENT_CHARS
    reason: str = UNPARSEABLE_CHANGE


@dataclass(frozen=True)
class PlatformEvent:
    """An update that is legitimate but not a post (an app revoked, a like, a follow): recorded, never triaged."""

    kind: str  # the platform's own name for it: "user_event.revoke", "oauth.revoke", "favorite_events"
    where: str  # "user_event", "data"


@dataclass
class ParsedDelivery:
    """The posts of one delivery, its events that are not posts, and the updates of it that could not be read."""

    posts: list[Post] = field(default_factory=list)
    unparseable: list[Unparseable] = field(default_factory=list)
    events: list[PlatformEvent] = field(default_factory=list)

    def read(self, where: str, raw: Any, parse_one: Callable[..., Post | None], *args: Any) -> None:
        """Parse one update; a failure is recorded against this update alone."""
        try:
            post = parse_one(raw, *args)
        except CHANGE_ERRORS as error:
            self.set_aside(where, raw, error)
            return
        if post is not None:
            self.posts.append(post)

    def set_aside(self, where: str, raw: Any, error: Exception) -> None:
        self.unparseable.append(Unparseable(where=where, detail=describe_error(error), fragment=fragment(raw)))


def describe_error(error: Exception) -> str:
    """The error without the offending value: pydantic quotes the input, which may be a person's text."""
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(str(part) for part in e['loc'])}: {e['type']}" for e in error.errors()[:5])
    return f"{type(error).__name__}: {str(error)[:160]}"


def fragment(raw: Any) -> str:
    try:
        text = json.dumps(raw, ensure_ascii=True, default=str)
    except (ValueError, TypeError, RecursionError):
        text = repr(raw)[:FRAGMENT_CHARS]
    return text[:FRAGMENT_CHARS]


# Platform deliveries nest about eight levels (entry, changes, value, from...); far deeper is no delivery.
MAX_JSON_DEPTH = 64


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
    if json_depth(text) > MAX_JSON_DEPTH:
        raise PayloadRejected(f"body is JSON nested too deeply to read (more than {MAX_JSON_DEPTH} levels)")
    try:
        return json.loads(text)
    except RecursionError:
        raise PayloadRejected("body is JSON nested too deeply to read") from None
    except json.JSONDecodeError as error:
        raise PayloadRejected(f"body is not valid JSON: {error.msg} at offset {error.pos}") from None
    except ValueError as error:  # integers over Python's 4,300-digit limit
        raise PayloadRejected(f"body is not valid JSON: {str(error)[:80]}") from None


def mapping(value: Any, what: str) -> dict[str, Any]:
    """An object field: absent is empty; any other type means the update is not one a platform sends."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ChangeUnparseable(f"{what} is a {type(value).__name__}, not an object")
    return value


def items(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ChangeUnparseable(f"{what} is a {type(value).__name__}, not a list")
    return value


def platform_id(value: Any, what: str) -> str | None:
    """An id as platforms send it (a string or an integer); absent is None, anything else a bad update."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ChangeUnparseable(f"{what} is a {type(value).__name__}, not an id")
    text = str(value)
    if len(text) > MAX_ID_CHARS:
        raise ChangeUnparseable(f"{what} has {len(text)} characters; ids have at most {MAX_ID_CHARS}")
    return text


def text_of(value: Any, what: str) -> str:
    """A post's text: absent is empty; a number or an object is not a text (the update is set aside)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ChangeUnparseable(f"{what} is a {type(value).__name__}, not a text")
    return value


def optional_text(value: Any) -> str | None:
    """A descriptive field (a name, a handle): kept when it is a string, ignored otherwise."""
    return value if isinstance(value, str) and value else None


def link(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= MAX_LINK_CHARS:
        return value
    return None


def one_of(value: Any, choices: frozenset[str] | set[str]) -> str | None:
    """A value from a closed vocabulary (an item kind, a verb), or None: an unhashable value must not raise."""
    return value if isinstance(value, str) and value in choices else None


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

    def parse(self, payload: Any, context: DeliveryContext) -> ParsedDelivery: ...

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
            parsed = datetime.fromisoformat(value[:64].replace("Z", "+00:00"))
        except ValueError:
            return default
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        number = float(value)
        if number > 1e11:  # milliseconds
            number /= 1000.0
        return datetime.fromtimestamp(number, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return default  # a time out of any calendar (NaN, 1e300, a list) must not cost the post


def header(headers: dict[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (API Gateway v2 lower-cases names; tests may not).

    Repeated headers come comma-joined, as API Gateway joins them: a signature header sent twice is then
    malformed and refused, whichever copy is genuine.
    """
    wanted = name.lower()
    values = [value for key, value in headers.items() if key.lower() == wanted]
    return ",".join(values) if values else None

"""What every platform module provides to triage: parsing helpers and the parsed delivery.

The errors a webhook delivery can meet (each with the HTTP status the webhook answers with) are in
``moderato.platforms.errors``, the wire reading in ``moderato.platforms.wire``; both are re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from moderato.models import Post
from moderato.platforms.errors import EnqueueFailed as EnqueueFailed
from moderato.platforms.errors import HandshakeMalformed as HandshakeMalformed
from moderato.platforms.errors import HandshakeRejected as HandshakeRejected
from moderato.platforms.errors import PayloadRejected as PayloadRejected
from moderato.platforms.errors import PayloadTooLarge as PayloadTooLarge
from moderato.platforms.errors import SecretsUnavailable as SecretsUnavailable
from moderato.platforms.errors import SignatureInvalid as SignatureInvalid
from moderato.platforms.errors import SignatureMissing as SignatureMissing
from moderato.platforms.errors import UnknownPlatform as UnknownPlatform
from moderato.platforms.errors import WebhookError as WebhookError
from moderato.platforms.wire import MAX_ID_CHARS as MAX_ID_CHARS
from moderato.platforms.wire import MAX_JSON_DEPTH as MAX_JSON_DEPTH
from moderato.platforms.wire import HandshakeAnswer
from moderato.platforms.wire import decode_json as decode_json
from moderato.platforms.wire import header as header
from moderato.platforms.wire import hmac_sha256 as hmac_sha256
from moderato.platforms.wire import require_secret as require_secret
from moderato.reasons import UNPARSEABLE_CHANGE

# The webhook-side names above (errors, wire reading) live in light modules the webhook function imports
# alone; they are re-exported here so that parsing code and tests keep one place to import them from.


class UnparseableDelivery(Exception):
    """Triage could not turn an accepted delivery into posts: retried, then kept in the DLQ."""


class ChangeUnparseable(ValueError):
    """One update of a delivery has a field of a shape no platform sends (an id that is an object...)."""


# What reading one update can raise on a signed but odd payload (wrong types, absurd numbers, a field
# the model refuses). Caught per update, so one bad update never costs the others of its delivery.
CHANGE_ERRORS: tuple[type[Exception], ...] = (AttributeError, KeyError, TypeError, ValueError, OverflowError,
                                              RecursionError)
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

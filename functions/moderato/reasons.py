"""Reason codes: one named constant, one human sentence, defined once and shown everywhere.

A verdict, a case message, the review API and the logs all carry ``Reason`` objects, so a reviewer
sees *why* a post went where it went, and a wrong reason can be fixed where it is defined.
Modules register their codes at import time with :func:`define`; :func:`reason` builds a ``Reason``
and fails loudly on an unknown code, so a typo cannot ship a reason nobody can explain.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from moderato.platforms import webhooks

_SENTENCES: dict[str, str] = {}


class Reason(BaseModel):
    """Why a decision was taken: a stable code, its sentence, and optional specifics."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    detail: str | None = None


def define(code: str, sentence: str) -> str:
    """Register a reason code with its human sentence and return the code (for use as a constant)."""
    existing = _SENTENCES.get(code)
    if existing is not None and existing != sentence:
        raise ValueError(f"reason code {code!r} is already defined with another sentence")
    _SENTENCES[code] = sentence
    return code


def reason(code: str, detail: str | None = None) -> Reason:
    """Build the ``Reason`` for a registered code."""
    try:
        sentence = _SENTENCES[code]
    except KeyError:
        raise KeyError(f"unknown reason code {code!r}: define it with moderato.reasons.define") from None
    return Reason(code=code, message=sentence, detail=detail)


def describe(code: str) -> str | None:
    """The sentence for a code, or None when it is not registered."""
    return _SENTENCES.get(code)


def all_reasons() -> dict[str, str]:
    """Every registered code and its sentence (for docs and the review console)."""
    return dict(sorted(_SENTENCES.items()))


# Codes used by the pipeline itself (classifier and signal codes are defined in their modules).
MENTION_TEXT_NOT_IN_PAYLOAD = define(
    "post.text_not_in_payload",
    "The platform sent only ids for this post; its text must be fetched from the platform API.",
)
EMPTY_TEXT = define("post.empty_text", "The post has no text to classify.")
TEXT_TRUNCATED = define(
    "post.text_truncated",
    "The text was longer than Moderato reads: it was cut, and only its beginning was classified and stored.",
)
UNPARSEABLE_CHANGE = define(
    "delivery.unparseable_change",
    "One update of a signed delivery had a shape the parser cannot read: it was set aside with its raw form.",
)
UNKNOWN_SHAPE_KEPT = define(
    webhooks.UNKNOWN_SHAPE_KEPT,  # the webhook writes it without importing this module (and pydantic)
    "A signed delivery had a shape the parser does not know: it was accepted and kept (IngestQueue, then "
    "IngestDLQ) so that a parser fix and a redrive can read it; refusing it would make the platform disable "
    "the webhook.",
)
TEXT_PENDING = define(
    "post.text_pending",
    "The platform sent only ids for this post: its text is being fetched from the platform API before it is "
    "classified.",
)
TEXT_FETCHED = define(
    "post.text_fetched",
    "The text was not in the webhook delivery: it was fetched from the platform API, then classified.",
)

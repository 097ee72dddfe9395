"""Request validation errors in words a reviewer can act on (which field, what is allowed). Pure.

Powertools answers an invalid request with bare pydantic error types (``{"loc": [...], "type": "enum"}``)
and hides pydantic's own message (it may name Python internals). The review API instead answers with
its usual ``{"code", "message"}`` plus one entry per field, each with a sentence built here from the
error type and its limits (allowed values, minimum length...), never from the rejected input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from moderato.review.requests import FieldError

_ISO = "an ISO 8601 date-time with a time zone (e.g. 2026-11-25T18:00:00Z)"
_FIXED = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "json_invalid": "is not valid JSON",
    "body_not_utf8": "must be JSON encoded as UTF-8",
    "unsupported_content_type": "must be sent as application/json",
    "finite_number": "must be a finite number",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be a string",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "datetime_parsing": f"must be {_ISO}",
    "datetime_from_date_parsing": f"must be {_ISO}",
    "datetime_type": f"must be {_ISO}",
    "timezone_aware": f"must be {_ISO}",
}
_BOUNDS = {
    "string_too_short": ("min_length", "needs at least {} characters"),
    "string_too_long": ("max_length", "must be at most {} characters"),
    "greater_than_equal": ("ge", "must be at least {}"),
    "greater_than": ("gt", "must be greater than {}"),
    "less_than_equal": ("le", "must be at most {}"),
    "less_than": ("lt", "must be less than {}"),
}


def _sentence(kind: str, context: Mapping[str, Any]) -> str:
    if kind == "json_invalid" and context.get("error"):
        # The json module's and json_body's reasons name a position or a limit, never the input.
        return f"is not valid JSON ({context['error']})"
    if kind in ("enum", "literal_error") and context.get("expected"):
        return f"must be one of {context['expected']}"
    if kind in _BOUNDS:
        key, template = _BOUNDS[kind]
        if key in context:
            return template.format(context[key])
    return _FIXED.get(kind, f"is not valid ({kind})")


def _field(loc: Iterable[Any]) -> str:
    """``["body", "reason"]`` -> ``reason``; the whole body (``["body", 1]``) -> ``body``."""
    parts = [str(part) for part in loc]
    named = [part for part in parts[1:] if not part.isdigit()]
    return ".".join(named) or (parts[0] if parts else "request")


def field_errors(errors: Iterable[Mapping[str, Any]]) -> list[FieldError]:
    found: list[FieldError] = []
    for error in errors:
        loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
        kind = str(error.get("type", "invalid"))
        message = f"{_field(loc)}: {_sentence(kind, error.get('ctx') or {})}"
        found.append(FieldError(loc=loc, type=kind, message=message))
    return found


def summary(errors: list[FieldError]) -> str:
    return "invalid request: " + "; ".join(error.message for error in errors) if errors else "invalid request"

"""A review request's JSON body, read within bounds: a hostile body is an invalid request, never a crash. Pure.

Python's json module recurses once per nesting level (RecursionError near a thousand), hands every
number to ``int()`` (ValueError past 4,300 digits), accepts ``NaN`` and ``Infinity`` (not JSON), and
turns ``"\\ud800"`` into a string that cannot be written as UTF-8 (DynamoDB and our own answer would
then fail). ``read_json_body`` refuses each of these with ``BodyRefused``, a ``JSONDecodeError``: the
event handler turns that into its ``json_invalid`` validation error, answered like any invalid request.
"""

from __future__ import annotations

import json
import math
from typing import Any

from moderato.json_depth import json_depth

# The largest valid body (a decision with every text field full, each character escaped as a
# surrogate pair) is about 85,000 characters; anything longer is not a review request.
MAX_BODY_CHARS = 128 * 1024
# Review bodies are flat objects; a little room for nested junk that validation then names field by field.
MAX_DEPTH = 16
# A version is a small counter and no field takes a number with more digits than this.
MAX_NUMBER_CHARS = 32



class BodyRefused(json.JSONDecodeError):
    """The body is not JSON this API reads; the message says why, never what was sent."""

    def __init__(self, reason: str, document: str, position: int = 0) -> None:
        super().__init__(reason, document, position)


class _Unreadable(ValueError):
    """Raised from inside json.loads; its message is ours, so it is safe to show."""


def _number(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Unreadable(f"a number longer than {MAX_NUMBER_CHARS} characters")
    return text


def _int(text: str) -> int:
    return int(_number(text))


def _float(text: str) -> float:
    value = float(_number(text))
    if math.isinf(value):
        raise _Unreadable("a number too large to represent")
    return value


def _constant(name: str) -> Any:
    raise _Unreadable(f"{name} is not a JSON number")


def read_json_body(text: str) -> Any:
    if len(text) > MAX_BODY_CHARS:
        raise BodyRefused(f"the body is longer than {MAX_BODY_CHARS} characters", "")
    if json_depth(text) > MAX_DEPTH:
        raise BodyRefused(f"the body nests deeper than {MAX_DEPTH} levels", text)
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError:
        raise
    except _Unreadable as error:
        raise BodyRefused(str(error), text) from error
    except (ValueError, RecursionError) as error:  # a limit of the json module this module did not foresee
        raise BodyRefused("the body is not JSON this API can read", text) from error
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        raise BodyRefused("a \\u escape that is not a character (a lone surrogate)", text) from error
    return value

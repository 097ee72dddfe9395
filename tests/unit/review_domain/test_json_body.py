"""Reading a review body within bounds: every hostile body is a JSONDecodeError (then a 422), nothing else."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderato.review.json_body import MAX_BODY_CHARS, MAX_DEPTH, BodyRefused, read_json_body
from moderato.review.validation import field_errors


@pytest.mark.parametrize(("text", "reason"), [
    ("[" * 5000 + "]" * 5000, "nests deeper"),
    ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "nests deeper"),
    ('{"expected_version": ' + "9" * 5000 + "}", "number longer"),
    ('{"expected_version": 1e999}', "too large"),
    ('{"expected_version": NaN}', "NaN is not a JSON number"),
    ('{"expected_version": -Infinity}', "-Infinity is not a JSON number"),
    ('{"reason": "\\udc00 lone"}', "lone surrogate"),
    ('{"reason": "' + "a" * MAX_BODY_CHARS + '"}', "longer than"),
])
def test_hostile_bodies_are_refused_with_a_reason_that_never_quotes_them(text: str, reason: str) -> None:
    with pytest.raises(BodyRefused, match=reason) as refused:
        read_json_body(text)
    assert isinstance(refused.value, json.JSONDecodeError) and "9999" not in refused.value.msg


def test_brackets_inside_strings_do_not_count_as_nesting_and_valid_bodies_read_as_usual() -> None:
    body = {"expected_version": 3, "decision": "relabel", "label": "spam",
            "reason": "[[[[[[[[[[[[[[[[[[[[[[ {{{{{{{{{{{{{{{{{{ a \"quoted\" bot 🌸 \u00e9"}
    assert read_json_body(json.dumps(body)) == body
    assert read_json_body(json.dumps(body, ensure_ascii=False)) == body
    assert read_json_body('{"a": [[[[1]]]], "b": -12.5e3}') == {"a": [[[[1]]]], "b": -12500.0}


def test_escaped_quotes_and_brackets_in_strings_are_not_nesting() -> None:
    # A string-stripping regex would be quadratic on an unterminated run of escaped quotes: one pass is not.
    with pytest.raises(json.JSONDecodeError, match="Unterminated string"):
        read_json_body('"' + '\\"' * 50_000)
    assert read_json_body(json.dumps({"reason": '\\"]]]]' * 1000 + "[" * 40})) == \
        {"reason": '\\"]]]]' * 1000 + "[" * 40}


def test_a_refused_body_is_a_readable_field_error() -> None:
    [error] = field_errors([{"loc": ("body", 0), "type": "json_invalid",
                             "ctx": {"error": "a number longer than 32 characters"}}])
    assert error.message == "body: is not valid JSON (a number longer than 32 characters)"
    assert field_errors([{"loc": ("body",), "type": "body_not_utf8"}])[0].message == \
        "body: must be JSON encoded as UTF-8"
    assert field_errors([{"loc": ("body",), "type": "unsupported_content_type"}])[0].message == \
        "body: must be sent as application/json"


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=400) | st.recursive(st.none() | st.booleans() | st.integers() | st.floats()
                                            | st.text(max_size=20), lambda inner: st.lists(inner, max_size=3)
                                            | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                                            max_leaves=30).map(json.dumps))
def test_any_text_is_read_or_refused_as_invalid_json(text: str) -> None:
    try:
        value = read_json_body(text)
    except json.JSONDecodeError:
        return
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # whatever is accepted can be stored and answered

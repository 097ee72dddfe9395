"""Request validation errors become one readable sentence per field, built from limits, never from the input."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from moderato.review.requests import BanProposalRequest, DecisionRequest
from moderato.review.validation import field_errors, summary


def errors_of(model: type, body: dict) -> list[dict]:
    with pytest.raises(ValidationError) as failed:
        model.model_validate(body)
    # Powertools puts "body" in front of each location, as here.
    return [{**error, "loc": ("body", *error["loc"])} for error in failed.value.errors()]


def test_each_field_says_what_is_allowed() -> None:
    found = field_errors(errors_of(DecisionRequest, {"expected_version": 0, "decision": "delete", "x": "<script>"}))
    assert [(e.loc, e.type) for e in found] == [(["body", "expected_version"], "greater_than_equal"),
                                               (["body", "decision"], "enum"), (["body", "x"], "extra_forbidden")]
    assert found[0].message == "expected_version: must be at least 1"
    assert found[1].message.startswith("decision: must be one of 'hide', 'dismiss'")
    assert found[2].message == "x: is not a field of this request"
    assert "<script>" not in summary(found) and "delete" not in summary(found)


def test_minimum_length_and_missing_fields() -> None:
    found = field_errors(errors_of(BanProposalRequest, {"expected_version": 1, "reason": "bad"}))
    assert summary(found) == "invalid request: reason: needs at least 10 characters"
    assert field_errors(errors_of(BanProposalRequest, {}))[0].message == "expected_version: is required"


def test_unknown_kinds_and_whole_body_errors_still_read() -> None:
    assert field_errors([{"loc": ("body", 1), "type": "json_invalid"}])[0].message == "body: is not valid JSON"
    assert field_errors([{"loc": ("query", "since"), "type": "something_new"}])[0].message == \
        "since: is not valid (something_new)"
    assert summary([]) == "invalid request"

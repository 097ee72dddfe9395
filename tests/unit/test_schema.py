"""The moderato.case/v1 schema against the code: every value a case can carry is one the schema allows.

Consumers validate queue messages with the published schema, so an enum value the code can produce
and the schema does not list is a message a strict consumer refuses. The enums are compared both ways:
a value the schema lists and the code can no longer produce is a stale promise to consumers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from moderato.models import CaseStatus, Label, Platform, PostKind
from moderato.triage.cases import CASE_SCHEMA as SCHEMA_NAME
from moderato.triage.cases import case_message
from moderato.triage.routing import QUEUE_FOR_LABEL
from tests.review_support import make_case
from tests.support import CASE_SCHEMA, assert_case_message

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
SCORES = {"spam": 0.9, "complaint": 0.04, "crisis": 0.01, "normal": 0.05}


def enum_at(*path: str) -> list[Any]:
    node: dict[str, Any] = CASE_SCHEMA
    for key in path:
        node = node["properties"][key]
    return list(node["enum"])


def test_the_schema_is_valid_draft_2020_12_and_names_the_contract() -> None:
    jsonschema.Draft202012Validator.check_schema(CASE_SCHEMA)
    assert CASE_SCHEMA["properties"]["schema"]["const"] == SCHEMA_NAME


def test_the_status_enum_is_exactly_the_case_statuses_text_pending_included() -> None:
    statuses = enum_at("status")
    assert len(statuses) == len(set(statuses)), "a status is listed twice"
    assert set(statuses) == {status.value for status in CaseStatus}
    assert "text_pending" in statuses


@pytest.mark.parametrize(("path", "values"), [
    (("label",), {label.value for label in Label}),
    (("queue",), {queue for queue in QUEUE_FOR_LABEL.values() if queue is not None}),
    (("post", "platform"), {platform.value for platform in Platform}),
    (("post", "kind"), {kind.value for kind in PostKind}),
], ids=["label", "queue", "post.platform", "post.kind"])
def test_every_other_enum_matches_the_code(path: tuple[str, ...], values: set[str]) -> None:
    listed = enum_at(*path)
    assert len(listed) == len(set(listed)) and set(listed) == values


@pytest.mark.parametrize("status", list(CaseStatus), ids=[status.value for status in CaseStatus])
def test_a_case_message_in_every_status_validates(status: CaseStatus) -> None:
    case = make_case(Label.SPAM, f"facebook-schema-{status.value}", now=NOW).model_copy(
        update={"status": status, "scores": SCORES})
    message = case_message(case)
    assert message["status"] == status.value
    assert_case_message(message)


def test_an_unknown_status_is_refused() -> None:
    message = case_message(make_case(Label.SPAM, "facebook-schema-unknown", now=NOW).model_copy(
        update={"scores": SCORES}))
    message["status"] = "pending"
    with pytest.raises(jsonschema.ValidationError):
        assert_case_message(message)

"""Path ids no case can have are 404 before any DynamoDB call; versions are strict integers (moto)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

import moderato.adapters.aws
from moderato.models import Label
from tests.integration.conftest import AwsEnv
from tests.integration.test_review import call, handler, now_case, seed
from tests.review_support import claims_of

REVIEWER = claims_of("alice", "moderators", "approvers")


@pytest.fixture
def review(aws: AwsEnv) -> Any:
    return handler("review")


@pytest.fixture
def dynamodb_calls(review: Any) -> Iterator[list[str]]:
    """Every DynamoDB operation the review handler makes from now on."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = moderato.adapters.aws.client("dynamodb").meta.events
    events.register("before-call.dynamodb", record)
    yield calls
    events.unregister("before-call.dynamodb", record)


@pytest.mark.parametrize("path", [
    "/cases/" + "facebook-" + "f" * 3000,  # DynamoDB refuses keys over 2,048 bytes: a 500 if asked
    "/cases/" + "é" * 301,
    "/cases/facebook-a%20b".replace("%20", " "),
    "/cases/facebook-\x00",
])
def test_a_case_id_no_case_can_have_is_404_without_asking_dynamodb(
        aws: AwsEnv, review: Any, dynamodb_calls: list[str], path: str) -> None:
    status, body = call(review, "GET", path, REVIEWER)
    assert (status, body["code"]) == (404, "not_found")
    assert len(body["message"]) < 200  # the id is not echoed back
    assert dynamodb_calls == []


def test_the_same_refusal_on_a_write_route(aws: AwsEnv, review: Any, dynamodb_calls: list[str]) -> None:
    status, body = call(review, "POST", "/cases/" + "x" * 2100 + "/claim", REVIEWER, {"expected_version": 1})
    assert (status, body["code"]) == (404, "not_found") and dynamodb_calls == []


def test_a_proposal_id_no_proposal_can_have_is_404(aws: AwsEnv, review: Any, dynamodb_calls: list[str]) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1"))
    status, body = call(review, "POST", "/cases/facebook-s1/ban-proposals/" + "p" * 400 + "/approve", REVIEWER,
                        {"expected_version": 1})
    assert (status, body["code"]) == (404, "proposal_not_found") and dynamodb_calls == []


@pytest.mark.parametrize("version", [True, False, "1", 1.0])
def test_expected_version_must_be_a_json_integer(aws: AwsEnv, review: Any, version: Any) -> None:
    # Given a case at version 1
    seed(aws, now_case(Label.SPAM, "facebook-s1"))
    # When a client sends true (or "1", or 1.0) as the version it saw
    status, body = call(review, "POST", "/cases/facebook-s1/claim", REVIEWER, {"expected_version": version})
    # Then it is refused as an invalid request naming the field, and the case is not claimed
    assert status == 422 and any(entry["loc"][-1] == "expected_version" for entry in body["detail"])
    assert call(review, "GET", "/cases/facebook-s1", REVIEWER)[1]["case"]["version"] == 1


def test_bulk_hide_refuses_a_boolean_version(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1"))
    status, body = call(review, "POST", "/cases/bulk-hide", REVIEWER, {
        "reason": "same link from 40 new accounts", "cases": [{"case_id": "facebook-s1", "expected_version": True}]})
    assert status == 422 and "expected_version" in body["message"]


def test_a_real_case_id_and_integer_version_still_work(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1"))
    status, body = call(review, "POST", "/cases/facebook-s1/claim", REVIEWER, {"expected_version": 1})
    assert status == 200 and body["version"] == 2


def test_info_logs_carry_the_reviewers_sub_not_their_name(aws: AwsEnv, review: Any,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    # Given a refused request (logged at INFO) by a reviewer named Marguerite Dupont
    seed(aws, now_case(Label.SPAM, "facebook-s1"))
    claims = claims_of("Marguerite Dupont", "moderators")
    with caplog.at_level(logging.DEBUG, logger="moderato"):
        call(review, "POST", "/cases/facebook-s1/claim", claims, {"expected_version": 7})
    # Then each INFO line, as Powertools writes it (keys appended for the request included), names the
    # opaque sub and never the person; the name is in a DEBUG line only
    formatter = review.logger.registered_formatter
    lines = {record.levelno: json.loads(formatter.format(record)) for record in caplog.records}
    info = [json.loads(formatter.format(record)) for record in caplog.records if record.levelno == logging.INFO]
    assert info and all(line.get("reviewer_sub") == "sub-Marguerite Dupont" for line in info)
    assert not any("Marguerite" in json.dumps({k: v for k, v in line.items() if k != "reviewer_sub"})
                   for line in info)
    assert lines[logging.DEBUG]["reviewer"] == "Marguerite Dupont"

"""Accepted but odd deliveries in triage, and AWS outages in the review API: the answers people act on."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from moderato.adapters.case_store import CaseStore
from moderato.models import MAX_TEXT_CHARS, Delivery
from moderato.reasons import TEXT_TRUNCATED
from moderato.review.settings import clear_caches
from tests.integration.conftest import AwsEnv, FakeContext, load_handler
from tests.integration.test_triage import delivery, run_triage
from tests.review_support import claims_of, review_event
from tests.support import meta_comment


def cases(aws: AwsEnv) -> list:
    return list(CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb")).all_cases())


def test_a_bad_update_costs_only_itself_and_the_delivery_is_kept_for_it(aws: AwsEnv) -> None:
    # Given a Meta delivery of three comments whose second 'value' is a string, and a good delivery
    mixed = meta_comment("Ma commande n'est jamais arrivée", comment_id="1_1")
    change = mixed["entry"][0]["changes"][0]
    mixed["entry"][0]["changes"] = [change, {"field": "feed", "value": "oops"},
                                    {**change, "value": {**change["value"], "comment_id": "1_3",
                                                         "message": "Toujours rien reçu, remboursez-moi"}}]
    bad = delivery("meta", mixed)
    good = delivery("meta", meta_comment("Livrée à temps, merci", comment_id="2_1"))
    # When triage handles both
    result = run_triage(aws, bad, good)
    # Then the three good comments are cases, each sent once, and the mixed delivery waits in IngestDLQ,
    # raw, with its bad update, at once: no retry sends its good comments' messages again
    assert {c.post.post_id for c in cases(aws)} == {"1_1", "1_3", "2_1"}
    assert result == {"batchItemFailures": []}
    [kept] = aws.messages("INGEST_DLQ_URL")
    assert Delivery.model_validate_json(kept["Body"]) == bad
    assert len(aws.messages("COMPLAINT_QUEUE_URL")) == 2
    # And a redrive after the fix (the same delivery again) writes no case twice
    again = run_triage(aws, bad, good)
    assert again == {"batchItemFailures": []} and len(cases(aws)) == 3


def test_a_one_megabyte_comment_becomes_a_case_cut_to_the_cap(aws: AwsEnv) -> None:
    # Over DynamoDB's 400 KB item limit as it came: cut, with a reason the reviewer sees
    result = run_triage(aws, delivery("meta", meta_comment("Remboursez-moi " * 70_000)))
    assert result == {"batchItemFailures": []}
    [case] = cases(aws)
    assert len(case.post.text) == MAX_TEXT_CHARS
    assert TEXT_TRUNCATED in {r.code for r in case.reasons}


def test_the_review_api_answers_503_with_retry_after_when_dynamodb_is_unreachable(
        aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given DynamoDB unreachable (connection refused) for the review function
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    clear_caches()
    review = load_handler("review")
    # When a reviewer lists the cases
    answer = review.lambda_handler(review_event("GET", "/cases", claims_of("alice", "moderators")), FakeContext())
    # Then the API says "later", not "bug": 503, Retry-After, a readable message
    assert answer["statusCode"] == 503
    assert answer["headers"]["Retry-After"] == "30"
    assert json.loads(answer["body"])["code"] == "aws_unavailable"


def test_the_review_api_still_answers_500_for_an_aws_error_that_is_a_bug(
        aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # A table that does not exist is a deployment bug, not an outage: it must not hide behind a 503
    monkeypatch.setenv("CASES_TABLE_NAME", "no-such-table")
    clear_caches()
    review = load_handler("review")
    with pytest.raises(Exception, match="ResourceNotFound"):
        review.lambda_handler(review_event("GET", "/cases", claims_of("alice", "moderators")), FakeContext())


def test_triage_logs_where_an_update_was_set_aside_but_not_its_words(aws: AwsEnv) -> None:
    payload = meta_comment("x")
    payload["entry"][0]["changes"].append({"field": "feed", "value": {"item": "comment", "verb": "add",
                                                                       "from": {"id": ["Jeanne Secret"]},
                                                                       "message": "mon adresse est 12 rue X"}})
    triage = load_handler("triage")
    buffer = io.StringIO()
    handler = triage.logger.registered_handler
    previous = handler.setStream(buffer)
    try:
        from tests.integration.test_triage import sqs_event
        triage.lambda_handler(sqs_event(aws, delivery("meta", payload), delivery("meta", meta_comment("y", "9_9"))),
                              FakeContext())
    finally:
        handler.setStream(previous)
    records: list[dict[str, Any]] = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    [aside] = [r for r in records if r["message"] == "update set aside"]
    assert aside["where"] == "entry[0].changes[1]" and "from.id is a list" in aside["detail"]
    assert "12 rue X" not in buffer.getvalue() and "Jeanne Secret" not in buffer.getvalue()


def test_a_wave_is_logged_at_warning_without_the_posts_it_quotes(aws: AwsEnv) -> None:
    from tests.integration.test_triage_signals import replay
    from tests.signal_scenarios import late_delivery_wave

    rows = late_delivery_wave("r9")
    triage = load_handler("triage")
    buffer = io.StringIO()
    handler = triage.logger.registered_handler
    previous = handler.setStream(buffer)
    try:
        replay(rows)  # re-imports triage: the logger is the same Powertools logger ("moderato")
    finally:
        handler.setStream(previous)
    records = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip().startswith('{"level"')]
    [wave] = [r for r in records if r["message"] == "complaint wave: one alert published"]
    assert wave["level"] == "WARNING" and wave["count"] >= 10 and wave["sample_case_ids"]
    assert "samples" not in wave and "escalation" not in wave
    texts = [row["text"] for row in rows]
    assert not any(text[:30] in buffer.getvalue() for text in texts)

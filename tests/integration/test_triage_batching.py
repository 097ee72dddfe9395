"""Triage works per SQS batch against moto: few calls, each case written once, exactly one message per case.

A crash is injected between the case write and the queue send (SendMessageBatch fails once): the record
fails, SQS retries it, and the retry finds the case as written by this same delivery and sends it, once.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import boto3
from botocore.exceptions import EndpointConnectionError

from tests.integration.conftest import AwsEnv
from tests.integration.test_triage import cases, delivery, run_triage
from tests.support import meta_comment, x_tweet

TEXTS = (
    "Ma commande n'est jamais arrivée, commande 4471, et le service client ne répond pas @Floralys",
    "Gagnez un iPhone 15 !!! cliquez vite https://t.co/xY7pQ2 avant minuit #concours #gratuit",
    "Merci pour les roses, elles sont magnifiques 😍",
    "Toujours pas recu mon bouquet pour l'anniversaire de ma mere, c'est une honte",
    "Hello do you deliver to Lyon on sundays? need flowers for my grandma",
)


def batch(offset: int = 0) -> list[Any]:
    return [delivery("meta", meta_comment(text, comment_id=f"712750021053074_{1063824911537000 + offset + n}",
                                          author_id=str(24266381753000000 + offset + n)))
            if n % 2 == 0 else
            delivery("x", x_tweet(text, tweet_id=str(1234567000 + offset + n), user_id=str(987654000 + offset + n)))
            for n, text in enumerate(TEXTS)]


def case_messages(aws: AwsEnv) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for env in ("SPAM_QUEUE_URL", "COMPLAINT_QUEUE_URL", "CRISIS_QUEUE_URL")
            for m in aws.messages(env)]


def count_calls() -> Counter[str]:
    calls: Counter[str] = Counter()
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register(
        "before-call", lambda model, **_: calls.update([f"{model.service_model.service_name}.{model.name}"]))
    return calls


def test_a_batch_is_read_written_and_sent_in_few_calls(aws: AwsEnv) -> None:
    # Given the handler's clients counted from the start (they are built from the default session)
    calls = count_calls()
    # When one batch of five single-post deliveries is triaged
    assert run_triage(aws, *batch()) == {"batchItemFailures": []}
    # Then each post has its case, each routed case one message, and no idempotency table is involved
    stored = cases(aws)
    assert len(stored) == len(TEXTS)
    assert sorted(m["case_id"] for m in case_messages(aws)) == sorted(c.case_id for c in stored if c.queue)
    assert calls["dynamodb.BatchGetItem"] >= 1 and calls["sqs.SendMessage"] == 0
    # one conditional put per new case (no transaction, no event item); no case is rewritten afterwards
    assert calls["sqs.SendMessageBatch"] <= 3 and calls["dynamodb.TransactWriteItems"] == 0
    assert calls["dynamodb.PutItem"] >= len(TEXTS) and calls["dynamodb.UpdateItem"] < len(TEXTS)
    assert sum(calls.values()) - calls["dynamodb.Scan"] - calls["sqs.ReceiveMessage"] <= 3 * len(TEXTS)


def test_a_redelivered_batch_and_a_post_twice_in_one_batch_yield_one_case_and_one_message_each(
        aws: AwsEnv) -> None:
    first = batch()
    run_triage(aws, *first, first[1])  # the spam post twice in one batch
    run_triage(aws, *batch())  # the platform redelivers everything (new request ids, same posts)
    stored = cases(aws)
    assert len(stored) == len(TEXTS)
    messages = Counter(m["case_id"] for m in case_messages(aws))
    assert set(messages.values()) == {1} and set(messages) == {c.case_id for c in stored if c.queue}


def test_a_crash_between_the_case_write_and_the_send_still_ends_in_one_case_and_one_message(aws: AwsEnv) -> None:
    # Given SQS unreachable during the first invocation (it stops after writing the cases)
    boto3.setup_default_session()
    sqs_down = {"now": True}

    def refuse(**_: Any) -> None:
        if sqs_down["now"]:
            raise ConnectionError("the function stopped between the case write and the send")

    boto3.DEFAULT_SESSION.events.register("before-call.sqs.SendMessageBatch", refuse)
    deliveries = batch(offset=50)
    # When triage runs, every record with a case to send fails (the normal post has none to send), then
    # SQS retries the same records
    failed = run_triage(aws, *deliveries)["batchItemFailures"]
    written = cases(aws)
    assert len(written) == len(TEXTS) and case_messages(aws) == []
    assert 0 < len(failed) == sum(1 for case in written if case.queue)
    sqs_down["now"] = False
    assert run_triage(aws, *deliveries) == {"batchItemFailures": []}
    # Then each case exists once, unchanged, and each routed case has exactly one message
    stored = cases(aws)
    assert sorted(c.case_id for c in stored) == sorted(c.case_id for c in written)
    assert {c.case_id: c.version for c in stored} == {c.case_id: 1 for c in written}
    messages = Counter(m["case_id"] for m in case_messages(aws))
    assert set(messages.values()) == {1} and set(messages) == {c.case_id for c in stored if c.queue}


def test_a_transient_aws_error_is_retried_as_a_batch_not_record_by_record(aws: AwsEnv) -> None:
    # Given SendMessageBatch failing once (after the batch's cases were written)
    calls = count_calls()
    failures = {"left": 1}

    def refuse_once(**_: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise EndpointConnectionError(endpoint_url="https://sqs.eu-west-1.amazonaws.com")

    boto3.DEFAULT_SESSION.events.register("before-call.sqs.SendMessageBatch", refuse_once)
    # When one batch is triaged
    assert run_triage(aws, *batch(offset=80)) == {"batchItemFailures": []}
    # Then the batch pass ran again as a whole: the cases were read in one call per pass, never per record
    assert calls["dynamodb.BatchGetItem"] <= 2 * 2
    stored = cases(aws)
    messages = Counter(m["case_id"] for m in case_messages(aws))
    assert len(stored) == len(TEXTS) and set(messages) == {c.case_id for c in stored if c.queue}

"""GET /health on the webhook function (moto): 200 when it can accept deliveries, else 503 naming why."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import AwsEnv, FakeContext, load_handler
from tests.support import api_event


def health() -> dict:
    webhook = load_handler("webhook")
    event = api_event("GET", "/health")
    event["routeKey"] = "GET /health"
    event["pathParameters"] = {}
    return webhook.lambda_handler(event, FakeContext())


def test_health_is_ok_when_the_queue_and_the_secrets_answer(aws: AwsEnv) -> None:
    response = health()
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok",
                                            "dependencies": {"IngestQueue": "ok", "WebhookSecrets": "ok"}}


def test_health_names_a_missing_ingest_queue_and_says_when_to_ask_again(aws: AwsEnv) -> None:
    # Given IngestQueue is gone
    aws.client("sqs").delete_queue(QueueUrl=aws.env["INGEST_QUEUE_URL"])
    # Then /health is 503 with Retry-After, naming the queue and not the secrets
    response = health()
    answer = json.loads(response["body"])
    assert response["statusCode"] == 503 and response["headers"]["Retry-After"] == "30"
    assert answer["unavailable"] == ["IngestQueue"] and answer["dependencies"]["WebhookSecrets"] == "ok"


def test_health_names_the_secrets_when_secrets_manager_is_unreachable(aws: AwsEnv,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Secrets Manager refuses connections (an outage), SQS still answering
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9")
    response = health()
    answer = json.loads(response["body"])
    assert response["statusCode"] == 503 and response["headers"]["Retry-After"] == "30"
    assert answer == {"status": "degraded", "unavailable": ["WebhookSecrets"],
                      "dependencies": {"IngestQueue": "ok", "WebhookSecrets": "unavailable: SecretsUnavailable"}}


def test_health_reports_sqs_unreachable_without_the_error_text(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9")
    response = health()
    answer = json.loads(response["body"])
    assert response["statusCode"] == 503
    assert answer["unavailable"] == ["IngestQueue"]
    assert answer["dependencies"]["IngestQueue"].startswith("unavailable: ") and "127.0.0.1" not in response["body"]

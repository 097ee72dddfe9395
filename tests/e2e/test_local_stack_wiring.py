"""The local stack wires every event source of template.yaml, with Lambda's and API Gateway's semantics.

The first test uses the real template and handlers (session stack in a child process). The others
run a small fake template (tests/fixtures/local) in-process, whose handlers report what they received
on a probe queue, to pin down retries, the DLQ, SNS delivery, the v2 HTTP event and the JWT check.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from moderato_local.jwt_issuer import JwtSettings, issue_token
from moderato_local.stack import LocalStack
from moderato_local.template import Template

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "local"
JWT = JwtSettings.load(REPO / "infra" / "local" / "secrets.json")


def template_events(path: Path) -> set[tuple[str, str, str]]:
    return {(spec.logical_id, name, str(event.get("Type")))
            for spec in Template.load(path).functions() for name, event in spec.events.items()}


def test_every_function_event_in_template_yaml_is_wired(local_stack: Any) -> None:
    wired = {(item.function, item.event, item.type) for item in local_stack.wired()}
    declared = template_events(REPO / "template.yaml")
    assert declared, "template.yaml declares no function events"
    assert declared - wired == set(), "events declared in template.yaml but not wired in the local stack"
    assert requests.get(f"{local_stack.gateway_url}/health", timeout=5).status_code == 200


# --- the fake template, in-process ---------------------------------------------------------------


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    monkeypatch.setenv("MODERATO_LOCAL_RETRY_DELAY", "1")
    with LocalStack(FIXTURES / "template.yaml", FIXTURES / "functions", gateway_port=0, aws_port=0,
                    log_dir=tmp_path / "logs") as running:
        yield running


def probe(stack: LocalStack, kind: str, count: int, timeout: float = 15.0) -> list[Any]:
    """Payloads the fake handlers reported, waiting until ``count`` of ``kind`` arrived."""
    sqs = stack.client("sqs")
    found: list[Any] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=stack.resources["ProbeQueue"], MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            report = json.loads(message["Body"])
            if report["kind"] == kind:
                found.append(report["payload"])
            sqs.delete_message(QueueUrl=stack.resources["ProbeQueue"], ReceiptHandle=message["ReceiptHandle"])
    return found


def test_fake_template_events_are_all_wired(stack: LocalStack) -> None:
    wired = {(item.function, item.event, item.type) for item in stack.wired()}
    assert wired == template_events(FIXTURES / "template.yaml")
    health = requests.get(f"{stack.gateway_url}/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_sqs_failed_record_is_retried_then_dead_lettered_and_the_others_deleted(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    sqs.send_message_batch(QueueUrl=stack.resources["WorkQueue"], Entries=[
        {"Id": "1", "MessageBody": "ok-1",
         "MessageAttributes": {"trace": {"DataType": "String", "StringValue": "t-1"}}},
        {"Id": "2", "MessageBody": "fail"},
        {"Id": "3", "MessageBody": "ok-2"},
    ])
    assert stack.wait_idle(20), "the worker queue never drained"

    seen = probe(stack, "worker", count=2)
    records = [record for payload in seen for record in payload["records"]]
    received = {}
    for record in records:
        received.setdefault(record["body"], []).append(record["attributes"]["ApproximateReceiveCount"])
    assert received == {"ok-1": ["1"], "ok-2": ["1"], "fail": ["1", "2"]}  # maxReceiveCount is 2

    first = next(record for record in records if record["body"] == "ok-1")
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"].endswith(":moderato-local-WorkQueue")
    assert first["awsRegion"] == "eu-west-1"
    assert first["messageAttributes"]["trace"] == {
        "stringValue": "t-1", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    assert set(first["attributes"]) >= {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                        "ApproximateFirstReceiveTimestamp"}
    assert first["md5OfBody"] and first["receiptHandle"] and first["messageId"]

    dead = sqs.receive_message(QueueUrl=stack.resources["WorkDLQ"], MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in dead] == ["fail"]


def test_a_handler_exception_fails_the_whole_batch(stack: LocalStack) -> None:
    sqs = stack.client("sqs")
    sqs.send_message(QueueUrl=stack.resources["WorkQueue"], MessageBody="boom")
    assert stack.wait_idle(20)
    dead = sqs.receive_message(QueueUrl=stack.resources["WorkDLQ"], MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in dead] == ["boom"]
    assert "boom (expected by the test)" in stack.log_file.read_text()


def test_gateway_turns_a_post_into_a_v2_event_and_returns_the_handler_answer(stack: LocalStack) -> None:
    response = requests.post(f"{stack.gateway_url}/echo/jeanne?a=1&a=2", data="Ma commande n'est jamais arrivée",
                             headers={"X-Hub-Signature-256": "sha256=abc", "Cookie": "c1=x; c2=y"}, timeout=10)
    assert response.status_code == 201
    assert response.headers["x-echo"] == "yes"
    answer = response.json()
    event = answer["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /echo/{name}"
    assert event["rawPath"] == "/echo/jeanne" and event["rawQueryString"] == "a=1&a=2"
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["pathParameters"] == {"name": "jeanne"}
    assert event["cookies"] == ["c1=x", "c2=y"]
    assert event["headers"]["x-hub-signature-256"] == "sha256=abc"
    assert event["body"] == "Ma commande n'est jamais arrivée" and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"]["method"] == "POST" and context["stage"] == "$default"
    assert context["routeKey"] == "POST /echo/{name}" and context["requestId"]
    # The handler ran with its template environment, resolved against the local resources.
    assert answer["env"]["TABLE_NAME"] == stack.resources["CasesTable"]
    assert answer["env"]["PROBE_QUEUE_URL"] == stack.resources["ProbeQueue"]
    assert answer["env"]["API_URL"] == stack.gateway_url + "/"
    assert answer["service_at_import"] == "echo"
    assert answer["context"]["function_name"] == "moderato-local-EchoFunction"
    assert 0 < answer["context"]["remaining"] <= 5000


def test_gateway_error_answers_match_api_gateway(stack: LocalStack) -> None:
    base = stack.gateway_url
    assert requests.post(f"{base}/nowhere", timeout=10).json() == {"message": "Not Found"}
    assert requests.get(f"{base}/echo/jeanne", timeout=10).status_code == 404  # POST-only route
    crash = requests.post(f"{base}/echo/crash", timeout=10)
    assert (crash.status_code, crash.json()) == (500, {"message": "Internal Server Error"})
    bare = requests.post(f"{base}/echo/bare", timeout=10)
    assert (bare.status_code, bare.json()) == (200, {"hello": "world"})
    binary = requests.put(f"{base}/files/a/b.bin", data=b"\xff\x00\xfe", timeout=10).json()["event"]
    assert binary["pathParameters"] == {"proxy": "a/b.bin"}
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == b"\xff\x00\xfe"


def test_sns_publish_reaches_the_subscribed_function(stack: LocalStack) -> None:
    stack.client("sns").publish(TopicArn=stack.resources["AlertTopic"], Subject="crisis", Message="fire!",
                                MessageAttributes={"label": {"DataType": "String", "StringValue": "crisis"}})
    (event,) = probe(stack, "alert", count=1)
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["TopicArn"] == stack.resources["AlertTopic"]
    assert (record["Sns"]["Subject"], record["Sns"]["Message"]) == ("crisis", "fire!")
    assert record["Sns"]["MessageAttributes"] == {"label": {"Type": "String", "Value": "crisis"}}


def test_jwt_routes_need_a_valid_local_token(stack: LocalStack) -> None:
    url = f"{stack.gateway_url}/private"
    denied = requests.get(url, timeout=10)
    assert (denied.status_code, denied.json()) == (401, {"message": "Unauthorized"})
    forged = jwt.encode({"sub": "x", "iss": JWT.issuer, "aud": JWT.audience, "exp": time.time() + 60},
                        "not-the-local-key-but-long-enough-for-hs256", algorithm="HS256")
    assert requests.get(url, headers={"Authorization": f"Bearer {forged}"}, timeout=10).status_code == 401
    expired = issue_token(JWT, "alice", ["moderators"], ttl=60, now=time.time() - 3600)
    assert requests.get(url, headers={"Authorization": f"Bearer {expired}"}, timeout=10).status_code == 401

    token = issue_token(JWT, "alice", ["moderators", "approvers"])
    allowed = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert allowed.status_code == 201
    claims = allowed.json()["event"]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["cognito:groups"] == "[moderators approvers]"
    assert claims["username"] == "alice" and claims["token_use"] == "id"
    assert claims["exp"].isdigit()


def test_scheduled_functions_get_a_scheduled_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODERATO_LOCAL_SCHEDULE_SECONDS", "0.2")
    with LocalStack(FIXTURES / "template.yaml", FIXTURES / "functions", gateway_port=0, aws_port=0,
                    log_dir=tmp_path / "logs") as running:
        (event, *_) = probe(running, "tick", count=1)
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"

"""Local fault injection: only the handlers' calls fail, a batch crashes halfway, failed async events are kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError
from moto import mock_aws

from moderato_local.faults import FaultInjector, FaultPlan, InjectedCrash
from moderato_local.pollers import FailureDestination, SchedulePoller, SnsPoller
from moderato_local.resolver import REGION
from moderato_local.runtime import Activity, FunctionRuntime
from moderato_local.template import FunctionSpec


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def injector(aws: None) -> Iterator[FaultInjector]:
    faults = FaultInjector(FaultPlan(rate=0.999, seed=1, crash_batches=1))
    faults.install()
    yield faults
    faults.uninstall()


def runtime(handler: Any, faults: FaultInjector | None, logical_id: str = "TriageFunction") -> FunctionRuntime:
    spec = FunctionSpec(logical_id, "module.handler", timeout=30, memory=512, environment={}, events={})
    function = FunctionRuntime(spec, f"moderato-local-{logical_id}", {}, Activity(), faults)
    function._handler = handler
    return function


def test_the_plan_comes_from_the_environment_and_is_off_by_default() -> None:
    assert FaultPlan.from_env({}) is None
    plan = FaultPlan.from_env({"MODERATO_LOCAL_FAULT_RATE": "0.05", "MODERATO_LOCAL_FAULT_SEED": "7"})
    assert plan == FaultPlan(rate=0.05, seed=7, crash_batches=1)
    assert FaultPlan.from_env({"MODERATO_LOCAL_CRASH_BATCHES": "2"}) == FaultPlan(rate=0, crash_batches=2)
    with pytest.raises(ValueError, match="FAULT_RATE"):
        FaultPlan.from_env({"MODERATO_LOCAL_FAULT_RATE": "1"})


def test_only_calls_made_by_a_handler_fail(injector: FaultInjector) -> None:
    # Given a queue, and a client created after the hooks, as the handlers' clients are
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="IngestQueue")["QueueUrl"]
    # When the stack itself calls AWS (a poller, a test), nothing is injected
    for _ in range(5):
        sqs.get_queue_attributes(QueueUrl=url)
    # But when a handler calls, almost every call fails with one of the injected faults
    failures: list[Exception] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        for _ in range(20):
            try:
                sqs.send_message(QueueUrl=url, MessageBody="{}")
            except (ClientError, BotoCoreError) as error:
                failures.append(error)

    runtime(handler, injector, "WebhookFunction").invoke({})
    assert len(failures) >= 10
    assert sum(injector.injected.values()) >= 15


def test_a_switched_off_injector_injects_nothing(aws: None, tmp_path: Any) -> None:
    switch = tmp_path / "off"
    switch.touch()
    faults = FaultInjector(FaultPlan(rate=0.999, seed=1, crash_batches=1, off_file=str(switch)))
    faults.install()
    try:
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        runtime(lambda event, context: [sqs.send_message(QueueUrl=url, MessageBody="{}") for _ in range(5)],
                faults).invoke({"Records": [{}, {}]})
    finally:
        faults.uninstall()
    assert faults.injected == {}


def test_a_batch_crashes_halfway_once() -> None:
    seen: list[int] = []
    faults = FaultInjector(FaultPlan(rate=0, crash_batches=1))
    function = runtime(lambda event, context: seen.append(len(event["Records"])), faults)
    batch = {"Records": [{"messageId": str(index)} for index in range(6)]}
    # The first half is handled for real, then the invocation dies without an answer
    with pytest.raises(InjectedCrash):
        function.invoke(batch)
    assert seen == [3]
    # Once only: the retry of the whole batch goes through
    function.invoke(batch)
    assert seen == [3, 6] and faults.injected["crash"] == 1


def test_a_failed_sns_invocation_goes_to_the_on_failure_destination(aws: None) -> None:
    # Given an SNS subscriber whose function always fails, and its on-failure queue
    sqs = boto3.client("sqs", region_name=REGION)
    hidden = sqs.create_queue(QueueName="sns-hidden")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="AlertsDLQ")["QueueUrl"]

    def fail(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("chat webhook answered 500")

    function = runtime(fail, None, "AlertsFunction")
    poller = SnsPoller("AlertsFunction.AlertsTopicEvent", function, sqs, hidden, "arn:aws:sqs:eu-west-1:1:h",
                       "arn:aws:sns:eu-west-1:1:t:sub", retry_delay=0, attempts=1,
                       on_failure=FailureDestination(sqs, dlq, function.arn))
    envelope = {"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:eu-west-1:1:t",
                "Message": json.dumps({"kind": "crisis"}), "Timestamp": "2026-11-25T09:00:00.000Z"}
    sqs.send_message(QueueUrl=hidden, MessageBody=json.dumps(envelope))
    # When the poller has run out of attempts
    poller.poll_once()
    # Then the event and the error wait in the DLQ, as Lambda's destination record, and nothing is dropped
    [message] = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"] == {"errorMessage": "chat webhook answered 500", "errorType": "RuntimeError"}
    assert json.loads(record["requestPayload"]["Records"][0]["Sns"]["Message"]) == {"kind": "crisis"}
    assert sqs.receive_message(QueueUrl=hidden).get("Messages") is None


def test_a_failed_scheduled_run_is_retried_then_kept(aws: None) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    dlq = sqs.create_queue(QueueName="SlaCheckDLQ")["QueueUrl"]
    calls: list[dict[str, Any]] = []

    def fail(event: dict[str, Any], context: Any) -> None:
        calls.append(event)
        raise RuntimeError("throttled")

    function = runtime(fail, None, "SlaCheckFunction")
    poller = SchedulePoller("SlaCheckFunction.EveryFiveMinutes", function, 0, lambda: {"source": "aws.events"},
                            attempts=3, on_failure=FailureDestination(sqs, dlq, function.arn))
    poller.poll_once()
    assert len(calls) == 3
    [message] = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    assert json.loads(message["Body"])["requestPayload"] == {"source": "aws.events"}

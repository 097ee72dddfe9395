"""Event sources with Lambda's semantics: SQS batches, SNS notifications and schedules.

SQS (what Lambda's event source mapping does): long-poll up to BatchSize (max 10) messages, invoke
with the SQS event, delete what succeeded. A handler exception fails the whole batch; with
ReportBatchItemFailures only the listed ``itemIdentifier``s fail (an invalid list fails the whole
batch, as in AWS). Failed messages become visible again after a short local retry delay instead of
the queue's full visibility timeout, so retries and redrive happen in seconds. Moto itself moves a
message to the DLQ on the receive after ``maxReceiveCount`` receives, as SQS does (checked against
moto 5.2.5 and pinned by tests/e2e/test_local_stack_wiring.py, so an upgrade that changes it fails).

One thread per event source: a function's concurrency is 1 locally (see runtime.py).
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from moderato_local.events import scheduled_event, sns_event, sqs_event
from moderato_local.runtime import FunctionRuntime

log = logging.getLogger("moderato_local")

SNS_ATTEMPTS = 3  # Lambda invokes an SNS subscriber asynchronously: the first try plus two retries


class Poller:
    def __init__(self, name: str, function: FunctionRuntime) -> None:
        self.name = name
        self.function = function
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"moderato-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                if self._stop.is_set():
                    return  # moto is going away with the stack: not an error
                # A poller must survive moto hiccups and handler bugs; the log keeps the evidence.
                log.error("poller %s: %s", self.name, traceback.format_exc())
                self._stop.wait(1.0)

    def poll_once(self) -> None:
        raise NotImplementedError


class SqsPoller(Poller):
    def __init__(
        self,
        name: str,
        function: FunctionRuntime,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        report_failures: bool,
        retry_delay: int,
    ) -> None:
        super().__init__(name, function)
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = max(1, min(int(batch_size), 10))  # ReceiveMessage takes at most 10
        self.report_failures = report_failures
        self.retry_delay = retry_delay

    def poll_once(self) -> None:
        messages = self.receive()
        if not messages:
            return
        failed = self.failed_ids(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(done)
            ])
        for message in messages:
            if message["MessageId"] in failed:
                self.retry_later(message)

    def receive(self) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=1,  # short long-poll: fast to stop, cheap when idle
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages") or []

    def retry_later(self, message: dict[str, Any]) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self.retry_delay
        )

    def failed_ids(self, messages: list[dict[str, Any]]) -> set[str]:
        every_id = {m["MessageId"] for m in messages}
        try:
            result = self.function.invoke(sqs_event(messages, self.queue_arn))
        except Exception:
            log.error("%s failed on a batch of %d from %s:\n%s", self.function.name, len(messages),
                      self.queue_arn, traceback.format_exc())
            return every_id
        if not self.report_failures:
            return set()
        return batch_item_failures(result, every_id)


def batch_item_failures(result: Any, every_id: set[str]) -> set[str]:
    """Lambda's reading of a partial batch response; anything malformed fails the whole batch."""
    if result in (None, "", {}):
        return set()
    if not isinstance(result, dict):
        return every_id
    failures = result.get("batchItemFailures")
    if failures is None or failures == []:
        return set()
    if not isinstance(failures, list):
        return every_id
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in every_id:
            log.warning("invalid batchItemFailures entry %r: whole batch fails", item)
            return every_id
        failed.add(identifier)
    return failed


class SnsPoller(SqsPoller):
    """Reads a hidden SQS queue subscribed to the topic; one invocation per notification."""

    def __init__(self, name: str, function: FunctionRuntime, sqs: Any, queue_url: str, queue_arn: str,
                 subscription_arn: str, retry_delay: int) -> None:
        super().__init__(name, function, sqs, queue_url, queue_arn, 10, False, retry_delay)
        self.subscription_arn = subscription_arn

    def poll_once(self) -> None:
        for message in self.receive():
            envelope = json.loads(message["Body"])
            try:
                self.function.invoke(sns_event(envelope, self.subscription_arn))
            except Exception:
                attempt = int(message["Attributes"].get("ApproximateReceiveCount", "1"))
                log.error("%s failed on SNS message %s (attempt %d):\n%s", self.function.name,
                          envelope.get("MessageId"), attempt, traceback.format_exc())
                if attempt < SNS_ATTEMPTS:
                    self.retry_later(message)
                    continue
                log.error("%s: SNS message %s dropped after %d attempts", self.function.name,
                          envelope.get("MessageId"), attempt)
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


class SchedulePoller(Poller):
    """Invokes on a fixed local period (not the template's rate/cron, which could be hours)."""

    def __init__(self, name: str, function: FunctionRuntime, interval: float,
                 event_factory: Callable[[], dict[str, Any]]) -> None:
        super().__init__(name, function)
        self.interval = interval
        self.event_factory = event_factory

    def poll_once(self) -> None:
        if self._stop.wait(self.interval):
            return
        try:
            self.function.invoke(self.event_factory())
        except Exception:
            log.error("%s failed on a scheduled event:\n%s", self.function.name, traceback.format_exc())


def schedule_event_factory(properties: dict[str, Any], rule_arn: str) -> Callable[[], dict[str, Any]]:
    """A fixed ``Input`` replaces the event, as both EventBridge rules and Scheduler do."""
    raw_input = properties.get("Input")
    if raw_input is not None:
        payload = json.loads(raw_input) if isinstance(raw_input, str) else raw_input
        return lambda: json.loads(json.dumps(payload))
    return lambda: scheduled_event(rule_arn)

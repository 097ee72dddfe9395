"""Event sources with Lambda's semantics: SQS batches, SNS notifications and schedules.

SQS (what Lambda's event source mapping does): long-poll up to BatchSize (max 10) messages, invoke
with the SQS event, delete what succeeded. A handler exception fails the whole batch; with
ReportBatchItemFailures only the listed ``itemIdentifier``s fail (an invalid list fails the whole
batch, as in AWS). Failed messages become visible again after a short local retry delay instead of
the queue's full visibility timeout, so retries and redrive happen in seconds. Moto itself moves a
message to the DLQ on the receive after ``maxReceiveCount`` receives, as SQS does (checked against
moto 5.2.5 and pinned by tests/e2e/test_local_stack_wiring.py, so an upgrade that changes it fails).

SNS and schedules invoke asynchronously: a failed invocation is tried again up to the function's
``EventInvokeConfig.MaximumRetryAttempts`` (Lambda's default 2), then, when the template names an
on-failure destination queue, its record (the event and the error, as Lambda writes it) goes there.

An SQS event source gathers a batch for up to its ``MaximumBatchingWindowInSeconds`` (as Lambda does:
the batch goes when full or when the window ends) and polls with as many threads as its function has
environments (the template's ``ScalingConfig.MaximumConcurrency``, see runtime.py), so that many
batches are in flight at once, as Lambda's pollers do; SNS and schedules keep one thread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from moderato_local.events import scheduled_event, sns_event, sqs_event
from moderato_local.runtime import FunctionRuntime

log = logging.getLogger("moderato_local")

BATCH_FILL_PAUSE = 0.1  # seconds between receives while a batching window fills a batch
ASYNC_ATTEMPTS = 3  # Lambda's asynchronous invocations: the first try plus two retries, unless configured


class FailureDestination:
    """An on-failure destination queue: receives Lambda's invocation record once the retries are spent."""

    def __init__(self, sqs: Any, queue_url: str, function_arn: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.function_arn = function_arn

    def __call__(self, event: dict[str, Any], error: BaseException, attempts: int) -> None:
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": f"{self.function_arn}:$LATEST",
                               "condition": "RetriesExhausted", "approximateInvokeCount": attempts},
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": str(error), "errorType": type(error).__name__},
        }
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(record))


class Poller:
    def __init__(self, name: str, function: FunctionRuntime, threads: int = 1) -> None:
        self.name = name
        self.function = function
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, name=f"moderato-{name}-{index}", daemon=True)
                         for index in range(max(1, threads))]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

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
        threads: int | None = None,
        batching_window: float = 0.0,
    ) -> None:
        super().__init__(name, function, function.concurrency if threads is None else threads)
        # MaximumBatchingWindowInSeconds: gather up to batch_size messages for this long before invoking.
        # Without it, five pollers each took the one or two messages just sent: 1.5 records a batch, and
        # each batch pays the handler's per-batch reads.
        self.batching_window = max(0.0, float(batching_window))
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
        messages = self._receive(self.batch_size, wait=1)  # short long-poll: fast to stop, cheap when idle
        if not messages or len(messages) >= self.batch_size or self.batching_window <= 0:
            return messages
        deadline = time.monotonic() + self.batching_window
        while len(messages) < self.batch_size and not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._stop.wait(min(BATCH_FILL_PAUSE, left))
            messages += self._receive(self.batch_size - len(messages), wait=0)
        return messages

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait,
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
                 subscription_arn: str, retry_delay: int, attempts: int = ASYNC_ATTEMPTS,
                 on_failure: FailureDestination | None = None) -> None:
        super().__init__(name, function, sqs, queue_url, queue_arn, 10, False, retry_delay, threads=1)
        self.subscription_arn = subscription_arn
        self.attempts = attempts
        self.on_failure = on_failure

    def poll_once(self) -> None:
        for message in self.receive():
            envelope = json.loads(message["Body"])
            event = sns_event(envelope, self.subscription_arn)
            try:
                self.function.invoke(event)
            except Exception as error:
                attempt = int(message["Attributes"].get("ApproximateReceiveCount", "1"))
                log.error("%s failed on SNS message %s (attempt %d):\n%s", self.function.name,
                          envelope.get("MessageId"), attempt, traceback.format_exc())
                if attempt < self.attempts:
                    self.retry_later(message)
                    continue
                if self.on_failure is None:
                    log.error("%s: SNS message %s dropped after %d attempts (no on-failure destination)",
                              self.function.name, envelope.get("MessageId"), attempt)
                else:
                    self.on_failure(event, error, attempt)  # if this fails, the message stays and is retried
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


class SchedulePoller(Poller):
    """Invokes on a fixed local period (not the template's rate/cron, which could be hours)."""

    def __init__(self, name: str, function: FunctionRuntime, interval: float,
                 event_factory: Callable[[], dict[str, Any]], attempts: int = ASYNC_ATTEMPTS,
                 on_failure: FailureDestination | None = None) -> None:
        super().__init__(name, function)
        self.interval = interval
        self.event_factory = event_factory
        self.attempts = attempts
        self.on_failure = on_failure

    def poll_once(self) -> None:
        if self._stop.wait(self.interval):
            return
        event = self.event_factory()
        for attempt in range(1, self.attempts + 1):
            try:
                self.function.invoke(event)
                return
            except Exception as error:
                log.error("%s failed on a scheduled event (attempt %d):\n%s", self.function.name, attempt,
                          traceback.format_exc())
                if attempt == self.attempts and self.on_failure is not None:
                    self.on_failure(event, error, attempt)


def schedule_event_factory(properties: dict[str, Any], rule_arn: str) -> Callable[[], dict[str, Any]]:
    """A fixed ``Input`` replaces the event, as both EventBridge rules and Scheduler do."""
    raw_input = properties.get("Input")
    if raw_input is not None:
        payload = json.loads(raw_input) if isinstance(raw_input, str) else raw_input
        return lambda: json.loads(json.dumps(payload))
    return lambda: scheduled_event(rule_arn)

"""The review queues (SpamQueue, ComplaintQueue, CrisisQueue) and the crisis alert topic."""

from __future__ import annotations

import json
from typing import Any

from moderato.models import Case
from moderato.safety_codes import SELF_HARM
from moderato.signals.waves import WaveAlert
from moderato.triage.cases import case_message

_MAX_BATCH_ENTRIES = 10  # SendMessageBatch's limit
_MAX_BATCH_BYTES = 256 * 1024  # ... and the total size of one batch


class CaseNotSent(Exception):
    """SQS refused some messages of a batch: the caller's record fails and is retried."""


def _message(case: Case) -> tuple[str, dict[str, Any]]:
    if case.queue is None:
        raise ValueError(f"case {case.case_id} has no queue")
    return json.dumps(case_message(case), ensure_ascii=False), {
        "schema": {"DataType": "String", "StringValue": "moderato.case/v1"},
        "label": {"DataType": "String", "StringValue": case.label.value},
        "priority": {"DataType": "Number", "StringValue": str(case.priority)},
    }


class CaseQueues:
    def __init__(self, urls: dict[str, str], sqs: Any) -> None:
        self._urls = urls  # queue logical name (e.g. "ComplaintQueue") -> URL
        self._sqs = sqs

    def send(self, case: Case) -> str:
        body, attributes = _message(case)
        response = self._sqs.send_message(QueueUrl=self._urls[str(case.queue)], MessageBody=body,
                                          MessageAttributes=attributes)
        return str(response["MessageId"])

    def send_many(self, cases: list[Case]) -> None:
        """One SendMessageBatch per queue and ten messages (a batch of posts rarely needs more than one)."""
        by_queue: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for case in cases:
            body, attributes = _message(case)
            by_queue.setdefault(str(case.queue), []).append((case.case_id, body, attributes))
        for queue, messages in by_queue.items():
            for chunk in _chunks(messages):
                entries = [{"Id": str(index), "MessageBody": body, "MessageAttributes": attributes}
                           for index, (_, body, attributes) in enumerate(chunk)]
                response = self._sqs.send_message_batch(QueueUrl=self._urls[queue], Entries=entries)
                failed = [chunk[int(entry["Id"])][0] for entry in response.get("Failed", [])]
                if failed:
                    raise CaseNotSent(f"{queue} refused the messages of cases {', '.join(failed)}")


def _chunks(messages: list[tuple[str, str, dict[str, Any]]]) -> list[list[tuple[str, str, dict[str, Any]]]]:
    chunks: list[list[tuple[str, str, dict[str, Any]]]] = [[]]
    size = 0
    for message in messages:
        length = len(message[1].encode("utf-8")) + 200  # the attributes, generously
        if chunks[-1] and (len(chunks[-1]) == _MAX_BATCH_ENTRIES or size + length > _MAX_BATCH_BYTES):
            chunks.append([])
            size = 0
        chunks[-1].append(message)
        size += length
    return [chunk for chunk in chunks if chunk]


class AlertPublisher:
    """Alerts on AlertsTopic (SNS): a short subject for pagers; the case message or the wave as body."""

    def __init__(self, topic_arn: str, sns: Any) -> None:
        self._topic_arn = topic_arn
        self._sns = sns

    def publish_crisis(self, case: Case) -> str:
        post = case.post
        where = f"{post.brand or post.account_id} on {post.platform.value}"
        headline = "URGENT self-harm risk" if SELF_HARM in case.safety else "Crisis"
        subject = f"[Moderato] {headline} on {where}"[:100]
        attributes = {
            "kind": {"DataType": "String", "StringValue": "crisis_case"},
            "priority": {"DataType": "Number", "StringValue": str(case.priority)},
        }
        if case.safety:  # lets a subscription filter page a dedicated on-call for self-harm
            attributes["safety"] = {"DataType": "String", "StringValue": case.safety[0]}
        response = self._sns.publish(
            TopicArn=self._topic_arn,
            Subject=subject,
            Message=json.dumps({"kind": "crisis_case", **case_message(case)}, ensure_ascii=False),
            MessageAttributes=attributes,
        )
        return str(response["MessageId"])

    def publish_wave(self, alert: WaveAlert) -> str:
        """One message per wave, plus at most one escalation (the signal engine's claims make sure of it)."""
        response = self._sns.publish(
            TopicArn=self._topic_arn,
            Subject=alert.sns_subject(),
            Message=json.dumps(alert.message(), ensure_ascii=False),
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": alert.kind},
                "priority": {"DataType": "Number", "StringValue": str(alert.priority)},
            },
        )
        return str(response["MessageId"])

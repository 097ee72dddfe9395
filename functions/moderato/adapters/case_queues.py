"""The review queues (SpamQueue, ComplaintQueue, CrisisQueue) and the crisis alert topic."""

from __future__ import annotations

import json
from typing import Any

from moderato.cases import case_message
from moderato.models import Case
from moderato.signals.waves import WaveAlert


class CaseQueues:
    def __init__(self, urls: dict[str, str], sqs: Any) -> None:
        self._urls = urls  # queue logical name (e.g. "ComplaintQueue") -> URL
        self._sqs = sqs

    def send(self, case: Case) -> str:
        if case.queue is None:
            raise ValueError(f"case {case.case_id} has no queue")
        response = self._sqs.send_message(
            QueueUrl=self._urls[case.queue],
            MessageBody=json.dumps(case_message(case), ensure_ascii=False),
            MessageAttributes={
                "schema": {"DataType": "String", "StringValue": "moderato.case/v1"},
                "label": {"DataType": "String", "StringValue": case.label.value},
                "priority": {"DataType": "Number", "StringValue": str(case.priority)},
            },
        )
        return str(response["MessageId"])


class AlertPublisher:
    """Alerts on AlertsTopic (SNS): a short subject for pagers; the case message or the wave as body."""

    def __init__(self, topic_arn: str, sns: Any) -> None:
        self._topic_arn = topic_arn
        self._sns = sns

    def publish_crisis(self, case: Case) -> str:
        post = case.post
        where = f"{post.brand or post.account_id} on {post.platform.value}"
        subject = f"[Moderato] Crisis on {where}"[:100]
        response = self._sns.publish(
            TopicArn=self._topic_arn,
            Subject=subject,
            Message=json.dumps({"kind": "crisis_case", **case_message(case)}, ensure_ascii=False),
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": "crisis_case"},
                "priority": {"DataType": "Number", "StringValue": str(case.priority)},
            },
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

"""ActionsQueue (SQS): where the review function puts the platform actions it recorded on a case."""

from __future__ import annotations

from typing import Any

from moderato.actions.messages import ActionMessage
from moderato.models import ActionRecord, Case


class ActionsQueue:
    def __init__(self, queue_url: str, sqs: Any) -> None:
        self._url = queue_url
        self._sqs = sqs

    def send(self, case: Case, action: ActionRecord) -> str:
        message = ActionMessage(case_id=case.case_id, action_id=action.action_id, kind=action.kind,
                                requested_by=action.requested_by, requested_at=action.requested_at)
        response = self._sqs.send_message(
            QueueUrl=self._url, MessageBody=message.to_json(),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": action.kind.value}},
        )
        return str(response["MessageId"])

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Backoff for a failed platform call: hide the message longer than the queue's default."""
        self._sqs.change_message_visibility(QueueUrl=self._url, ReceiptHandle=receipt_handle,
                                            VisibilityTimeout=max(0, min(int(seconds), 43_200)))

"""EnrichQueue: triage's requests for the text of a post that came as ids only, and the enrich backoff."""

from __future__ import annotations

from typing import Any

from moderato.models import Case
from moderato.triage.text_pending import EnrichRequest


class EnrichQueue:
    def __init__(self, queue_url: str, sqs: Any) -> None:
        self._queue_url = queue_url
        self._sqs = sqs

    def request(self, case: Case) -> str:
        body = EnrichRequest(case_id=case.case_id, post=case.post).model_dump_json()
        response = self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=body, MessageAttributes={
            "platform": {"DataType": "String", "StringValue": case.post.platform.value}})
        return str(response["MessageId"])

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Hide a failed message longer than the visibility timeout: the platform gets room to recover."""
        self._sqs.change_message_visibility(QueueUrl=self._queue_url, ReceiptHandle=receipt_handle,
                                            VisibilityTimeout=seconds)

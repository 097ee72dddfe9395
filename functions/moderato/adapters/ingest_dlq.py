"""IngestDLQ, written by triage: an unreadable delivery is set aside there at once, as SQS would after retries.

The message body is the record's own (the ``Delivery`` the webhook enqueued), so ``moderato dlq show``
reads it and ``moderato dlq redrive`` sends it back to IngestQueue after the parser is fixed, as for a
delivery that reached IngestDLQ by SQS's maxReceiveCount.
"""

from __future__ import annotations

from typing import Any

_REASON_CHARS = 256  # an SQS message attribute is small; the ledger keeps the longer error


class IngestDeadLetters:
    def __init__(self, queue_url: str, sqs: Any) -> None:
        self._queue_url = queue_url
        self._sqs = sqs

    def set_aside(self, body: str, reason: str) -> str:
        """Keep ``body`` in IngestDLQ with why; the SQS message id. Raises botocore's errors (the record is
        then retried by SQS, and reaches IngestDLQ the usual way)."""
        response = self._sqs.send_message(
            QueueUrl=self._queue_url, MessageBody=body,
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:_REASON_CHARS] or "-"}})
        return str(response["MessageId"])

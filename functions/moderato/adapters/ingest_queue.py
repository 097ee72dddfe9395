"""IngestQueue: the webhook's one write. Raw verified deliveries, claim-checked to S3 when large."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from moderato.platforms.errors import EnqueueFailed

if TYPE_CHECKING:
    from moderato.models import Delivery

# Every claim-checked body is stored under this key prefix: the webhook may write nowhere else in the
# delivery bucket (template.yaml grants s3:PutObject on <bucket>/deliveries/* only).
CLAIM_CHECK_PREFIX = "deliveries/"


class IngestQueue:
    def __init__(self, queue_url: str, bucket: str, claim_check_threshold: int, sqs: Any,
                 s3: Callable[[], Any]) -> None:
        self._queue_url = queue_url
        self._bucket = bucket
        self._threshold = claim_check_threshold
        self._sqs = sqs
        # Built on first use: few deliveries need S3, and a client costs ~70 ms of cold start.
        self._s3 = s3

    def check_reachable(self) -> None:
        """Raise (botocore's errors) unless IngestQueue answers: the cheapest call that proves it is there."""
        self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])

    def enqueue(self, platform: str, raw_body: bytes, request_id: str, received_at: datetime,
                headers: dict[str, str], note: str | None = None) -> str:
        """Store the delivery durably and return the SQS message id; raise EnqueueFailed (503)."""
        body: str | None = None
        body_s3_key: str | None = None
        try:
            if len(raw_body) > self._threshold:
                body_s3_key = f"{CLAIM_CHECK_PREFIX}{platform}/{received_at:%Y/%m/%d}/{request_id}.json"
                self._s3().put_object(Bucket=self._bucket, Key=body_s3_key, Body=raw_body,
                                      ContentType="application/json")
            else:
                body = raw_body.decode("utf-8")
            response = self._sqs.send_message(
                QueueUrl=self._queue_url,
                MessageBody=delivery_json(platform, received_at, request_id, body, body_s3_key, headers, note),
                MessageAttributes={"platform": {"DataType": "String", "StringValue": platform}},
            )
        except (ClientError, BotoCoreError) as error:
            raise EnqueueFailed("could not store the delivery; retry later") from error
        return str(response["MessageId"])


def delivery_json(platform: str, received_at: datetime, request_id: str, body: str | None,
                  body_s3_key: str | None, headers: dict[str, str], note: str | None) -> str:
    """``Delivery(...).model_dump_json()`` without pydantic (the webhook's cold start would pay for it):
    the same fields in the same order, compact, UTF-8, the time as ISO 8601 in UTC with ``Z``. Triage reads
    it with ``Delivery.model_validate_json``; a unit test holds the two encodings equal."""
    at = received_at.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"
    return json.dumps({"platform": platform, "received_at": at, "request_id": request_id, "body": body,
                       "body_s3_key": body_s3_key, "headers": headers, "note": note},
                      ensure_ascii=False, separators=(",", ":"))


class DeliveryStore:
    """Reads claim-checked delivery bodies back for triage."""

    def __init__(self, bucket: str, s3: Any) -> None:
        self._bucket = bucket
        self._s3 = s3

    def body_of(self, delivery: Delivery) -> str:
        if delivery.body is not None:
            return delivery.body
        if not delivery.body_s3_key:
            raise ValueError("delivery has neither a body nor an S3 key")
        response = self._s3.get_object(Bucket=self._bucket, Key=delivery.body_s3_key)
        return response["Body"].read().decode("utf-8")

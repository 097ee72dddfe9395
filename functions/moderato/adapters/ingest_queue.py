"""IngestQueue: the webhook's one write. Raw verified deliveries, claim-checked to S3 when large."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from moderato.models import Delivery
from moderato.platforms.base import EnqueueFailed

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
        delivery = Delivery(platform=platform, received_at=received_at, request_id=request_id, headers=headers,
                            note=note)
        try:
            if len(raw_body) > self._threshold:
                key = f"{CLAIM_CHECK_PREFIX}{platform}/{received_at:%Y/%m/%d}/{request_id}.json"
                self._s3().put_object(Bucket=self._bucket, Key=key, Body=raw_body, ContentType="application/json")
                delivery.body_s3_key = key
            else:
                delivery.body = raw_body.decode("utf-8")
            response = self._sqs.send_message(
                QueueUrl=self._queue_url,
                MessageBody=delivery.model_dump_json(),
                MessageAttributes={"platform": {"DataType": "String", "StringValue": platform}},
            )
        except (ClientError, BotoCoreError) as error:
            raise EnqueueFailed("could not store the delivery; retry later") from error
        return str(response["MessageId"])


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

"""The smallest webhook that does the job: verify Meta's HMAC, read the JSON, send it to SQS, answer.

The baseline of bench_webhook: whatever the real handler costs beyond this (import time, CPU per
request) is ours to justify. Same client construction as the real one, so boto3's cost is in both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

import boto3

_sqs = boto3.client("sqs")
_QUEUE_URL = os.environ["INGEST_QUEUE_URL"]
SECRET = b"bench-secret"


def lambda_handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    body = event["body"].encode("utf-8")
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, event["headers"].get("x-hub-signature-256", "")):
        return {"statusCode": 401, "body": "{}"}
    json.loads(body)
    _sqs.send_message(QueueUrl=_QUEUE_URL, MessageBody=json.dumps({"platform": "meta", "body": event["body"]}))
    return {"statusCode": 200, "body": json.dumps({"status": "accepted"})}

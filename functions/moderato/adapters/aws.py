"""Shared boto3 client construction: one client per service per process, reused across invocations."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Short timeouts and standard retries: the webhook must answer within seconds, and a slow AWS call
# is better retried by the platform (503) than left hanging.
_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=5)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)


def conditional_failed(error: ClientError) -> bool:
    """A DynamoDB write refused by its condition: an expected outcome (a race lost, a claim taken), not a fault."""
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"

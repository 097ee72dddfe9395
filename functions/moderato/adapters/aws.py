"""Shared boto3 client construction: one client per service per process, reused across invocations."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError

# Short timeouts and standard retries: the webhook must answer within seconds, and a slow AWS call
# is better retried by the platform (503) than left hanging.
_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=5)
# Without botocore's client-side check of each call's parameters against the service model (botocore's own
# knob for speed): about a tenth of a call's CPU. For callers whose parameters have a fixed shape built in
# code (the webhook's two writes per delivery); AWS still refuses a bad call, as a ClientError.
_UNCHECKED = _CONFIG.merge(Config(parameter_validation=False))


@cache
def client(service: str, check_parameters: bool = True) -> Any:
    return boto3.client(service, config=_CONFIG if check_parameters else _UNCHECKED)


def conditional_failed(error: ClientError) -> bool:
    """A DynamoDB write refused by its condition: an expected outcome (a race lost, a claim taken), not a fault."""
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


AWS_RETRY_AFTER_SECONDS = 30  # the Retry-After of every 503 caused by AWS

# Codes AWS answers when it is overloaded or failing: after the SDK's own retries, the caller should
# come back later (503 + Retry-After), not be told that its request was wrong or that we have a bug.
_OUTAGE_CODES = frozenset({
    "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottled", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "RequestLimitExceeded", "LimitExceededException", "SlowDown",
    "ServiceUnavailable", "ServiceUnavailableException", "InternalServerError", "InternalFailure",
    "InternalError", "RequestTimeout", "RequestTimeoutException",
})


def is_aws_outage(error: BaseException) -> bool:
    """AWS unreachable (connection refused or timed out) or answering "later" (throttling, any 5xx)."""
    if isinstance(error, AwsConnectionError | HTTPClientError):  # EndpointConnectionError, ConnectTimeoutError...
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return error.response.get("Error", {}).get("Code") in _OUTAGE_CODES or int(status) >= 500
    return False

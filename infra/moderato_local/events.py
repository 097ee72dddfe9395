"""The exact event shapes AWS hands to Lambda, and API Gateway's reading of a handler's answer.

Shapes follow the AWS documentation: HTTP API payload format 2.0, the SQS and SNS event-source
records, and the EventBridge "Scheduled Event". Handlers cannot tell the local stack from AWS.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from moderato_local.resolver import ACCOUNT_ID, REGION


@dataclass
class HttpRequest:
    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]  # as received, repeated names kept
    body: bytes
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def http_api_event(
    request: HttpRequest,
    route_key: str,
    path_parameters: dict[str, str],
    api_id: str,
    domain_name: str,
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """API Gateway HTTP API payload 2.0: lower-cased headers, repeated values comma-joined."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":  # 2.0 moves cookies to their own field
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-forwarded-port", domain_name.rsplit(":", 1)[-1] if ":" in domain_name else "80")
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api_id,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0].split(":")[0],
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    if request.body:
        try:
            event["body"] = request.body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def http_api_response(result: Any) -> HttpResponse:
    """Payload 2.0 response rules: a dict with statusCode is explicit; anything else is a JSON 200."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("content-type", "application/json")], body.encode("utf-8"))
    headers: list[tuple[str, str]] = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(value)) for value in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    if body and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    return HttpResponse(int(result["statusCode"]), headers, raw)


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One Records[] entry of the SQS event, from a ReceiveMessage result (attributes All)."""
    attributes = {key: str(value) for key, value in (message.get("Attributes") or {}).items()}
    message_attributes: dict[str, Any] = {}
    for name, attribute in (message.get("MessageAttributes") or {}).items():
        binary = attribute.get("BinaryValue")
        converted: dict[str, Any] = {
            "stringListValues": list(attribute.get("StringListValues") or []),
            "binaryListValues": [base64.b64encode(item).decode() for item in attribute.get("BinaryListValues") or []],
            "dataType": attribute["DataType"],
        }
        if "StringValue" in attribute:
            converted["stringValue"] = attribute["StringValue"]
        if binary is not None:
            converted["binaryValue"] = base64.b64encode(binary).decode()
        message_attributes[name] = converted
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {"Records": [sqs_record(message, queue_arn) for message in messages]}


def sns_event(envelope: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The SNS Lambda event, from the JSON envelope SNS delivers to an SQS subscriber (raw off)."""
    sns = {
        "Type": envelope.get("Type", "Notification"),
        "MessageId": envelope["MessageId"],
        "TopicArn": envelope["TopicArn"],
        "Subject": envelope.get("Subject"),
        "Message": envelope["Message"],
        "Timestamp": envelope.get("Timestamp"),
        "SignatureVersion": envelope.get("SignatureVersion", "1"),
        "Signature": envelope.get("Signature", "EXAMPLE"),
        "SigningCertUrl": envelope.get("SigningCertURL", ""),
        "UnsubscribeUrl": envelope.get("UnsubscribeURL", ""),
        "MessageAttributes": {
            name: {"Type": value.get("Type"), "Value": value.get("Value")}
            for name, value in (envelope.get("MessageAttributes") or {}).items()
        },
    }
    return {"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": sns,
    }]}


def scheduled_event(rule_arn: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }

"""Event shapes handed to handlers, and API Gateway's reading of their answers (pure, no AWS)."""

from __future__ import annotations

import base64

from moderato_local.events import (
    HttpRequest,
    http_api_event,
    http_api_response,
    scheduled_event,
    sns_event,
    sqs_event,
)
from moderato_local.pollers import batch_item_failures


def request(body: bytes = b"", headers: list[tuple[str, str]] | None = None, query: str = "") -> HttpRequest:
    return HttpRequest("POST", "/webhooks/meta", query, headers or [], body, "10.0.0.1")


def test_v2_event_lowercases_headers_and_joins_repeats_with_commas() -> None:
    event = http_api_event(
        request(b'{"a":1}', [("X-Hub-Signature-256", "sha256=ab"), ("Accept", "a"), ("accept", "b"),
                             ("Cookie", "s=1; t=2")], "x=1&x=2&y="),
        "POST /webhooks/{platform}", {"platform": "meta"}, "api", "127.0.0.1:8787",
    )
    assert event["version"] == "2.0" and event["routeKey"] == "POST /webhooks/{platform}"
    assert event["headers"]["x-hub-signature-256"] == "sha256=ab"
    assert event["headers"]["accept"] == "a,b"
    assert "cookie" not in event["headers"] and event["cookies"] == ["s=1", "t=2"]
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["rawQueryString"] == "x=1&x=2&y="
    assert event["pathParameters"] == {"platform": "meta"}
    assert event["body"] == '{"a":1}' and event["isBase64Encoded"] is False
    http = event["requestContext"]["http"]
    assert (http["method"], http["path"], http["sourceIp"]) == ("POST", "/webhooks/meta", "10.0.0.1")
    assert event["requestContext"]["stage"] == "$default"
    assert isinstance(event["requestContext"]["timeEpoch"], int)


def test_v2_event_omits_empty_parts_and_base64_encodes_binary() -> None:
    empty = http_api_event(request(), "GET /x", {}, "api", "h")
    assert not {"body", "cookies", "queryStringParameters", "pathParameters"} & set(empty)
    binary = http_api_event(request(b"\xff\xfe"), "POST /x", {}, "api", "h")
    assert binary["isBase64Encoded"] is True and base64.b64decode(binary["body"]) == b"\xff\xfe"


def test_response_with_status_code_is_explicit() -> None:
    response = http_api_response({
        "statusCode": 403, "headers": {"Content-Type": "text/plain"}, "body": "no",
        "multiValueHeaders": {"x-a": ["1", "2"]}, "cookies": ["k=v"],
    })
    assert response.status == 403 and response.body == b"no"
    assert ("x-a", "1") in response.headers and ("x-a", "2") in response.headers
    assert ("set-cookie", "k=v") in response.headers


def test_response_base64_body_is_decoded() -> None:
    response = http_api_response({"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(),
                                  "isBase64Encoded": True})
    assert response.body == b"\x00\x01"


def test_bare_answers_become_json_200() -> None:
    as_dict = http_api_response({"ok": True})
    assert (as_dict.status, as_dict.body) == (200, b'{"ok": true}')
    assert ("content-type", "application/json") in as_dict.headers
    assert http_api_response("hello").body == b"hello"
    assert http_api_response(None).body == b"null"


def test_sqs_event_has_lambda_record_shape() -> None:
    message = {
        "MessageId": "m1", "ReceiptHandle": "r1", "Body": "hi", "MD5OfBody": "md5",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "s",
                       "ApproximateFirstReceiveTimestamp": "2"},
        "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": b"\x01"},
                              "s": {"DataType": "String", "StringValue": "v"}},
    }
    (record,) = sqs_event([message], "arn:aws:sqs:eu-west-1:123456789012:q")["Records"]
    assert record["messageId"] == "m1" and record["receiptHandle"] == "r1" and record["body"] == "hi"
    assert record["eventSource"] == "aws:sqs" and record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"] == "arn:aws:sqs:eu-west-1:123456789012:q"
    assert record["md5OfBody"] == "md5"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["b"] == {"binaryValue": "AQ==", "stringListValues": [],
                                                "binaryListValues": [], "dataType": "Binary"}
    assert record["messageAttributes"]["s"]["stringValue"] == "v"


def test_partial_batch_response_follows_lambda_rules() -> None:
    ids = {"a", "b"}
    assert batch_item_failures(None, ids) == set()
    assert batch_item_failures({}, ids) == set()
    assert batch_item_failures({"batchItemFailures": []}, ids) == set()
    assert batch_item_failures({"batchItemFailures": [{"itemIdentifier": "a"}]}, ids) == {"a"}
    # Malformed answers fail the whole batch, as in AWS.
    assert batch_item_failures({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, ids) == ids
    assert batch_item_failures({"batchItemFailures": [{}]}, ids) == ids
    assert batch_item_failures("nonsense", ids) == ids


def test_sns_and_scheduled_events() -> None:
    envelope = {"Type": "Notification", "MessageId": "id", "TopicArn": "arn:t", "Subject": "s",
                "Message": "m", "Timestamp": "2026-01-01T00:00:00.000Z",
                "MessageAttributes": {"k": {"Type": "String", "Value": "v"}}}
    (record,) = sns_event(envelope, "arn:t:sub")["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"] == "arn:t:sub"
    assert record["Sns"]["Message"] == "m" and record["Sns"]["MessageAttributes"] == {
        "k": {"Type": "String", "Value": "v"}}
    scheduled = scheduled_event("arn:rule")
    assert scheduled["detail-type"] == "Scheduled Event" and scheduled["resources"] == ["arn:rule"]

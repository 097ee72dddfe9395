"""Helpers shared by the test layers: signed deliveries, API Gateway events, schema validation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jsonschema

from moderato_local.events import HttpRequest, http_api_event
from moderato_local.fake_platform import FakePlatform
from moderato_local.process import LocalStackProcess

REPO = Path(__file__).resolve().parents[1]
LOCAL_SECRETS: dict[str, Any] = json.loads((REPO / "infra" / "local" / "secrets.json").read_text())
CASE_SCHEMA = json.loads((REPO / "schemas" / "moderato.case.v1.schema.json").read_text())
PAGE_ID = "206070979425408"
# Where each label must go (the routing table of ARCHITECTURE.md): normal goes to no queue.
QUEUE_FOR_LABEL: dict[str, str | None] = {"crisis": "CrisisQueue", "complaint": "ComplaintQueue",
                                          "spam": "SpamQueue", "normal": None}
# The review queues, by the environment variable that holds their URL in every function.
CASE_QUEUES: dict[str, str] = {"SPAM_QUEUE_URL": "SpamQueue", "COMPLAINT_QUEUE_URL": "ComplaintQueue",
                               "CRISIS_QUEUE_URL": "CrisisQueue"}
_FORMATS = jsonschema.FormatChecker()


def _check_format_checker() -> None:
    # jsonschema skips "date-time" silently when rfc3339-validator is missing: then nothing is checked.
    if _FORMATS.conforms("yesterday at noon", "date-time"):
        raise RuntimeError("jsonschema cannot check date-time formats: install rfc3339-validator "
                           "(pinned in requirements-dev.txt)")


_check_format_checker()


def assert_case_message(message: dict[str, Any]) -> None:
    jsonschema.validate(message, CASE_SCHEMA, format_checker=_FORMATS)


def assert_case_sqs_message(message: dict[str, Any], queue: str) -> dict[str, Any]:
    """Validate one SQS message read from review queue ``queue`` (e.g. "ComplaintQueue"); return its body.

    The body must match the moderato.case/v1 schema (formats included), say it was sent to this queue,
    carry a label that routes to this queue, and agree with the message attributes consumers filter on.
    """
    body = json.loads(message["Body"])
    assert_case_message(body)
    assert body["queue"] == queue, f"case {body['case_id']} says {body['queue']} but was read from {queue}"
    assert QUEUE_FOR_LABEL[body["label"]] == queue, f"a {body['label']} case does not belong in {queue}"
    attributes = message.get("MessageAttributes")
    if attributes is not None:  # only when the reader asked for them
        assert attributes["schema"]["StringValue"] == body["schema"]
        assert attributes["label"]["StringValue"] == body["label"]
        assert int(attributes["priority"]["StringValue"]) == body["priority"]
    return body


def drain_case_queue(sqs: Any, url: str, queue: str) -> list[dict[str, Any]]:
    """Consume every message of a review queue, as a consumer would, validating each; return the bodies."""
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"]).get("Messages", []):
        for message in batch:
            found.append(assert_case_sqs_message(message, queue))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def meta_comment(text: str, comment_id: str = "712750021053074_1063824911537852", author_id: str = "24266381753005180",
                 name: str = "Jeanne Martin", page_id: str = PAGE_ID, item: str = "comment", verb: str = "add") -> dict:
    post_id = f"{page_id}_712750021053074"
    return {"object": "page", "entry": [{"id": page_id, "time": 1707211879, "changes": [{"field": "feed", "value": {
        "from": {"id": author_id, "name": name},
        "post": {"status_type": "added_photos", "is_published": True,
                 "permalink_url": "https://www.facebook.com/floralys/posts/1", "id": post_id},
        "message": text, "post_id": post_id, "comment_id": comment_id, "created_time": 1707211876,
        "item": item, "parent_id": post_id, "verb": verb}}]}]}


def x_tweet(text: str, tweet_id: str = "1234567890", user_id: str = "987654321", for_user: str = "2244994945",
            followers: int = 120) -> dict:
    return {"for_user_id": for_user, "user_has_blocked": "false", "tweet_create_events": [{
        "created_at": "Mon Mar 26 16:33:26 +0000 2018", "id_str": tweet_id, "text": text,
        "in_reply_to_status_id_str": None,
        "user": {"id_str": user_id, "screen_name": "customer", "name": "A Customer", "followers_count": followers},
        "entities": {"user_mentions": [{"id_str": for_user, "screen_name": "Floralys"}]},
        "timestamp_ms": "1522082006140"}]}


def encode(payload: dict) -> bytes:
    # Meta escapes non-ASCII characters; the signature is over exactly these bytes.
    return json.dumps(payload, ensure_ascii=True).encode()


def signed_headers(platform: str, body: bytes, secrets: dict[str, Any] = LOCAL_SECRETS) -> dict[str, str]:
    from moderato.platforms import get_platform

    return get_platform(platform).sign(body, secrets[platform])


def api_event(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
              query: dict[str, str] | None = None) -> dict[str, Any]:
    platform = path.rstrip("/").rsplit("/", 1)[-1]
    request = HttpRequest(method=method, raw_path=path, raw_query=urlencode(query or {}),
                          headers=list((headers or {}).items()), body=body)
    return http_api_event(request, f"{method} /webhooks/{{platform}}", {"platform": platform},
                          api_id="local", domain_name="127.0.0.1:8787")


@contextmanager
def stack_with_platform(url_variable: str, tokens: dict[str, Any] | None = None
                        ) -> Iterator[tuple[FakePlatform, LocalStackProcess]]:
    """A stack of its own whose platform API calls (``url_variable``: META_GRAPH_URL, X_API_URL) reach a
    fake platform, with ``tokens`` in PlatformTokens: for a module that watches what the platform is asked."""
    with FakePlatform() as platform, LocalStackProcess(REPO / "template.yaml", REPO / "functions",
                                                       env={url_variable: platform.url}) as local:
        if tokens is not None:
            local.client("secretsmanager").put_secret_value(SecretId=local.resources["PlatformTokens"],
                                                            SecretString=json.dumps(tokens))
        yield platform, local

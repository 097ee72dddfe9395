"""Helpers shared by the test layers: signed deliveries, API Gateway events, schema validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jsonschema

from moderato_local.events import HttpRequest, http_api_event

REPO = Path(__file__).resolve().parents[1]
LOCAL_SECRETS: dict[str, Any] = json.loads((REPO / "infra" / "local" / "secrets.json").read_text())
CASE_SCHEMA = json.loads((REPO / "schemas" / "moderato.case.v1.schema.json").read_text())
PAGE_ID = "206070979425408"


def assert_case_message(message: dict[str, Any]) -> None:
    jsonschema.validate(message, CASE_SCHEMA, format_checker=jsonschema.FormatChecker())


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

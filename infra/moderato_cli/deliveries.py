"""Turn simple JSONL posts into realistic, correctly signed platform webhook deliveries.

A row is ``{"text": ..., "platform"?, "author_name"?, "author_followers"?, "brand"?, "id"?, "kind"?}``,
optionally with ``thread`` (the post commented on), ``reply_to`` (the id of the row a Facebook comment
or an X reply answers) and ``offset_seconds`` (when it was written, relative to now: -600 is ten
minutes ago). X rows may also give ``author_age_days`` and ``author_posts``.
Facebook, Instagram and Messenger rows become Meta deliveries; X rows become Account Activity
events. Ids derive from the row id, so replaying a file twice redelivers the same posts (and must
yield the same cases, not new ones).

Author audience and history appear only where the platform's real payload carries them: X user
objects do (``followers_count``, ``created_at`` or ``created_timestamp``, ``statuses_count``); Meta's
comment, Instagram and Messenger webhooks send only an id and a name or username, so
``author_followers`` is ignored for those rows rather than invented.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderato.platforms import get_platform
from moderato.settings import load_brand_accounts

WEBHOOK_FOR_PLATFORM = {"facebook": "meta", "instagram": "meta", "messenger": "meta", "x": "x"}
FALLBACK_PLATFORM = "facebook"
# An X user object always has these; a row that does not say is an ordinary, established account.
X_DEFAULT_FOLLOWERS = 150
X_DEFAULT_AGE_DAYS = 3 * 365
X_DEFAULT_POSTS = 800
_X_TIME = "%a %b %d %H:%M:%S +0000 %Y"


@dataclass(frozen=True)
class SignedDelivery:
    row_id: str
    platform: str  # the post's platform (facebook, x, ...)
    webhook: str  # the path segment: meta or x
    body: bytes
    headers: dict[str, str]


def _digits(seed: str, length: int) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:length]


def _accounts_by_brand() -> dict[tuple[str, str], str]:
    return {(acc.brand.lower(), acc.platform): account_id for account_id, acc in load_brand_accounts().items()}


def account_for(brand: str | None, platform: str) -> str:
    brand_name = (brand or "Floralys").lower()
    key_platform = "facebook" if platform == "messenger" else platform
    known = _accounts_by_brand().get((brand_name, key_platform))
    return known or _digits(f"account:{brand_name}:{key_platform}", 15)


def build_payload(row: dict[str, Any], index: int, now: float | None = None) -> tuple[str, str, dict[str, Any]]:
    """Return (post platform, webhook name, payload) for one row."""
    now = now or time.time()
    platform = str(row.get("platform") or FALLBACK_PLATFORM).lower()
    if platform not in WEBHOOK_FOR_PLATFORM:
        platform = FALLBACK_PLATFORM
    row_id = str(row.get("id") or f"row-{index}")
    text = str(row.get("text") or "")
    name = str(row.get("author_name") or f"Customer {_digits(row_id, 4)}")
    author_id = str(row.get("author_id") or _digits(f"author:{name}", 16))
    account = account_for(row.get("brand"), platform)
    seconds = int(now + float(row.get("offset_seconds") or 0))
    if platform == "facebook":
        post_id = f"{account}_{_digits('post:' + str(row.get('thread') or 'launch'), 15)}"
        comment_id = f"{post_id.split('_')[1]}_{_digits('comment:' + row_id, 16)}"
        value = {
            "from": {"id": author_id, "name": name},
            "post": {"status_type": "added_photos", "is_published": True, "id": post_id,
                     "permalink_url": f"https://www.facebook.com/{account}/posts/{post_id.split('_')[1]}"},
            "message": text, "post_id": post_id, "comment_id": comment_id, "created_time": seconds,
            "item": "comment", "parent_id": post_id, "verb": "add",
        }
        if row.get("reply_to"):
            value["parent_id"] = f"{post_id.split('_')[1]}_{_digits('comment:' + str(row['reply_to']), 16)}"
        return platform, "meta", {"object": "page", "entry": [{"id": account, "time": seconds,
                                                               "changes": [{"field": "feed", "value": value}]}]}
    if platform == "instagram":
        value = {"from": {"id": author_id, "username": name.lower().replace(" ", ".")},
                 "id": _digits("igc:" + row_id, 17), "text": text,
                 "media": {"id": _digits("media:" + str(row.get("thread") or "launch"), 17),
                           "media_product_type": "FEED"}}
        entry = {"id": account, "time": seconds, "changes": [{"field": "comments", "value": value}]}
        return platform, "meta", {"object": "instagram", "entry": [entry]}
    if platform == "messenger":
        event = {"sender": {"id": author_id}, "recipient": {"id": account}, "timestamp": seconds * 1000,
                 "message": {"mid": f"m_{_digits('mid:' + row_id, 20)}", "text": text}}
        return platform, "meta", {"object": "page", "entry": [{"id": account, "time": seconds * 1000,
                                                               "messaging": [event]}]}
    tweet_id = _digits("tweet:" + row_id, 19)
    handle = str(row.get("author_handle") or name.lower().replace(" ", "_"))[:15]
    user, created = _x_user(row, name, handle, seconds)
    if row.get("kind") == "message":
        dm = {"type": "message_create", "id": tweet_id, "created_timestamp": str(seconds * 1000),
              "message_create": {"target": {"recipient_id": account}, "sender_id": author_id,
                                 "message_data": {"text": text}}}
        # DM events list their users apart, with the creation time in milliseconds.
        users = {author_id: {"id": author_id, **user, "created_timestamp": str(created * 1000)}}
        return platform, "x", {"for_user_id": account, "direct_message_events": [dm], "users": users}
    reply_to = _digits("tweet:" + str(row["reply_to"]), 19) if row.get("reply_to") else None
    tweet = {
        "created_at": time.strftime(_X_TIME, time.gmtime(seconds)),
        "id_str": tweet_id, "text": text, "in_reply_to_status_id_str": reply_to,
        "user": {"id_str": author_id, **user, "created_at": time.strftime(_X_TIME, time.gmtime(created))},
        "entities": {"user_mentions": [{"id_str": account, "screen_name": row.get("brand") or "Floralys"}]},
        "timestamp_ms": str(seconds * 1000),
    }
    return platform, "x", {"for_user_id": account, "user_has_blocked": "false", "tweet_create_events": [tweet]}


def _x_user(row: dict[str, Any], name: str, handle: str, now_seconds: int) -> tuple[dict[str, Any], int]:
    """The user fields every X payload carries, and when the account was created (epoch seconds)."""
    def given(key: str, default: int) -> int:
        value = row.get(key)
        return default if value is None else int(value)

    fields = {"name": name, "screen_name": handle, "followers_count": given("author_followers", X_DEFAULT_FOLLOWERS),
              "statuses_count": given("author_posts", X_DEFAULT_POSTS)}
    return fields, now_seconds - given("author_age_days", X_DEFAULT_AGE_DAYS) * 86_400


def sign_delivery(row: dict[str, Any], index: int, secrets: dict[str, Any]) -> SignedDelivery:
    platform, webhook, payload = build_payload(row, index)
    # Meta escapes non-ASCII (\u00e9); sending the same bytes proves we verify what was signed.
    body = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json", **get_platform(webhook).sign(body, secrets.get(webhook, {}))}
    return SignedDelivery(str(row.get("id") or f"row-{index}"), platform, webhook, body, headers)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file; raise ValueError naming the line of any bad row."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as error:
                raise ValueError(f"{path}:{number}: not valid JSON ({error.msg})") from error
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError(f"{path}:{number}: expected an object with a 'text' string")
            rows.append(row)
    return rows


def load_secrets(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read webhook secrets from {path}: {error}") from error

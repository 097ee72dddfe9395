"""X (Twitter) Account Activity API on ``/webhooks/x``.

CRC: ``GET ?crc_token=T`` → ``{"response_token": "sha256=" + base64(HMAC-SHA256(consumer_secret, T))}``.
Signature: ``x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer_secret, raw body)>``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from datetime import datetime
from typing import Any

from moderato.models import Author, Platform, Post, PostKind
from moderato.platforms.base import (
    DeliveryContext,
    HandshakeAnswer,
    HandshakeMalformed,
    PayloadRejected,
    SignatureInvalid,
    SignatureMissing,
    epoch_to_datetime,
    header,
    hmac_sha256,
    require_secret,
)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
KNOWN_EVENT_ARRAYS = (
    "tweet_create_events",
    "direct_message_events",
    "favorite_events",
    "follow_events",
    "block_events",
    "mute_events",
    "tweet_delete_events",
    "direct_message_indicate_typing_events",
    "direct_message_mark_read_events",
    "user_event",
)
_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    return "sha256=" + base64.b64encode(hmac_sha256(consumer_secret, crc_token.encode("utf-8"))).decode()


class XPlatform:
    name = "x"
    signature_header = SIGNATURE_HEADER

    def handshake(self, query: dict[str, str], secrets: dict[str, Any]) -> HandshakeAnswer:
        token = query.get("crc_token")
        if not token:
            raise HandshakeMalformed("expected a crc_token query parameter")
        secret = require_secret(secrets, "x", "consumer_secret")
        body = json.dumps({"response_token": crc_response_token(secret, token)})
        return HandshakeAnswer(body=body, content_type="application/json")

    def verify(self, headers: dict[str, str], raw_body: bytes, secrets: dict[str, Any]) -> None:
        value = header(headers, SIGNATURE_HEADER)
        if not value:
            raise SignatureMissing(f"missing {SIGNATURE_HEADER} header")
        algorithm, _, encoded = value.partition("=")
        try:
            digest = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if algorithm != "sha256" or len(digest) != 32:
            raise SignatureMissing(f"malformed {SIGNATURE_HEADER} header: expected sha256=<base64 digest>")
        expected = hmac_sha256(require_secret(secrets, "x", "consumer_secret"), raw_body)
        if not hmac.compare_digest(expected, digest):
            raise SignatureInvalid("signature does not match the body")

    def sign(self, raw_body: bytes, secrets: dict[str, Any]) -> dict[str, str]:
        digest = hmac_sha256(require_secret(secrets, "x", "consumer_secret"), raw_body)
        return {SIGNATURE_HEADER: "sha256=" + base64.b64encode(digest).decode()}

    def check_shape(self, payload: Any) -> None:
        if not isinstance(payload, dict) or not payload.get("for_user_id"):
            raise PayloadRejected("expected an Account Activity event with 'for_user_id'")
        if not any(key in payload for key in KNOWN_EVENT_ARRAYS):
            raise PayloadRejected("no known Account Activity event array in the payload")

    def parse(self, payload: Any, context: DeliveryContext) -> list[Post]:
        self.check_shape(payload)
        account_id = str(payload["for_user_id"])
        brand = context.brands.get(account_id)
        posts = [
            post
            for tweet in payload.get("tweet_create_events") or []
            if (post := _tweet(tweet, account_id, brand, context)) is not None
        ]
        users = payload.get("users") or {}
        posts.extend(
            post
            for event in payload.get("direct_message_events") or []
            if (post := _direct_message(event, users, account_id, brand, context)) is not None
        )
        return posts


def _count(value: Any) -> int | None:
    """A count from the payload, or None when missing or not a sane number (never fail a delivery on it)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _account_created_at(user: dict[str, Any]) -> datetime | None:
    """User objects carry ``created_at`` (tweets, v1.1 format) or ``created_timestamp`` (DM ``users``, ms)."""
    return _timestamp(user, "created_timestamp", None)


def _author(user: dict[str, Any], user_id: str | None) -> Author:
    return Author(
        id=user_id,
        name=user.get("name"),
        handle=user.get("screen_name"),
        followers=_count(user.get("followers_count")),
        account_created_at=_account_created_at(user),
        posts_count=_count(user.get("statuses_count")),
    )


def _created_at(tweet: dict[str, Any], default: datetime) -> datetime:
    return _timestamp(tweet, "timestamp_ms", default) or default


def _timestamp(obj: dict[str, Any], epoch_key: str, default: datetime | None) -> datetime | None:
    """An epoch field in milliseconds (preferred) or ``created_at`` in X's v1.1 format, else ``default``."""
    if obj.get(epoch_key):
        return epoch_to_datetime(obj[epoch_key], default)
    try:
        return datetime.strptime(str(obj.get("created_at") or ""), _TWITTER_TIME)
    except ValueError:
        return default


def _tweet(tweet: dict[str, Any], account_id: str, brand: str | None, context: DeliveryContext) -> Post | None:
    user = tweet.get("user") or {}
    tweet_id = tweet.get("id_str") or (str(tweet["id"]) if tweet.get("id") is not None else None)
    if not tweet_id or str(user.get("id_str", "")) == account_id:
        return None  # the brand's own tweet
    if "retweeted_status" in tweet:
        return None  # a plain retweet adds no words of its own
    text = tweet.get("text") or ""
    if tweet.get("truncated") and isinstance(tweet.get("extended_tweet"), dict):
        text = tweet["extended_tweet"].get("full_text") or text
    reply_to = tweet.get("in_reply_to_status_id_str")
    handle = user.get("screen_name")
    return Post(
        platform=Platform.X,
        kind=PostKind.REPLY if reply_to else PostKind.MENTION,
        post_id=str(tweet_id),
        parent_id=reply_to,
        thread_id=tweet.get("conversation_id_str") or reply_to or str(tweet_id),
        permalink=f"https://x.com/{handle or 'i'}/status/{tweet_id}",
        account_id=account_id,
        author=_author(user, user.get("id_str")),
        text=text,
        created_at=_created_at(tweet, context.received_at),
        brand=brand,
        raw_ref=context.raw_ref,
        dedup_key=f"x:tweet:{tweet_id}",
    )


def _direct_message(
    event: dict[str, Any], users: dict[str, Any], account_id: str, brand: str | None, context: DeliveryContext
) -> Post | None:
    create = event.get("message_create") or {}
    if event.get("type") != "message_create" or not event.get("id"):
        return None
    sender_id = str(create.get("sender_id", ""))
    if sender_id == account_id:
        return None
    user = users.get(sender_id) or {}
    return Post(
        platform=Platform.X,
        kind=PostKind.MESSAGE,
        post_id=str(event["id"]),
        account_id=account_id,
        author=_author(user, sender_id or None),
        text=(create.get("message_data") or {}).get("text") or "",
        created_at=epoch_to_datetime(event.get("created_timestamp"), context.received_at),
        brand=brand,
        raw_ref=context.raw_ref,
        dedup_key=f"x:dm:{event['id']}",
    )

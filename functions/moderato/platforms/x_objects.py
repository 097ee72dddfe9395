"""X's objects as its webhooks deliver them: v1.1 tweets and DM events (AAA), v2 users and posts (XAA).

Shared by both webhook APIs, so a post reads the same whichever of them delivered it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from moderato.models import Author, Platform, Post, PostKind
from moderato.platforms.base import (
    DeliveryContext,
    epoch_to_datetime,
    mapping,
    optional_text,
    platform_id,
    text_of,
)

_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"


def _count(value: Any) -> int | None:
    """A count from the payload, or None when missing or not a sane number (never fail a delivery on it)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _account_created_at(user: dict[str, Any]) -> datetime | None:
    """User objects carry ``created_at`` (tweets, v1.1 format) or ``created_timestamp`` (DM ``users``, ms)."""
    return _timestamp(user, "created_timestamp", None)


def author_of(user: dict[str, Any], user_id: str | None) -> Author:
    """A v1.1 user object (AAA) or a v2 one (XAA: ``username``, ``public_metrics``, maybe under ``data``)."""
    if isinstance(user.get("data"), dict):
        user = user["data"]
    found = user.get("public_metrics")
    metrics: dict[str, Any] = found if isinstance(found, dict) else {}
    return Author(
        id=user_id,
        name=optional_text(user.get("name")),
        handle=optional_text(user.get("screen_name")) or optional_text(user.get("username")),
        followers=_count(user.get("followers_count", metrics.get("followers_count"))),
        account_created_at=_account_created_at(user),
        posts_count=_count(user.get("statuses_count", metrics.get("tweet_count"))),
    )


def _created_at(tweet: dict[str, Any], default: datetime) -> datetime:
    return _timestamp(tweet, "timestamp_ms", default) or default


def _timestamp(obj: dict[str, Any], epoch_key: str, default: datetime | None) -> datetime | None:
    """An epoch field in milliseconds (preferred) or ``created_at`` in X's v1.1 format, else ``default``."""
    if obj.get(epoch_key):
        return epoch_to_datetime(obj[epoch_key], default)
    created = obj.get("created_at")
    if not isinstance(created, str) or len(created) > 64:
        return default
    try:
        return datetime.strptime(created, _TWITTER_TIME)
    except ValueError:
        return epoch_to_datetime(created, default)  # v2 objects (XAA) use ISO 8601


def permalink(handle: str | None, post_id: str) -> str:
    return f"https://x.com/{quote(handle or 'i', safe='')[:64]}/status/{post_id}"


def full_text(tweet: dict[str, Any]) -> str:
    """The whole text, wherever X put it.

    A long post is cut in ``text``: v1.1 carries it whole in ``extended_tweet.full_text`` (streamed
    tweets, truncated or not) or ``full_text`` (extended mode); v2 (XAA) in ``note_tweet.text``.
    """
    extended = mapping(tweet.get("extended_tweet"), "extended_tweet")
    note = mapping(tweet.get("note_tweet"), "note_tweet")
    return (text_of(extended.get("full_text"), "extended_tweet.full_text")
            or text_of(note.get("text"), "note_tweet.text")
            or text_of(tweet.get("full_text"), "full_text")
            or text_of(tweet.get("text"), "text"))


def tweet_post(
    tweet: Any, users: dict[str, Any], account_id: str, brand: str | None, context: DeliveryContext
) -> Post | None:
    tweet = mapping(tweet, "tweet")
    user = mapping(tweet.get("user"), "tweet.user")
    tweet_id = platform_id(tweet.get("id_str"), "id_str") or platform_id(tweet.get("id"), "id")
    author_id = platform_id(user.get("id_str"), "user.id_str")
    if not tweet_id or author_id == account_id:
        return None  # the brand's own tweet
    if "retweeted_status" in tweet:
        return None  # a plain retweet adds no words of its own
    text = full_text(tweet)
    reply_to = platform_id(tweet.get("in_reply_to_status_id_str"), "in_reply_to_status_id_str")
    handle = optional_text(user.get("screen_name"))
    return Post(
        platform=Platform.X,
        kind=PostKind.REPLY if reply_to else PostKind.MENTION,
        post_id=tweet_id,
        parent_id=reply_to,
        thread_id=platform_id(tweet.get("conversation_id_str"), "conversation_id_str") or reply_to or tweet_id,
        permalink=permalink(handle, tweet_id),
        account_id=account_id,
        author=author_of(user, author_id),
        text=text,
        created_at=_created_at(tweet, context.received_at),
        brand=brand,
        raw_ref=context.raw_ref,
        dedup_key=f"x:tweet:{tweet_id}",
    )


def direct_message(
    event: Any, users: dict[str, Any], account_id: str, brand: str | None, context: DeliveryContext
) -> Post | None:
    event = mapping(event, "direct message event")
    create = mapping(event.get("message_create"), "message_create")
    event_id = platform_id(event.get("id"), "id")
    if event.get("type") != "message_create" or not event_id:
        return None
    sender_id = platform_id(create.get("sender_id"), "message_create.sender_id")
    if sender_id == account_id:
        return None
    user = users.get(sender_id or "")
    user = user if isinstance(user, dict) else {}
    return Post(
        platform=Platform.X,
        kind=PostKind.MESSAGE,
        post_id=event_id,
        account_id=account_id,
        author=author_of(user, sender_id),
        text=text_of(mapping(create.get("message_data"), "message_data").get("text"), "message_data.text"),
        created_at=epoch_to_datetime(event.get("created_timestamp"), context.received_at),
        brand=brand,
        raw_ref=context.raw_ref,
        dedup_key=f"x:dm:{event_id}",
    )

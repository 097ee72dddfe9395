"""X Activity API (XAA) events, the Account Activity API's replacement.

Source: docs.x.com/x-api/activity/event-payloads. Every event comes in one envelope,
``{"data": {"event_uuid", "filter": {"user_id"}, "event_type", "tag", "payload", "includes"}}``.

- ``post.mention.create``: someone @mentions the account. The payload is a v2 Post and its author is in
  ``includes.users``. It is a reply when ``referenced_tweets`` holds a ``replied_to``.
- ``post.reply.create``: a reply (named, and billed, on docs.x.com/x-api/activity/event-pricing; the
  payloads page has no sample of it yet, so it is read as the same v2 Post: *unconfirmed*).
- ``dm.received``: the payload is the Account Activity shape (``direct_message_events`` and a ``users``
  map keyed by id, each user under ``data``).
- Every other type (``dm.sent``, ``post.create``, ``like.create``, ``follow.follow``, ``oauth.revoke``...)
  is recorded as an event that is not a post. Subscribing only to the two above keeps the per-event bill
  to what Moderato reads.
"""

from __future__ import annotations

import re
from typing import Any

from moderato.models import Platform, Post, PostKind
from moderato.platforms.base import (
    CHANGE_ERRORS,
    ChangeUnparseable,
    DeliveryContext,
    ParsedDelivery,
    PlatformEvent,
    epoch_to_datetime,
    items,
    mapping,
    platform_id,
)
from moderato.platforms.x_objects import author_of, direct_message, full_text, permalink
from moderato.platforms.x_webhook import is_activity_event as is_activity_event

MENTION = "post.mention.create"
REPLY = "post.reply.create"
DM_RECEIVED = "dm.received"
POST_EVENT_TYPES = (MENTION, REPLY)
# The event types Moderato subscribes to, per account (README, "X Activity API"); each one is billed.
SUBSCRIBED_EVENT_TYPES = (MENTION, REPLY, DM_RECEIVED)
_EVENT_TYPE_SHAPE = re.compile(r"[a-z_]{1,24}(\.[a-z_]{1,24}){0,3}")


SUBSCRIPTIONS_URL = "https://api.x.com/2/activity/subscriptions"
SUBSCRIPTION_TAG = "moderato"


def subscription_requests(user_id: str, webhook_id: str) -> list[dict[str, Any]]:
    """The ``POST /2/activity/subscriptions`` bodies that deliver one brand account's events to our webhook.

    docs.x.com/x-api/activity/quickstart: ``{"event_type", "filter": {"user_id"}, "tag", "webhook_id"}``.
    Both types are private events: create them with the account's user-context OAuth 2.0 token (the one
    PlatformTokens holds under ``x``), not the app's bearer token.
    """
    return [{"event_type": event_type, "filter": {"user_id": user_id}, "tag": SUBSCRIPTION_TAG,
             "webhook_id": webhook_id} for event_type in SUBSCRIBED_EVENT_TYPES]


def parse_activity(payload: dict[str, Any], context: DeliveryContext) -> ParsedDelivery:
    data = payload["data"]
    event_type = data["event_type"]
    parsed = ParsedDelivery()
    if event_type not in SUBSCRIBED_EVENT_TYPES:
        # Counted by kind: a signed value, but only X's dotted names are kept as themselves.
        kind = event_type if _EVENT_TYPE_SHAPE.fullmatch(event_type) else "unrecognised"
        parsed.events.append(PlatformEvent(kind=kind, where="data"))
        return parsed
    try:
        account_id = platform_id(mapping(data.get("filter"), "data.filter").get("user_id"), "data.filter.user_id")
        body = mapping(data.get("payload"), "data.payload")
        if not account_id:
            raise ChangeUnparseable("data.filter.user_id is missing: the event names no account")
    except CHANGE_ERRORS as error:
        parsed.set_aside("data", data, error)
        return parsed
    brand = context.brands.get(account_id)
    if event_type in POST_EVENT_TYPES:
        parsed.read("data.payload", body, _post, _included_users(data), account_id, brand, context,
                    event_type == REPLY)
        return parsed
    users = body.get("users") if isinstance(body.get("users"), dict) else {}
    try:
        events = items(body.get("direct_message_events"), "data.payload.direct_message_events")
    except CHANGE_ERRORS as error:
        parsed.set_aside("data.payload.direct_message_events", body.get("direct_message_events"), error)
        return parsed
    for n, event in enumerate(events):
        parsed.read(f"data.payload.direct_message_events[{n}]", event, direct_message, users, account_id, brand,
                    context)
    return parsed


def _included_users(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``includes.users`` by id (descriptive only: a malformed entry costs the author's details, not the post)."""
    includes = data.get("includes")
    listed = includes.get("users") if isinstance(includes, dict) else None
    users: list[Any] = listed if isinstance(listed, list) else []
    found: dict[str, dict[str, Any]] = {}
    for user in users:
        inner = user.get("data") if isinstance(user, dict) and isinstance(user.get("data"), dict) else user
        if isinstance(inner, dict) and isinstance(inner.get("id"), str):
            found[inner["id"]] = inner
    return found


def _post(
    post: Any, users: dict[str, dict[str, Any]], account_id: str, brand: str | None, context: DeliveryContext,
    is_reply_event: bool,
) -> Post | None:
    post = mapping(post, "data.payload")
    post_id = platform_id(post.get("id"), "id")
    author_id = platform_id(post.get("author_id"), "author_id")
    if not post_id or author_id == account_id:
        return None  # the brand's own post
    references = {ref.get("type"): ref.get("id") for ref in items(post.get("referenced_tweets"), "referenced_tweets")
                  if isinstance(ref, dict) and isinstance(ref.get("type"), str)}
    if "retweeted" in references:
        return None  # a plain repost adds no words of its own
    reply_to = platform_id(references.get("replied_to"), "referenced_tweets.replied_to")
    author = author_of(users.get(author_id or "", {}), author_id)
    return Post(
        platform=Platform.X,
        kind=PostKind.REPLY if reply_to or is_reply_event else PostKind.MENTION,
        post_id=post_id,
        parent_id=reply_to,
        thread_id=platform_id(post.get("conversation_id"), "conversation_id") or reply_to or post_id,
        permalink=permalink(author.handle, post_id),
        account_id=account_id,
        author=author,
        text=full_text(post),
        created_at=epoch_to_datetime(post.get("created_at"), context.received_at),
        brand=brand,
        raw_ref=context.raw_ref,
        # The same key as the Account Activity tweet: a post delivered by both during the move is one case.
        dedup_key=f"x:tweet:{post_id}",
    )

"""Meta webhooks: Facebook Page feed, Messenger and Instagram, all on ``/webhooks/meta``.

Handshake and signature are in ``moderato.platforms.meta_webhook`` (the webhook function imports only that).
One POST may batch up to 1000 updates across ``entry[]``; every one of them is parsed, each on its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moderato.models import Author, Platform, Post, PostKind
from moderato.platforms.base import (
    CHANGE_ERRORS,
    DeliveryContext,
    ParsedDelivery,
    epoch_to_datetime,
    items,
    link,
    mapping,
    one_of,
    optional_text,
    platform_id,
    text_of,
)
from moderato.platforms.meta_webhook import SIGNATURE_HEADER as SIGNATURE_HEADER
from moderato.platforms.meta_webhook import MetaWebhook
from moderato.reasons import MENTION_TEXT_NOT_IN_PAYLOAD

_FEED_ITEMS_THAT_ARE_POSTS = frozenset({"comment", "post", "status", "photo", "video", "share", "mention"})
_VERBS_TO_TRIAGE = frozenset({"add", "edited"})  # remove/hide/unhide are moderation events, not new posts


class MetaPlatform(MetaWebhook):
    """Meta's gate (handshake, signature, shape) and the parsing of its deliveries into posts."""

    def parse(self, payload: Any, context: DeliveryContext) -> ParsedDelivery:
        """Every update of every entry, each on its own: a bad one is set aside, the others become posts."""
        self.check_shape(payload)
        is_instagram = payload["object"] == "instagram"
        parsed = ParsedDelivery()
        for index, entry in enumerate(payload["entry"]):
            where = f"entry[{index}]"
            try:
                account_id = platform_id(entry.get("id"), "entry.id") or ""
                sent_at = epoch_to_datetime(entry.get("time"), context.received_at)
                changes = items(entry.get("changes"), "entry.changes")
                if entry.get("changes") is None and "field" in entry and "value" in entry:
                    changes = [{"field": entry["field"], "value": entry["value"]}]  # Instagram Login flat form
                # Messages that arrive while another app or the Page Inbox owns the thread come in standby.
                messages = [(f"{where}.{key}[{n}]", event) for key in ("messaging", "standby")
                            for n, event in enumerate(items(entry.get(key), f"entry.{key}"))]
            except CHANGE_ERRORS as error:
                parsed.set_aside(where, entry, error)
                continue
            change_parser = _instagram_change if is_instagram else _feed_change
            for n, change in enumerate(changes):
                parsed.read(f"{where}.changes[{n}]", change, change_parser, account_id, sent_at, context)
            for at, event in messages:
                parsed.read(at, event, _message, account_id, sent_at, context, is_instagram)
        return parsed


def _brand(context: DeliveryContext, account_id: str) -> str | None:
    return context.brands.get(account_id)


def _sender(value: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The author's id and object: ``from`` or, in older payloads, ``sender_id``/``sender_name``."""
    sender = mapping(value.get("from"), "from") or {"id": value.get("sender_id"), "name": value.get("sender_name")}
    return platform_id(sender.get("id"), "from.id"), sender


def _feed_change(
    change: Any, account_id: str, sent_at: datetime, context: DeliveryContext
) -> Post | None:
    change = mapping(change, "change")
    value = mapping(change.get("value"), "change.value")
    item = one_of(value.get("item"), _FEED_ITEMS_THAT_ARE_POSTS)
    if change.get("field") != "feed" or item is None:
        return None
    verb = value.get("verb", "add")
    if one_of(verb, _VERBS_TO_TRIAGE) is None:
        return None
    author_id, sender = _sender(value)
    if author_id == account_id:
        return None  # the brand's own comment or post
    post = mapping(value.get("post"), "post")
    post_ref = platform_id(value.get("post_id"), "post_id") or platform_id(post.get("id"), "post.id")
    own_id = platform_id(value.get("comment_id"), "comment_id") if item == "comment" else None
    own_id = own_id or post_ref
    if not own_id:
        return None
    parent_id = platform_id(value.get("parent_id"), "parent_id")
    if item == "comment":
        kind = PostKind.COMMENT if parent_id in (None, post_ref) else PostKind.REPLY
    else:
        kind = PostKind.MENTION if item == "mention" else PostKind.POST
    return Post(
        platform=Platform.FACEBOOK,
        kind=kind,
        post_id=own_id,
        parent_id=parent_id,
        thread_id=post_ref,
        permalink=link(post.get("permalink_url")) or link(value.get("permalink_url")),
        account_id=account_id,
        author=Author(id=author_id, name=optional_text(sender.get("name"))),
        text=text_of(value.get("message"), "message"),
        created_at=epoch_to_datetime(value.get("created_time"), sent_at),
        edited=verb == "edited",
        brand=_brand(context, account_id),
        raw_ref=context.raw_ref,
        dedup_key=f"facebook:{own_id}:{verb}",
    )


def _instagram_change(
    change: Any, account_id: str, sent_at: datetime, context: DeliveryContext
) -> Post | None:
    change = mapping(change, "change")
    field = change.get("field")
    value = mapping(change.get("value"), "change.value")
    if field == "comments" or field == "live_comments":
        comment_id = platform_id(value.get("id"), "id") or platform_id(value.get("comment_id"), "comment_id")
        sender = mapping(value.get("from"), "from")
        author_id = platform_id(sender.get("id"), "from.id")
        if not comment_id or author_id == account_id:
            return None
        media_id = platform_id(mapping(value.get("media"), "media").get("id"), "media.id")
        parent_id = platform_id(value.get("parent_id"), "parent_id")
        return Post(
            platform=Platform.INSTAGRAM,
            kind=PostKind.REPLY if parent_id else PostKind.COMMENT,
            post_id=comment_id,
            parent_id=parent_id or media_id,
            thread_id=media_id,
            account_id=account_id,
            author=Author(id=author_id, handle=optional_text(sender.get("username"))),
            text=text_of(value.get("text"), "text"),
            created_at=epoch_to_datetime(value.get("timestamp") or value.get("created_time"), sent_at),
            brand=_brand(context, account_id),
            raw_ref=context.raw_ref,
            dedup_key=f"instagram:{comment_id}:{field}",
        )
    if field == "mentions":
        # Mentions carry ids only: the text has to be fetched from the Graph API later.
        media_id = platform_id(value.get("media_id"), "media_id")
        target = platform_id(value.get("comment_id"), "comment_id") or media_id
        if not target:
            return None
        return Post(
            platform=Platform.INSTAGRAM,
            kind=PostKind.MENTION,
            post_id=target,
            thread_id=media_id,
            account_id=account_id,
            text="",
            created_at=sent_at,
            brand=_brand(context, account_id),
            raw_ref=context.raw_ref,
            dedup_key=f"instagram:{target}:mentions",
            flags=(MENTION_TEXT_NOT_IN_PAYLOAD,),
        )
    return None


def _message(
    event: Any, account_id: str, sent_at: datetime, context: DeliveryContext, is_instagram: bool
) -> Post | None:
    event = mapping(event, "messaging event")
    message = event.get("message")
    if not isinstance(message, dict) or message.get("is_echo"):
        return None  # deliveries, reads, reactions, postbacks and the brand's own echoes
    mid = platform_id(message.get("mid"), "message.mid")
    if not mid:
        return None
    sender_id = platform_id(mapping(event.get("sender"), "sender").get("id"), "sender.id")
    if sender_id == account_id:
        return None
    platform = Platform.INSTAGRAM if is_instagram else Platform.MESSENGER
    return Post(
        platform=platform,
        kind=PostKind.MESSAGE,
        post_id=mid,
        account_id=account_id,
        author=Author(id=sender_id),
        text=text_of(message.get("text"), "message.text"),
        created_at=epoch_to_datetime(event.get("timestamp"), sent_at),
        brand=_brand(context, account_id),
        raw_ref=context.raw_ref,
        dedup_key=f"{platform.value}:{mid}",
    )

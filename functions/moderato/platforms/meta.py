"""Meta webhooks: Facebook Page feed, Messenger and Instagram, all on ``/webhooks/meta``.

Handshake: ``hub.mode=subscribe`` + ``hub.verify_token`` → echo ``hub.challenge``.
Signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>``.
One POST may batch up to 1000 updates across ``entry[]``; every one of them is parsed.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from moderato.models import Author, Platform, Post, PostKind
from moderato.platforms.base import (
    DeliveryContext,
    HandshakeAnswer,
    HandshakeMalformed,
    HandshakeRejected,
    PayloadRejected,
    SignatureInvalid,
    SignatureMissing,
    epoch_to_datetime,
    header,
    hmac_sha256,
    require_secret,
)
from moderato.reasons import MENTION_TEXT_NOT_IN_PAYLOAD

SIGNATURE_HEADER = "X-Hub-Signature-256"
_FEED_ITEMS_THAT_ARE_POSTS = {"comment", "post", "status", "photo", "video", "share", "mention"}
_VERBS_TO_TRIAGE = {"add", "edited"}  # remove/hide/unhide are moderation events, not new posts


class MetaPlatform:
    name = "meta"
    signature_header = SIGNATURE_HEADER

    def handshake(self, query: dict[str, str], secrets: dict[str, Any]) -> HandshakeAnswer:
        mode, token, challenge = (query.get(k) for k in ("hub.mode", "hub.verify_token", "hub.challenge"))
        if not mode or token is None or challenge is None:
            raise HandshakeMalformed("expected hub.mode, hub.verify_token and hub.challenge")
        expected = require_secret(secrets, "meta", "verify_token")
        if mode != "subscribe" or not hmac.compare_digest(token.encode(), expected.encode()):
            raise HandshakeRejected("verify token does not match")
        return HandshakeAnswer(body=challenge)

    def verify(self, headers: dict[str, str], raw_body: bytes, secrets: dict[str, Any]) -> None:
        value = header(headers, SIGNATURE_HEADER)
        if not value:
            raise SignatureMissing(f"missing {SIGNATURE_HEADER} header")
        algorithm, _, digest = value.partition("=")
        if algorithm != "sha256" or len(digest) != 64:
            raise SignatureMissing(f"malformed {SIGNATURE_HEADER} header: expected sha256=<64 hex digits>")
        expected = hmac_sha256(require_secret(secrets, "meta", "app_secret"), raw_body).hex()
        if not hmac.compare_digest(expected, digest.lower()):
            raise SignatureInvalid("signature does not match the body")

    def sign(self, raw_body: bytes, secrets: dict[str, Any]) -> dict[str, str]:
        digest = hmac_sha256(require_secret(secrets, "meta", "app_secret"), raw_body).hex()
        return {SIGNATURE_HEADER: f"sha256={digest}"}

    def check_shape(self, payload: Any) -> None:
        if not isinstance(payload, dict) or payload.get("object") not in ("page", "instagram"):
            raise PayloadRejected("expected a Meta webhook object of type 'page' or 'instagram'")
        entries = payload.get("entry")
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise PayloadRejected("expected 'entry' to be a list of objects")

    def parse(self, payload: Any, context: DeliveryContext) -> list[Post]:
        self.check_shape(payload)
        is_instagram = payload["object"] == "instagram"
        posts: list[Post] = []
        for entry in payload["entry"]:
            account_id = str(entry.get("id", ""))
            sent_at = epoch_to_datetime(entry.get("time"), context.received_at)
            changes = entry.get("changes")
            if changes is None and "field" in entry and "value" in entry:
                changes = [{"field": entry["field"], "value": entry["value"]}]  # Instagram Login flat form
            for change in changes or []:
                value = change.get("value") or {}
                if is_instagram:
                    post = _instagram_change(change.get("field"), value, account_id, sent_at, context)
                else:
                    post = _feed_change(change.get("field"), value, account_id, sent_at, context)
                if post is not None:
                    posts.append(post)
            for event in entry.get("messaging") or []:
                post = _message(event, account_id, sent_at, context, is_instagram)
                if post is not None:
                    posts.append(post)
        return posts


def _brand(context: DeliveryContext, account_id: str) -> str | None:
    return context.brands.get(account_id)


def _feed_change(
    field: str | None, value: dict[str, Any], account_id: str, sent_at: datetime, context: DeliveryContext
) -> Post | None:
    if field != "feed" or value.get("item") not in _FEED_ITEMS_THAT_ARE_POSTS:
        return None
    verb = value.get("verb", "add")
    if verb not in _VERBS_TO_TRIAGE:
        return None
    sender = value.get("from") or {"id": value.get("sender_id"), "name": value.get("sender_name")}
    author_id = str(sender.get("id")) if sender.get("id") is not None else None
    if author_id == account_id:
        return None  # the brand's own comment or post
    item = value["item"]
    post_ref = value.get("post_id") or (value.get("post") or {}).get("id")
    own_id = value.get("comment_id") if item == "comment" else None
    own_id = own_id or post_ref
    if not own_id:
        return None
    parent_id = value.get("parent_id")
    if item == "comment":
        kind = PostKind.COMMENT if parent_id in (None, post_ref) else PostKind.REPLY
    else:
        kind = PostKind.MENTION if item == "mention" else PostKind.POST
    return Post(
        platform=Platform.FACEBOOK,
        kind=kind,
        post_id=str(own_id),
        parent_id=str(parent_id) if parent_id else None,
        thread_id=str(post_ref) if post_ref else None,
        permalink=(value.get("post") or {}).get("permalink_url") or value.get("permalink_url"),
        account_id=account_id,
        author=Author(id=author_id, name=sender.get("name")),
        text=value.get("message") or "",
        created_at=epoch_to_datetime(value.get("created_time"), sent_at),
        edited=verb == "edited",
        brand=_brand(context, account_id),
        raw_ref=context.raw_ref,
        dedup_key=f"facebook:{own_id}:{verb}",
    )


def _instagram_change(
    field: str | None, value: dict[str, Any], account_id: str, sent_at: datetime, context: DeliveryContext
) -> Post | None:
    if field == "comments" or field == "live_comments":
        comment_id = value.get("id") or value.get("comment_id")
        sender = value.get("from") or {}
        author_id = str(sender["id"]) if sender.get("id") is not None else None
        if not comment_id or author_id == account_id:
            return None
        media_id = (value.get("media") or {}).get("id")
        parent_id = value.get("parent_id")
        return Post(
            platform=Platform.INSTAGRAM,
            kind=PostKind.REPLY if parent_id else PostKind.COMMENT,
            post_id=str(comment_id),
            parent_id=str(parent_id or media_id) if (parent_id or media_id) else None,
            thread_id=str(media_id) if media_id else None,
            account_id=account_id,
            author=Author(id=author_id, handle=sender.get("username")),
            text=value.get("text") or "",
            created_at=epoch_to_datetime(value.get("timestamp") or value.get("created_time"), sent_at),
            brand=_brand(context, account_id),
            raw_ref=context.raw_ref,
            dedup_key=f"instagram:{comment_id}:{field}",
        )
    if field == "mentions":
        # Mentions carry ids only: the text has to be fetched from the Graph API later.
        target = value.get("comment_id") or value.get("media_id")
        if not target:
            return None
        return Post(
            platform=Platform.INSTAGRAM,
            kind=PostKind.MENTION,
            post_id=str(target),
            thread_id=str(value["media_id"]) if value.get("media_id") else None,
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
    event: dict[str, Any], account_id: str, sent_at: datetime, context: DeliveryContext, is_instagram: bool
) -> Post | None:
    message = event.get("message")
    if not isinstance(message, dict) or message.get("is_echo") or not message.get("mid"):
        return None  # deliveries, reads, reactions, postbacks and the brand's own echoes
    sender_id = str((event.get("sender") or {}).get("id", ""))
    if sender_id == account_id:
        return None
    platform = Platform.INSTAGRAM if is_instagram else Platform.MESSENGER
    return Post(
        platform=platform,
        kind=PostKind.MESSAGE,
        post_id=str(message["mid"]),
        account_id=account_id,
        author=Author(id=sender_id or None),
        text=message.get("text") or "",
        created_at=epoch_to_datetime(event.get("timestamp"), sent_at),
        brand=_brand(context, account_id),
        raw_ref=context.raw_ref,
        dedup_key=f"{platform.value}:{message['mid']}",
    )

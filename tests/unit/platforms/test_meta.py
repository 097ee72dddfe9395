"""Meta: handshake, signature over raw bytes, and parsing of every delivery shape we accept."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from moderato.models import Platform, PostKind
from moderato.platforms.base import (
    DeliveryContext,
    HandshakeMalformed,
    HandshakeRejected,
    PayloadRejected,
    SecretsUnavailable,
    SignatureInvalid,
    SignatureMissing,
)
from moderato.platforms.meta import MetaPlatform
from moderato.reasons import MENTION_TEXT_NOT_IN_PAYLOAD
from tests.support import PAGE_ID, meta_comment

SECRETS = {"app_secret": "s3cret", "verify_token": "tok"}
CONTEXT = DeliveryContext(received_at=datetime(2026, 1, 1, tzinfo=UTC), raw_ref="sqs:1", brands={PAGE_ID: "Floralys"})
meta = MetaPlatform()


def test_handshake_echoes_the_challenge_only_for_the_right_token() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert meta.handshake(query, SECRETS).body == "1158201444"
    with pytest.raises(HandshakeRejected):
        meta.handshake({**query, "hub.verify_token": "nope"}, SECRETS)
    with pytest.raises(HandshakeRejected):
        meta.handshake({**query, "hub.mode": "unsubscribe"}, SECRETS)
    with pytest.raises(HandshakeMalformed):
        meta.handshake({"hub.mode": "subscribe"}, SECRETS)


def test_signature_is_hmac_sha256_hex_of_the_raw_bytes() -> None:
    body = b'{"object":"page","entry":[{"message":"caf\\u00e9"}]}'
    digest = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    meta.verify({"x-hub-signature-256": f"sha256={digest}"}, body, SECRETS)
    assert meta.sign(body, SECRETS) == {"X-Hub-Signature-256": f"sha256={digest}"}
    # Re-serializing changes the bytes (Meta escapes non-ASCII), and the signature must then fail.
    reencoded = json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()
    with pytest.raises(SignatureInvalid):
        meta.verify({"X-Hub-Signature-256": f"sha256={digest}"}, reencoded, SECRETS)


@pytest.mark.parametrize("value", [None, "", "sha1=" + "a" * 40, "sha256=", "sha256=abc", "md5=" + "0" * 64])
def test_missing_or_malformed_signature_headers(value: str | None) -> None:
    headers = {} if value is None else {"X-Hub-Signature-256": value}
    with pytest.raises(SignatureMissing):
        meta.verify(headers, b"{}", SECRETS)


def test_an_unconfigured_secret_is_our_fault_not_the_callers() -> None:
    with pytest.raises(SecretsUnavailable):
        meta.verify({"X-Hub-Signature-256": "sha256=" + "0" * 64}, b"{}", {"app_secret": ""})


def test_feed_comment_is_parsed_into_a_post() -> None:
    [post] = meta.parse(meta_comment("Ma commande n'est jamais arrivée"), CONTEXT).posts
    assert post.platform == Platform.FACEBOOK and post.kind == PostKind.COMMENT
    assert post.post_id == "712750021053074_1063824911537852"
    assert post.thread_id == post.parent_id == f"{PAGE_ID}_712750021053074"
    assert post.author.name == "Jeanne Martin" and post.brand == "Floralys"
    assert post.created_at == datetime.fromtimestamp(1707211876, tz=UTC)
    assert post.dedup_key == "facebook:712750021053074_1063824911537852:add"
    assert post.permalink and post.raw_ref == "sqs:1"


def test_reply_to_a_comment_and_older_sender_fields() -> None:
    payload = meta_comment("ok")
    value = payload["entry"][0]["changes"][0]["value"]
    value["parent_id"] = "712750021053074_999"
    del value["from"]
    value["sender_id"], value["sender_name"] = "42", "Old Payload"
    [post] = meta.parse(payload, CONTEXT).posts
    assert post.kind == PostKind.REPLY and post.author.id == "42" and post.author.name == "Old Payload"


def _feed(value: dict, page_id: str = PAGE_ID) -> dict:
    return {"object": "page", "entry": [{"id": page_id, "time": 1707211879,
                                         "changes": [{"field": "feed", "value": value}]}]}


VISITOR_POST_ID = f"{PAGE_ID}_712750021053099"
VISITOR_POSTS = {
    # A visitor's text post on the Page (Meta's sample shape: item "status", published 1, no parent).
    "status": {"from": {"id": "24266381753005180", "name": "Jeanne Martin"},
               "post": {"status_type": "mobile_status_update", "is_published": True,
                        "updated_time": "2024-02-06T09:31:16+0000", "promotion_status": "inactive",
                        "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/712750021053099",
                        "id": VISITOR_POST_ID},
               "message": "Commande FL-20931 jamais livrée, et pas de réponse du service client.",
               "post_id": VISITOR_POST_ID, "created_time": 1707211876, "item": "status", "published": 1,
               "verb": "add"},
    # A visitor's photo post: the photo's id and CDN link ride along; the post id is still post_id.
    "photo": {"from": {"id": "24266381753005180", "name": "Jeanne Martin"},
              "link": "https://scontent.xx.fbcdn.net/v/t39.30808-6/424242_n.jpg", "photo_id": "712750021053100",
              "post": {"status_type": "added_photos", "is_published": True,
                       "permalink_url": f"https://www.facebook.com/{PAGE_ID}/posts/712750021053099",
                       "id": VISITOR_POST_ID},
              "message": "Voilà le bouquet reçu : fané et cassé.", "post_id": VISITOR_POST_ID,
              "created_time": 1707211876, "item": "photo", "published": 1, "verb": "add"},
    "post": {"from": {"id": "24266381753005180", "name": "Jeanne Martin"}, "post_id": VISITOR_POST_ID,
             "message": "Commande FL-20931 jamais livrée.", "created_time": 1707211876, "item": "post",
             "published": 1, "verb": "add"},
}


@pytest.mark.parametrize("item", sorted(VISITOR_POSTS))
def test_a_visitors_post_on_the_page_is_a_post_not_a_comment(item: str) -> None:
    # Given a visitor's own post on the Page feed (not a comment under one of the Page's posts)
    value = VISITOR_POSTS[item]
    # When it is parsed
    [post] = meta.parse(_feed(value), CONTEXT).posts
    # Then it is a post of its own: its id is the post id, it has no parent and starts its own thread
    assert post.platform == Platform.FACEBOOK and post.kind == PostKind.POST
    assert post.post_id == VISITOR_POST_ID and post.parent_id is None and post.thread_id == VISITOR_POST_ID
    assert post.author.id == "24266381753005180" and post.author.name == "Jeanne Martin"
    assert post.text == value["message"] and post.brand == "Floralys" and post.account_id == PAGE_ID
    assert post.created_at == datetime.fromtimestamp(1707211876, tz=UTC)
    assert post.dedup_key == f"facebook:{VISITOR_POST_ID}:add"
    assert post.permalink == value.get("post", {}).get("permalink_url")


def test_the_pages_own_status_post_is_skipped() -> None:
    own = {**VISITOR_POSTS["status"], "from": {"id": PAGE_ID, "name": "Floralys"}}
    assert meta.parse(_feed(own), CONTEXT).posts == []


# Older Graph API versions sent the author as top-level sender_id (a JSON number) and sender_name.
OLD_COMMENT = {"item": "comment", "sender_name": "Jeanne Martin", "sender_id": 100004577166412,
               "comment_id": "712750021053074_1063824911537852", "post_id": f"{PAGE_ID}_712750021053074",
               "parent_id": f"{PAGE_ID}_712750021053074", "verb": "add", "created_time": 1507211876,
               "message": "Ma commande n'est jamais arrivée"}
OLD_STATUS = {"item": "status", "sender_name": "Paul Girard", "sender_id": 100009871234567,
              "post_id": f"{PAGE_ID}_712750021053200", "verb": "add", "published": 1,
              "created_time": 1507211876, "message": "Livraison reçue en avance, merci"}


def test_older_sender_id_and_sender_name_shape_for_a_comment() -> None:
    [post] = meta.parse(_feed(OLD_COMMENT), CONTEXT).posts
    assert post.kind == PostKind.COMMENT and post.post_id == "712750021053074_1063824911537852"
    assert post.author.id == "100004577166412" and post.author.name == "Jeanne Martin"
    assert post.parent_id == post.thread_id == f"{PAGE_ID}_712750021053074"
    assert post.created_at == datetime.fromtimestamp(1507211876, tz=UTC)
    assert post.dedup_key == "facebook:712750021053074_1063824911537852:add"


def test_older_sender_id_and_sender_name_shape_for_a_visitor_post() -> None:
    [post] = meta.parse(_feed(OLD_STATUS), CONTEXT).posts
    assert post.kind == PostKind.POST and post.post_id == f"{PAGE_ID}_712750021053200" and post.parent_id is None
    assert post.author.id == "100009871234567" and post.author.name == "Paul Girard"
    assert post.text == "Livraison reçue en avance, merci"


def test_older_shape_from_the_page_itself_is_skipped() -> None:
    # The Page id arrives as a number in the old shape and as a string in entry.id: still the same account.
    own = {**OLD_STATUS, "sender_id": int(PAGE_ID), "sender_name": "Floralys"}
    assert meta.parse(_feed(own), CONTEXT).posts == []


@pytest.mark.parametrize(("item", "verb"), [("reaction", "add"), ("comment", "remove"), ("comment", "hide")])
def test_reactions_and_moderation_events_are_not_posts(item: str, verb: str) -> None:
    assert meta.parse(meta_comment("x", item=item, verb=verb), CONTEXT).posts == []


def test_the_pages_own_comment_is_skipped() -> None:
    assert meta.parse(meta_comment("Merci !", author_id=PAGE_ID), CONTEXT).posts == []


def test_batched_entries_are_all_parsed() -> None:
    first, second = meta_comment("one", comment_id="1_1"), meta_comment("two", comment_id="1_2")
    first["entry"].extend(second["entry"])
    assert [p.text for p in meta.parse(first, CONTEXT).posts] == ["one", "two"]


def test_messenger_message_and_echo() -> None:
    payload = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1457764198246, "messaging": [
        {"sender": {"id": "PSID"}, "recipient": {"id": PAGE_ID}, "timestamp": 1457764197627,
         "message": {"mid": "mid.1457764197618:41d1", "text": "hello"}},
        {"sender": {"id": PAGE_ID}, "recipient": {"id": "PSID"}, "timestamp": 1457764197627,
         "message": {"mid": "mid.2", "text": "echo", "is_echo": True}},
        {"sender": {"id": "PSID"}, "recipient": {"id": PAGE_ID}, "timestamp": 1, "read": {"watermark": 1}},
    ]}]}
    [post] = meta.parse(payload, CONTEXT).posts
    assert post.platform == Platform.MESSENGER and post.kind == PostKind.MESSAGE
    assert post.created_at == datetime.fromtimestamp(1457764197.627, tz=UTC)
    assert post.dedup_key == "messenger:mid.1457764197618:41d1"


@pytest.mark.parametrize("id_field", ["id", "comment_id"])
def test_instagram_comment_accepts_both_id_fields(id_field: str) -> None:
    value = {"from": {"id": "IGSID", "username": "jeanne.m"}, id_field: "17865799348089039",
             "text": "Où est ma commande ?", "media": {"id": "17918195224117851", "media_product_type": "FEED"}}
    payload = {"object": "instagram", "entry": [{"id": "17841405726653026", "time": 1707211879,
                                                 "changes": [{"field": "comments", "value": value}]}]}
    [post] = meta.parse(payload, CONTEXT).posts
    assert post.platform == Platform.INSTAGRAM and post.post_id == "17865799348089039"
    assert post.author.handle == "jeanne.m" and post.thread_id == "17918195224117851"


def test_instagram_flat_entry_form_and_mentions_without_text() -> None:
    payload = {"object": "instagram", "entry": [{"id": "1784", "time": 1707211879, "field": "mentions",
                                                 "value": {"comment_id": "c1", "media_id": "m1"}}]}
    [post] = meta.parse(payload, CONTEXT).posts
    assert post.kind == PostKind.MENTION and post.text == ""
    assert post.flags == (MENTION_TEXT_NOT_IN_PAYLOAD,)


@pytest.mark.parametrize("payload", [[], {"object": "user", "entry": []}, {"object": "page"},
                                     {"object": "page", "entry": [1, 2]}])
def test_unknown_shapes_are_rejected(payload: object) -> None:
    with pytest.raises(PayloadRejected):
        meta.check_shape(payload)

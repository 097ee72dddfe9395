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
    [post] = meta.parse(meta_comment("Ma commande n'est jamais arrivée"), CONTEXT)
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
    [post] = meta.parse(payload, CONTEXT)
    assert post.kind == PostKind.REPLY and post.author.id == "42" and post.author.name == "Old Payload"


@pytest.mark.parametrize(("item", "verb"), [("reaction", "add"), ("comment", "remove"), ("comment", "hide")])
def test_reactions_and_moderation_events_are_not_posts(item: str, verb: str) -> None:
    assert meta.parse(meta_comment("x", item=item, verb=verb), CONTEXT) == []


def test_the_pages_own_comment_is_skipped() -> None:
    assert meta.parse(meta_comment("Merci !", author_id=PAGE_ID), CONTEXT) == []


def test_batched_entries_are_all_parsed() -> None:
    first, second = meta_comment("one", comment_id="1_1"), meta_comment("two", comment_id="1_2")
    first["entry"].extend(second["entry"])
    assert [p.text for p in meta.parse(first, CONTEXT)] == ["one", "two"]


def test_messenger_message_and_echo() -> None:
    payload = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1457764198246, "messaging": [
        {"sender": {"id": "PSID"}, "recipient": {"id": PAGE_ID}, "timestamp": 1457764197627,
         "message": {"mid": "mid.1457764197618:41d1", "text": "hello"}},
        {"sender": {"id": PAGE_ID}, "recipient": {"id": "PSID"}, "timestamp": 1457764197627,
         "message": {"mid": "mid.2", "text": "echo", "is_echo": True}},
        {"sender": {"id": "PSID"}, "recipient": {"id": PAGE_ID}, "timestamp": 1, "read": {"watermark": 1}},
    ]}]}
    [post] = meta.parse(payload, CONTEXT)
    assert post.platform == Platform.MESSENGER and post.kind == PostKind.MESSAGE
    assert post.created_at == datetime.fromtimestamp(1457764197.627, tz=UTC)
    assert post.dedup_key == "messenger:mid.1457764197618:41d1"


@pytest.mark.parametrize("id_field", ["id", "comment_id"])
def test_instagram_comment_accepts_both_id_fields(id_field: str) -> None:
    value = {"from": {"id": "IGSID", "username": "jeanne.m"}, id_field: "17865799348089039",
             "text": "Où est ma commande ?", "media": {"id": "17918195224117851", "media_product_type": "FEED"}}
    payload = {"object": "instagram", "entry": [{"id": "17841405726653026", "time": 1707211879,
                                                 "changes": [{"field": "comments", "value": value}]}]}
    [post] = meta.parse(payload, CONTEXT)
    assert post.platform == Platform.INSTAGRAM and post.post_id == "17865799348089039"
    assert post.author.handle == "jeanne.m" and post.thread_id == "17918195224117851"


def test_instagram_flat_entry_form_and_mentions_without_text() -> None:
    payload = {"object": "instagram", "entry": [{"id": "1784", "time": 1707211879, "field": "mentions",
                                                 "value": {"comment_id": "c1", "media_id": "m1"}}]}
    [post] = meta.parse(payload, CONTEXT)
    assert post.kind == PostKind.MENTION and post.text == ""
    assert post.flags == (MENTION_TEXT_NOT_IN_PAYLOAD,)


@pytest.mark.parametrize("payload", [[], {"object": "user", "entry": []}, {"object": "page"},
                                     {"object": "page", "entry": [1, 2]}])
def test_unknown_shapes_are_rejected(payload: object) -> None:
    with pytest.raises(PayloadRejected):
        meta.check_shape(payload)

"""X: CRC answer, signature test vector from PLATFORMS.md, tweet and DM parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from moderato.models import PostKind
from moderato.platforms.base import (
    DeliveryContext,
    HandshakeMalformed,
    PayloadRejected,
    SignatureInvalid,
    SignatureMissing,
)
from moderato.platforms.x import XPlatform, crc_response_token
from tests.support import x_tweet

x = XPlatform()
CONTEXT = DeliveryContext(received_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_signature_matches_the_published_test_vector() -> None:
    body = b'{"test_number":1,"test_string":"two"}'
    header = {"x-twitter-webhooks-signature": "sha256=YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI="}
    x.verify(header, body, {"consumer_secret": "test"})
    assert x.sign(body, {"consumer_secret": "test"}) == header
    with pytest.raises(SignatureInvalid):
        x.verify(header, body + b" ", {"consumer_secret": "test"})


@pytest.mark.parametrize("value", ["", "sha256=not base64!!", "sha1=YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI=",
                                   "sha256=YWJj"])
def test_malformed_signature_headers(value: str) -> None:
    with pytest.raises(SignatureMissing):
        x.verify({"x-twitter-webhooks-signature": value} if value else {}, b"{}", {"consumer_secret": "test"})


def test_crc_response_token_matches_the_published_test_vector() -> None:
    # PLATFORMS.md: secret "test" over this exact string gives this exact token.
    token = crc_response_token("test", '{"test_number":1,"test_string":"two"}')
    assert token == "sha256=YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI="


def test_crc_response() -> None:
    # Given the answer X expects for a known token, computed here with hmac and base64
    expected = "sha256=" + base64.b64encode(hmac.new(b"test", b"abc", hashlib.sha256).digest()).decode()
    # When X sends its challenge
    answer = x.handshake({"crc_token": "abc"}, {"consumer_secret": "test"})
    # Then the handshake answers 200 with exactly that JSON body
    assert answer.status == 200 and answer.content_type == "application/json"
    assert json.loads(answer.body) == {"response_token": expected}
    with pytest.raises(HandshakeMalformed):
        x.handshake({}, {"consumer_secret": "test"})


def test_tweet_mention_is_parsed() -> None:
    [post] = x.parse(x_tweet("@Brand my order never arrived"), CONTEXT).posts
    assert post.kind == PostKind.MENTION and post.post_id == "1234567890"
    assert post.author.handle == "customer" and post.author.followers == 120
    assert post.created_at == datetime.fromtimestamp(1522082006.140, tz=UTC)
    assert post.permalink == "https://x.com/customer/status/1234567890"


def test_own_tweets_retweets_and_favorites_are_skipped() -> None:
    own = x_tweet("our news", user_id="2244994945")
    retweet = x_tweet("RT", tweet_id="2")
    retweet["tweet_create_events"][0]["retweeted_status"] = {"id_str": "1"}
    assert x.parse(own, CONTEXT).posts == [] and x.parse(retweet, CONTEXT).posts == []
    assert x.parse({"for_user_id": "2244994945", "favorite_events": [{"id": "f"}]}, CONTEXT).posts == []


def test_extended_tweet_text_and_user_has_blocked_as_boolean() -> None:
    payload = x_tweet("truncated…")
    payload["user_has_blocked"] = False
    payload["tweet_create_events"][0].update(truncated=True, extended_tweet={"full_text": "the whole text"},
                                             in_reply_to_status_id_str="55")
    [post] = x.parse(payload, CONTEXT).posts
    assert post.text == "the whole text" and post.kind == PostKind.REPLY and post.parent_id == "55"


def direct_message(**sender: object) -> dict[str, object]:
    """An Account Activity DM delivery (the documented example) from Jordan, with these user fields."""
    return {"for_user_id": "2244994945", "direct_message_events": [{
        "type": "message_create", "id": "954491830116155396", "created_timestamp": "1516403560557",
        "message_create": {"target": {"recipient_id": "2244994945"}, "sender_id": "3001969357",
                           "message_data": {"text": "Hello World!"}}}],
        "users": {"3001969357": {"id": "3001969357", "name": "Jordan", "screen_name": "jordan",
                                 "followers_count": 3, **sender}}}


def test_direct_message() -> None:
    [post] = x.parse(direct_message(), CONTEXT).posts
    assert post.kind == PostKind.MESSAGE and post.author.handle == "jordan"
    assert post.dedup_key == "x:dm:954491830116155396"


@pytest.mark.parametrize("payload", [{}, {"for_user_id": "1"}, {"tweet_create_events": []}, "x"])
def test_unknown_shapes_are_rejected(payload: object) -> None:
    with pytest.raises(PayloadRejected):
        x.check_shape(payload)


def test_tweet_author_age_and_post_count_come_from_the_user_object() -> None:
    # Account Activity tweet_create_events carry the v1.1 user object: created_at and statuses_count.
    payload = x_tweet("@Floralys where is my order?", followers=0)
    payload["tweet_create_events"][0]["user"].update(created_at="Wed May 27 08:15:00 +0000 2026",
                                                     statuses_count=1, friends_count=0, verified=False)
    [post] = x.parse(payload, CONTEXT).posts
    assert post.author.account_created_at == datetime(2026, 5, 27, 8, 15, tzinfo=UTC)
    assert post.author.posts_count == 1 and post.author.followers == 0


def test_dm_author_age_comes_from_the_users_map_in_milliseconds() -> None:
    payload = direct_message(created_timestamp="1422556069340", protected=False, verified=False,
                             friends_count=12, statuses_count=96)
    [post] = x.parse(payload, CONTEXT).posts
    assert post.author.account_created_at == datetime.fromtimestamp(1422556069.340, tz=UTC)
    assert post.author.posts_count == 96 and post.author.followers == 3


@pytest.mark.parametrize("user", [
    {},
    {"created_at": "yesterday", "statuses_count": "many", "followers_count": -4},
    {"created_timestamp": "not a time", "statuses_count": True},
])
def test_missing_or_odd_author_fields_are_unknown_not_an_error(user: dict[str, object]) -> None:
    payload = x_tweet("hello")
    payload["tweet_create_events"][0]["user"] = {"id_str": "987654321", "screen_name": "someone", **user}
    [post] = x.parse(payload, CONTEXT).posts
    assert (post.author.account_created_at, post.author.posts_count, post.author.followers) == (None, None, None)

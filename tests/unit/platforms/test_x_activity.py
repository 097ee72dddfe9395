"""X: the X Activity API (XAA) envelope, long-post text wherever X puts it, and events that are not posts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from moderato.models import PostKind
from moderato.platforms.base import DeliveryContext, PayloadRejected
from moderato.platforms.x import XPlatform
from moderato.platforms.x_activity import subscription_requests
from tests.support import x_tweet

x = XPlatform()
CONTEXT = DeliveryContext(received_at=datetime(2026, 12, 4, tzinfo=UTC), brands={"111": "Floralys"})


def activity(event_type: str, payload: dict[str, Any], user_id: str = "111", **extra: Any) -> dict[str, Any]:
    return {"data": {"event_uuid": "1", "filter": {"user_id": user_id}, "event_type": event_type, "tag": "t",
                     "payload": payload, **extra}}


def mention(text: str = "@Floralys où est ma commande ?", author: str = "222", **fields: Any) -> dict[str, Any]:
    return activity("post.mention.create", {"id": "900", "author_id": author, "text": text,
                                            "conversation_id": "900", "created_at": "2026-12-04T10:00:00.000Z",
                                            **fields},
                    includes={"users": [{"id": "222", "username": "jeanne_m", "name": "Jeanne",
                                         "public_metrics": {"followers_count": 40, "tweet_count": 12}}]})


def test_an_xaa_mention_is_a_post_of_the_filtered_account_with_its_author_from_includes() -> None:
    [post] = x.parse(mention(), CONTEXT).posts
    assert (post.kind, post.post_id, post.account_id, post.brand) == (PostKind.MENTION, "900", "111", "Floralys")
    assert (post.author.handle, post.author.followers, post.author.posts_count) == ("jeanne_m", 40, 12)
    assert post.created_at == datetime(2026, 12, 4, 10, tzinfo=UTC)
    assert post.dedup_key == x.parse(x_tweet("x", tweet_id="900"), CONTEXT).posts[0].dedup_key  # AAA or XAA: one case


def test_an_xaa_reply_names_the_post_it_answers() -> None:
    [post] = x.parse(mention(referenced_tweets=[{"type": "replied_to", "id": "800"}], conversation_id="700"),
                     CONTEXT).posts
    assert (post.kind, post.parent_id, post.thread_id) == (PostKind.REPLY, "800", "700")


def test_a_reply_event_is_a_reply_even_without_its_reference() -> None:
    payload = mention()
    payload["data"]["event_type"] = "post.reply.create"
    [post] = x.parse(payload, CONTEXT).posts
    assert post.kind == PostKind.REPLY and post.dedup_key == "x:tweet:900"


@pytest.mark.parametrize("fields", [{"author": "111"}, {"referenced_tweets": [{"type": "retweeted", "id": "5"}]}])
def test_the_accounts_own_posts_and_plain_reposts_are_not_triaged(fields: dict[str, Any]) -> None:
    author = fields.pop("author", "222")
    assert x.parse(mention(author=author, **fields), CONTEXT).posts == []


def test_a_long_xaa_post_is_read_from_note_tweet() -> None:
    long_text = "@Floralys " + "commande jamais arrivée " * 20
    [post] = x.parse(mention(text=long_text[:280] + "…", note_tweet={"text": long_text}), CONTEXT).posts
    assert post.text == long_text


@pytest.mark.parametrize("tweet_fields", [
    {"text": "@Brand cut…", "truncated": True, "extended_tweet": {"full_text": "@Brand cut short: it never came"}},
    {"text": "@Brand cut…", "extended_tweet": {"full_text": "@Brand cut short: it never came"}},  # no truncated flag
    {"full_text": "@Brand cut short: it never came"},  # extended mode: no text at all
])
def test_an_aaa_tweet_is_read_whole_wherever_its_full_text_is(tweet_fields: dict[str, Any]) -> None:
    payload = x_tweet("placeholder")
    tweet = {key: value for key, value in payload["tweet_create_events"][0].items() if key != "text"}
    payload["tweet_create_events"] = [{**tweet, **tweet_fields}]
    [post] = x.parse(payload, CONTEXT).posts
    assert post.text == "@Brand cut short: it never came"


def test_an_xaa_direct_message_reads_the_legacy_shape_inside_the_envelope() -> None:
    payload = activity("dm.received", {
        "direct_message_events": [{"type": "message_create", "id": "77", "created_timestamp": "1784928224372",
                                   "message_create": {"target": {"recipient_id": "111"}, "sender_id": "222",
                                                      "message_data": {"text": "colis cassé"}}}],
        "users": {"222": {"data": {"id": "222", "username": "jeanne_m", "public_metrics": {"followers_count": 3}}}}})
    [post] = x.parse(payload, CONTEXT).posts
    assert (post.kind, post.post_id, post.text, post.author.handle, post.author.followers) == (
        PostKind.MESSAGE, "77", "colis cassé", "jeanne_m", 3)


@pytest.mark.parametrize(("payload", "kind"), [
    (activity("oauth.revoke", {"user_id": "111", "app_id": "2"}, user_id=""), "oauth.revoke"),
    (activity("like.create", {"id": "1"}), "like.create"),
    (activity("dm.sent", {"direct_message_events": []}), "dm.sent"),
    (activity("<script>", {}), "unrecognised"),
    ({"user_event": {"revoke": {"date_time": "2018-05-24T09:48:12+00:00", "target": {"app_id": "1"},
                                "source": {"user_id": "2"}}}}, "user_event.revoke"),
    ({"for_user_id": "111", "favorite_events": [{"id": "f"}]}, "favorite_events"),
])
def test_events_that_are_not_posts_are_recorded_by_kind(payload: dict[str, Any], kind: str) -> None:
    x.check_shape(payload)  # accepted: the webhook answers 200
    parsed = x.parse(payload, CONTEXT)
    assert parsed.posts == [] and parsed.unparseable == [] and [e.kind for e in parsed.events] == [kind]


def test_an_xaa_post_event_without_its_account_is_set_aside_not_guessed() -> None:
    parsed = x.parse(mention() | {"data": {**mention()["data"], "filter": {}}}, CONTEXT)
    assert parsed.posts == [] and [u.where for u in parsed.unparseable] == ["data"]


@pytest.mark.parametrize("payload", [{"data": {"event_type": 5}}, {"data": "post.mention.create"},
                                     {"tweet_create_events": []}])
def test_shapes_of_neither_api_are_still_told_apart(payload: Any) -> None:
    with pytest.raises(PayloadRejected):
        x.check_shape(payload)


def test_the_subscriptions_cover_exactly_the_event_types_the_parser_reads_as_posts() -> None:
    bodies = subscription_requests("111", "webhook-9")
    assert [b["event_type"] for b in bodies] == ["post.mention.create", "post.reply.create", "dm.received"]
    for body in bodies:
        assert body["filter"] == {"user_id": "111"} and body["webhook_id"] == "webhook-9"
        event = activity(body["event_type"], {"id": "1", "author_id": "2", "text": "hi",
                                              "direct_message_events": []}, user_id="111")
        assert x.parse(event, CONTEXT).events == []  # read as posts, never as "other events"

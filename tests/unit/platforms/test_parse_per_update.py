"""Signed but odd deliveries: each update is read on its own, a bad one is set aside, texts are bounded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from moderato.models import MAX_NAME_CHARS, MAX_TEXT_CHARS
from moderato.platforms.base import DeliveryContext, PayloadRejected, decode_json
from moderato.platforms.meta import MetaPlatform
from moderato.platforms.x import CRC_TOKEN_SHAPE, XPlatform
from moderato.reasons import TEXT_TRUNCATED, UNPARSEABLE_CHANGE
from tests.support import encode, meta_comment, x_tweet

CONTEXT = DeliveryContext(received_at=datetime(2026, 5, 30, 9, 0, tzinfo=UTC))
PAGE = "206070979425408"


def feed_change(text: Any, comment_id: str) -> dict[str, Any]:
    return {"field": "feed", "value": {
        "from": {"id": "24266381753005180", "name": "Jeanne Martin"}, "message": text,
        "post_id": f"{PAGE}_712750021053074", "comment_id": comment_id, "created_time": 1707211876,
        "item": "comment", "parent_id": f"{PAGE}_712750021053074", "verb": "add"}}


def test_one_bad_update_of_a_meta_batch_costs_only_itself() -> None:
    # Given a batch of 1,000 comments where one 'value' is a string (it used to raise AttributeError)
    changes = [feed_change(f"Commande {n} pas reçue @Floralys", f"7127_{n}") for n in range(1000)]
    changes[417] = {"field": "feed", "value": "oops"}
    payload = {"object": "page", "entry": [{"id": PAGE, "time": 1707211879, "changes": changes}]}
    # When it is parsed
    parsed = MetaPlatform().parse(payload, CONTEXT)
    # Then the 999 good ones are posts and the bad one is set aside, with where it was, why, and its raw form
    assert len(parsed.posts) == 999
    [bad] = parsed.unparseable
    assert bad.where == "entry[0].changes[417]" and bad.reason == UNPARSEABLE_CHANGE
    assert "change.value is a str" in bad.detail
    assert json.loads(bad.fragment) == {"field": "feed", "value": "oops"}


@pytest.mark.parametrize(("value", "detail"), [
    ({"from": {"id": {"nested": 1}}, "message": "hi", "item": "comment", "comment_id": "1_2", "post_id": "1"},
     "from.id"),
    ({"from": {"id": "9"}, "message": ["not", "text"], "item": "comment", "comment_id": "1_2", "post_id": "1"},
     "message is a list"),
    ({"from": {"id": "9"}, "message": "hi", "item": "comment", "comment_id": "9" * 300, "post_id": "1"},
     "comment_id has 300 characters"),
])
def test_wrong_types_in_an_update_are_reported_without_quoting_the_text(value: dict, detail: str) -> None:
    payload = {"object": "page", "entry": [{"id": PAGE, "changes": [
        {"field": "feed", "value": value}, feed_change("Toujours rien reçu", "7127_1")]}]}
    parsed = MetaPlatform().parse(payload, CONTEXT)
    assert [p.text for p in parsed.posts] == ["Toujours rien reçu"]
    [bad] = parsed.unparseable
    assert detail in bad.detail


def test_unhashable_item_and_verb_do_not_raise() -> None:
    value = feed_change("x", "1_2")["value"] | {"item": ["comment"], "verb": {"add": 1}}
    parsed = MetaPlatform().parse({"object": "page", "entry": [{"id": PAGE, "changes": [
        {"field": "feed", "value": value}]}]}, CONTEXT)
    assert parsed.posts == [] and parsed.unparseable == []  # not a post kind we triage: skipped, as before


def test_absurd_times_fall_back_to_the_delivery_time() -> None:
    for created in (1e300, float("nan"), "9" * 40, [1], "2026-13-45T99:99"):
        change = feed_change("Colis perdu", "1_2")
        change["value"]["created_time"] = created
        [post] = MetaPlatform().parse({"object": "page", "entry": [{"id": PAGE, "time": 1e300,
                                                                   "changes": [change]}]}, CONTEXT).posts
        assert post.created_at == CONTEXT.received_at


def test_a_one_megabyte_comment_is_cut_with_a_reason_and_a_long_name_is_cut() -> None:
    payload = meta_comment("a" * 1_000_000, name="N" * 10_000)
    [post] = MetaPlatform().parse(payload, CONTEXT).posts
    assert len(post.text) == MAX_TEXT_CHARS and post.flags == (TEXT_TRUNCATED,)
    assert post.author.name is not None and len(post.author.name) == MAX_NAME_CHARS
    # a round trip through the queue message keeps one flag, not two
    assert type(post).model_validate(post.model_dump(mode="json")).flags == (TEXT_TRUNCATED,)


def test_lone_surrogates_become_replacement_characters_so_the_post_can_be_stored() -> None:
    body = encode(meta_comment("placeholder")).replace(b"placeholder", b"colis \\ud83d perdu")
    [post] = MetaPlatform().parse(decode_json(body), CONTEXT).posts
    assert post.text == "colis \ufffd perdu"
    post.model_dump_json()  # would raise on a lone surrogate ("surrogates not allowed")


def test_messenger_standby_messages_are_posts_too() -> None:
    payload = {"object": "page", "entry": [{"id": PAGE, "time": 1457764198246, "standby": [{
        "sender": {"id": "PSID"}, "recipient": {"id": PAGE}, "timestamp": 1457764197627,
        "message": {"mid": "mid.1457764197618:41d1", "text": "Ma commande ?"}}]}]}
    [post] = MetaPlatform().parse(payload, CONTEXT).posts
    assert post.text == "Ma commande ?" and post.post_id == "mid.1457764197618:41d1"


def test_one_bad_tweet_costs_only_itself() -> None:
    payload = x_tweet("@Floralys colis jamais arrivé")
    payload["tweet_create_events"].insert(0, "not a tweet")
    payload["tweet_create_events"].append({"id_str": {"a": 1}, "text": "x", "user": {"id_str": "5"}})
    parsed = XPlatform().parse(payload, CONTEXT)
    assert [p.text for p in parsed.posts] == ["@Floralys colis jamais arrivé"]
    assert [u.where for u in parsed.unparseable] == ["tweet_create_events[0]", "tweet_create_events[2]"]


@pytest.mark.parametrize(("body", "message"), [
    ("\ufeff{}".encode(), "byte order mark"),
    ('{"a": 1}'.encode("utf-16"), "UTF-16 or UTF-32"),
    ('{"a": 1}'.encode("utf-16-be"), "UTF-16 or UTF-32"),
    ('{"a": 1}'.encode("utf-32-le"), "UTF-16 or UTF-32"),
    (b'{"a": "\xed\xa0\xbd\xed\xb8\x80"}', "not UTF-8"),  # CESU-8: a surrogate pair encoded one half at a time
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"a": ' + b"9" * 5000 + b"}", "not valid JSON"),
    # the decoder's own words differ by Python ("Expecting property name", 3.13: "Illegal trailing comma")
    (b'{"a": 1,}', "not valid JSON: .+ at offset [78]"),
    (b"[" * 65 + b"]" * 65, "nested too deeply"),  # deeper than any delivery, though every Python reads it
])
def test_bodies_json_loads_would_guess_or_crash_on_are_refused_precisely(body: bytes, message: str) -> None:
    with pytest.raises(PayloadRejected, match=message):
        decode_json(body)


@pytest.mark.parametrize("token", ["abc", "challenge-123", "M2RkODJkZmMtYjlkYi00NmQ4LTk0MGUtM2JjYzkwM2Q4MjQ0",
                                   "aGVsbG8+/w=="])
def test_token_shaped_crc_values_are_answered(token: str) -> None:
    answer = XPlatform().handshake({"crc_token": token}, {"consumer_secret": "test"})
    assert json.loads(answer.body)["response_token"].startswith("sha256=")


def test_no_body_we_would_accept_is_token_shaped() -> None:
    # A delivery must be a JSON object: "{" is outside the token alphabet, whitespace too.
    for body in (encode(x_tweet("hello")), encode(meta_comment("hello")), b' {"for_user_id": "1"}'):
        assert CRC_TOKEN_SHAPE.fullmatch(body.decode()) is None

"""Property-based fuzzing of the platform parsers and of the webhook handler (hypothesis).

Invariants:
- no unhandled exception, whatever the bytes, encoding, depth, size or field types;
- the webhook answers 200 or a precise 4xx (never a 5xx, except the intended 503 when AWS fails,
  which then carries Retry-After);
- every delivery the webhook accepts is one triage can read: it parses into posts and/or recorded
  "unparseable" updates, and every post can be serialized and stored (bounded text, no lone surrogate).

Example counts stay modest for the default suite; ``make fuzz`` runs many more (FUZZ_EXAMPLES).
Each test prints how many inputs it tried and what they became.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderato.models import MAX_NAME_CHARS, MAX_TEXT_CHARS
from moderato.platforms import PLATFORMS
from moderato.platforms.base import FRAGMENT_CHARS, DeliveryContext, PayloadRejected, decode_json
from tests.support import LOCAL_SECRETS, encode, meta_comment, x_tweet
from tests.webhook_fakes import Webhook, webhook_with_fakes

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CONTEXT = DeliveryContext(received_at=datetime(2026, 5, 30, 9, 0, tzinfo=UTC), brands={"206070979425408": "Floralys"})

# Text that hurts: lone surrogates, BOMs, bidi overrides, zero-width, NUL, huge runs, combining marks.
NASTY_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec=None, categories=None), max_size=40),
    st.sampled_from(["\ud800", "\udfff", "\ufeff", "\u202e", "\u200b", "\x00", "a\u0301" * 50, "𝐅𝐑𝐄𝐄", "<!channel>",
                     "\\", '"', "a" * 20_000, "a@" * 5_000, " " * 20_000, "+1 " * 3000]),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), NASTY_TEXT)
JSON_VALUES = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)), max_leaves=12)


def mutate(payload: Any, data: st.DataObject) -> Any:
    """Replace one field anywhere in the payload with an arbitrary JSON value (a wrong type, usually)."""
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((node, key))
                walk(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                paths.append((node, index))
                walk(value)

    walk(payload)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        container, key = data.draw(st.sampled_from(paths))
        container[key] = data.draw(JSON_VALUES)
    return payload


def meta_payloads() -> list[dict[str, Any]]:
    instagram = {"object": "instagram", "entry": [{"id": "17841405726653026", "time": 1707211879, "changes": [
        {"field": "comments", "value": {"from": {"id": "IGSID", "username": "jeanne.m"}, "id": "178657",
                                        "parent_id": "1", "text": "où est ma commande", "media": {"id": "179"}}},
        {"field": "mentions", "value": {"comment_id": "1", "media_id": "2"}}]}]}
    messenger = {"object": "page", "entry": [{"id": "206070979425408", "time": 1457764198246, "messaging": [
        {"sender": {"id": "PSID"}, "recipient": {"id": "206070979425408"}, "timestamp": 1457764197627,
         "message": {"mid": "mid.1457764197618:41d1", "text": "hello"}}]}]}
    return [meta_comment("Ma commande n'est jamais arrivée"), instagram, messenger]


def x_payloads() -> list[dict[str, Any]]:
    dm = {"for_user_id": "2244994945", "direct_message_events": [{"type": "message_create", "id": "1",
          "created_timestamp": "1522082006140", "message_create": {"sender_id": "9", "message_data": {"text": "hi"}}}],
          "users": {"9": {"id": "9", "name": "Jeanne", "screen_name": "jeanne", "followers_count": 3}}}
    return [x_tweet("@Floralys my order never arrived"), dm]


def assert_storable(parsed: Any) -> None:
    for post in parsed.posts:
        assert len(post.text) <= MAX_TEXT_CHARS
        assert post.author.name is None or len(post.author.name) <= MAX_NAME_CHARS
        post.model_dump_json()  # encodable as UTF-8: what SQS and DynamoDB need
    for item in parsed.unparseable:
        assert len(item.fragment) <= FRAGMENT_CHARS and item.where and item.detail


def report(name: str, counts: Counter[str]) -> None:
    print(f"\nfuzz {name}: {sum(counts.values())} inputs -> {dict(sorted(counts.items()))}")


@pytest.mark.parametrize("platform_name", sorted(PLATFORMS))
def test_parsers_never_raise_on_field_fuzzed_deliveries(platform_name: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    platform = PLATFORMS[platform_name]
    seeds = meta_payloads() if platform_name == "meta" else x_payloads()
    counts: Counter[str] = Counter()

    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        payload = mutate(json.loads(json.dumps(data.draw(st.sampled_from(seeds)))), data)
        try:
            parsed = platform.parse(payload, CONTEXT)
        except PayloadRejected:  # the delivery as a whole is not this platform's (the webhook refuses it)
            counts["rejected"] += 1
            return
        assert_storable(parsed)
        counts["with unparseable updates" if parsed.unparseable else "parsed"] += 1

    run()
    with capsys.disabled():
        report(f"{platform_name} parser (field types)", counts)


@pytest.mark.parametrize("platform_name", sorted(PLATFORMS))
def test_parsers_never_raise_on_arbitrary_json(platform_name: str, capsys: pytest.CaptureFixture[str]) -> None:
    platform = PLATFORMS[platform_name]
    counts: Counter[str] = Counter()
    envelope = (st.fixed_dictionaries({"object": st.sampled_from(["page", "instagram"]),
                                       "entry": st.lists(st.dictionaries(st.text(max_size=10), JSON_VALUES,
                                                                         max_size=5), max_size=3)})
                if platform_name == "meta" else
                st.fixed_dictionaries({"for_user_id": st.one_of(st.text(max_size=5), st.integers()),
                                       "tweet_create_events": st.lists(JSON_VALUES, max_size=3),
                                       "direct_message_events": JSON_VALUES, "users": JSON_VALUES}))

    @FUZZ
    @given(st.one_of(JSON_VALUES, envelope))
    def run(payload: Any) -> None:
        try:
            parsed = platform.parse(payload, CONTEXT)
        except PayloadRejected:
            counts["rejected"] += 1
            return
        assert_storable(parsed)
        counts["with unparseable updates" if parsed.unparseable else "parsed"] += 1

    run()
    with capsys.disabled():
        report(f"{platform_name} parser (arbitrary JSON)", counts)


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Webhook:
    return webhook_with_fakes(monkeypatch)


def signed(platform_name: str, body: bytes) -> dict[str, str]:
    return PLATFORMS[platform_name].sign(body, LOCAL_SECRETS[platform_name])


def deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


BODIES = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda text, codec: text.encode(codec, "surrogatepass" if codec.startswith("utf") else "replace"),
              st.text(max_size=80),
              st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-32", "utf-8-sig", "latin-1", "cp1252"])),
    st.builds(lambda payload, codec: json.dumps(payload, ensure_ascii=False).encode(codec, "surrogatepass"),
              JSON_VALUES, st.sampled_from(["utf-16", "utf-32-be", "utf-8-sig"])),
    st.builds(lambda payload: json.dumps(payload).encode(), JSON_VALUES),
    st.builds(lambda payload: json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass"),
              JSON_VALUES),
    st.sampled_from([deep(2_000), b"[" * 50_000, b'{"for_user_id": "1", "tweet_create_events": ' + b"[" * 990
                     + b"]" * 990 + b"}", b"\xef\xbb\xbf{}", '{"a":"\ud83d"}'.encode("utf-8", "surrogatepass"),
                     b'{"for_user_id": 1e999, "tweet_create_events": []}', b"9" * 5000]),
)


def fuzzed_bodies(data: st.DataObject, platform_name: str) -> bytes:
    seeds = meta_payloads() if platform_name == "meta" else x_payloads()
    choice = data.draw(st.integers(min_value=0, max_value=2))
    if choice == 0:
        return data.draw(BODIES)
    payload = mutate(json.loads(json.dumps(data.draw(st.sampled_from(seeds)))), data)
    try:
        return encode(payload) if choice == 1 else json.dumps(payload).encode()
    except (UnicodeEncodeError, ValueError):
        return json.dumps(payload).encode()


def test_webhook_answers_every_signed_body_with_200_or_a_precise_4xx_and_triage_can_read_what_it_took(
        webhook: Webhook, capsys: pytest.CaptureFixture[str]) -> None:
    counts: Counter[str] = Counter()

    @FUZZ
    @given(st.data(), st.sampled_from(sorted(PLATFORMS)), st.booleans())
    def run(data: st.DataObject, platform_name: str, as_base64: bool) -> None:
        body = fuzzed_bodies(data, platform_name)
        webhook.ingest.enqueued.clear()
        webhook.ingest.notes.clear()
        event = None
        if as_base64:
            import base64

            from tests.support import api_event
            event = api_event("POST", f"/webhooks/{platform_name}", body, signed(platform_name, body))
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        response = webhook.call("POST", f"/webhooks/{platform_name}", body, signed(platform_name, body),
                                event=event)
        status = response["statusCode"]
        assert status in (200, 400, 413), (status, response.get("body"))
        if status != 200:
            assert json.loads(response["body"])["message"]
            assert webhook.ingest.enqueued == []
            counts[f"{status} {json.loads(response['body'])['message'].split(':')[0][:40]}"] += 1
            return
        # Accepted: triage reads it exactly as triage does, and gets posts and/or recorded updates
        [(_, raw)] = webhook.ingest.enqueued
        if webhook.ingest.notes[0] is not None:
            # Signed, of no shape we know: kept with its reason; triage sets it aside whole (IngestDLQ)
            assert webhook.ingest.notes[0].startswith("delivery.unknown_shape_kept: ")
            with pytest.raises(PayloadRejected):
                PLATFORMS[platform_name].parse(decode_json(raw), CONTEXT)
            counts["200 kept: a shape no parser knows"] += 1
            return
        parsed = PLATFORMS[platform_name].parse(decode_json(raw), CONTEXT)
        assert_storable(parsed)
        counts["200 accepted, unparseable updates recorded" if parsed.unparseable else "200 accepted"] += 1

    run()
    with capsys.disabled():
        report("webhook POST (signed bodies)", counts)


HEADER_VALUES = st.one_of(st.text(max_size=80), st.sampled_from(["sha256=", "sha256=" + "a" * 64, "sha256=" + "é" * 64,
                                                                  "sha256=" + "=" * 44, "sha1=abc", ""]))


def test_webhook_never_answers_5xx_to_anything(webhook: Webhook, capsys: pytest.CaptureFixture[str]) -> None:
    counts: Counter[str] = Counter()
    platform_names = st.one_of(st.sampled_from([*PLATFORMS, "myspace"]), st.text(max_size=20))

    @FUZZ
    @given(st.sampled_from(["GET", "POST"]), platform_names, BODIES,
           st.dictionaries(st.sampled_from(["X-Hub-Signature-256", "x-twitter-webhooks-signature", "content-type",
                                            "X-HUB-SIGNATURE-256"]), HEADER_VALUES, max_size=3),
           st.dictionaries(st.sampled_from(["crc_token", "hub.mode", "hub.verify_token", "hub.challenge", "x"]),
                           st.one_of(st.text(max_size=200), st.sampled_from(["subscribe", "M2Rk-_=", "{}"])),
                           max_size=4),
           st.booleans())
    def run(method: str, platform_name: str, body: bytes, headers: dict[str, str], query: dict[str, str],
            base64_flag: bool) -> None:
        from tests.support import api_event
        safe_name = "".join(c for c in platform_name if c.isalnum()) or "x"
        event = api_event(method, f"/webhooks/{safe_name}", body, headers, query)
        if base64_flag:
            event["isBase64Encoded"] = True  # a body that is not base64 at all, said to be
        response = webhook.call(method, "", event=event)
        status = response["statusCode"]
        assert status < 500, (status, response.get("body"))
        counts[str(status)] += 1

    run()
    with capsys.disabled():
        report("webhook GET/POST (anything)", counts)


def test_webhook_answers_503_with_retry_after_when_the_queue_fails(webhook: Webhook,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from moderato.platforms.base import EnqueueFailed

    def failing(*_: Any, **__: Any) -> str:
        raise EnqueueFailed("could not store the delivery; retry later")

    monkeypatch.setattr(webhook.ingest, "enqueue", failing)
    body = encode(meta_comment("hello"))
    response = webhook.call("POST", "/webhooks/meta", body, signed("meta", body))
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "30"

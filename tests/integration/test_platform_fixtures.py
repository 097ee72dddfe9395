"""Every documented platform sample (tests/fixtures/platforms) through the real webhook, parser and triage (moto),
and the webhook's promise that nothing signed is refused with 400 unless it cannot be read as UTF-8 JSON.

Each payload is signed with the local test secret and posted to the webhook handler; what reaches
IngestQueue is handed to the triage handler, as the SQS event source would. Each must become the case
its fixture expects, or a 200 with a recorded event that is not a post. The Instagram mention (ids only)
waits in a ``text_pending`` case until the enrich handler fetches its text from a fake Graph API.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderato.adapters.case_store import CaseStore
from moderato.adapters.graph_mentions import GraphMentionFetcher
from moderato.enrich.flow import TextUnavailable
from moderato.models import Case, Platform, Post, PostKind
from moderato.platforms import PLATFORMS
from moderato.platforms.base import PayloadRejected, decode_json
from moderato_local.fake_platform import FakePlatform
from tests.integration.conftest import AwsEnv, FakeContext, load_handler
from tests.support import REPO, api_event, signed_headers
from tests.webhook_fakes import Webhook, webhook_with_fakes

FIXTURES = sorted((REPO / "tests" / "fixtures" / "platforms").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def deliver(aws: AwsEnv, platform: str, payload: dict[str, Any],
            capsys: pytest.CaptureFixture[str] | None = None) -> dict[str, Any]:
    """Post the signed payload to the webhook, then run triage on what it enqueued."""
    body = json.dumps(payload, ensure_ascii=True).encode()
    event = api_event("POST", f"/webhooks/{platform}", body, signed_headers(platform, body))
    # Imported outside the capture: the Powertools log handler keeps the stream it starts with, and a
    # captured one is closed when this test ends (later tests would write to a closed file).
    with capsys.disabled() if capsys is not None else contextlib.nullcontext():
        webhook, triage = load_handler("webhook"), load_handler("triage")
    answer = webhook.lambda_handler(event, FakeContext())
    assert answer["statusCode"] == 200, answer["body"]
    return triage.lambda_handler(sqs_event(aws.messages("INGEST_QUEUE_URL")), FakeContext())


def sqs_event(messages: list[dict[str, Any]], source: str = "IngestQueue") -> dict[str, Any]:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1707211879000", "SenderId": "local",
                       "ApproximateFirstReceiveTimestamp": "1707211879000"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:eu-west-1:123456789012:{source}", "awsRegion": "eu-west-1"}
        for m in messages]}


def all_cases(aws: AwsEnv) -> list[Case]:
    return list(CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb")).all_cases())


def check(case: Case, expected: dict[str, Any]) -> None:
    post = case.post
    actual = {"platform": post.platform.value, "kind": post.kind.value, "post_id": post.post_id,
              "parent_id": post.parent_id, "thread_id": post.thread_id, "account_id": post.account_id,
              "author_handle": post.author.handle, "author_name": post.author.name,
              "author_followers": post.author.followers, "text": post.text, "dedup_key": post.dedup_key,
              "flags": list(post.flags), "label": case.label.value, "case_status": case.status.value}
    for key, value in expected.items():
        if key == "text_contains":
            assert value in post.text, (post.text, value)
        else:
            assert actual[key] == value, (key, actual[key], value)


def test_every_fixture_names_its_source() -> None:
    assert len(FIXTURES) >= 10
    for path in FIXTURES:
        fixture = load(path)
        assert fixture["_source"].strip() and ("docs." in fixture["_source"] or "developers." in fixture["_source"])
        assert fixture["platform"] in ("meta", "x") and "payload" in fixture and "expect" in fixture


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_each_documented_delivery_becomes_its_case_or_a_recorded_event(
        aws: AwsEnv, path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    fixture = load(path)
    expected = fixture["expect"]
    # When the platform's own sample is delivered, signed
    result = deliver(aws, fixture["platform"], fixture["payload"], capsys)
    # Then nothing fails, and each post is its case (or, for an event that is not a post, none is)
    assert result == {"batchItemFailures": []}
    cases = all_cases(aws)
    assert len(cases) == len(expected["posts"])
    for case, post in zip(sorted(cases, key=lambda c: c.post.post_id),
                          sorted(expected["posts"], key=lambda p: p["post_id"]), strict=True):
        check(case, post)
    # An event that is not a post is logged by kind and counted (EMF), never refused
    kinds = [getattr(r, "event_kind", None) for r in caplog.records if r.getMessage().startswith("platform event")]
    assert kinds == expected.get("events", [])
    counted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "PlatformEventsRecorded" in line]
    values = [doc["PlatformEventsRecorded"] for doc in counted]
    assert sum(sum(v) if isinstance(v, list) else v for v in values) == len(kinds)


def test_the_instagram_mention_waits_for_its_text_then_is_classified_and_routed(
        aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    fixture = load(REPO / "tests" / "fixtures" / "platforms" / "instagram_mention.json")
    [change] = fixture["payload"]["entry"][0]["changes"]
    account_id, comment_id = fixture["payload"]["entry"][0]["id"], change["value"]["comment_id"]
    fetched = fixture["fetched"]["mentioned_comment"]
    with FakePlatform() as graph:
        graph.add_mention(comment_id, fetched["text"], timestamp=fetched["timestamp"])
        aws.client("secretsmanager").put_secret_value(SecretId=aws.env["PLATFORM_TOKENS_SECRET_ID"],
                                                      SecretString=json.dumps({"meta": {account_id: "page-token"}}))
        # Given the mention delivered: its case exists at once, visibly waiting, and enrich is asked for the text
        assert deliver(aws, "meta", fixture["payload"]) == {"batchItemFailures": []}
        [waiting] = all_cases(aws)
        assert waiting.status.value == "text_pending" and waiting.queue is None
        assert [r.code for r in waiting.reasons] == ["post.text_pending", "post.text_not_in_payload"]
        requests = aws.messages("ENRICH_QUEUE_URL")
        assert [json.loads(m["Body"])["case_id"] for m in requests] == [waiting.case_id]
        assert aws.messages("COMPLAINT_QUEUE_URL") == []
        # When the enrich function reads the Graph API (a failure first: retried, the case still waits)
        graph.fail_next(503)
        monkeypatch.setenv("META_GRAPH_URL", graph.url)
        enrich = load_handler("enrich")
        with pytest.raises(BatchProcessingError, match="503"):  # a whole batch failed: Lambda retries it
            enrich.lambda_handler(sqs_event(requests, "EnrichQueue"), FakeContext())
        assert all_cases(aws)[0].status.value == "text_pending"
        assert enrich.lambda_handler(sqs_event(requests, "EnrichQueue"), FakeContext()) == {"batchItemFailures": []}
        # Then the case has the text, its verdict and its queue, and the history says how
        [case] = all_cases(aws)
        check(case, {**fixture["expect"]["after_fetch"], "case_status": "open", "post_id": comment_id})
        assert "post.text_fetched" in [r.code for r in case.reasons]
        [message] = aws.messages("COMPLAINT_QUEUE_URL")
        assert json.loads(message["Body"])["post"]["text"] == fetched["text"]
        history = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb")).history(case.case_id)
        assert [e.action for e in history] == ["triaged", "text_fetched"]
        [call, _] = graph.received("GET")
        assert call.path == f"/{account_id}" and call.authorized
        assert f"mentioned_comment.comment_id({comment_id}){{id,text,timestamp,media}}" in unquote(call.query)
        # And a second request for the same case (a redelivery) changes nothing
        assert enrich.lambda_handler(sqs_event(requests, "EnrichQueue"), FakeContext()) == {"batchItemFailures": []}
        assert aws.messages("COMPLAINT_QUEUE_URL") == []


class Tokens:
    def __init__(self, tokens: dict[tuple[str, str], str]) -> None:
        self.tokens = tokens

    def token_for(self, family: str, account_id: str) -> str | None:
        return self.tokens.get((family, account_id))


def test_a_caption_mention_is_read_through_mentioned_media_with_the_accounts_own_token() -> None:
    caption = Post(platform=Platform.INSTAGRAM, kind=PostKind.MENTION, post_id="m9", thread_id="m9",
                   account_id="ig-login", created_at=datetime(2026, 12, 4, tzinfo=UTC),
                   dedup_key="instagram:m9:mentions")
    with FakePlatform() as graph:
        graph.add_mention("m9", "merci @floralys, livraison parfaite", username="paul.b")
        fetcher = GraphMentionFetcher(Tokens({("instagram", "ig-login"): "ig-user-token"}),
                                      lambda family: f"{graph.url}/{family}", frozenset({"ig-login"}))
        fetched = fetcher.fetch(caption)
        assert (fetched.text, fetched.author_handle) == ("merci @floralys, livraison parfaite", "paul.b")
        [call] = graph.received("GET")
        # Instagram Login accounts are read on their own host, with their Instagram user token
        assert call.path == "/instagram/ig-login" and call.authorized
        assert "mentioned_media.media_id(m9){caption,username,timestamp,permalink}" in unquote(call.query)
        with pytest.raises(TextUnavailable, match="no meta token"):
            GraphMentionFetcher(Tokens({}), lambda family: graph.url, frozenset()).fetch(caption)


# ---------------------------------------------------------------- nothing signed is refused with 400

# The README's rejection table: a signed body gets 400 only when it cannot be read as UTF-8 JSON, and
# then with one of these messages. Everything else a platform signed is accepted (200) and enqueued.
MAX_DEPTH_IN_README = 64
UNREADABLE_BODIES: list[tuple[bytes, str]] = [
    (b"\xef\xbb\xbf{}", "body starts with a byte order mark"),
    ('{"a": "é"}'.encode("utf-16-le"), "body holds NUL bytes"),
    ('{"a": "é"}'.encode("utf-32"), "body holds NUL bytes"),
    (b'{"a": "\xc3"}', "body is not UTF-8"),
    (b'{"a": "\xed\xa0\x80"}', "body is not UTF-8"),  # CESU-8: a surrogate encoded as UTF-8
    (b"[" * (MAX_DEPTH_IN_README + 1) + b"]" * (MAX_DEPTH_IN_README + 1), "body is JSON nested too deeply"),
    (b"9" * 5000, "body is not valid JSON"),  # over Python's 4,300-digit integer limit
    (b"not json", "body is not valid JSON"),
    (b"", "body is not valid JSON"),
    (b'{"a": 1} trailing', "body is not valid JSON"),
]
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
ANY_JSON = st.recursive(JSON_SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)), max_leaves=25)
KNOWN_KEYS = st.sampled_from(["object", "entry", "changes", "messaging", "standby", "data", "event_type",
                              "for_user_id", "tweet_create_events", "direct_message_events", "user_event"])
# Known keys holding values of any type: the shapes closest to a real delivery are the likeliest to trip a check.
NEAR_SHAPES = st.dictionaries(KNOWN_KEYS, ANY_JSON, min_size=1, max_size=4)
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def json_body(value: Any, ascii_only: bool) -> bytes:
    try:
        return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: only its \u escape is UTF-8
        return json.dumps(value).encode("utf-8")


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Webhook:
    return webhook_with_fakes(monkeypatch)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_signed_json_body_of_any_shape_is_accepted_and_enqueued_as_is(webhook: Webhook, platform: str) -> None:
    @PROPERTY
    @given(st.one_of(ANY_JSON, NEAR_SHAPES), st.booleans())
    def run(value: Any, ascii_only: bool) -> None:
        body = json_body(value, ascii_only)
        webhook.ingest.enqueued.clear()
        answer = webhook.call("POST", f"/webhooks/{platform}", body, signed_headers(platform, body))
        assert answer["statusCode"] == 200, (body[:200], answer["body"])
        assert webhook.ingest.enqueued == [(platform, body)]

    run()


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_signed_body_gets_400_exactly_when_it_cannot_be_read_as_utf8_json(webhook: Webhook, platform: str) -> None:
    @PROPERTY
    @given(st.one_of(st.binary(max_size=200), st.builds(lambda v: json_body(v, False), ANY_JSON)))
    def run(body: bytes) -> None:
        try:
            decode_json(body)
            readable = True
        except PayloadRejected:
            readable = False
        answer = webhook.call("POST", f"/webhooks/{platform}", body, signed_headers(platform, body))
        assert answer["statusCode"] == (200 if readable else 400), (body[:200], answer["body"])

    run()


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize(("body", "message"), UNREADABLE_BODIES, ids=[m for _, m in UNREADABLE_BODIES])
def test_the_readme_400_rows_are_what_the_code_answers_to_a_signed_body(webhook: Webhook, platform: str,
                                                                        body: bytes, message: str) -> None:
    answer = webhook.call("POST", f"/webhooks/{platform}", body, signed_headers(platform, body))
    assert answer["statusCode"] == 400 and json.loads(answer["body"])["message"].startswith(message), answer
    assert webhook.ingest.enqueued == []


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_json_as_deep_as_the_readme_allows_is_accepted(webhook: Webhook, platform: str) -> None:
    body = b"[" * MAX_DEPTH_IN_README + b"]" * MAX_DEPTH_IN_README
    answer = webhook.call("POST", f"/webhooks/{platform}", body, signed_headers(platform, body))
    assert answer["statusCode"] == 200, answer["body"]

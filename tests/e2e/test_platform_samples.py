"""End to end: every documented platform sample (tests/fixtures/platforms), signed, over HTTP, into the local stack.

Each fixture's payload is signed the way its platform signs it (computed here from the platform's
documentation, not with Moderato's own signing code), posted to the local gateway, and followed through
the pollers, triage and, for the Instagram mention, the enrich function reading a stubbed Graph API.
Each must become the case its fixture expects (text, label, queue, and the queue message), or a 200
with a recorded event that is not a post and no case. A signed body is never answered 400 unless it
cannot be read as UTF-8 JSON, which is the README's rejection table.

Its own stack: the enrich function reads the Instagram mention's text from a fake Graph API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from moderato.adapters.case_store import CaseStore
from moderato.adapters.delivery_ledger import DeliveryLedger
from moderato.models import Case, CaseStatus, Delivery
from moderato_local.fake_platform import FakePlatform
from moderato_local.process import LocalStackProcess
from tests.support import CASE_QUEUES, LOCAL_SECRETS, QUEUE_FOR_LABEL, REPO, drain_case_queue, stack_with_platform

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
FIXTURES = sorted((REPO / "tests" / "fixtures" / "platforms").glob("*.json"))
INSTAGRAM = json.loads((REPO / "tests" / "fixtures" / "platforms" / "instagram_mention.json").read_text("utf-8"))
IG_ACCOUNT = INSTAGRAM["payload"]["entry"][0]["id"]
SETTLE_SECONDS = 60


def platform_signature(platform: str, body: bytes) -> dict[str, str]:
    """The signature header as each platform computes it, from its documentation.

    Meta: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>``
    (developers.facebook.com/docs/graph-api/webhooks/getting-started, "Validate payloads").
    X: ``x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, raw body)>``
    (docs.x.com/x-api/webhooks/introduction, "Validating the signature header").
    """
    if platform == "meta":
        key = LOCAL_SECRETS["meta"]["app_secret"].encode()
        return {"X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()}
    key = LOCAL_SECRETS["x"]["consumer_secret"].encode()
    digest = hmac.new(key, body, hashlib.sha256).digest()
    return {"x-twitter-webhooks-signature": "sha256=" + base64.b64encode(digest).decode()}


def body_as_sent(platform: str, payload: Any) -> bytes:
    # Meta escapes every non-ASCII character; X sends UTF-8 as is. Either way the signature covers these bytes.
    return json.dumps(payload, ensure_ascii=(platform == "meta")).encode("utf-8")


def post_signed(stack: LocalStackProcess, platform: str, body: bytes) -> requests.Response:
    headers = {"Content-Type": "application/json", **platform_signature(platform, body)}
    return requests.post(f"{stack.gateway_url}/webhooks/{platform}", data=body, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def graph_and_stack() -> Iterator[tuple[FakePlatform, LocalStackProcess]]:
    with stack_with_platform("META_GRAPH_URL", {"meta": {IG_ACCOUNT: "fake-page-token"}, "x": {}}) as pair:
        yield pair


@pytest.fixture(scope="module")
def fake_graph(graph_and_stack: tuple[FakePlatform, LocalStackProcess]) -> FakePlatform:
    return graph_and_stack[0]


@pytest.fixture(scope="module")
def stack(graph_and_stack: tuple[FakePlatform, LocalStackProcess]) -> LocalStackProcess:
    return graph_and_stack[1]


def store(stack: LocalStackProcess) -> CaseStore:
    return CaseStore(stack.resources["CasesTable"], stack.client("dynamodb"))


def ledger(stack: LocalStackProcess) -> list[dict[str, Any]]:
    return DeliveryLedger(stack.resources["DeliveryLedgerTable"], stack.client("dynamodb")).entries()


def cases_of(stack: LocalStackProcess, post_id: str) -> list[Case]:
    return [case for case in store(stack).all_cases() if case.post.post_id == post_id]


def settled(stack: LocalStackProcess, post_id: str, status: CaseStatus) -> Case:
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        found = cases_of(stack, post_id)
        if found and found[0].status == status:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"post {post_id} never became a {status.value} case: {cases_of(stack, post_id)}")


def log_records(stack: LocalStackProcess, offset: int) -> list[dict[str, Any]]:
    """The handlers' JSON log records written after ``offset`` (a byte position in the log file)."""
    with stack.log_file.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode("utf-8", "replace").splitlines()
    records = []
    for line in lines:
        start = line.find("{")
        if start < 0:
            continue
        try:
            record = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def drain_all(stack: LocalStackProcess) -> dict[str, list[dict[str, Any]]]:
    """Every case message waiting in a review queue, by queue name (validated against moderato.case/v1)."""
    sqs = stack.client("sqs")
    return {queue: drain_case_queue(sqs, stack.environment[env], queue) for env, queue in CASE_QUEUES.items()}


def check(case: Case, expected: dict[str, Any]) -> None:
    post = case.post
    actual = {"platform": post.platform.value, "kind": post.kind.value, "post_id": post.post_id,
              "parent_id": post.parent_id, "thread_id": post.thread_id, "account_id": post.account_id,
              "author_handle": post.author.handle, "author_name": post.author.name,
              "author_followers": post.author.followers, "text": post.text, "dedup_key": post.dedup_key,
              "flags": list(post.flags), "label": case.label.value}
    for key, value in expected.items():
        if key == "text_contains":
            assert value in post.text, (post.text, value)
        elif key != "case_status":
            assert actual[key] == value, (case.case_id, key, actual[key], value)


@pytest.fixture
def quiet_stack(stack: LocalStackProcess) -> LocalStackProcess:
    assert stack.wait_idle(SETTLE_SECONDS)
    drain_all(stack)
    return stack


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_each_documented_sample_becomes_its_case_or_a_recorded_event(
        quiet_stack: LocalStackProcess, fake_graph: FakePlatform, path: Path) -> None:
    stack = quiet_stack
    fixture = json.loads(path.read_text("utf-8"))
    expected_posts: list[dict[str, Any]] = fixture["expect"]["posts"]
    for post_id, fetched in ((p["post_id"], fixture.get("fetched", {}).get("mentioned_comment"))
                             for p in expected_posts):
        if fetched:  # the Graph API stub answers the enrich function's read
            fake_graph.add_mention(post_id, fetched["text"], timestamp=fetched["timestamp"])
    cases_before = {case.case_id for case in store(stack).all_cases()}
    deliveries_before = {entry["delivery_id"] for entry in ledger(stack)}
    log_offset = stack.log_file.stat().st_size

    # When the platform delivers its own documented sample, signed as it signs it
    answer = post_signed(stack, fixture["platform"], body_as_sent(fixture["platform"], fixture["payload"]))

    # Then it is accepted, never refused
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "accepted"}
    for post in expected_posts:
        final = CaseStatus.OPEN if "after_fetch" in fixture["expect"] or post.get("case_status") is None \
            else CaseStatus(post["case_status"])
        settled(stack, post["post_id"], final)
    assert stack.wait_idle(SETTLE_SECONDS)
    new_cases = [case for case in store(stack).all_cases() if case.case_id not in cases_before]
    queued = drain_all(stack)

    # And each post is exactly one case, with its text, label and queue, and its message in that queue
    assert sorted(case.post.post_id for case in new_cases) == sorted(p["post_id"] for p in expected_posts)
    for expected in expected_posts:
        [case] = [case for case in new_cases if case.post.post_id == expected["post_id"]]
        if "after_fetch" in fixture["expect"]:
            # Ids only: the case waited visibly as text_pending, then was classified on the fetched text.
            check(case, {k: v for k, v in expected.items() if k not in ("text", "flags")})
            check(case, fixture["expect"]["after_fetch"])
            history = store(stack).history(case.case_id)
            assert [event.action for event in history] == ["triaged", "text_fetched"]
            assert "post.text_pending" in (history[0].reason or "") and history[0].data["queue"] is None
            assert case.post.text == fixture["fetched"]["mentioned_comment"]["text"]
            [read] = [call for call in fake_graph.received("GET", f"/{case.post.account_id}")
                      if expected["post_id"] in call.query]
            assert read.authorized
        else:
            check(case, expected)
        assert case.post.text.strip(), "a case was classified on empty text"
        queue = QUEUE_FOR_LABEL[case.label.value]
        assert case.queue == queue
        messages = [m for bodies in queued.values() for m in bodies if m["case_id"] == case.case_id]
        if queue is None:
            assert messages == []
        else:
            assert [m["queue"] for m in messages] == [queue]
            assert messages[0]["post"]["text"] == case.post.text and messages[0]["label"] == case.label.value

    # And the delivery's ledger entry says what it became: its cases, or no posts
    # (acceptance itself is in the access log: the entry holds what triage made of the delivery)
    [entry] = [e for e in ledger(stack) if e["delivery_id"] not in deliveries_before]
    if expected_posts:
        assert entry["state"] == "triaged" and sorted(entry["case_ids"]) == sorted(c.case_id for c in new_cases)
    else:
        assert entry["state"] == "no_posts" and "case_ids" not in entry

    # And an event that is not a post is logged by kind and counted, not refused and not a case
    records = log_records(stack, log_offset)
    kinds = [r.get("event_kind") for r in records if str(r.get("message", "")).startswith("platform event recorded")]
    assert kinds == fixture["expect"].get("events", [])
    counted = sum(sum(v) if isinstance(v, list) else v
                  for r in records if "PlatformEventsRecorded" in r for v in [r["PlatformEventsRecorded"]])
    assert counted == len(kinds)
    assert not [r for r in records if r.get("message") == "delivery rejected"]


# Signed, valid JSON of shapes no parser knows (or no shape at all): each is kept, never refused.
ODD_SHAPES: dict[str, list[Any]] = {
    "meta": [None, [], "a string", 42, True, {}, {"object": "whatsapp_business_account", "entry": []},
             {"object": "page", "entry": "not a list"}, {"entry": [{"id": "1"}]}],
    "x": [None, [], "a string", 42, False, {}, {"for_user_id": "2244994945", "brand_new_events": [{"id": 1}]},
          {"data": {"event_type": "post.like.create", "payload": {}}}, {"data": "not an object"}],
}
# Signed bytes that are not UTF-8 JSON: the README's 400 row, and what the code answers.
UNREADABLE: list[tuple[bytes, str]] = [
    (b"definitely not json", "body is not valid JSON"),
    (b"\xef\xbb\xbf{}", "body starts with a byte order mark"),
    ('{"a": "é"}'.encode("utf-16"), "body"),
    (b'{"a": "\xff"}', "body is not UTF-8"),
    (b"{}{}", "body is not valid JSON"),
]


def test_every_signed_json_body_of_any_shape_is_accepted_and_kept(quiet_stack: LocalStackProcess) -> None:
    stack = quiet_stack
    before = {entry["delivery_id"] for entry in ledger(stack)}
    sent = 0
    for platform, shapes in ODD_SHAPES.items():
        for shape in shapes:
            answer = post_signed(stack, platform, json.dumps(shape).encode())
            assert answer.status_code == 200, (platform, shape, answer.status_code, answer.text)
            sent += 1
    # Each one was enqueued, then set aside whole in IngestDLQ for a parser fix (its ledger entry says why)
    assert stack.wait_idle(120), "IngestQueue never drained"
    accepted = [e for e in ledger(stack) if e["delivery_id"] not in before]
    assert len(accepted) == sent
    sqs, kept = stack.client("sqs"), []
    while batch := sqs.receive_message(QueueUrl=stack.resources["IngestDLQ"], MaxNumberOfMessages=10).get(
            "Messages", []):
        for message in batch:
            kept.append(Delivery.model_validate_json(message["Body"]))
            sqs.delete_message(QueueUrl=stack.resources["IngestDLQ"], ReceiptHandle=message["ReceiptHandle"])
    # (an X Activity event of a type Moderato did not subscribe to is a legitimate non-post event instead)
    settled_ids = {e["delivery_id"] for e in ledger(stack) if e["state"] == "no_posts"}
    assert {d.request_id for d in kept} | settled_ids >= {e["delivery_id"] for e in accepted}
    assert len(kept) == sent - 1 and all((d.note or "").startswith("delivery.unknown_shape_kept: ") for d in kept)


@pytest.mark.parametrize("platform", ["meta", "x"])
def test_a_signed_body_that_is_not_utf8_json_is_the_only_signed_400(quiet_stack: LocalStackProcess,
                                                                     platform: str) -> None:
    for body, message in UNREADABLE:
        answer = post_signed(quiet_stack, platform, body)
        assert answer.status_code == 400, (platform, body, answer.text)
        assert answer.json()["message"].startswith(message), answer.json()

"""Forgeries against the real webhook handler: every one refused, nothing enqueued, counts printed.

The handler runs with in-memory fakes for the queue and the secrets (tests/webhook_fakes.py); the
moto-backed integration tests prove the adapters themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import Counter

import pytest

from moderato_local.events import HttpRequest, http_api_event
from tests.support import LOCAL_SECRETS, encode, meta_comment, x_tweet
from tests.webhook_fakes import Webhook, webhook_with_fakes

META_SECRET = LOCAL_SECRETS["meta"]["app_secret"]
X_SECRET = LOCAL_SECRETS["x"]["consumer_secret"]
META_BODY = encode(meta_comment("Remboursement immédiat : écrivez sur Telegram @floralys_sav"))
X_BODY = encode(x_tweet("@Floralys DM us your card number for a refund"))
OTHER_BODY = encode(meta_comment("Merci pour les fleurs"))


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Webhook:
    return webhook_with_fakes(monkeypatch)


def hexsig(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def b64sig(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def one_byte_off(value: str, alphabet: str) -> str:
    return value[:-1] + (alphabet[0] if value[-1] != alphabet[0] else alphabet[1])


GOOD_META = hexsig(META_SECRET, META_BODY)
GOOD_X = b64sig(X_SECRET, X_BODY)
META_FORGERIES = {
    "one hex digit off": f"sha256={one_byte_off(GOOD_META, '0123456789abcdef')}",
    "first digit off": "sha256=" + ("1" if GOOD_META[0] != "1" else "2") + GOOD_META[1:],
    "signature of another body": f"sha256={hexsig(META_SECRET, OTHER_BODY)}",
    "another secret": f"sha256={hexsig('not-the-app-secret', META_BODY)}",
    "empty secret": f"sha256={hexsig('', META_BODY)}",
    "truncated to 63": f"sha256={GOOD_META[:63]}",
    "truncated to 32": f"sha256={GOOD_META[:32]}",
    "digest only": "sha256=",
    "no prefix": GOOD_META,
    "sha1 prefix": f"sha1={GOOD_META}",
    "upper-case prefix": f"SHA256={GOOD_META}",
    "sha512 prefix": f"sha512={GOOD_META}",
    "space before digest": f"sha256= {GOOD_META}",
    "upper-case hex": f"sha256={GOOD_META.upper()}",
    "base64 instead of hex": f"sha256={b64sig(META_SECRET, META_BODY)}",
    "hex of a sha1 hmac": "sha256=" + hmac.new(META_SECRET.encode(), META_BODY, hashlib.sha1).hexdigest(),
    "plain sha256 of the body": f"sha256={hashlib.sha256(META_BODY).hexdigest()}",
    "non-ascii digest": "sha256=" + "é" * 64,
    "extra character": f"sha256={GOOD_META}0",
}
X_FORGERIES = {
    "one character off": f"sha256={one_byte_off(GOOD_X[:-1], 'AB')}=",
    "signature of another body": f"sha256={b64sig(X_SECRET, encode(x_tweet('hello')))}",
    "another secret": f"sha256={b64sig('not-the-secret', X_BODY)}",
    "truncated": f"sha256={GOOD_X[:20]}",
    "no padding": f"sha256={GOOD_X.rstrip('=')}",
    "hex instead of base64": f"sha256={hexsig(X_SECRET, X_BODY)}",
    "url-safe base64": "sha256=" + base64.urlsafe_b64encode(base64.b64decode(GOOD_X)).decode().replace("=", "")
    + "-_",
    "upper-cased base64": f"sha256={GOOD_X.upper()}",
    "lower-cased base64": f"sha256={GOOD_X.lower()}",
    "no prefix": GOOD_X,
    "upper-case prefix": f"SHA256={GOOD_X}",
    "sha1 prefix": f"sha1={GOOD_X}",
    "non-ascii": "sha256=" + "é" * 44,
}


@pytest.mark.parametrize("name", sorted(META_FORGERIES))
def test_meta_forgeries_are_refused(webhook: Webhook, name: str) -> None:
    assert META_FORGERIES[name] != f"sha256={GOOD_META}"
    response = webhook.call("POST", "/webhooks/meta", META_BODY, {"X-Hub-Signature-256": META_FORGERIES[name]})
    assert response["statusCode"] == 401, name
    assert webhook.ingest.enqueued == []


@pytest.mark.parametrize("name", sorted(X_FORGERIES))
def test_x_forgeries_are_refused(webhook: Webhook, name: str) -> None:
    assert X_FORGERIES[name] != f"sha256={GOOD_X}"
    response = webhook.call("POST", "/webhooks/x", X_BODY, {"x-twitter-webhooks-signature": X_FORGERIES[name]})
    assert response["statusCode"] == 401, name
    assert webhook.ingest.enqueued == []


def test_the_genuine_signatures_are_accepted(webhook: Webhook) -> None:
    # The control: the same bodies, signed right, go through (so the refusals above are about the signature).
    assert webhook.call("POST", "/webhooks/meta", META_BODY,
                        {"X-Hub-Signature-256": f"sha256={GOOD_META}"})["statusCode"] == 200
    assert webhook.call("POST", "/webhooks/x", X_BODY,
                        {"x-twitter-webhooks-signature": f"sha256={GOOD_X}"})["statusCode"] == 200
    assert len(webhook.ingest.enqueued) == 2


@pytest.mark.parametrize("copies", [
    ["sha256=" + "0" * 64, f"sha256={GOOD_META}"],
    [f"sha256={GOOD_META}", "sha256=" + "0" * 64],
    [f"sha256={GOOD_META}", f"sha256={GOOD_META}"],
])
def test_a_duplicated_signature_header_is_refused_whichever_copy_is_genuine(webhook: Webhook,
                                                                            copies: list[str]) -> None:
    headers = [("X-Hub-Signature-256", value) for value in copies]
    request = HttpRequest(method="POST", raw_path="/webhooks/meta", raw_query="", headers=headers, body=META_BODY)
    event = http_api_event(request, "POST /webhooks/{platform}", {"platform": "meta"}, api_id="local",
                           domain_name="127.0.0.1:8787")
    assert webhook.call("POST", "/webhooks/meta", event=event)["statusCode"] == 401
    # and two spellings of the name in one mapping (tests, other gateways) are refused the same way
    both = {"X-Hub-Signature-256": copies[0], "x-hub-signature-256": copies[1]}
    assert webhook.call("POST", "/webhooks/meta", META_BODY, both)["statusCode"] == 401
    assert webhook.ingest.enqueued == []


CRC_ORACLE_BODIES = [
    X_BODY.decode(),
    '{"for_user_id":"2244994945","tweet_create_events":[{"id_str":"1","text":"forged","user":{"id_str":"6"}}]}',
    " " + X_BODY.decode(),
    "[1]",
    '"abc"',
    "a" * 129,
    "abc def",
    "abc\n",
    "é",
    # token-shaped and valid JSON: the webhook keeps signed bodies of unknown shape, so these would forge
    "null",
    "true",
    "false",
    "123",
    "-1",
    "1e5",
    "0",
]


@pytest.mark.parametrize("token", CRC_ORACLE_BODIES)
def test_the_crc_answers_only_token_shaped_values(webhook: Webhook, token: str) -> None:
    # When an attacker asks the CRC to sign a body of their choosing
    response = webhook.call("GET", "/webhooks/x", query={"crc_token": token})
    # Then nothing is signed: 400, a message saying what a token looks like, and no response_token
    assert response["statusCode"] == 400
    answer = json.loads(response["body"])
    assert "response_token" not in answer and "URL-safe" in answer["message"]


def test_a_crc_answer_for_a_json_body_cannot_be_replayed_as_its_post_signature(webhook: Webhook) -> None:
    # Given the X delivery an attacker wants accepted, and the CRC asked to sign exactly those bytes
    crc = webhook.call("GET", "/webhooks/x", query={"crc_token": X_BODY.decode()})
    assert crc["statusCode"] == 400
    # When the attacker posts the body with what the CRC answered in place of a signature
    replay = webhook.call("POST", "/webhooks/x", X_BODY, {"x-twitter-webhooks-signature": crc["body"]})
    # Then it is refused and nothing was enqueued
    assert replay["statusCode"] == 401 and webhook.ingest.enqueued == []


@pytest.mark.parametrize("token", ["null", "true", "123", "-1", "1e5"])
def test_a_crc_answer_for_a_json_scalar_cannot_be_replayed_as_its_post_signature(webhook: Webhook,
                                                                                   token: str) -> None:
    # Given a token-shaped value that is also a JSON body (kept by the webhook as an unknown shape)
    crc = webhook.call("GET", "/webhooks/x", query={"crc_token": token})
    answered = json.loads(crc["body"]).get("response_token", "sha256=")
    # When the attacker posts it with what the CRC answered in place of a signature
    replay = webhook.call("POST", "/webhooks/x", token.encode(), {"x-twitter-webhooks-signature": answered})
    # Then the CRC refused to answer, the replay is refused and nothing was enqueued
    assert crc["statusCode"] == 400
    assert replay["statusCode"] == 401 and webhook.ingest.enqueued == []


def test_the_whole_suite_is_refused_and_counted(webhook: Webhook, capsys: pytest.CaptureFixture[str]) -> None:
    # Every forgery above once more, in one test (the parametrized ones may run on other xdist workers),
    # so the printed counts are what this run refused, and a single acceptance fails here too.
    refused: Counter[str] = Counter()
    for value in META_FORGERIES.values():
        answer = webhook.call("POST", "/webhooks/meta", META_BODY, {"X-Hub-Signature-256": value})
        refused["meta"] += answer["statusCode"] == 401
    for value in X_FORGERIES.values():
        answer = webhook.call("POST", "/webhooks/x", X_BODY, {"x-twitter-webhooks-signature": value})
        refused["x"] += answer["statusCode"] == 401
    for token in CRC_ORACLE_BODIES:
        refused["crc oracle"] += webhook.call("GET", "/webhooks/x", query={"crc_token": token})["statusCode"] == 400
    with capsys.disabled():
        print(f"\nforgery suite: refused {dict(refused)} (total {sum(refused.values())}) "
              f"of {len(META_FORGERIES) + len(X_FORGERIES) + len(CRC_ORACLE_BODIES)}")
    assert refused == {"meta": len(META_FORGERIES), "x": len(X_FORGERIES), "crc oracle": len(CRC_ORACLE_BODIES)}
    assert webhook.ingest.enqueued == []

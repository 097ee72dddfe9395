"""The webhook handler against moto: handshakes, signatures, every bad input, the enqueue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from moderato.models import Delivery
from tests.integration.conftest import AwsEnv, FakeContext, load_handler
from tests.support import LOCAL_SECRETS, api_event, encode, meta_comment, signed_headers, x_tweet
from tests.webhook_fakes import Webhook, webhook_with_fakes


def call(method: str, path: str, body: bytes = b"", headers: dict | None = None, query: dict | None = None,
         context: FakeContext | None = None) -> dict:
    webhook = load_handler("webhook")
    return webhook.lambda_handler(api_event(method, path, body, headers, query), context or FakeContext())


def test_meta_handshake_echoes_the_challenge(aws: AwsEnv) -> None:
    response = call("GET", "/webhooks/meta", query={
        "hub.mode": "subscribe", "hub.verify_token": LOCAL_SECRETS["meta"]["verify_token"],
        "hub.challenge": "1158201444"})
    assert response["statusCode"] == 200
    assert response["body"] == "1158201444"
    assert response["headers"]["Content-Type"].startswith("text/plain")


def test_meta_handshake_with_wrong_token_is_forbidden(aws: AwsEnv) -> None:
    response = call("GET", "/webhooks/meta", query={
        "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
    assert response["statusCode"] == 403
    assert "1158201444" not in response["body"]


def test_x_crc_answer_is_the_hmac_of_the_token(aws: AwsEnv) -> None:
    # Given the answer X expects, computed here with hmac and base64 (not with the code under test)
    digest = hmac.new(LOCAL_SECRETS["x"]["consumer_secret"].encode(), b"challenge-123", hashlib.sha256).digest()
    expected = "sha256=" + base64.b64encode(digest).decode()
    # When X sends its CRC challenge
    response = call("GET", "/webhooks/x", query={"crc_token": "challenge-123"})
    # Then the handler answers with exactly that token, as JSON
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("application/json")
    assert json.loads(response["body"]) == {"response_token": expected}


def test_signed_meta_comment_is_enqueued_byte_for_byte(aws: AwsEnv) -> None:
    body = encode(meta_comment("Ma commande n'est jamais arrivée ❤"))
    response = call("POST", "/webhooks/meta", body, signed_headers("meta", body))
    assert response["statusCode"] == 200
    [message] = aws.messages("INGEST_QUEUE_URL")
    delivery = Delivery.model_validate_json(message["Body"])
    assert delivery.platform == "meta"
    assert delivery.body is not None and delivery.body.encode() == body
    assert delivery.request_id
    assert message["MessageAttributes"]["platform"]["StringValue"] == "meta"


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "missing"),
    ({"X-Hub-Signature-256": "sha1=abc"}, "malformed"),
    ({"X-Hub-Signature-256": "sha256=zz"}, "malformed"),
    ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, "does not match"),
])
def test_bad_meta_signatures_get_401_and_store_nothing(aws: AwsEnv, headers: dict, reason: str) -> None:
    body = encode(meta_comment("hello"))
    response = call("POST", "/webhooks/meta", body, headers)
    assert response["statusCode"] == 401
    assert reason in json.loads(response["body"])["message"]
    assert aws.messages("INGEST_QUEUE_URL") == []


@contextmanager
def powertools_log_output(webhook: Any) -> Iterator[io.StringIO]:
    """What the webhook's Powertools logger writes (JSON lines), captured from its own handler."""
    handler = webhook.logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    # Every function's logger is the one "moderato" logger: a suite that loaded the webhook quiet (the fuzz
    # fakes log at CRITICAL) must not silence what this test reads.
    level = webhook.logger.log_level
    webhook.logger.setLevel("INFO")
    try:
        yield buffer
    finally:
        handler.setStream(previous)
        webhook.logger.setLevel(level)


def test_a_forged_delivery_is_logged_as_rejected_without_its_body(aws: AwsEnv) -> None:
    # Given a delivery signed with a secret that is not ours, carrying an attacker's text
    forged_text = "FORGED-3f9c2a Gagnez 1000 EUR sur Telegram @arnaque"
    body = encode(meta_comment(forged_text))
    headers = signed_headers("meta", body, {"meta": {"app_secret": "not-the-app-secret"}})
    webhook = load_handler("webhook")
    # When the webhook handles it
    with powertools_log_output(webhook) as output:
        response = webhook.lambda_handler(api_event("POST", "/webhooks/meta", body, headers), FakeContext())
    # Then it is rejected, the rejection is logged, and no log line holds the text or the raw body
    assert response["statusCode"] == 401
    logged = output.getvalue()
    records = [json.loads(line) for line in logged.splitlines() if line.strip()]
    rejections = [r for r in records if r["message"] == "delivery rejected"]
    assert len(rejections) == 1
    assert rejections[0]["level"] == "WARNING" and rejections[0]["status"] == 401
    assert rejections[0]["error"] == "SignatureInvalid"
    assert "FORGED-3f9c2a" not in logged and "Telegram" not in logged
    assert body.decode() not in logged and base64.b64encode(body).decode()[:40] not in logged
    assert aws.messages("INGEST_QUEUE_URL") == []


def test_x_signature_from_another_secret_gets_401(aws: AwsEnv) -> None:
    body = encode(x_tweet("@Floralys where is my order"))
    forged = signed_headers("x", body, {"x": {"consumer_secret": "not-the-secret"}})
    response = call("POST", "/webhooks/x", body, forged)
    assert response["statusCode"] == 401
    assert aws.messages("INGEST_QUEUE_URL") == []


def test_unknown_platform_gets_404(aws: AwsEnv) -> None:
    response = call("POST", "/webhooks/myspace", b"{}", {})
    assert response["statusCode"] == 404
    assert "myspace" in json.loads(response["body"])["message"]
    assert aws.messages("INGEST_QUEUE_URL") == []


def test_a_signed_body_that_is_not_json_gets_400_after_the_signature_check(aws: AwsEnv) -> None:
    body = b"not json at all"
    response = call("POST", "/webhooks/meta", body, signed_headers("meta", body))
    assert response["statusCode"] == 400
    assert "not valid JSON" in json.loads(response["body"])["message"]
    assert aws.messages("INGEST_QUEUE_URL") == []


@pytest.mark.parametrize(("platform", "body", "detail"), [
    ("meta", b'{"object": "user", "entry": []}', "expected a Meta webhook object"),
    ("meta", b'{"object": "page", "entry": "nope"}', "'entry'"),
    ("x", b'{"some_future_events": [{"id": "1"}]}', "neither an X Activity event"),
])
def test_a_signed_delivery_of_an_unknown_shape_is_kept_with_its_reason(
        aws: AwsEnv, platform: str, body: bytes, detail: str) -> None:
    # Refused, a signed delivery would make the platform disable the webhook: it is kept for a parser fix
    response = call("POST", f"/webhooks/{platform}", body, signed_headers(platform, body))
    assert response["statusCode"] == 200
    [message] = aws.messages("INGEST_QUEUE_URL")
    delivery = json.loads(message["Body"])
    assert delivery["body"] == body.decode()
    assert delivery["note"].startswith("delivery.unknown_shape_kept: ") and detail in delivery["note"]


def test_body_over_the_limit_gets_413(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "1000")
    body = encode(meta_comment("x" * 2000))
    response = call("POST", "/webhooks/meta", body, signed_headers("meta", body))
    assert response["statusCode"] == 413
    assert aws.messages("INGEST_QUEUE_URL") == []


def test_large_delivery_is_claim_checked_to_s3(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIM_CHECK_THRESHOLD_BYTES", "500")
    body = encode(meta_comment("long " * 300))
    assert call("POST", "/webhooks/meta", body, signed_headers("meta", body))["statusCode"] == 200
    [message] = aws.messages("INGEST_QUEUE_URL")
    delivery = Delivery.model_validate_json(message["Body"])
    assert delivery.body is None and delivery.body_s3_key
    stored = aws.client("s3").get_object(Bucket=aws.env["DELIVERY_BUCKET_NAME"], Key=delivery.body_s3_key)
    assert stored["Body"].read() == body


def test_queue_unavailable_gets_503_so_the_platform_retries(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    aws.client("sqs").delete_queue(QueueUrl=aws.env["INGEST_QUEUE_URL"])
    body = encode(meta_comment("hello"))
    response = call("POST", "/webhooks/meta", body, signed_headers("meta", body))
    assert response["statusCode"] == 503
    assert "retry" in json.loads(response["body"])["message"]


def test_s3_bucket_gone_while_claim_checking_gets_503_and_enqueues_nothing(
        aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a delivery large enough to be claim-checked, and a delivery bucket that no longer exists
    monkeypatch.setenv("CLAIM_CHECK_THRESHOLD_BYTES", "500")
    aws.client("s3").delete_bucket(Bucket=aws.env["DELIVERY_BUCKET_NAME"])
    body = encode(meta_comment("long " * 300))
    # When the platform delivers it
    response = call("POST", "/webhooks/meta", body, signed_headers("meta", body))
    # Then it is told to retry, and no message points to a body that was never stored
    assert response["statusCode"] == 503
    assert "retry" in json.loads(response["body"])["message"]
    assert aws.messages("INGEST_QUEUE_URL") == []


def test_s3_endpoint_failing_while_claim_checking_gets_503_and_enqueues_nothing(
        aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a claim-check delivery and an S3 endpoint that refuses connections (SQS still works)
    monkeypatch.setenv("CLAIM_CHECK_THRESHOLD_BYTES", "1000")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    body = encode(meta_comment("long " * 300))
    small = encode(meta_comment("hello"))
    assert len(small) < 1000 < len(body)
    # When the platform delivers it
    response = call("POST", "/webhooks/meta", body, signed_headers("meta", body))
    # Then it is told to retry, and nothing was enqueued
    assert response["statusCode"] == 503
    assert aws.messages("INGEST_QUEUE_URL") == []
    # And a small delivery, which needs no S3, still goes through
    assert call("POST", "/webhooks/meta", small, signed_headers("meta", small))["statusCode"] == 200
    assert len(aws.messages("INGEST_QUEUE_URL")) == 1


def test_base64_encoded_bodies_are_verified_on_their_bytes(aws: AwsEnv) -> None:
    import base64

    body = encode(meta_comment("Livraison reçue, merci"))
    event = api_event("POST", "/webhooks/meta", body, signed_headers("meta", body))
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    response = load_handler("webhook").lambda_handler(event, FakeContext())
    assert response["statusCode"] == 200


def test_the_crc_will_not_sign_a_delivery_so_its_answer_cannot_be_replayed(aws: AwsEnv) -> None:
    # Given the delivery an attacker wants accepted, sent to the CRC as the token to sign
    body = encode(x_tweet("@Floralys refunds here: t.co/scam"))
    crc = call("GET", "/webhooks/x", query={"crc_token": body.decode()})
    # Then the CRC refuses it (400, saying what a token looks like) and signs nothing
    assert crc["statusCode"] == 400
    assert "URL-safe" in json.loads(crc["body"])["message"] and "sha256=" not in crc["body"]
    # And what it answered, used as a signature, gets the body nowhere
    replay = call("POST", "/webhooks/x", body, {"x-twitter-webhooks-signature": crc["body"]})
    assert replay["statusCode"] == 401
    assert aws.messages("INGEST_QUEUE_URL") == []


@pytest.mark.parametrize(("body", "message"), [
    (b'{"object": "page", "entry": ' + b"[" * 1000 + b"]" * 1000 + b"}", "nested too deeply"),
    ('{"object": "page", "entry": []}'.encode("utf-16"), "UTF-16 or UTF-32"),
    ('{"object": "page", "entry": []}'.encode("utf-32"), "UTF-16 or UTF-32"),
    (b'{"object": "page", "entry": [], "x": "\xed\xa0\xbd\xed\xb8\x80"}', "not UTF-8"),  # CESU-8
    (b'{"object": "page", "entry": [], "x": "\xff"}', "not UTF-8 (invalid byte at offset 38)"),
    (b"\xef\xbb\xbf" + b'{"object": "page", "entry": []}', "byte order mark"),
])
def test_signed_bodies_that_are_not_rfc_8259_json_get_a_precise_400(aws: AwsEnv, body: bytes, message: str) -> None:
    # These used to be 500s (RecursionError, UnicodeDecodeError) or accepted and never parseable (BOM, UTF-16)
    response = call("POST", "/webhooks/meta", body, signed_headers("meta", body))
    assert response["statusCode"] == 400
    assert message in json.loads(response["body"])["message"]
    assert aws.messages("INGEST_QUEUE_URL") == []


def test_a_body_flagged_base64_that_is_not_gets_400(aws: AwsEnv) -> None:
    event = api_event("POST", "/webhooks/meta", b"", {"X-Hub-Signature-256": "sha256=" + "0" * 64})
    event["body"], event["isBase64Encoded"] = "%%% not base64 %%%", True
    response = load_handler("webhook").lambda_handler(event, FakeContext())
    assert response["statusCode"] == 400 and "base64" in json.loads(response["body"])["message"]


def test_a_signed_delivery_with_lone_surrogate_escapes_is_kept(aws: AwsEnv) -> None:
    # Valid JSON in UTF-8 (RFC 8259 allows the escape): kept, and triage stores U+FFFD in its place
    body = encode(meta_comment("placeholder")).replace(b"placeholder", b"colis \\ud83d perdu")
    assert call("POST", "/webhooks/meta", body, signed_headers("meta", body))["statusCode"] == 200
    assert len(aws.messages("INGEST_QUEUE_URL")) == 1


def test_queue_outage_503_tells_the_platform_when_to_retry(aws: AwsEnv) -> None:
    aws.client("sqs").delete_queue(QueueUrl=aws.env["INGEST_QUEUE_URL"])
    body = encode(meta_comment("hello"))
    response = call("POST", "/webhooks/meta", body, signed_headers("meta", body))
    assert response["statusCode"] == 503 and response["headers"]["Retry-After"] == "30"


# What the webhook imports, its encoding of a Delivery, its settings and its router: no AWS needed.

LIGHT_IMPORT_CHECK = """
import json, sys
import webhook
print(json.dumps({"modules": sorted(sys.modules), "tracer": webhook.tracer is not None}))
"""


def _fresh_import(**env: str) -> dict[str, Any]:
    from tests.webhook_fakes import WEBHOOK_ENV

    repo = Path(__file__).resolve().parents[2]
    environment = {**os.environ, **WEBHOOK_ENV, "LAMBDA_TASK_ROOT": str(repo / "functions"),
                   "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR", **env,
                   "PYTHONPATH": os.pathsep.join([str(repo / "functions"), str(repo)])}
    out = subprocess.run([sys.executable, "-c", LIGHT_IMPORT_CHECK], env=environment, capture_output=True,
                         text=True, check=True, timeout=120)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_webhook_imports_no_parser_no_pydantic_and_no_xray_sdk_when_call_tracing_is_off() -> None:
    # Its cold start pays for verifying and enqueueing only (bench/bench_webhook.py measures it)
    loaded = _fresh_import(POWERTOOLS_TRACE_DISABLED="true")
    heavy = ("pydantic", "aws_xray_sdk", "moderato.models", "moderato.reasons", "moderato.classify",
             "moderato.platforms.base", "moderato.platforms.meta", "moderato.platforms.x",
             "aws_lambda_powertools.event_handler", "moderato.adapters.delivery_ledger")
    assert [m for m in loaded["modules"] if m in heavy or m.startswith(tuple(f"{h}." for h in heavy))] == []
    assert loaded["tracer"] is False


def test_call_tracing_switched_on_traces_the_webhook() -> None:
    loaded = _fresh_import(POWERTOOLS_TRACE_DISABLED="false")
    assert loaded["tracer"] is True and "aws_xray_sdk.core" in loaded["modules"]


def test_the_unknown_shape_reason_code_is_the_registered_one() -> None:
    from moderato.platforms.webhooks import UNKNOWN_SHAPE_KEPT
    from moderato.reasons import describe

    assert describe(UNKNOWN_SHAPE_KEPT) is not None


@pytest.mark.parametrize(("body", "key", "note", "at"), [
    ('{"entry": [{"message": "Ma commande n\'est jamais arrivée ❤ \\u00e9"}]}', None, None,
     datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)),
    ('{"t": "tab\\t nl\\n \u2028 \x7f \x01 quote\\" slash/ <script>"}', None,
     "delivery.unknown_shape_kept: expected 'entry'", datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
    (None, "deliveries/meta/2026/03/01/req-1.json", None, datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=2)))),
])
def test_the_enqueued_delivery_is_exactly_what_the_delivery_model_writes(
        body: str | None, key: str | None, note: str | None, at: datetime) -> None:
    from moderato.adapters.ingest_queue import delivery_json

    headers = {"content-type": "application/json", "user-agent": "facebookexternalua"}
    written = delivery_json("meta", at, "req-1", body, key, headers, note)
    model = Delivery(platform="meta", received_at=at, request_id="req-1", body=body, body_s3_key=key,
                     headers=headers, note=note)
    assert Delivery.model_validate_json(written) == model
    if at.utcoffset() == timedelta(0):  # pydantic keeps another offset as given; the webhook always sends UTC
        assert written == model.model_dump_json()


def test_webhook_settings_are_read_and_checked_without_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    from moderato.webhook_settings import ConfigurationError, webhook_settings

    for name, value in {"INGEST_QUEUE_URL": "https://q", "DELIVERY_BUCKET_NAME": "b", "WEBHOOK_SECRET_ID": "s",
                        "MAX_BODY_BYTES": "2048"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CLAIM_CHECK_THRESHOLD_BYTES", raising=False)
    monkeypatch.delenv("SECRETS_MAX_AGE_SECONDS", raising=False)
    webhook_settings.cache_clear()
    settings = webhook_settings()
    assert (settings.max_body_bytes, settings.claim_check_threshold_bytes, settings.secrets_max_age_seconds) == \
        (2048, 200_000, 300)
    for name, value, problem in [("MAX_BODY_BYTES", "lots", "must be an integer"),
                                 ("MAX_BODY_BYTES", "0", "at least 1"),
                                 ("INGEST_QUEUE_URL", "", "INGEST_QUEUE_URL is required")]:
        with monkeypatch.context() as patch:
            patch.setenv(name, value)
            webhook_settings.cache_clear()
            with pytest.raises(ConfigurationError, match=problem):
                webhook_settings()
    webhook_settings.cache_clear()


@pytest.fixture
def fake_webhook(monkeypatch: pytest.MonkeyPatch) -> Webhook:
    return webhook_with_fakes(monkeypatch)


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/webhooks/meta"), ("DELETE", "/webhooks/x"), ("GET", "/webhooks"), ("GET", "/webhooks/meta/extra"),
    ("POST", "/health"), ("GET", "/"), ("GET", "/webhooks/a/b"),
])
def test_routes_that_do_not_exist_get_the_404_they_always_got(fake_webhook: Webhook, method: str, path: str) -> None:
    response = fake_webhook.call(method, path)
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {"statusCode": 404, "message": "Not found"}
    assert response["headers"]["Content-Type"] == "application/json" and fake_webhook.ingest.enqueued == []


def test_a_named_stage_is_not_part_of_the_route(fake_webhook: Webhook) -> None:
    # HTTP API puts a stage other than $default at the start of rawPath
    body = encode(meta_comment("Livraison en retard"))
    event = api_event("POST", "/prod/webhooks/meta", body, signed_headers("meta", body))
    event["requestContext"]["stage"] = "prod"
    response = fake_webhook.call("POST", "", event=event)
    assert response["statusCode"] == 200 and response["cookies"] == [] and response["isBase64Encoded"] is False
    assert fake_webhook.ingest.enqueued == [("meta", body)]


def test_forwarded_headers_are_read_whatever_their_case(fake_webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, str]] = []

    def enqueue(platform: str, raw_body: bytes, request_id: str, received_at: datetime,
                headers: dict[str, str], note: str | None = None) -> str:
        seen.append(headers)
        return "m1"

    monkeypatch.setattr(fake_webhook.ingest, "enqueue", enqueue)
    body = encode(meta_comment("hello"))
    headers = {**signed_headers("meta", body), "Content-Type": "application/json", "X-Other": "no"}
    assert fake_webhook.call("POST", "/webhooks/meta", body, headers)["statusCode"] == 200
    assert seen == [{"content-type": "application/json"}]

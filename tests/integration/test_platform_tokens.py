"""Platform tokens through the real actions handler, moto's Secrets Manager and the fake platform.

An expired X access token is refreshed exactly once, the new pair is written back to PlatformTokens,
and the hide succeeds; a refresh token X refuses is a recorded, alarmed, retried state. An Instagram
account connected with Instagram Login is acted on through graph.instagram.com with its own token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from moderato.adapters.platform_tokens import SecretChanged, SecretsManagerVault
from moderato.models import Label, Platform
from moderato_local.fake_platform import FakePlatform
from tests.integration.conftest import AwsEnv, FakeContext
from tests.integration.test_review import MODERATOR, call, handler, now_case, receive, seed, sqs_records, store

ACCOUNT = "2244994945"


@pytest.fixture
def x_platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlatform]:
    with FakePlatform() as fake:
        monkeypatch.setenv("X_API_URL", fake.url)
        fake.issue_x_tokens("x-access-1", "x-refresh-1")
        yield fake


def put_x_tokens(aws: AwsEnv, expires_at: datetime) -> None:
    value = {"meta": {}, "x": {ACCOUNT: {"access_token": "x-access-1", "refresh_token": "x-refresh-1",
                                         "expires_at": expires_at.isoformat()}},
             "x_client": {"client_id": "cGxhdGZvcm0tY2xpZW50"}}
    aws.client("secretsmanager").put_secret_value(SecretId=aws.env["PLATFORM_TOKENS_SECRET_ID"],
                                                  SecretString=json.dumps(value))


def tokens_in_secret(aws: AwsEnv) -> dict[str, Any]:
    answer = aws.client("secretsmanager").get_secret_value(SecretId=aws.env["PLATFORM_TOKENS_SECRET_ID"])
    return json.loads(answer["SecretString"])["x"][ACCOUNT]


def x_hide_requested(aws: AwsEnv, case_id: str) -> None:
    seed(aws, now_case(Label.SPAM, case_id, platform=Platform.X, account_id=ACCOUNT, post_id=f"18{case_id[-1]}99"))
    review = handler("review")
    status, _ = call(review, "POST", f"/cases/{case_id}/decisions", MODERATOR,
                     {"expected_version": 1, "decision": "hide"})
    assert status == 200


def test_the_secret_refuses_a_second_version_after_the_same_read(aws: AwsEnv) -> None:
    vault = SecretsManagerVault(aws.env["PLATFORM_TOKENS_SECRET_ID"], aws.client("secretsmanager"))
    first = vault.read()
    written = vault.write_after(first.version_id, {"x": {ACCOUNT: "claim-by-a"}})
    with pytest.raises(SecretChanged):
        vault.write_after(first.version_id, {"x": {ACCOUNT: "claim-by-b"}})
    assert vault.read().version_id == written and vault.read().value == {"x": {ACCOUNT: "claim-by-a"}}


def test_an_expiring_x_token_is_refreshed_once_and_the_hide_succeeds(aws: AwsEnv, x_platform: FakePlatform) -> None:
    x_hide_requested(aws, "x-h1")
    x_hide_requested(aws, "x-h2")
    put_x_tokens(aws, datetime.now(UTC) + timedelta(minutes=1))  # inside the 5-minute margin
    x_platform.expire_x_access_tokens()  # X would refuse x-access-1 soon anyway: now it does
    messages = receive(aws, aws.env["ACTIONS_QUEUE_URL"])
    assert len(messages) == 2
    assert handler("actions").lambda_handler(sqs_records(messages), FakeContext()) == {"batchItemFailures": []}
    [refresh] = x_platform.received("POST", "/2/oauth2/token")
    assert refresh.form["grant_type"] == "refresh_token" and refresh.form["refresh_token"] == "x-refresh-1"
    hides = x_platform.received("PUT", "/hidden")
    assert len(hides) == 2 and all(h.authorized and h.json == {"hidden": True} for h in hides)
    for case_id in ("x-h1", "x-h2"):
        case = store(aws).get(case_id)
        assert case is not None and case.hidden and case.actions[0].status == "done"
    stored = tokens_in_secret(aws)
    assert stored["access_token"] != "x-access-1" and stored["refresh_token"] != "x-refresh-1"
    assert datetime.fromisoformat(stored["expires_at"]) > datetime.now(UTC) + timedelta(hours=1)
    assert "refreshing_by" not in stored


def test_a_refused_refresh_is_recorded_alarmed_and_kept_for_retry(
    aws: AwsEnv, x_platform: FakePlatform, capsys: pytest.CaptureFixture[str],
) -> None:
    x_hide_requested(aws, "x-h3")
    put_x_tokens(aws, datetime.now(UTC) - timedelta(minutes=1))
    x_platform.issue_x_tokens("x-access-9", "x-refresh-9")  # X no longer knows our refresh token
    messages = receive(aws, aws.env["ACTIONS_QUEUE_URL"])
    with pytest.raises(BatchProcessingError):  # the only record failed: SQS redelivers after the backoff
        handler("actions").lambda_handler(sqs_records(messages), FakeContext())
    case = store(aws).get("x-h3")
    assert case is not None and not case.hidden
    assert case.actions[0].status == "failed" and case.actions[0].completed_at is None  # not final
    event = store(aws).history("x-h3")[-1]
    assert event.action == "action.failed" and event.data["retry"] is True
    assert event.data["needs_reauthorization"] == "x" and "re-authorization" in (event.reason or "")
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(m.get("PlatformTokenNeedsReauthorization") == [1.0] for m in emitted)
    assert "invalid_request" in tokens_in_secret(aws)["reauthorize"]
    # The retry does not spend another call on X: the secret says a person must act.
    with pytest.raises(BatchProcessingError):
        handler("actions").lambda_handler(sqs_records(messages), FakeContext())
    assert len(x_platform.received("POST", "/2/oauth2/token")) == 1
    assert x_platform.received("PUT") == []


def test_the_actions_function_warns_about_a_graph_version_near_its_end(
    aws: AwsEnv, caplog: pytest.LogCaptureFixture,
) -> None:
    actions = handler("actions")
    caplog.clear()
    assert actions.warn_about_graph_version("v21.0", datetime(2026, 12, 4, 8, tzinfo=UTC)) is not None
    [record] = [r for r in caplog.records if "Graph API" in r.getMessage()]
    assert record.levelname == "WARNING" and "2027-01-21" in record.getMessage()
    assert actions.warn_about_graph_version("v27.0", datetime(2026, 12, 4, 8, tzinfo=UTC)) is None
    assert len([r for r in caplog.records if "Graph API" in r.getMessage()]) == 1
    assert actions._settings.meta_graph_api_version == "v27.0"  # the template default reached the function


IG_LOGIN_ACCOUNT = "17841400000000001"


def test_an_instagram_login_account_is_hidden_through_graph_instagram_with_its_own_token(
    aws: AwsEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    brands = tmp_path / "brands.json"
    brands.write_text(json.dumps({"accounts": {IG_LOGIN_ACCOUNT: {
        "brand": "Floralys", "platform": "instagram", "connection": "instagram_login"}}}), encoding="utf-8")
    monkeypatch.setenv("MODERATO_BRANDS_FILE", str(brands))
    seed(aws, now_case(Label.SPAM, "instagram-h1", platform=Platform.INSTAGRAM, account_id=IG_LOGIN_ACCOUNT,
                       post_id="17865799348089039"))
    status, _ = call(handler("review"), "POST", "/cases/instagram-h1/decisions", MODERATOR,
                     {"expected_version": 1, "decision": "hide"})
    assert status == 200
    messages = receive(aws, aws.env["ACTIONS_QUEUE_URL"])
    secrets = aws.client("secretsmanager")
    # A Page token is no use for an Instagram Login account: without its Instagram token, a dry run.
    secrets.put_secret_value(SecretId=aws.env["PLATFORM_TOKENS_SECRET_ID"],
                             SecretString=json.dumps({"meta": {"default": "page-token"}}))
    handler("actions").lambda_handler(sqs_records(messages), FakeContext())
    event = store(aws).history("instagram-h1")[-1]
    assert event.action == "action.dry_run"
    assert event.data["call"]["url"] == "https://graph.instagram.com/v27.0/17865799348089039"
    assert event.data["call"]["form"] == {"hide": "true"}


def test_with_its_instagram_token_the_call_is_made(aws: AwsEnv, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    brands = tmp_path / "brands.json"
    brands.write_text(json.dumps({"accounts": {IG_LOGIN_ACCOUNT: {
        "brand": "Floralys", "platform": "instagram", "connection": "instagram_login"}}}), encoding="utf-8")
    monkeypatch.setenv("MODERATO_BRANDS_FILE", str(brands))
    seed(aws, now_case(Label.SPAM, "instagram-h2", platform=Platform.INSTAGRAM, account_id=IG_LOGIN_ACCOUNT,
                       post_id="17865799348089040"))
    status, _ = call(handler("review"), "POST", "/cases/instagram-h2/decisions", MODERATOR,
                     {"expected_version": 1, "decision": "hide"})
    assert status == 200
    aws.client("secretsmanager").put_secret_value(
        SecretId=aws.env["PLATFORM_TOKENS_SECRET_ID"],
        SecretString=json.dumps({"meta": {"default": "page-token"}, "instagram": {IG_LOGIN_ACCOUNT: "ig-token"}}))
    with FakePlatform() as fake:
        monkeypatch.setenv("INSTAGRAM_GRAPH_URL", fake.url)
        monkeypatch.setenv("META_GRAPH_URL", "http://127.0.0.1:9")  # a Page-token call would fail loudly
        messages = receive(aws, aws.env["ACTIONS_QUEUE_URL"])
        assert handler("actions").lambda_handler(sqs_records(messages), FakeContext()) == {"batchItemFailures": []}
        [hide] = fake.received()
    assert (hide.method, hide.path, hide.form, hide.authorized) == ("POST", "/17865799348089040", {"hide": "true"},
                                                                    True)
    case = store(aws).get("instagram-h2")
    assert case is not None and case.hidden and case.actions[0].status == "done"


def test_the_refresher_speaks_x_oauth_and_tells_a_refusal_from_an_outage() -> None:
    from moderato.actions.executor import PlatformError
    from moderato.actions.tokens import RefreshRefused, XClientCredentials
    from moderato.adapters.platform_http import HttpXTokenRefresher

    confidential = XClientCredentials(client_id="cGxhdGZvcm0tY2xpZW50", client_secret="s3cr3t")
    with FakePlatform() as fake:
        fake.issue_x_tokens("x-access-1", "x-refresh-1")
        refresher = HttpXTokenRefresher(lambda: f"{fake.url}/2/oauth2/token")
        grant = refresher.refresh("x-refresh-1", confidential)
        assert grant.access_token != "x-access-1" and grant.refresh_token not in (None, "x-refresh-1")
        assert grant.expires_in == 7200
        [sent] = fake.received("POST", "/2/oauth2/token")
        assert sent.form == {"refresh_token": "x-refresh-1", "grant_type": "refresh_token",
                             "client_id": "cGxhdGZvcm0tY2xpZW50"}
        assert sent.basic_user == "cGxhdGZvcm0tY2xpZW50" and "s3cr3t" not in sent.body
        assert sent.query == ""  # the refresh token never travels in a URL
        with pytest.raises(RefreshRefused, match="HTTP 400: invalid_request"):
            refresher.refresh("x-refresh-1", confidential)  # single-use: spent by the first refresh
        public = XClientCredentials(client_id="cGxhdGZvcm0tY2xpZW50")
        refresher.refresh(grant.refresh_token or "", public)
        assert fake.received("POST", "/2/oauth2/token")[-1].basic_user is None
    with pytest.raises(PlatformError) as outage:
        HttpXTokenRefresher(lambda: "http://127.0.0.1:9/2/oauth2/token").refresh("x-refresh-1", public)
    assert outage.value.retryable

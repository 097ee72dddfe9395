"""The review, actions and SLA-check handlers against moto, with API Gateway v2 events and JWT claims."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from moderato.adapters.case_store import CaseStore
from moderato.cases import opening_event
from moderato.models import Case, Label, Platform
from moderato.review.settings import clear_caches
from tests.integration.conftest import AwsEnv, FakeContext, load_handler
from tests.review_support import claims_of, make_case, review_event

MODERATOR = claims_of("alice", "moderators")
APPROVER = claims_of("bob", "moderators", "approvers")
SELF_APPROVER = claims_of("carol", "approvers")


def handler(name: str) -> Any:
    clear_caches()
    return load_handler(name)


def store(aws: AwsEnv) -> CaseStore:
    return CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb"))


def seed(aws: AwsEnv, *cases: Case) -> None:
    for case in cases:
        store(aws).create(case, opening_event(case))


def call(review: Any, method: str, path: str, claims: dict | None, body: dict | None = None,
         query: dict | None = None) -> tuple[int, Any]:
    answer = review.lambda_handler(review_event(method, path, claims, body, query), FakeContext())
    return int(answer["statusCode"]), json.loads(answer["body"]) if answer.get("body") else None


def now_case(label: Label, case_id: str, **kwargs: Any) -> Case:
    return make_case(label, case_id, now=datetime.now(UTC) - timedelta(minutes=2), **kwargs)


@pytest.fixture
def review(aws: AwsEnv) -> Any:
    return handler("review")


def run_actions(aws: AwsEnv) -> dict[str, Any]:
    messages = aws.messages("ACTIONS_QUEUE_URL")
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "x",
                               "ApproximateFirstReceiveTimestamp": "1"},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:ActionsQueue", "awsRegion": "eu-west-1"}
               for m in messages]
    return handler("actions").lambda_handler({"Records": records}, FakeContext())


def test_no_identity_no_case_data(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1"))
    status, body = call(review, "GET", "/cases", None)
    assert status == 401 and "facebook-s1" not in json.dumps(body)
    status, body = call(review, "GET", "/cases/facebook-s1", claims_of("mallory"))  # valid token, no group
    assert status == 403 and "text" not in json.dumps(body)


def test_list_is_most_urgent_first_filtered_and_paginated(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1"), now_case(Label.CRISIS, "x-c1", platform=Platform.X),
         now_case(Label.COMPLAINT, "facebook-k1"), now_case(Label.COMPLAINT, "facebook-k2", brand="Other"),
         now_case(Label.NORMAL, "facebook-n1"))
    status, body = call(review, "GET", "/cases", MODERATOR)
    assert status == 200
    assert [c["case_id"] for c in body["items"]][:1] == ["x-c1"]
    assert {c["case_id"] for c in body["items"]} == {"x-c1", "facebook-k1", "facebook-k2", "facebook-s1"}
    assert [c["priority"] for c in body["items"]] == sorted(c["priority"] for c in body["items"])
    _, body = call(review, "GET", "/cases", MODERATOR, query={"label": "complaint", "brand": "Floralys"})
    assert [c["case_id"] for c in body["items"]] == ["facebook-k1"]
    _, body = call(review, "GET", "/cases", MODERATOR, query={"platform": "x"})
    assert [c["case_id"] for c in body["items"]] == ["x-c1"]
    seen, cursor = [], None
    while True:
        query = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        _, page = call(review, "GET", "/cases", MODERATOR, query=query)
        seen += [c["case_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen[0] == "x-c1" and sorted(seen) == sorted({"x-c1", "facebook-k1", "facebook-k2", "facebook-s1"})
    status, _ = call(review, "GET", "/cases", MODERATOR, query={"cursor": "!!garbage"})
    assert status == 422


def test_claim_decide_and_history_with_optimistic_concurrency(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1"))
    status, case = call(review, "POST", "/cases/facebook-s1/claim", MODERATOR, {"expected_version": 1})
    assert status == 200 and case["claimed_by"] == "alice" and case["version"] == 2
    status, body = call(review, "POST", "/cases/facebook-s1/claim", APPROVER, {"expected_version": 2})
    assert status == 409 and body["code"] == "claimed_by_other"
    status, body = call(review, "POST", "/cases/facebook-s1/decisions", MODERATOR,
                        {"expected_version": 1, "decision": "hide"})
    assert status == 409 and body["code"] == "stale_version"
    status, case = call(review, "POST", "/cases/facebook-s1/decisions", MODERATOR,
                        {"expected_version": 2, "decision": "hide", "reason": "crypto scam"})
    assert status == 200 and case["hidden"] and case["status"] == "closed"
    status, detail = call(review, "GET", "/cases/facebook-s1", MODERATOR)
    history = detail["history"]
    assert [e["action"] for e in history] == ["triaged", "claimed", "decided.hide"]
    assert history[-1]["actor"] == "alice" and history[-1]["data"]["from_version"] == 2
    assert history[-1]["reason"] == "crypto scam"
    [message] = [json.loads(m["Body"]) for m in aws.messages("ACTIONS_QUEUE_URL")]
    assert message["schema"] == "moderato.action/v1" and message["kind"] == "hide"


def test_bad_bodies_are_422_and_unknown_cases_404(aws: AwsEnv, review: Any) -> None:
    status, _ = call(review, "POST", "/cases/nope/decisions", MODERATOR, {"expected_version": 1, "decision": "delete"})
    assert status == 422
    status, body = call(review, "POST", "/cases/nope/claim", MODERATOR, {"expected_version": 1})
    assert status == 404 and body["code"] == "not_found"


def test_ban_two_people_complainant_protected_and_actions_dry_run(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1", author_id="spammer"),
         now_case(Label.COMPLAINT, "facebook-k1", author_id="jeanne"),
         now_case(Label.SPAM, "facebook-s2", author_id="jeanne"))
    # The author of an open complaint: refused with the reason, on the complaint and on her other posts.
    for case_id in ("facebook-k1", "facebook-s2"):
        status, body = call(review, "POST", f"/cases/{case_id}/ban-proposals", MODERATOR,
                            {"expected_version": 1, "reason": "keeps posting angry messages"})
        assert status == 409 and "must not be silenced" in body["message"] and "facebook-k1" in body["message"]
    status, body = call(review, "POST", "/cases/facebook-k1/decisions", APPROVER,
                        {"expected_version": 1, "decision": "hide"})
    assert status == 409 and body["code"] == "complaint_open"

    status, answer = call(review, "POST", "/cases/facebook-s1/ban-proposals", SELF_APPROVER,
                          {"expected_version": 1, "reason": "same scam link in ten threads"})
    assert status == 201
    proposal_id, version = answer["proposal"]["proposal_id"], answer["case"]["version"]
    path = f"/cases/facebook-s1/ban-proposals/{proposal_id}/approve"
    status, body = call(review, "POST", path, SELF_APPROVER, {"expected_version": version})
    assert status == 403 and "different person" in body["message"]
    status, body = call(review, "POST", path, MODERATOR, {"expected_version": version})
    assert status == 403  # a moderator who is not an approver
    assert aws.messages("ACTIONS_QUEUE_URL") == []
    status, answer = call(review, "POST", path, APPROVER, {"expected_version": version, "reason": "agreed"})
    assert status == 200 and answer["proposal"]["status"] == "approved"
    # No token in PlatformTokens: the actions function records what it would have done.
    sqs = aws.client("sqs")
    messages = aws.messages("ACTIONS_QUEUE_URL")
    for message in messages:
        sqs.send_message(QueueUrl=aws.env["ACTIONS_QUEUE_URL"], MessageBody=message["Body"])
    assert run_actions(aws) == {"batchItemFailures": []}
    history = store(aws).history("facebook-s1")
    assert [e.action for e in history] == ["triaged", "ban.proposed", "ban.approved", "action.dry_run"]
    assert history[-1].data["call"]["url"].endswith(f"/{make_case().post.account_id}/blocked")


def test_feedback_is_kept_for_every_relabel(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.COMPLAINT, "facebook-k1", text="DM me for free followers!!"))
    status, _ = call(review, "POST", "/cases/facebook-k1/decisions", MODERATOR,
                     {"expected_version": 1, "decision": "relabel", "label": "spam",
                      "reason": "a follower-selling bot, not a customer"})
    assert status == 200
    [row] = list(store(aws).feedback())
    assert (row["case_id"], row["from_label"], row["to_label"], row["by"]) == ("facebook-k1", "complaint", "spam",
                                                                             "alice")
    assert row["text"] == "DM me for free followers!!" and row["platform"] == "facebook"


def test_sla_check_counts_overdue_cases(aws: AwsEnv, capsys: pytest.CaptureFixture[str]) -> None:
    old = datetime.now(UTC) - timedelta(hours=2)
    seed(aws, make_case(Label.CRISIS, "x-c1", now=old), make_case(Label.COMPLAINT, "facebook-k1", now=old),
         now_case(Label.SPAM, f"facebook-{uuid.uuid4().hex[:6]}"))
    result = handler("sla_check").lambda_handler({"detail-type": "Scheduled Event"}, FakeContext())
    assert result == {"overdue": 2, "by_kind": {"crisis_ack": 1, "complaint_ack": 1}}
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(m.get("OverdueCases") == [2.0] for m in emitted)


def approved_ban_message(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1", author_id="spammer", post_id="C1"))
    _, answer = call(review, "POST", "/cases/facebook-s1/ban-proposals", MODERATOR,
                     {"expected_version": 1, "reason": "same scam link in ten threads"})
    pid, version = answer["proposal"]["proposal_id"], answer["case"]["version"]
    status, _ = call(review, "POST", f"/cases/facebook-s1/ban-proposals/{pid}/approve", APPROVER,
                     {"expected_version": version})
    assert status == 200


def put_tokens(aws: AwsEnv) -> None:
    aws.client("secretsmanager").put_secret_value(SecretId=aws.env["PLATFORM_TOKENS_SECRET_ID"],
                                                  SecretString=json.dumps({"meta": {"default": "page-token"}}))


def test_actions_call_the_platform_with_a_token(aws: AwsEnv, review: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moderato_local.fake_platform import FakePlatform

    approved_ban_message(aws, review)
    put_tokens(aws)
    with FakePlatform() as platform:
        monkeypatch.setenv("META_GRAPH_URL", platform.url)
        messages = aws.messages("ACTIONS_QUEUE_URL")
        for message in messages:
            aws.client("sqs").send_message(QueueUrl=aws.env["ACTIONS_QUEUE_URL"], MessageBody=message["Body"])
        assert run_actions(aws) == {"batchItemFailures": []}
        [received] = platform.received()
    assert (received.method, received.form, received.authorized) == ("POST", {"user": "spammer"}, True)
    case = store(aws).get("facebook-s1")
    assert case.ban_proposals[0].status == "executed" and case.actions[0].status == "done"


def test_platform_errors_are_recorded_and_retried_later(aws: AwsEnv, review: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    approved_ban_message(aws, review)
    put_tokens(aws)
    monkeypatch.setenv("META_GRAPH_URL", "http://127.0.0.1:9")  # nothing listens there
    messages = aws.messages("ACTIONS_QUEUE_URL")
    for message in messages:
        aws.client("sqs").send_message(QueueUrl=aws.env["ACTIONS_QUEUE_URL"], MessageBody=message["Body"])
    # The only record failed: Powertools fails the whole invocation, and SQS redelivers after the backoff.
    with pytest.raises(BatchProcessingError):
        run_actions(aws)
    case = store(aws).get("facebook-s1")
    assert case.actions[0].status == "failed" and case.actions[0].attempts == 1
    assert case.ban_proposals[0].status == "approved"  # not executed: it will be retried
    assert store(aws).history("facebook-s1")[-1].action == "action.failed"


def test_a_confirmed_spam_hide_is_remembered_for_the_repeat_offender_signal(aws: AwsEnv, review: Any) -> None:
    from moderato.adapters.signal_store import DynamoSignalStore
    from moderato.signals.engine import offender_key

    seed(aws, now_case(Label.SPAM, "facebook-rep1", author_id="spammer-9"),
         now_case(Label.COMPLAINT, "facebook-rep2", author_id="customer-3"))
    status, _ = call(review, "POST", "/cases/facebook-rep1/decisions", MODERATOR,
                     {"expected_version": 1, "decision": "hide", "reason": "crypto promo"})
    assert status == 200
    signals = DynamoSignalStore(aws.env["SIGNALS_TABLE_NAME"], aws.client("dynamodb"))
    assert signals.counts(offender_key("facebook", "spammer-9"), "TOTAL", "TOTAL") == {"TOTAL": 1}
    assert signals.counts(offender_key("facebook", "customer-3"), "TOTAL", "TOTAL") == {}

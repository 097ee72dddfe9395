"""The review, actions and SLA-check handlers against moto, with API Gateway v2 events and JWT claims."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from moderato.adapters.case_store import CaseStore
from moderato.models import Case, CaseEvent, Label, Platform
from moderato.review.settings import clear_caches
from moderato.settings import SlaPolicy
from moderato.triage.routing import route
from moderato_cli.openapi_doc import OPENAPI_PATH
from moderato_local.fake_platform import FakePlatform
from tests.integration.conftest import AwsEnv, FakeContext, load_handler
from tests.review_support import ROUTES, claims_of, make_case, review_event

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
        store(aws).create(case)


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
    status, body = call(review, "GET", "/cases", MODERATOR, query={"cursor": "!!garbage"})
    assert status == 400 and body["code"] == "invalid_cursor"


def encode(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.mark.parametrize("position", [
    {"QUEUE#SpamQueue#open": {"pk": "CASE#x"}},  # keys missing
    {"QUEUE#SpamQueue#open": {"pk": "CASE#x", "sk": "CASE", "gsi1pk": "QUEUE#CrisisQueue#open", "gsi1sk": "1#x"}},
    {"QUEUE#SpamQueue#open": {"pk": 7, "sk": "CASE", "gsi1pk": "QUEUE#SpamQueue#open", "gsi1sk": "1#x"}},
    {"QUEUE#SpamQueue#open": ["done"]},
    {"QUEUE#Elsewhere#open": "done"},  # a stream this listing does not have
    {"QUEUE#SpamQueue#open": {"pk": "CASE#x", "sk": "CASE", "gsi1pk": "QUEUE#SpamQueue#open", "gsi1sk": "3#x",
                              "extra": "y"}},
])
def test_a_tampered_but_well_formed_cursor_is_a_400_not_a_500(aws: AwsEnv, review: Any, position: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1"))
    status, body = call(review, "GET", "/cases", MODERATOR, query={"cursor": encode(position)})
    assert status == 400 and body["code"] == "invalid_cursor" and "cursor" in body["message"]


def test_a_cursor_from_the_api_still_works_after_validation(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1"), now_case(Label.SPAM, "facebook-s2"))
    _, first = call(review, "GET", "/cases", MODERATOR, query={"limit": "1", "queue": "SpamQueue"})
    status, second = call(review, "GET", "/cases", MODERATOR,
                          query={"limit": "1", "queue": "SpamQueue", "cursor": first["next_cursor"]})
    assert status == 200 and {first["items"][0]["case_id"], second["items"][0]["case_id"]} == {"facebook-s1",
                                                                                             "facebook-s2"}


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
    # Requested, not yet performed: the case does not claim the post is hidden.
    assert status == 200 and not case["hidden"] and case["status"] == "closed"
    assert [(a["kind"], a["status"]) for a in case["actions"]] == [("hide", "requested")]
    status, detail = call(review, "GET", "/cases/facebook-s1", MODERATOR)
    history = detail["history"]
    assert [e["action"] for e in history] == ["triaged", "claimed", "decided.hide"]
    assert history[-1]["actor"] == "alice" and history[-1]["data"]["from_version"] == 2
    assert history[-1]["reason"] == "crypto scam"
    [message] = [json.loads(m["Body"]) for m in aws.messages("ACTIONS_QUEUE_URL")]
    assert message["schema"] == "moderato.action/v1" and message["kind"] == "hide"


def test_bad_bodies_are_422_with_readable_messages_and_unknown_cases_404(aws: AwsEnv, review: Any) -> None:
    status, body = call(review, "POST", "/cases/nope/decisions", MODERATOR,
                        {"expected_version": 0, "decision": "delete", "colour": "red"})
    assert status == 422 and body["code"] == "invalid_request"
    messages = {tuple(d["loc"]): d["message"] for d in body["detail"]}
    assert "'hide'" in messages[("body", "decision")] and "'close'" in messages[("body", "decision")]
    assert messages[("body", "expected_version")] == "expected_version: must be at least 1"
    assert messages[("body", "colour")] == "colour: is not a field of this request"
    assert "decision: must be one of" in body["message"] and "delete" not in body["message"]  # never echoed
    status, body = call(review, "POST", "/cases/nope/ban-proposals", MODERATOR,
                        {"expected_version": 1, "reason": "spam"})
    assert status == 422 and body["message"] == "invalid request: reason: needs at least 10 characters"
    status, body = call(review, "GET", "/cases", MODERATOR, query={"status": "pending", "limit": "500"})
    assert status == 422 and "status: must be one of 'open'" in body["message"]
    assert "limit: must be at most 100" in body["message"]
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


# ---------------------------------------------------------------- the committed OpenAPI document is the contract

DOCUMENT = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
_DOC_URI = "urn:moderato:review-openapi"
_REGISTRY = Registry().with_resource(_DOC_URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012))
GATEWAY_401 = {"message": "Unauthorized"}  # API Gateway's (and the local gateway's) answer without a valid token
DAVE = claims_of("dave", "moderators")


def _template(method: str, path: str) -> str:
    parts = path.strip("/").split("/")
    key = ROUTES[(method, len(parts))] if method == "GET" else ROUTES[(method, parts[-1])]
    return key.split(" ", 1)[1]


def documented(method: str, template: str, status: int) -> Draft202012Validator:
    responses = DOCUMENT["paths"][template][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} answered {status}, which docs/openapi.json does not list"
    pointer = "/".join(part.replace("~", "~0").replace("/", "~1") for part in
                       ("paths", template, method.lower(), "responses", str(status), "content", "application/json",
                        "schema"))
    return Draft202012Validator({"$ref": f"{_DOC_URI}#/{pointer}"}, registry=_REGISTRY)


class ContractClient:
    """Calls the handler in process and checks every answer against the committed document."""

    def __init__(self, review: Any) -> None:
        self.review = review
        self.seen: set[tuple[str, str, int]] = set()
        self.codes: set[str] = set()

    def __call__(self, method: str, path: str, claims: dict | None, body: Any = None,
                 query: dict | None = None) -> tuple[int, Any]:
        status, answer = call(self.review, method, path, claims, body, query)
        template = _template(method, path)
        problems = [error.message for error in documented(method, template, status).iter_errors(answer)]
        assert problems == [], f"{method} {path} -> {status} {answer}: not as documented: {problems}"
        self.seen.add((method, template, status))
        if status >= 400:
            self.codes.add(answer["code"])
        return status, answer


class BrokenQueue:
    def send(self, case: Case, action: Any) -> str:
        raise ConnectionError("SQS is down")


def test_every_route_answers_what_the_openapi_document_says(aws: AwsEnv, review: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1", author_id="spammer"),
         now_case(Label.SPAM, "facebook-s2", author_id="bot-2"), now_case(Label.SPAM, "facebook-s3", author_id="bot-3"),
         now_case(Label.COMPLAINT, "facebook-k1", author_id="jeanne"),
         now_case(Label.SPAM, "facebook-w1", author_id="wave-bot-1"))
    api = ContractClient(review)
    broken = pytest.MonkeyPatch()

    def failing_queue() -> None:
        broken.setattr(review._service, "actions", BrokenQueue())

    # Listing and reading.
    assert api("GET", "/cases", MODERATOR)[0] == 200
    assert api("GET", "/cases", MODERATOR, query={"limit": "0"})[0] == 422
    assert api("GET", "/cases", MODERATOR, query={"cursor": encode({"QUEUE#SpamQueue#open": ["x"]})})[0] == 400
    assert api("GET", "/cases/facebook-s1", MODERATOR)[0] == 200
    assert api("GET", "/cases/nope", MODERATOR)[0] == 404

    # Claim and release.
    status, case = api("POST", "/cases/facebook-s1/claim", MODERATOR, {"expected_version": 1})
    assert status == 200
    assert api("POST", "/cases/facebook-s1/claim", APPROVER, {"expected_version": 1})[0] == 409  # stale
    assert api("POST", "/cases/facebook-s1/claim", APPROVER, {"expected_version": 2})[0] == 409  # claimed by alice
    assert api("POST", "/cases/facebook-s1/claim", MODERATOR, {"expected_version": "two"})[0] == 422
    assert api("POST", "/cases/nope/claim", MODERATOR, {"expected_version": 1})[0] == 404
    assert api("POST", "/cases/facebook-s1/release", DAVE, {"expected_version": 2})[0] == 403  # not the holder
    status, case = api("POST", "/cases/facebook-s1/release", MODERATOR, {"expected_version": 2})
    assert status == 200
    assert api("POST", "/cases/facebook-s1/release", MODERATOR, {"expected_version": 3})[0] == 409  # not claimed
    assert api("POST", "/cases/facebook-s1/release", MODERATOR, {})[0] == 422
    assert api("POST", "/cases/nope/release", MODERATOR, {"expected_version": 1})[0] == 404

    # Decisions.
    assert api("POST", "/cases/facebook-k1/decisions", MODERATOR, {"expected_version": 1, "decision": "hide"})[0] == 409
    assert api("POST", "/cases/facebook-k1/decisions", MODERATOR,
               {"expected_version": 1, "decision": "relabel", "label": "spam", "reason": "bot"})[0] == 422  # domain
    assert api("POST", "/cases/facebook-k1/decisions", MODERATOR, {"expected_version": 1, "decision": "x"})[0] == 422
    assert api("POST", "/cases/nope/decisions", MODERATOR, {"expected_version": 1, "decision": "hide"})[0] == 404
    failing_queue()
    assert api("POST", "/cases/facebook-s2/decisions", MODERATOR, {"expected_version": 1, "decision": "hide"})[0] == 503
    broken.undo()
    status, case = api("POST", "/cases/facebook-s1/decisions", MODERATOR,
                       {"expected_version": 3, "decision": "hide", "reason": "crypto scam"})
    assert status == 200

    # Bans.
    reason = "the same phishing link in ten threads"
    assert api("POST", "/cases/facebook-k1/ban-proposals", MODERATOR, {"expected_version": 1, "reason": reason})[0] \
        == 409
    assert api("POST", "/cases/facebook-s1/ban-proposals", MODERATOR, {"expected_version": 4, "reason": "bad"})[0] \
        == 422
    assert api("POST", "/cases/nope/ban-proposals", MODERATOR, {"expected_version": 1, "reason": reason})[0] == 404
    status, answer = api("POST", "/cases/facebook-s3/ban-proposals", MODERATOR, {"expected_version": 1,
                                                                                "reason": reason})
    assert status == 201
    pid, version = answer["proposal"]["proposal_id"], answer["case"]["version"]
    approve = f"/cases/facebook-s3/ban-proposals/{pid}/approve"
    reject = f"/cases/facebook-s3/ban-proposals/{pid}/reject"
    assert api("POST", approve, MODERATOR, {"expected_version": version})[0] == 403  # not an approver
    assert api("POST", "/cases/facebook-s3/ban-proposals/nope/approve", APPROVER, {"expected_version": version})[0] \
        == 404
    assert api("POST", approve, APPROVER, {"expected_version": -1})[0] == 422
    assert api("POST", "/cases/nope/ban-proposals/x/approve", APPROVER, {"expected_version": 1})[0] == 404
    assert api("POST", reject, DAVE, {"expected_version": version})[0] == 403  # neither approver nor proposer
    assert api("POST", reject, MODERATOR, {"expected_version": version, "reason": 5})[0] == 422
    assert api("POST", "/cases/facebook-s3/ban-proposals/nope/reject", MODERATOR, {"expected_version": version})[0] \
        == 404
    assert api("POST", "/cases/nope/ban-proposals/x/reject", MODERATOR, {"expected_version": 1})[0] == 404
    status, answer = api("POST", reject, MODERATOR, {"expected_version": version, "reason": "withdrawn"})
    assert status == 200
    assert api("POST", reject, MODERATOR, {"expected_version": answer["case"]["version"]})[0] == 409
    status, answer = api("POST", "/cases/facebook-s3/ban-proposals", MODERATOR,
                         {"expected_version": answer["case"]["version"], "reason": reason})
    pid, version = answer["proposal"]["proposal_id"], answer["case"]["version"]
    approve = f"/cases/facebook-s3/ban-proposals/{pid}/approve"
    failing_queue()
    status, answer = api("POST", approve, APPROVER, {"expected_version": version})
    assert status == 503
    broken.undo()
    assert api("POST", approve, APPROVER, {"expected_version": version + 1})[0] == 409  # already approved
    status, answer = api("POST", "/cases/facebook-s2/ban-proposals", MODERATOR, {"expected_version": 2,
                                                                                "reason": reason})
    pid = answer["proposal"]["proposal_id"]
    assert api("POST", f"/cases/facebook-s2/ban-proposals/{pid}/approve", APPROVER,
               {"expected_version": answer["case"]["version"]})[0] == 200

    # Undo a hide (facebook-s1's hide is on its way; facebook-s2's too, from the 503 above).
    assert api("POST", "/cases/facebook-s1/undo-hide", MODERATOR, {"expected_version": 4})[0] == 422  # no reason
    assert api("POST", "/cases/nope/undo-hide", MODERATOR, {"expected_version": 1, "reason": "oops"})[0] == 404
    status, case = api("POST", "/cases/facebook-s1/undo-hide", MODERATOR,
                       {"expected_version": 4, "reason": "a real customer after all"})
    assert status == 200
    assert api("POST", "/cases/facebook-s1/undo-hide", MODERATOR,
               {"expected_version": case["version"], "reason": "again"})[0] == 409
    failing_queue()
    status, case = api("POST", "/cases/facebook-s2/undo-hide", MODERATOR,
                       {"expected_version": 4, "reason": "a real customer after all"})
    assert status == 503
    broken.undo()

    # A spam wave: each case decided on its own, one outcome per case.
    wave = {"reason": "the same crypto scam pasted by bots", "cases": [
        {"case_id": "facebook-w1", "expected_version": 1}, {"case_id": "facebook-k1", "expected_version": 1},
        {"case_id": "nope", "expected_version": 1}]}
    status, answer = api("POST", "/cases/bulk-hide", MODERATOR, wave)
    assert status == 200
    assert [(r["ok"], r.get("code")) for r in answer["results"]] == [(True, None), (False, "complaint_open"),
                                                                     (False, "not_found")]
    assert api("POST", "/cases/bulk-hide", MODERATOR, {**wave, "reason": "bots"})[0] == 422
    assert api("POST", "/cases/bulk-hide", MODERATOR, {**wave, "cases": []})[0] == 422

    # Every route: 401 without identity, 403 for a token without a review group.
    bodies = {"claim": {"expected_version": 1}, "release": {"expected_version": 1},
              "decisions": {"expected_version": 1, "decision": "close"},
              "ban-proposals": {"expected_version": 1, "reason": reason}, "approve": {"expected_version": 1},
              "reject": {"expected_version": 1}, "undo-hide": {"expected_version": 1, "reason": "oops"},
              "bulk-hide": wave}
    paths = [("GET", "/cases"), ("GET", "/cases/facebook-s1"), ("POST", "/cases/bulk-hide"),
             *(("POST", f"/cases/facebook-s1/{step}") for step in ("claim", "release", "decisions", "ban-proposals",
                                                                   "undo-hide")),
             *(("POST", f"/cases/facebook-s1/ban-proposals/p/{step}") for step in ("approve", "reject"))]
    for method, path in paths:
        body = bodies.get(path.rsplit("/", 1)[-1]) if method == "POST" else None
        assert api(method, path, None, body)[0] == 401
        assert api(method, path, claims_of("mallory"), body)[0] == 403
        assert not list(documented(method, _template(method, path), 401).iter_errors(GATEWAY_401))

    operations = {(method.upper(), template, int(status)) for template, item in DOCUMENT["paths"].items()
                  for method, operation in item.items() for status in operation["responses"]}
    unreachable = {("GET", "/cases/{case_id}", 422)}  # documented for completeness: a path id always validates
    assert operations - unreachable - api.seen == set()
    assert api.codes == {"not_authenticated", "forbidden", "not_found", "proposal_not_found", "stale_version",
                         "claimed_by_other", "decision_not_allowed", "complaint_open", "proposal_not_pending",
                         "invalid_cursor", "invalid_request", "actions_unavailable"}


def test_the_contract_check_can_fail() -> None:
    # Guard against a schema that accepts anything: a body missing required fields is refused.
    assert list(documented("GET", "/cases", 200).iter_errors({"items": [{"case_id": "x"}]}))
    assert list(documented("POST", "/cases/{case_id}/claim", 409).iter_errors({"message": "no code"}))
    with pytest.raises(AssertionError, match="does not list"):
        documented("GET", "/cases", 409)


# ---------------------------------------------------------------- the complainant guardrail covers crisis cases


def test_the_author_of_an_open_crisis_case_cannot_be_banned_anywhere(aws: AwsEnv, review: Any) -> None:
    # She reported a health hazard (crisis) and also wrote an off-topic post (spam).
    seed(aws, now_case(Label.CRISIS, "facebook-c1", author_id="jeanne"),
         now_case(Label.SPAM, "facebook-s9", author_id="jeanne"),
         now_case(Label.COMPLAINT, "facebook-k2", author_id="marc"),
         now_case(Label.SPAM, "facebook-s8", author_id="marc"))
    for case_id in ("facebook-c1", "facebook-s9"):
        status, body = call(review, "POST", f"/cases/{case_id}/ban-proposals", MODERATOR,
                            {"expected_version": 1, "reason": "keeps posting about the chocolates"})
        assert status == 409 and body["code"] == "complaint_open" and "facebook-c1" in body["message"]
        assert "must not be silenced" in body["message"]
    # A complaint escalated to crisis still protects its author (the store looks in CrisisQueue too).
    status, case = call(review, "POST", "/cases/facebook-k2/decisions", MODERATOR,
                        {"expected_version": 1, "decision": "escalate",
                         "reason": "says her child is in hospital after eating them"})
    assert status == 200 and case["queue"] == "CrisisQueue"
    status, body = call(review, "POST", "/cases/facebook-s8/ban-proposals", MODERATOR,
                        {"expected_version": 1, "reason": "the same link in every thread"})
    assert status == 409 and "facebook-k2" in body["message"]
    # Approval is refused too when the crisis opened after the proposal.
    seed(aws, now_case(Label.SPAM, "facebook-s7", author_id="lea"))
    _, answer = call(review, "POST", "/cases/facebook-s7/ban-proposals", MODERATOR,
                     {"expected_version": 1, "reason": "the same link in every thread"})
    seed(aws, now_case(Label.CRISIS, "facebook-c7", author_id="lea"))
    status, body = call(review, "POST", f"/cases/facebook-s7/ban-proposals/{answer['proposal']['proposal_id']}/approve",
                        APPROVER, {"expected_version": answer["case"]["version"]})
    assert status == 409 and "facebook-c7" in body["message"]
    # Re-labelled with a written reason, the crisis no longer protects her.
    status, _ = call(review, "POST", "/cases/facebook-c1/decisions", MODERATOR,
                     {"expected_version": 1, "decision": "relabel", "label": "spam",
                      "reason": "a fake 'recall notice' linking to a phishing page"})
    assert status == 200
    status, _ = call(review, "POST", "/cases/facebook-s9/ban-proposals", MODERATOR,
                     {"expected_version": 1, "reason": "phishing in ten threads today"})
    assert status == 201


def test_no_post_of_a_person_with_an_open_complaint_is_hidden_on_any_surface_of_the_brand(
    aws: AwsEnv, review: Any,
) -> None:
    from moderato.adapters.signal_store import DynamoSignalStore
    from moderato.signals.engine import offender_key

    # Her complaint is in Messenger; a comment of hers on the Page was labelled spam.
    seed(aws, now_case(Label.COMPLAINT, "messenger-k3", author_id="jeanne", platform=Platform.MESSENGER),
         now_case(Label.SPAM, "facebook-s3", author_id="jeanne"))
    status, body = call(review, "POST", "/cases/facebook-s3/decisions", MODERATOR,
                        {"expected_version": 1, "decision": "hide", "reason": "off-topic promo link"})
    assert status == 409 and body["code"] == "complaint_open"
    assert "complaint on messenger: case messenger-k3" in body["message"]
    assert store(aws).get("facebook-s3").actions == []
    signals = DynamoSignalStore(aws.env["SIGNALS_TABLE_NAME"], aws.client("dynamodb"))
    assert signals.counts(offender_key("facebook", "jeanne"), "TOTAL", "TOTAL") == {}
    # Once the complaint is re-labelled with a written reason, the spam may be hidden.
    status, _ = call(review, "POST", "/cases/messenger-k3/decisions", MODERATOR,
                     {"expected_version": 1, "decision": "relabel", "label": "normal",
                      "reason": "a question about opening hours, not a complaint"})
    assert status == 200
    status, case = call(review, "POST", "/cases/facebook-s3/decisions", MODERATOR,
                        {"expected_version": 1, "decision": "hide", "reason": "off-topic promo link"})
    assert status == 200 and case["actions"][0]["kind"] == "hide"


# ---------------------------------------------------------------- a case a reviewer acted on never expires


def expiring_normal_case(aws: AwsEnv, case_id: str) -> Case:
    """A normal case with its retention TTL, and a second history event (an edit) that carries it too."""
    created = datetime.now(UTC) - timedelta(minutes=2)
    case = make_case(Label.NORMAL, case_id, now=created)
    expires = route(Label.NORMAL, created, SlaPolicy()).expires_at
    store(aws).create(case, expires)
    edited = case.model_copy(update={"version": 2, "updated_at": created + timedelta(minutes=1)})
    store(aws).save(edited, CaseEvent(case_id=case_id, at=created + timedelta(minutes=1), actor="system:triage",
                                      action="edited", version=2), expected_version=1)
    return edited


def case_rows(aws: AwsEnv, case_id: str) -> list[dict[str, Any]]:
    return aws.client("dynamodb").query(
        TableName=aws.env["CASES_TABLE_NAME"], KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CASE#{case_id}"}})["Items"]


def expiry_of(aws: AwsEnv, case_id: str) -> dict[str, bool]:
    """Whether the case and each history event expire (action leases are plumbing, not history: skipped)."""
    return {item["sk"]["S"].split("#")[0] + ("" if item["sk"]["S"] == "CASE" else item["sk"]["S"][6:14]):
            "expires_at" in item for item in case_rows(aws, case_id) if not item["sk"]["S"].startswith("LEASE#")}


@pytest.mark.parametrize(("step", "body"), [
    ("claim", {}),
    ("decisions", {"decision": "hide", "reason": "a scam after all"}),
    ("decisions", {"decision": "close"}),
    ("decisions", {"decision": "reply", "reply_text": "Thanks, we are on it"}),
    ("decisions", {"decision": "relabel", "label": "complaint", "reason": "she says her order never came"}),
    ("ban-proposals", {"reason": "the same phishing link in ten threads"}),
])
def test_once_a_reviewer_acts_the_case_and_its_history_lose_their_expiry(aws: AwsEnv, review: Any, step: str,
                                                                           body: dict[str, Any]) -> None:
    expiring_normal_case(aws, "facebook-n1")
    expiring_normal_case(aws, "facebook-n2")  # nobody touches this one
    before = expiry_of(aws, "facebook-n1")
    assert before == {"CASE": True, "EVENT00000001": True, "EVENT00000002": True}
    status, _ = call(review, "POST", f"/cases/facebook-n1/{step}", MODERATOR, {"expected_version": 2, **body})
    assert status in (200, 201)
    after = expiry_of(aws, "facebook-n1")
    assert after == {"CASE": False, "EVENT00000001": False, "EVENT00000002": False, "EVENT00000003": False}
    assert set(expiry_of(aws, "facebook-n2").values()) == {True}
    # The undo-hide and the audit trail stay possible: later writes do not bring the expiry back.
    if step == "decisions" and body["decision"] == "hide":
        assert run_actions(aws) == {"batchItemFailures": []}
        status, _ = call(review, "POST", "/cases/facebook-n1/undo-hide", MODERATOR,
                         {"expected_version": 4, "reason": "a real customer after all"})
        assert status == 200 and not any(expiry_of(aws, "facebook-n1").values())


# ---------------------------------------------------------------- actions: status, lease, retries


def test_the_case_says_hidden_only_once_the_hide_was_performed(aws: AwsEnv, review: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-h1"))
    status, _ = call(review, "POST", "/cases/facebook-h1/decisions", MODERATOR,
                     {"expected_version": 1, "decision": "hide"})
    assert status == 200
    _, detail = call(review, "GET", "/cases/facebook-h1", MODERATOR)
    assert detail["visibility"] == "hide_pending" and not detail["case"]["hidden"]
    _, page = call(review, "GET", "/cases", MODERATOR, query={"status": "closed", "queue": "SpamQueue"})
    assert [(a["kind"], a["status"]) for a in page["items"][0]["actions"]] == [("hide", "requested")]
    assert run_actions(aws) == {"batchItemFailures": []}  # no token: dry run
    _, detail = call(review, "GET", "/cases/facebook-h1", MODERATOR)
    assert detail["visibility"] == "hidden" and detail["case"]["hidden"]
    assert detail["case"]["actions"][0]["status"] == "dry_run"


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePlatform]:
    with FakePlatform() as fake:
        monkeypatch.setenv("META_GRAPH_URL", fake.url)
        yield fake


def hide_requested(aws: AwsEnv, review: Any, case_id: str = "facebook-h2") -> None:
    seed(aws, now_case(Label.SPAM, case_id, post_id="C-" + case_id))
    status, _ = call(review, "POST", f"/cases/{case_id}/decisions", MODERATOR,
                     {"expected_version": 1, "decision": "hide"})
    assert status == 200
    put_tokens(aws)


def sqs_records(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """An SQS event from messages as received (real receipt handles and receive counts)."""
    return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                         "attributes": {"ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"],
                                        "SentTimestamp": "1", "SenderId": "x",
                                        "ApproximateFirstReceiveTimestamp": "1"},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:ActionsQueue",
                         "awsRegion": "eu-west-1"} for m in messages]}


def receive(aws: AwsEnv, url: str) -> list[dict[str, Any]]:
    return aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                             AttributeNames=["All"]).get("Messages", [])


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_permanent_platform_error_is_recorded_with_its_answer_and_not_retried(
    aws: AwsEnv, review: Any, platform: FakePlatform, status: int,
) -> None:
    hide_requested(aws, review)
    platform.fail_next(status, times=3)
    messages = receive(aws, aws.env["ACTIONS_QUEUE_URL"])
    actions = handler("actions")
    assert actions.lambda_handler(sqs_records(messages), FakeContext()) == {"batchItemFailures": []}
    case = store(aws).get("facebook-h2")
    assert case is not None and not case.hidden
    assert case.actions[0].status == "failed" and case.actions[0].completed_at is not None
    event = store(aws).history("facebook-h2")[-1]
    assert event.action == "action.failed" and event.data["http_status"] == status and event.data["retry"] is False
    assert "fake platform error" in event.data["answer"]
    # A redelivery (SQS is at-least-once) does not call the platform again.
    assert actions.lambda_handler(sqs_records(messages), FakeContext()) == {"batchItemFailures": []}
    assert len(platform.received()) == 1


def test_transient_platform_errors_back_off_by_changing_the_message_visibility_then_reach_the_dlq(
    aws: AwsEnv, review: Any, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import moto.sqs.models

    hide_requested(aws, review)
    platform.fail_next(503, times=10)
    now_ms = [datetime.now(UTC).timestamp() * 1000]
    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda: now_ms[0])  # SQS's clock, under our control
    url, actions = aws.env["ACTIONS_QUEUE_URL"], handler("actions")
    for receive_count, delay in enumerate((30, 60, 120, 240, 480), start=1):
        messages = receive(aws, url)
        assert [m["Attributes"]["ApproximateReceiveCount"] for m in messages] == [str(receive_count)]
        with pytest.raises(BatchProcessingError):  # the only record failed
            actions.lambda_handler(sqs_records(messages), FakeContext())
        start = now_ms[0]
        now_ms[0] = start + (delay - 1) * 1000
        assert receive(aws, url) == [], f"visible before its {delay} s backoff"
        now_ms[0] = start + (delay + 1) * 1000  # the queue default would hide it 180 s: the handler set it
    case = store(aws).get("facebook-h2")
    assert case is not None and case.actions[0].status == "failed" and case.actions[0].attempts == 5
    assert case.actions[0].completed_at is None and not case.hidden
    assert len(platform.received()) == 5
    # The sixth receive moves it to the DLQ (maxReceiveCount 5).
    assert receive(aws, url) == []
    assert len(receive(aws, aws.resolver.ref("ActionsDLQ"))) == 1


def test_the_backoff_is_capped_at_15_minutes(aws: AwsEnv, review: Any, platform: FakePlatform,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.sqs.models

    hide_requested(aws, review)
    platform.fail_next(429)
    now_ms = [datetime.now(UTC).timestamp() * 1000]
    monkeypatch.setattr(moto.sqs.models, "unix_time_millis", lambda: now_ms[0])
    messages = receive(aws, aws.env["ACTIONS_QUEUE_URL"])
    records = sqs_records(messages)
    records["Records"][0]["attributes"]["ApproximateReceiveCount"] = "9"  # as if received many times before
    with pytest.raises(BatchProcessingError):
        handler("actions").lambda_handler(records, FakeContext())
    now_ms[0] += 899_000
    assert receive(aws, aws.env["ACTIONS_QUEUE_URL"]) == []
    now_ms[0] += 2_000
    assert len(receive(aws, aws.env["ACTIONS_QUEUE_URL"])) == 1


def test_two_concurrent_deliveries_call_the_platform_once(aws: AwsEnv, review: Any) -> None:
    from moderato.actions.calls import Endpoints, PlatformCall
    from moderato.actions.executor import ActionBusy, ActionExecutor, Outcome
    from moderato.actions.messages import ActionMessage
    from moderato.case_errors import StaleCaseVersion

    hide_requested(aws, review)
    [message] = [ActionMessage.model_validate_json(m["Body"]) for m in aws.messages("ACTIONS_QUEUE_URL")]
    cases, calls, busy = store(aws), [], []

    class Tokens:
        def token_for(self, family: str, account_id: str) -> str:
            return "tok"

    def executor(transport: Any) -> ActionExecutor:
        return ActionExecutor(cases=cases, transport=transport, tokens=Tokens(), endpoints=Endpoints(),
                              leases=cases, stale_errors=(StaleCaseVersion,))

    class DuplicateArrivesMidCall:
        def send(self, call: PlatformCall, token: str) -> dict[str, Any]:
            try:  # SQS hands the same message to a second invocation while the first is on the platform
                executor(self).run(message)
            except ActionBusy as error:
                busy.append(error)
            calls.append(call)
            return {"success": True}

    assert executor(DuplicateArrivesMidCall()).run(message) == Outcome.DONE
    assert len(calls) == 1 and len(busy) == 1
    assert executor(DuplicateArrivesMidCall()).run(message) == Outcome.SKIPPED  # lease released, action done
    assert len(calls) == 1
    assert [e.action for e in cases.history("facebook-h2")][-1] == "action.done"
    # The lease row is never deleted by a function (no DeleteItem): DynamoDB's TTL removes it later.
    [lease] = [row for row in case_rows(aws, "facebook-h2") if row["sk"]["S"].startswith("LEASE#")]
    assert int(lease["expires_at"]["N"]) > datetime.now(UTC).timestamp() + 24 * 3600

"""The review and actions handlers tell people apart by their token's sub, never by their user name (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from moderato.models import Label
from tests.integration.conftest import AwsEnv
from tests.integration.test_review import call, handler, now_case, run_actions, seed, store
from tests.review_support import claims_of
from tests.unit.review_domain.test_identity_sub import ALICE_SPELLINGS


def claims(name: str, sub: str, *groups: str) -> dict[str, Any]:
    return {**claims_of(name, *groups), "sub": sub}


ALICE = claims("alice", "sub-alice", "moderators", "approvers")


@pytest.fixture
def api(aws: AwsEnv) -> Any:
    return handler("review")


def propose(api: Any, aws: AwsEnv) -> tuple[str, int]:
    seed(aws, now_case(Label.SPAM, "facebook-s1", author_id="spammer"))
    status, answer = call(api, "POST", "/cases/facebook-s1/ban-proposals", ALICE,
                          {"expected_version": 1, "reason": "same scam link in ten threads"})
    assert status == 201 and answer["proposal"]["proposed_by_sub"] == "sub-alice"
    return f"/cases/facebook-s1/ban-proposals/{answer['proposal']['proposal_id']}/approve", answer["case"]["version"]


def test_a_token_without_a_sub_is_refused_401(aws: AwsEnv, api: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1"))
    no_sub = {key: value for key, value in claims_of("alice", "moderators").items() if key != "sub"}
    for method, path, body in (("GET", "/cases", None), ("GET", "/cases/facebook-s1", None),
                               ("POST", "/cases/facebook-s1/claim", {"expected_version": 1})):
        status, answer = call(api, method, path, no_sub, body)
        assert status == 401 and answer["code"] == "not_authenticated" and "sub" in answer["message"]
    assert store(aws).get("facebook-s1").version == 1


@pytest.mark.parametrize("name", ALICE_SPELLINGS)
def test_the_proposer_under_another_spelling_is_refused_and_nothing_is_queued(aws: AwsEnv, api: Any,
                                                                              name: str) -> None:
    path, version = propose(api, aws)
    status, body = call(api, "POST", path, claims(name, "sub-alice", "approvers"), {"expected_version": version})
    assert status == 403 and "different person" in body["message"]
    assert aws.messages("ACTIONS_QUEUE_URL") == []


def test_a_look_alike_with_another_sub_approves_and_the_actions_function_runs_the_ban(aws: AwsEnv,
                                                                                     api: Any) -> None:
    path, version = propose(api, aws)
    look_alike = claims("\u0430lice", "sub-another-person", "approvers")  # Cyrillic а, another account
    status, answer = call(api, "POST", path, look_alike, {"expected_version": version})
    assert status == 200 and answer["proposal"]["decided_by_sub"] == "sub-another-person"
    sqs = aws.client("sqs")
    for message in aws.messages("ACTIONS_QUEUE_URL"):
        sqs.send_message(QueueUrl=aws.env["ACTIONS_QUEUE_URL"], MessageBody=message["Body"])
    assert run_actions(aws) == {"batchItemFailures": []}
    history = store(aws).history("facebook-s1")
    assert [e.action for e in history][-1] == "action.dry_run"
    # The history shows names, and keeps who each person was.
    approved = next(e for e in history if e.action == "ban.approved")
    assert (approved.actor, approved.actor_sub, approved.data["proposed_by"]) == \
        ("\u0430lice", "sub-another-person", "alice")


def test_a_claim_is_held_by_the_sub(aws: AwsEnv, api: Any) -> None:
    seed(aws, now_case(Label.SPAM, "facebook-s1"))
    status, case = call(api, "POST", "/cases/facebook-s1/claim", ALICE, {"expected_version": 1})
    assert status == 200 and (case["claimed_by"], case["claimed_by_sub"]) == ("alice", "sub-alice")
    status, body = call(api, "POST", "/cases/facebook-s1/claim", claims("alice", "sub-other", "moderators"),
                        {"expected_version": 2})
    assert status == 409 and body["code"] == "claimed_by_other"
    status, case = call(api, "POST", "/cases/facebook-s1/decisions", claims("ALICE ", "sub-alice", "moderators"),
                        {"expected_version": 2, "decision": "close"})
    assert status == 200 and case["claimed_by"] is None

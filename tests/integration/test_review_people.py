"""One person across a brand's surfaces, against moto: the ByPerson index, ?author=, related cases, ?order=,
and the one crisis alert per case whether triage or a reviewer made it a crisis."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from moderato.adapters.case_store import PERSON_INDEX
from moderato.case_errors import StaleCaseVersion
from moderato.models import Case, CaseEvent, CaseStatus, Label, Platform
from tests.integration.conftest import AwsEnv
from tests.integration.test_review import DOCUMENT, MODERATOR, call, documented, handler, now_case, seed, store
from tests.integration.test_triage import delivery, run_triage
from tests.support import x_tweet

JEANNE = "24266381753005180"
JEANNE_KEY = f"floralys/meta/{JEANNE}"
X_ACCOUNT = "2244994945"


def jeanne(label: Label, case_id: str, platform: Platform, minutes_ago: int = 2, **kwargs: Any) -> Case:
    account = {Platform.X: X_ACCOUNT, Platform.INSTAGRAM: "17841405726653026"}.get(platform, "206070979425408")
    case = now_case(label, case_id, author_id=kwargs.pop("author_id", JEANNE), platform=platform,
                    account_id=account, **kwargs)
    created = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return case.model_copy(update={"created_at": created, "updated_at": created})


@pytest.fixture
def review(aws: AwsEnv) -> Any:
    return handler("review")


@pytest.fixture
def story(aws: AwsEnv) -> None:
    """Jeanne's Facebook comment and Messenger complaint, her X mention, and a namesake's comment."""
    seed(aws,
         jeanne(Label.COMPLAINT, "facebook-demo02", Platform.FACEBOOK, minutes_ago=30).model_copy(
             update={"order_numbers": ["FL-20931"]}),
         jeanne(Label.COMPLAINT, "messenger-demo07", Platform.MESSENGER, minutes_ago=10).model_copy(
             update={"order_numbers": ["FL-20931"]}),
         jeanne(Label.COMPLAINT, "x-demo03", Platform.X, minutes_ago=20, author_id="987654321"),
         jeanne(Label.SPAM, "facebook-namesake", Platform.FACEBOOK, author_id="10000000000000001"))


def alerts_inbox(aws: AwsEnv) -> str:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=aws.env["ALERTS_TOPIC_ARN"], Protocol="sqs", Endpoint=arn)
    return url


def crisis_alerts(aws: AwsEnv, inbox: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while batch := aws.client("sqs").receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            found.append(json.loads(json.loads(message["Body"])["Message"]))
            aws.client("sqs").delete_message(QueueUrl=inbox, ReceiptHandle=message["ReceiptHandle"])
    return [alert for alert in found if alert.get("kind") == "crisis_case"]


# ---------------------------------------------------------------- the store's person index


def test_the_person_index_holds_what_lists_and_guards_need_and_not_the_post(aws: AwsEnv, story: None) -> None:
    items = aws.client("dynamodb").query(
        TableName=aws.env["CASES_TABLE_NAME"], IndexName=PERSON_INDEX, KeyConditionExpression="gsi3pk = :p",
        ExpressionAttributeValues={":p": {"S": JEANNE_KEY}})["Items"]
    assert sorted(item["pk"]["S"] for item in items) == ["CASE#facebook-demo02", "CASE#messenger-demo07"]
    assert all("doc" not in item and "docz" not in item and "label" in item and "status" in item for item in items)


def test_open_complaints_are_found_by_person_across_facebook_and_messenger(aws: AwsEnv, story: None) -> None:
    cases = store(aws)
    assert [c.case_id for c in cases.open_protected_cases(JEANNE_KEY)] == ["messenger-demo07", "facebook-demo02"]
    assert [c.case_id for c in cases.open_protected_cases("floralys/x/987654321")] == ["x-demo03"]
    assert cases.open_protected_cases("floralys/meta/10000000000000001") == []  # the namesake's spam


def test_a_closed_complaint_leaves_the_guard_but_stays_in_the_persons_cases(aws: AwsEnv, story: None) -> None:
    cases = store(aws)
    case = cases.get("messenger-demo07")
    resolved = case.model_copy(update={"status": CaseStatus.RESOLVED, "version": 2})
    cases.save(resolved, CaseEvent(case_id=case.case_id, at=datetime.now(UTC), actor="alice", action="resolved",
                                   version=2), expected_version=1)
    assert [c.case_id for c in cases.open_protected_cases(JEANNE_KEY)] == ["facebook-demo02"]
    assert {c.case_id: c.status for c in cases.cases_of_person([JEANNE_KEY])} == {
        "messenger-demo07": CaseStatus.RESOLVED, "facebook-demo02": CaseStatus.OPEN}


def test_a_save_keeps_the_crisis_alert_claim_and_a_save_racing_a_claim_is_refused(aws: AwsEnv) -> None:
    cases = store(aws)
    case = jeanne(Label.CRISIS, "facebook-c1", Platform.FACEBOOK)
    cases.create(case)
    assert cases.claim_crisis_alert(case.case_id, datetime.now(UTC)) is True
    nxt = case.model_copy(update={"version": 2, "claimed_by": "alice"})
    cases.save(nxt, CaseEvent(case_id=case.case_id, at=datetime.now(UTC), actor="alice", action="claimed",
                              version=2), expected_version=1)
    assert cases.claim_crisis_alert(case.case_id, datetime.now(UTC)) is False  # the save did not erase it

    other = jeanne(Label.COMPLAINT, "facebook-k2", Platform.FACEBOOK)
    cases.create(other)
    real_get = cases._get_item
    read_before_claim = real_get(other.case_id)  # the reviewer's read, before the claim below
    cases.claim_crisis_alert(other.case_id, datetime.now(UTC))
    cases._get_item = lambda case_id: read_before_claim  # type: ignore[method-assign]
    with pytest.raises(StaleCaseVersion):
        cases.save(other.model_copy(update={"version": 2}), CaseEvent(
            case_id=other.case_id, at=datetime.now(UTC), actor="alice", action="claimed", version=2),
            expected_version=1)
    cases._get_item = real_get  # type: ignore[method-assign]
    assert cases.claim_crisis_alert(other.case_id, datetime.now(UTC)) is False


# ---------------------------------------------------------------- the review API


def test_cases_of_one_person_are_listed_by_person_key_newest_first_in_any_status(
    aws: AwsEnv, review: Any, story: None,
) -> None:
    status, page = call(review, "GET", "/cases", MODERATOR, query={"author": JEANNE_KEY})
    assert status == 200
    assert [item["case_id"] for item in page["items"]] == ["messenger-demo07", "facebook-demo02"]
    assert page["items"][0]["person_key"] == JEANNE_KEY and page["items"][0]["order_numbers"] == ["FL-20931"]
    assert list(documented("GET", "/cases", 200).iter_errors(page)) == []
    # One page at a time: the cursor continues where the last page stopped.
    status, first = call(review, "GET", "/cases", MODERATOR, query={"author": JEANNE_KEY, "limit": "1"})
    status, second = call(review, "GET", "/cases", MODERATOR,
                          query={"author": JEANNE_KEY, "limit": "1", "cursor": first["next_cursor"]})
    assert [i["case_id"] for i in first["items"] + second["items"]] == ["messenger-demo07", "facebook-demo02"]
    assert second["next_cursor"] is None
    status, refused = call(review, "GET", "/cases", MODERATOR,
                           query={"author": "floralys/x/987654321", "cursor": first["next_cursor"]})
    assert status == 400 and refused["code"] == "invalid_cursor"


def test_a_platform_user_id_lists_the_person_in_every_family_of_the_configured_brands(
    aws: AwsEnv, review: Any, story: None,
) -> None:
    status, page = call(review, "GET", "/cases", MODERATOR, query={"author": "987654321"})
    assert status == 200 and [i["case_id"] for i in page["items"]] == ["x-demo03"]
    status, page = call(review, "GET", "/cases", MODERATOR, query={"author": JEANNE, "platform": "messenger"})
    assert [i["case_id"] for i in page["items"]] == ["messenger-demo07"]  # a filter, not the family
    status, page = call(review, "GET", "/cases", MODERATOR, query={"author": JEANNE, "status": "resolved"})
    assert status == 200 and page["items"] == []


def test_the_case_view_lists_the_persons_other_cases_on_the_brand(aws: AwsEnv, review: Any, story: None) -> None:
    status, detail = call(review, "GET", "/cases/facebook-demo02", MODERATOR)
    assert status == 200
    assert detail["related"] == [{"case_id": "messenger-demo07", "label": "complaint", "status": "open",
                                  "platform": "messenger", "created_at": detail["related"][0]["created_at"],
                                  "order_numbers": ["FL-20931"]}]
    assert detail["case"]["order_numbers"] == ["FL-20931"]
    assert list(documented("GET", "/cases/{case_id}", 200).iter_errors(detail)) == []
    assert "related" in DOCUMENT["components"]["schemas"]["CaseDetail"]["properties"]


def test_cases_are_found_by_the_order_number_they_quote(aws: AwsEnv, review: Any, story: None) -> None:
    status, page = call(review, "GET", "/cases", MODERATOR, query={"order": "fl-20931"})
    assert status == 200 and sorted(i["case_id"] for i in page["items"]) == ["facebook-demo02", "messenger-demo07"]
    status, page = call(review, "GET", "/cases", MODERATOR, query={"order": "FL-99999"})
    assert page["items"] == []


def test_a_ban_of_jeannes_facebook_comment_is_refused_while_her_messenger_complaint_is_open(
    aws: AwsEnv, review: Any,
) -> None:
    seed(aws, jeanne(Label.COMPLAINT, "messenger-demo07", Platform.MESSENGER),
         jeanne(Label.SPAM, "facebook-demo02", Platform.FACEBOOK))
    status, body = call(review, "POST", "/cases/facebook-demo02/ban-proposals", MODERATOR,
                        {"expected_version": 1, "reason": "the same link in ten threads"})
    assert status == 409 and body["code"] == "complaint_open"
    assert "complaint on messenger: case messenger-demo07" in body["message"]
    status, body = call(review, "POST", "/cases/facebook-demo02/decisions", MODERATOR,
                        {"expected_version": 1, "decision": "hide"})
    assert status == 409 and "messenger-demo07" in body["message"]


# ---------------------------------------------------------------- a crisis, however it became one, alerts once


def relabel(review: Any, case_id: str, version: int, label: str) -> dict[str, Any]:
    decision = {"decision": "escalate"} if label == "crisis" and version % 2 else {"decision": "relabel",
                                                                                   "label": label}
    status, case = call(review, "POST", f"/cases/{case_id}/decisions", MODERATOR,
                        {"expected_version": version, "reason": "what she says changes everything", **decision})
    assert status == 200, case
    return case


def test_a_re_label_to_crisis_publishes_exactly_one_alert(aws: AwsEnv, review: Any) -> None:
    inbox = alerts_inbox(aws)
    seed(aws, jeanne(Label.COMPLAINT, "facebook-k1", Platform.FACEBOOK))
    case = relabel(review, "facebook-k1", 1, "crisis")  # escalate
    [alert] = crisis_alerts(aws, inbox)
    assert alert["case_id"] == "facebook-k1" and alert["label"] == "crisis" and alert["schema"] == "moderato.case/v1"
    assert alert["sla_due_at"] == case["sla_due_at"].replace("+00:00", "Z")
    # Away and back again, by re-label then by escalation: the on-call team already knows.
    case = relabel(review, "facebook-k1", case["version"], "complaint")
    case = relabel(review, "facebook-k1", case["version"], "crisis")
    case = relabel(review, "facebook-k1", case["version"], "spam")
    relabel(review, "facebook-k1", case["version"], "crisis")
    assert crisis_alerts(aws, inbox) == []


def test_triage_then_a_re_label_back_to_crisis_alert_once(aws: AwsEnv, review: Any) -> None:
    inbox = alerts_inbox(aws)
    run_triage(aws, delivery("x", x_tweet(
        "@Floralys mon fils a fait une réaction allergique grave à vos lys, on est à l'hôpital. Scandale")))
    [case] = [c for c in store(aws).all_cases()]
    assert case.label == Label.CRISIS and len(crisis_alerts(aws, inbox)) == 1
    back = relabel(review, case.case_id, 1, "complaint")
    relabel(review, case.case_id, back["version"], "crisis")
    assert crisis_alerts(aws, inbox) == []


def test_cases_from_before_person_keys_are_indexed_once_by_the_operator_command(
    aws: AwsEnv, tmp_path: Any, capsys: pytest.CaptureFixture[str],
) -> None:
    from moderato_cli.main import main

    cases = store(aws)
    legacy = jeanne(Label.COMPLAINT, "messenger-old", Platform.MESSENGER, text="commande n° FL-1000 jamais reçue")
    cases.create(legacy)
    # As written before the person index existed: no index keys on the item.
    aws.client("dynamodb").update_item(TableName=aws.env["CASES_TABLE_NAME"],
                                       Key={"pk": {"S": "CASE#messenger-old"}, "sk": {"S": "CASE"}},
                                       UpdateExpression="REMOVE gsi3pk, gsi3sk")
    assert cases.open_protected_cases(JEANNE_KEY) == []
    brands = tmp_path / "brands.json"  # her Messenger id linked to another id, which becomes her key
    brands.write_text(json.dumps({"accounts": {}, "linked_ids": [
        {"brand": "Floralys", "ids": ["meta:1111", f"meta:{JEANNE}"]}]}))

    assert main(["index-people", "--table", aws.env["CASES_TABLE_NAME"], "--brands", str(brands)]) == 0
    assert "indexed 1 case(s) by person" in capsys.readouterr().out
    indexed = cases.get("messenger-old")
    assert indexed.person_key == "floralys/meta/1111" and indexed.order_numbers == ["FL-1000"]
    assert indexed.version == 2 and cases.history("messenger-old")[-1].action == "person_indexed"
    assert [c.case_id for c in cases.open_protected_cases("floralys/meta/1111")] == ["messenger-old"]
    assert main(["index-people", "--table", aws.env["CASES_TABLE_NAME"], "--brands", str(brands)]) == 0
    assert "indexed 0 case(s)" in capsys.readouterr().out

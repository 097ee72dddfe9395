"""CaseStore against moto: retention follows the label, history is append-only, stale writes are refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.aws_meter import item_size
from moderato.adapters.case_store import CaseStore
from moderato.case_errors import StaleCaseVersion
from moderato.models import Author, CaseEvent, Label, Platform, Post, PostKind, Verdict
from moderato.reasons import EMPTY_TEXT, reason
from moderato.settings import SlaPolicy
from moderato.triage.cases import build_case, opening_event
from moderato.triage.routing import route
from tests.integration.conftest import AwsEnv

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
REPO_FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def normal_case():
    post = Post(platform=Platform.FACEBOOK, kind=PostKind.COMMENT, post_id="p1", account_id="page",
                author=Author(id="a1"), text="nice", created_at=NOW, dedup_key="facebook:p1:add")
    verdict = Verdict(label=Label.NORMAL, scores={label.value: 0.25 for label in Label}, reasons=[reason(EMPTY_TEXT)])
    case_route = route(Label.NORMAL, NOW, SlaPolicy())
    return build_case(post, verdict, case_route, NOW), case_route.expires_at


def items(aws: AwsEnv, case_id: str) -> list[dict]:
    return aws.client("dynamodb").query(
        TableName=aws.env["CASES_TABLE_NAME"], KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CASE#{case_id}"}})["Items"]


def test_a_normal_case_relabelled_into_a_queue_keeps_its_history_for_good(aws: AwsEnv) -> None:
    store = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb"))
    case, expires = normal_case()
    store.create(case, expires)
    assert all("expires_at" in item for item in items(aws, case.case_id))
    spam = case.model_copy(update={"label": Label.SPAM, "queue": "SpamQueue", "version": 2,
                                   "updated_at": NOW + timedelta(minutes=5)})
    event = CaseEvent(case_id=case.case_id, at=NOW + timedelta(minutes=5), actor="mod", action="relabelled",
                      version=2, reason="promo")
    store.save(spam, event, expected_version=1)
    stored = items(aws, case.case_id)
    # the case, the opening event (written by this first change) and the change's own event
    assert len(stored) == 3 and all("expires_at" not in item for item in stored)
    assert [e.action for e in store.history(case.case_id)] == ["triaged", "relabelled"]


def test_a_stale_write_is_refused_and_changes_nothing(aws: AwsEnv) -> None:
    store = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb"))
    case, expires = normal_case()
    store.create(case, expires)
    event = CaseEvent(case_id=case.case_id, at=NOW, actor="mod", action="claimed", version=2)
    with pytest.raises(StaleCaseVersion):
        store.save(case.model_copy(update={"version": 2}), event, expected_version=7)
    assert [e.action for e in store.history(case.case_id)] == ["triaged"]
    stored = store.get(case.case_id)
    assert stored is not None and stored.version == 1


def test_a_new_case_is_one_item_of_one_write_unit_and_its_history_is_derived(aws: AwsEnv) -> None:
    # Given a complaint as triage builds it
    store = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb"))
    post = Post(platform=Platform.FACEBOOK, kind=PostKind.COMMENT, post_id="1_2", account_id="page",
                author=Author(id="42", name="Jeanne Martin"), created_at=NOW, dedup_key="facebook:1_2",
                text="Toujours pas recu mon bouquet commande 4471, le service client ne repond pas @Floralys",
                raw_ref="delivery:abc", brand="floralys")
    verdict = Verdict(label=Label.COMPLAINT, scores={"complaint": 0.93, "spam": 0.02, "crisis": 0.03, "normal": 0.02},
                      reasons=[reason(EMPTY_TEXT)], model="m", language="fr")
    case = build_case(post, verdict, route(Label.COMPLAINT, NOW, SlaPolicy()), NOW)
    # When it is created
    assert store.create(case) == (case, True)
    # Then it is a single item, at most 1 KB (one write unit), with no event item beside it
    [item] = items(aws, case.case_id)
    assert item_size(item) <= 1024, item_size(item)
    assert store.get(case.case_id) == case
    assert [(e.action, e.version) for e in store.history(case.case_id)] == [("triaged", 1)]
    # And a second create of the same case changes nothing and says so
    assert store.create(case.model_copy(update={"label": Label.SPAM})) == (case, False)


def test_the_first_change_writes_the_opening_event_from_the_stored_version(aws: AwsEnv) -> None:
    store = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb"))
    case, expires = normal_case()
    store.create(case, expires)
    claimed = case.model_copy(update={"version": 2, "claimed_by": "mod"})
    store.save(claimed, CaseEvent(case_id=case.case_id, at=NOW, actor="mod", action="claimed", version=2),
               expected_version=1, retain=True)
    history = store.history(case.case_id)
    assert [(e.action, e.version) for e in history] == [("triaged", 1), ("claimed", 2)]
    assert history[0].data["label"] == "normal"
    again = claimed.model_copy(update={"version": 3})
    store.save(again, CaseEvent(case_id=case.case_id, at=NOW, actor="mod", action="released", version=3),
               expected_version=2, retain=True)
    assert [e.version for e in store.history(case.case_id)] == [1, 2, 3]


def test_a_case_that_becomes_normal_late_gets_the_normal_retention(aws: AwsEnv) -> None:
    # Given a case written without expiry (a mention waiting for its text)
    store = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb"))
    case, expires = normal_case()
    store.create(case, None)
    # When it is saved as normal with the retention the label gives, before anyone acted on it
    fetched = case.model_copy(update={"version": 2})
    store.save(fetched, CaseEvent(case_id=case.case_id, at=NOW, actor="system:enrich", action="text_fetched",
                                  version=2), expected_version=1, expires_at=expires)
    # Then the case and its whole history expire together
    stored = items(aws, case.case_id)
    assert len(stored) == 3 and {int(item["expires_at"]["N"]) for item in stored} == {int(expires.timestamp())}


def test_cases_written_before_compression_are_read_and_changed_as_before(aws: AwsEnv) -> None:
    # Given a case in the older layout: the JSON in doc, its opening event as an item
    store = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb"))
    case, _ = normal_case()
    dynamodb, table = aws.client("dynamodb"), aws.env["CASES_TABLE_NAME"]
    dynamodb.put_item(TableName=table, Item={
        "pk": {"S": f"CASE#{case.case_id}"}, "sk": {"S": "CASE"}, "case_id": {"S": case.case_id},
        "gsi1pk": {"S": "QUEUE#NONE#open"}, "gsi1sk": {"S": "4#9999-12-31T23:59:59Z#x"}, "label": {"S": "normal"},
        "status": {"S": "open"}, "version": {"N": "1"}, "platform": {"S": "facebook"},
        "doc": {"S": case.model_dump_json()}})
    dynamodb.put_item(TableName=table, Item={
        "pk": {"S": f"CASE#{case.case_id}"}, "sk": {"S": f"EVENT#00000001#{NOW.isoformat()}"},
        "action": {"S": "triaged"}, "actor": {"S": "system:triage"},
        "doc": {"S": opening_event(case).model_dump_json()}})
    assert store.get(case.case_id) == case and store.existing([case.case_id]) == {case.case_id: case}
    # When it changes, Then its history is not given a second opening event
    store.save(case.model_copy(update={"version": 2}),
               CaseEvent(case_id=case.case_id, at=NOW, actor="mod", action="claimed", version=2),
               expected_version=1, retain=True)
    assert [e.version for e in store.history(case.case_id)] == [1, 2]


def test_the_compression_dictionary_of_stored_cases_never_changes() -> None:
    # Cases written with v1 are read with v1 for as long as they are kept: a better dictionary is a v2.
    v1 = REPO_FUNCTIONS / "moderato" / "adapters" / "case_dictionary" / "v1.txt"
    assert hashlib.sha256(v1.read_bytes()).hexdigest() == (
        "a2e570743e6931a4f1c1e046c5547d39b447dec87588ef1b3c7be4e79e2538d4")

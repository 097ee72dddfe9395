"""CaseStore against moto: retention follows the label, history is append-only, stale writes are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from moderato.adapters.case_store import CaseStore, StaleCaseVersion
from moderato.cases import build_case, opening_event
from moderato.models import Author, CaseEvent, Label, Platform, Post, PostKind, Verdict
from moderato.reasons import EMPTY_TEXT, reason
from moderato.routing import route
from moderato.settings import SlaPolicy
from tests.integration.conftest import AwsEnv

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


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
    store.create(case, opening_event(case), expires)
    assert all("expires_at" in item for item in items(aws, case.case_id))
    spam = case.model_copy(update={"label": Label.SPAM, "queue": "SpamQueue", "version": 2,
                                   "updated_at": NOW + timedelta(minutes=5)})
    event = CaseEvent(case_id=case.case_id, at=NOW + timedelta(minutes=5), actor="mod", action="relabelled",
                      version=2, reason="promo")
    store.save(spam, event, expected_version=1)
    stored = items(aws, case.case_id)
    assert len(stored) == 3 and all("expires_at" not in item for item in stored)  # the case and two events
    assert [e.action for e in store.history(case.case_id)] == ["triaged", "relabelled"]


def test_a_stale_write_is_refused_and_changes_nothing(aws: AwsEnv) -> None:
    store = CaseStore(aws.env["CASES_TABLE_NAME"], aws.client("dynamodb"))
    case, expires = normal_case()
    store.create(case, opening_event(case), expires)
    event = CaseEvent(case_id=case.case_id, at=NOW, actor="mod", action="claimed", version=2)
    with pytest.raises(StaleCaseVersion):
        store.save(case.model_copy(update={"version": 2}), event, expected_version=7)
    assert [e.action for e in store.history(case.case_id)] == ["triaged"]
    stored = store.get(case.case_id)
    assert stored is not None and stored.version == 1

"""The local stack's faster moto transactions keep moto's (and DynamoDB's) all-or-nothing behaviour."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from moderato_local import moto_speed


@pytest.fixture
def table() -> Iterator[tuple[object, str]]:
    moto_speed.install()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        dynamodb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                    {"AttributeName": "sk", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                         {"AttributeName": "sk", "KeyType": "RANGE"}])
        yield dynamodb, "t"


def put(pk: str, sk: str, value: str, new_only: bool = True) -> dict[str, object]:
    body: dict[str, object] = {"TableName": "t", "Item": {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"S": value}}}
    if new_only:
        body["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": body}


def items(dynamodb: object) -> dict[tuple[str, str], str]:
    found = dynamodb.scan(TableName="t")["Items"]  # type: ignore[attr-defined]
    return {(i["pk"]["S"], i["sk"]["S"]): i["v"]["S"] for i in found}


def test_a_refused_transaction_leaves_every_item_as_it_was(table: tuple[object, str]) -> None:
    dynamodb, _ = table
    dynamodb.transact_write_items(TransactItems=[put("CASE#1", "CASE", "first")])  # type: ignore[attr-defined]
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(TransactItems=[  # type: ignore[attr-defined]
            put("CASE#2", "CASE", "new"), put("CASE#3", "EVENT", "new", new_only=False),
            put("CASE#1", "CASE", "overwritten")])
    assert items(dynamodb) == {("CASE#1", "CASE"): "first"}


def test_an_accepted_transaction_writes_every_item(table: tuple[object, str]) -> None:
    dynamodb, _ = table
    dynamodb.transact_write_items(TransactItems=[  # type: ignore[attr-defined]
        put("CASE#1", "CASE", "a"), put("CASE#1", "EVENT#1", "b"), put("CASE#2", "CASE", "c")])
    assert items(dynamodb) == {("CASE#1", "CASE"): "a", ("CASE#1", "EVENT#1"): "b", ("CASE#2", "CASE"): "c"}

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


def test_a_query_on_the_table_key_reads_its_partition_in_order_with_limits_and_pages(table: tuple[object, str]) -> None:
    dynamodb, _ = table
    for pk in ("A", "B", "C"):
        for n in (3, 1, 10, 2):
            dynamodb.put_item(TableName="t", Item={"pk": {"S": pk}, "sk": {"S": f"{n:02d}"},  # type: ignore[attr-defined]
                                                   "v": {"S": f"{pk}{n}"}})

    def query(**extra: object) -> dict[str, object]:
        return dynamodb.query(TableName="t", KeyConditionExpression="pk = :pk AND sk >= :s",  # type: ignore[attr-defined]
                              ExpressionAttributeValues={":pk": {"S": "B"}, ":s": {"S": "02"}}, **extra)

    assert [i["v"]["S"] for i in query()["Items"]] == ["B2", "B3", "B10"]
    newest = query(ScanIndexForward=False, Limit=2)
    assert [i["v"]["S"] for i in newest["Items"]] == ["B10", "B3"]
    rest = query(ScanIndexForward=False, Limit=2, ExclusiveStartKey=newest["LastEvaluatedKey"])
    assert [i["v"]["S"] for i in rest["Items"]] == ["B2"]
    assert dynamodb.query(TableName="t", KeyConditionExpression="pk = :pk",  # type: ignore[attr-defined]
                          ExpressionAttributeValues={":pk": {"S": "Z"}})["Items"] == []
    # a scan still sees every partition
    assert len(dynamodb.scan(TableName="t")["Items"]) == 12  # type: ignore[attr-defined]


def test_the_ttl_sweeper_deletes_expired_items_of_tables_with_ttl_only(table: tuple[object, str]) -> None:
    dynamodb, _ = table
    dynamodb.update_time_to_live(TableName="t", TimeToLiveSpecification={  # type: ignore[attr-defined]
        "Enabled": True, "AttributeName": "expires_at"})
    for sk, expires in (("old", {"N": "1000"}), ("new", {"N": "4000000000"}), ("none", None), ("text", {"S": "1"})):
        item = {"pk": {"S": "P"}, "sk": {"S": sk}, "v": {"S": sk}}
        if expires:
            item["expires_at"] = expires
        dynamodb.put_item(TableName="t", Item=item)  # type: ignore[attr-defined]
    assert moto_speed.sweep_expired(now=2000) == 1
    assert set(items(dynamodb)) == {("P", "new"), ("P", "none"), ("P", "text")}
    dynamodb.update_time_to_live(TableName="t", TimeToLiveSpecification={  # type: ignore[attr-defined]
        "Enabled": False, "AttributeName": "expires_at"})
    assert moto_speed.sweep_expired(now=5_000_000_000) == 0


@pytest.fixture
def sqs() -> Iterator[tuple[object, str]]:
    moto_speed.install()
    with mock_aws():
        client = boto3.client("sqs", region_name="eu-west-1")
        yield client, client.create_queue(QueueName="q")["QueueUrl"]


def test_sqs_receive_delete_and_counts_keep_their_meaning(sqs: tuple[object, str]) -> None:
    client, url = sqs
    for start in range(0, 30, 10):
        client.send_message_batch(QueueUrl=url, Entries=[  # type: ignore[attr-defined]
            {"Id": str(n), "MessageBody": f"m{n}"} for n in range(start, start + 10)])
    first = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10,  # type: ignore[attr-defined]
                                   VisibilityTimeout=30)["Messages"]
    assert [m["Body"] for m in first] == [f"m{n}" for n in range(10)]  # oldest first, as moto did
    counts = client.get_queue_attributes(QueueUrl=url, AttributeNames=[  # type: ignore[attr-defined]
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "QueueArn"])["Attributes"]
    assert (counts["ApproximateNumberOfMessages"], counts["ApproximateNumberOfMessagesNotVisible"]) == ("20", "10")
    assert counts["QueueArn"].endswith(":q")
    done = client.delete_message_batch(QueueUrl=url, Entries=[  # type: ignore[attr-defined]
        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(first)])
    assert len(done["Successful"]) == 10 and not done.get("Failed")
    client.delete_message(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"])  # type: ignore[attr-defined]
    with pytest.raises(ClientError, match="ReceiptHandleIsInvalid"):
        client.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")  # type: ignore[attr-defined]
    second = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]  # type: ignore[attr-defined]
    assert [m["Body"] for m in second] == [f"m{n}" for n in range(10, 20)]
    with pytest.raises(ClientError, match="InvalidAttributeName"):
        client.get_queue_attributes(QueueUrl=url, AttributeNames=["Nope"])  # type: ignore[attr-defined]
    assert client.get_queue_attributes(QueueUrl=url, AttributeNames=[  # type: ignore[attr-defined]
        "ApproximateNumberOfMessages"])["Attributes"] == {"ApproximateNumberOfMessages": "10"}


def test_an_index_query_still_reads_across_the_tables_partitions() -> None:
    # moto's backend names the index positionally: an index query must not be taken for a table query
    moto_speed.install()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        dynamodb.create_table(
            TableName="g", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "who")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{"IndexName": "ByWho", "KeySchema": [{"AttributeName": "who", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"}}])
        for pk in ("CASE#1", "CASE#2", "CASE#3"):
            dynamodb.put_item(TableName="g", Item={"pk": {"S": pk}, "sk": {"S": "CASE"}, "who": {"S": "jeanne"}})
        found = dynamodb.query(TableName="g", IndexName="ByWho", KeyConditionExpression="who = :w",
                               ExpressionAttributeValues={":w": {"S": "jeanne"}})["Items"]
        assert sorted(item["pk"]["S"] for item in found) == ["CASE#1", "CASE#2", "CASE#3"]


@pytest.mark.parametrize(("condition", "values", "expected"), [
    ("sk > :a", {":a": "02"}, ["03", "10"]),
    ("sk < :a", {":a": "03"}, ["01", "02"]),
    ("sk <= :a", {":a": "03"}, ["01", "02", "03"]),
    ("sk = :a", {":a": "10"}, ["10"]),
    ("begins_with(sk, :a)", {":a": "0"}, ["01", "02", "03"]),
    ("sk BETWEEN :a AND :b", {":a": "02", ":b": "03"}, ["02", "03"]),
])
def test_a_sort_key_condition_keeps_exactly_what_dynamodb_would(table: tuple[object, str], condition: str,
                                                                 values: dict[str, str], expected: list[str]) -> None:
    # The partition is narrowed by the condition before moto's own pass: the answer must not change
    dynamodb, _ = table
    for n in (3, 1, 10, 2):
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "P"}, "sk": {"S": f"{n:02d}"},  # type: ignore[attr-defined]
                                               "v": {"S": str(n)}})
    found = dynamodb.query(TableName="t", KeyConditionExpression=f"pk = :pk AND {condition}",  # type: ignore[attr-defined]
                           ExpressionAttributeValues={":pk": {"S": "P"}, **{k: {"S": v} for k, v in values.items()}})
    assert [item["sk"]["S"] for item in found["Items"]] == expected


def test_item_reads_answer_what_moto_s_serializer_answers(table: tuple[object, str]) -> None:
    # Item reads skip moto's shape-walking serializer: what the SDK parses must not change, binary values,
    # nested maps and lists, sets, pages and consumed capacity included.
    from moto.dynamodb.responses import DynamoResult

    dynamodb, _ = table
    for n in range(3):
        dynamodb.put_item(TableName="t", Item={  # type: ignore[attr-defined]
            "pk": {"S": "P"}, "sk": {"S": f"{n}"}, "b": {"B": bytes([0, 255, n])}, "n": {"N": f"{n}.5"},
            "m": {"M": {"x": {"B": b"ab"}, "l": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False}]}}},
            "bs": {"BS": [b"a", bytes([n])]}, "ss": {"SS": ["x", "y"]}})
    calls = {
        "get_item": {"TableName": "t", "Key": {"pk": {"S": "P"}, "sk": {"S": "1"}}, "ReturnConsumedCapacity": "TOTAL"},
        "batch_get_item": {"RequestItems": {"t": {"Keys": [{"pk": {"S": "P"}, "sk": {"S": f"{n}"}} for n in (0, 2)]}}},
        "query": {"TableName": "t", "KeyConditionExpression": "pk = :p", "Limit": 2,
                  "ExpressionAttributeValues": {":p": {"S": "P"}}, "ProjectionExpression": "sk, b, m"},
        "scan": {"TableName": "t", "FilterExpression": "n > :n", "ExpressionAttributeValues": {":n": {"N": "1"}}},
    }
    fast = DynamoResult.execute_result
    for operation, params in calls.items():
        answer = getattr(dynamodb, operation)(**params)
        DynamoResult.execute_result = fast.moto_serializer  # type: ignore[attr-defined,method-assign]
        try:
            expected = getattr(dynamodb, operation)(**params)
        finally:
            DynamoResult.execute_result = fast  # type: ignore[method-assign]
        answer.pop("ResponseMetadata")
        expected.pop("ResponseMetadata")
        assert answer == expected, operation
    assert "LastEvaluatedKey" in dynamodb.query(**calls["query"])  # type: ignore[attr-defined]


def test_response_classes_keep_their_method_names() -> None:
    # Read once per class: the same names moto's own lookup finds, for the services the stack calls.
    from moto.core import responses, utils
    from moto.dynamodb.responses import DynamoHandler
    from moto.sqs.responses import SQSResponse

    moto_speed.install()
    for handler in (DynamoHandler, SQSResponse):
        assert responses.method_names_from_class(handler) == utils.method_names_from_class(handler)
    assert "query" in responses.method_names_from_class(DynamoHandler)

"""RoutedMarkers against moto, on the SignalsTable of template.yaml: batched, consistent, expiring."""

from __future__ import annotations

from datetime import UTC, datetime

from moderato.adapters.routed_markers import RETENTION_SECONDS, RoutedMarkers
from tests.integration.conftest import AwsEnv

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_markers_of_a_batch_are_written_and_read_in_one_call_each_and_expire(aws: AwsEnv) -> None:
    dynamodb = aws.client("dynamodb")
    markers = RoutedMarkers(aws.env["SIGNALS_TABLE_NAME"], dynamodb)
    operations: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: operations.append(model.name))
    ids = [f"facebook-{n:020d}" for n in range(30)]
    assert markers.routed(ids) == set()
    markers.record(ids[:12], NOW)
    assert markers.routed(ids) == set(ids[:12])
    # 12 markers: one batch write; each lookup of 30 ids: one batch read
    assert operations == ["BatchGetItem", "BatchWriteItem", "BatchGetItem"]
    items = dynamodb.scan(TableName=aws.env["SIGNALS_TABLE_NAME"])["Items"]
    assert {int(item["expires_at"]["N"]) for item in items} == {int(NOW.timestamp()) + RETENTION_SECONDS}

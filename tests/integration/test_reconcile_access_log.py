"""reconcile reads acceptance from the HTTP API's access log (FilterLogEvents) and joins it with the ledger,
against moto provisioned from template.yaml (the log group is the template's HttpApiAccessLogs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from moderato.adapters.delivery_ledger import DeliveryLedger, Outcome
from moderato_cli.commands.reconcile import (
    ACCESS_LOG_GROUP,
    WEBHOOK_ROUTE_KEY,
    accepted_deliveries,
    accepted_filter_pattern,
    reconcile_stack,
)
from moderato_cli.stack_resources import StackResources
from moderato_local.resolver import REGION
from tests.integration.conftest import AwsEnv

NOW = datetime.now(UTC)


@pytest.fixture
def resources(aws: AwsEnv) -> StackResources:
    return StackResources(local=True, stack="moderato-local", options={"region_name": REGION})


def line(request_id: str, method: str = "POST", route_key: str = WEBHOOK_ROUTE_KEY, status: str = "200",
         path: str = "/webhooks/meta") -> str:
    # The template's Format: every value is a JSON string
    return json.dumps({"requestId": request_id, "requestTime": "25/Nov/2026:12:00:00 +0000", "ip": "203.0.113.9",
                       "userAgent": "facebookexternalua", "method": method, "routeKey": route_key, "path": path,
                       "status": status, "responseLength": "2", "latencyMs": "12", "integrationLatencyMs": "10",
                       "integrationStatus": "200", "integrationError": "-"})


def write_access_log(aws: AwsEnv, group: str, lines: list[tuple[datetime, str]],
                     stream: str = "httpapi_$default") -> None:
    logs = aws.client("logs")
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    events = sorted(({"timestamp": int(at.timestamp() * 1000), "message": text} for at, text in lines),
                    key=lambda event: event["timestamp"])
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def test_only_webhook_posts_answered_200_are_accepted_read_page_by_page(aws: AwsEnv,
                                                                        resources: StackResources) -> None:
    group = resources.physical_id(ACCESS_LOG_GROUP)
    assert group == "/aws/vendedlogs/moderato-local/http-api-access"  # the template's name, provisioned
    # Given 7 accepted deliveries among lines of other statuses, methods and routes, in two streams
    accepted = [(NOW - timedelta(minutes=index + 1), line(f"ok-{index}")) for index in range(7)]
    others = [(NOW - timedelta(minutes=3), line("unsigned", status="401")),
              (NOW - timedelta(minutes=3), line("broken", status="500")),
              (NOW - timedelta(minutes=3), line("handshake", method="GET", route_key="GET /webhooks/{platform}")),
              (NOW - timedelta(minutes=3), line("claim", route_key="POST /cases/{case_id}/claim",
                                                path="/cases/c1/claim")),
              (NOW - timedelta(minutes=3), line("unrouted", route_key="-", status="404", path="/nope")),
              (NOW - timedelta(minutes=3), "not a JSON line")]
    write_access_log(aws, group, accepted[:4] + others)
    write_access_log(aws, group, accepted[4:], stream="httpapi_$default-2")
    # And one accepted two days ago, outside a one-day window
    write_access_log(aws, group, [(NOW - timedelta(days=2), line("too-old"))], stream="older")
    logs = aws.client("logs")
    calls: list[dict[str, Any]] = []
    logs.meta.events.register("provide-client-params.logs.FilterLogEvents",
                              lambda params, **_: calls.append(dict(params)))
    # When the access log is read, 3 events a page
    found = accepted_deliveries(logs, group, NOW - timedelta(days=1), NOW, page_size=3)
    # Then exactly the 7 accepted deliveries, each at its line's time
    assert set(found) == {f"ok-{index}" for index in range(7)}
    assert all(abs((found[f"ok-{i}"] - (NOW - timedelta(minutes=i + 1))).total_seconds()) < 0.002 for i in range(7))
    # And every page was asked for, with the JSON filter and the window
    assert len(calls) >= 3 and calls[1].get("nextToken")
    assert {call["filterPattern"] for call in calls} == {accepted_filter_pattern()}
    assert calls[0]["startTime"] == int((NOW - timedelta(days=1)).timestamp() * 1000)


def test_reconcile_joins_the_access_log_with_the_ledger_without_accepted_items(aws: AwsEnv,
                                                                              resources: StackResources) -> None:
    group = resources.physical_id(ACCESS_LOG_GROUP)
    hour_ago = NOW - timedelta(hours=1)
    # Given four deliveries answered 200 an hour ago, and one a minute ago; the webhook wrote no ledger item
    write_access_log(aws, group, [(hour_ago, line(rid)) for rid in ("settled", "no-posts", "missing-case", "nowhere")]
                     + [(NOW - timedelta(minutes=1), line("young"))])
    ledger = DeliveryLedger(aws.env["DELIVERY_LEDGER_TABLE_NAME"], aws.client("dynamodb"))
    # Triage's batch outcomes: one became a case that exists, one held no post, one names a case that does not
    ledger.triaged_batch([Outcome("settled", ["facebook-1"]), Outcome("no-posts", []),
                          Outcome("missing-case", ["facebook-gone"])], NOW - timedelta(minutes=50))
    aws.client("dynamodb").put_item(TableName=aws.env["CASES_TABLE_NAME"],
                                    Item={"pk": {"S": "CASE#facebook-1"}, "sk": {"S": "CASE"}})
    # And an old delivery the ledger alone knows (its webhook "accepted" item), never triaged
    ledger.accepted("ledger-only", "meta", hour_ago)
    result = reconcile_stack(resources, timedelta(minutes=20), days=1)
    assert (result.accepted, result.logged, result.cases, result.no_posts, result.pending) == (6, 5, 1, 1, 1)
    assert sorted(result.lost) == ["ledger-only", "missing-case", "nowhere"]

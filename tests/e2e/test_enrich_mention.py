"""End to end: an Instagram @mention with ids only, through the local stack, to a classified case.

Its own stack: the enrich function reads the mention's text from a fake Graph API (META_GRAPH_URL), with
a Page token put into PlatformTokens. The case exists from the first moment as ``text_pending``; once
the enrich function has fetched the text, it is classified and routed like any other post.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from moderato.adapters.case_store import CaseStore
from moderato.models import Case, CaseStatus
from moderato_local.fake_platform import FakePlatform
from moderato_local.process import LocalStackProcess
from tests.support import CASE_QUEUES, REPO, drain_case_queue, signed_headers, stack_with_platform

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
FIXTURE = json.loads((REPO / "tests" / "fixtures" / "platforms" / "instagram_mention.json").read_text("utf-8"))
ACCOUNT_ID = FIXTURE["payload"]["entry"][0]["id"]
COMMENT_ID = FIXTURE["payload"]["entry"][0]["changes"][0]["value"]["comment_id"]


@pytest.fixture(scope="module")
def graph_and_stack() -> Iterator[tuple[FakePlatform, LocalStackProcess]]:
    with stack_with_platform("META_GRAPH_URL", {"meta": {ACCOUNT_ID: "fake-page-token"}, "x": {}}) as pair:
        yield pair


@pytest.fixture(scope="module")
def fake_graph(graph_and_stack: tuple[FakePlatform, LocalStackProcess]) -> FakePlatform:
    return graph_and_stack[0]


@pytest.fixture(scope="module")
def stack(graph_and_stack: tuple[FakePlatform, LocalStackProcess]) -> LocalStackProcess:
    return graph_and_stack[1]


def the_case(stack: LocalStackProcess) -> Case | None:
    store = CaseStore(stack.resources["CasesTable"], stack.client("dynamodb"))
    found = [case for case in store.all_cases() if case.post.post_id == COMMENT_ID]
    return found[0] if found else None


def wait_for(stack: LocalStackProcess, status: CaseStatus, seconds: float = 30) -> Case:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        case = the_case(stack)
        if case is not None and case.status == status:
            return case
        time.sleep(0.2)
    raise AssertionError(f"no case reached {status.value}: {the_case(stack)}")


def test_an_instagram_mention_waits_for_its_text_then_is_classified(stack: LocalStackProcess,
                                                                   fake_graph: FakePlatform) -> None:
    fetched = FIXTURE["fetched"]["mentioned_comment"]
    fake_graph.add_mention(COMMENT_ID, fetched["text"], timestamp=fetched["timestamp"])
    # Given the Graph API fails once (an outage: the enrich function retries)
    fake_graph.fail_next(503, times=1)
    # When Meta delivers the mention, signed
    body = json.dumps(FIXTURE["payload"]).encode()
    answer = requests.post(f"{stack.gateway_url}/webhooks/meta", data=body, headers=signed_headers("meta", body),
                           timeout=10)
    assert answer.status_code == 200
    # Then the case is classified from the fetched text and routed to its queue
    case = wait_for(stack, CaseStatus.OPEN, 90)
    assert case.label.value == "complaint" and case.post.text == fetched["text"]
    assert case.post.created_at.isoformat().startswith("2026-12-04T09:58:01")
    assert "post.text_fetched" in [r.code for r in case.reasons]
    # And its history shows it waited, visibly, for its text first
    store = CaseStore(stack.resources["CasesTable"], stack.client("dynamodb"))
    history = store.history(case.case_id)
    assert [event.action for event in history] == ["triaged", "text_fetched"]
    assert "post.text_pending" in (history[0].reason or "") and history[0].data["queue"] is None
    calls = fake_graph.received("GET", f"/{ACCOUNT_ID}")
    assert len(calls) == 2 and all(call.authorized for call in calls)  # the failed read, then the good one
    messages = drain_case_queue(stack.client("sqs"), stack.environment["COMPLAINT_QUEUE_URL"],
                                CASE_QUEUES["COMPLAINT_QUEUE_URL"])
    assert [m["case_id"] for m in messages] == [case.case_id]

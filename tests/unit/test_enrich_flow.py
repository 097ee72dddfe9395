"""Posts that come as ids only: triage opens a waiting case, the enrich flow fetches, classifies, routes. Fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from moderato.enrich.flow import EnrichService, FetchedText, TextUnavailable
from moderato.models import Case, CaseStatus, Label, Platform, Post, PostKind, Verdict
from moderato.reasons import MENTION_TEXT_NOT_IN_PAYLOAD, TEXT_FETCHED, TEXT_PENDING, reason
from moderato.settings import SlaPolicy
from moderato.triage.service import TriageService
from moderato.triage.text_pending import EnrichRequest
from tests.unit.signals.fakes import MemoryCases
from tests.unit.test_triage_service import Alerts, FlakyQueues

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


class Requests:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def request(self, case: Case) -> str:
        self.asked.append(case.case_id)
        return "m"


class Fetcher:
    def __init__(self, text: str = "@floralys ma commande n'est jamais arrivée", fail: bool = False) -> None:
        self.text, self.fail, self.calls = text, fail, 0

    def fetch(self, post: Post) -> FetchedText:
        self.calls += 1
        if self.fail:
            raise TextUnavailable("Graph API answered 503")
        return FetchedText(text=self.text, author_handle="jeanne.m")


def mention() -> Post:
    return Post(platform=Platform.INSTAGRAM, kind=PostKind.MENTION, post_id="c1", thread_id="m1", account_id="ig",
                text="", created_at=NOW, dedup_key="instagram:c1:mentions", flags=(MENTION_TEXT_NOT_IN_PAYLOAD,))


def classify_by_words(post: Post) -> Verdict:
    label = Label.COMPLAINT if "jamais arrivée" in post.text else Label.NORMAL
    return Verdict(label=label, scores={label.value: 0.9}, reasons=[], model="words")


def setup() -> tuple[TriageService, MemoryCases, FlakyQueues, Requests]:
    cases, queues, requests = MemoryCases(), FlakyQueues(), Requests()
    clock = iter(NOW + timedelta(minutes=n) for n in range(100))
    triage = TriageService(cases, queues, Alerts(), classify_by_words, SlaPolicy(), clock=lambda: next(clock),
                           text_requests=requests)
    return triage, cases, queues, requests


def test_a_post_with_ids_only_opens_a_visible_waiting_case_and_asks_for_its_text() -> None:
    triage, cases, queues, requests = setup()
    outcome = triage.triage(mention())
    case = outcome.case
    assert outcome.created and case.status == CaseStatus.TEXT_PENDING and case.queue is None
    assert [r.code for r in case.reasons] == [TEXT_PENDING, MENTION_TEXT_NOT_IN_PAYLOAD]
    assert requests.asked == [case.case_id] and queues.sent == []
    # A redelivery asks again (the enrich flow ignores a case no longer waiting) and opens no second case
    assert not triage.triage(mention()).created and requests.asked == [case.case_id] * 2 and len(cases.cases) == 1


def test_without_an_enrich_queue_the_post_is_triaged_as_before() -> None:
    triage, _, _, requests = setup()
    triage.text_requests = None
    assert triage.triage(mention()).case.status == CaseStatus.OPEN and requests.asked == []


def test_the_fetched_text_is_classified_routed_and_recorded_once() -> None:
    triage, cases, queues, _ = setup()
    waiting = triage.triage(mention()).case
    enrich = EnrichService(cases, Fetcher(), triage)
    routed = enrich.enrich(EnrichRequest(case_id=waiting.case_id, post=waiting.post))
    assert routed is not None and routed.status == CaseStatus.OPEN and routed.label == Label.COMPLAINT
    assert routed.queue == "ComplaintQueue" and routed.version == waiting.version + 1
    assert routed.post.text.endswith("jamais arrivée") and routed.post.author.handle == "jeanne.m"
    assert reason(TEXT_FETCHED) in routed.reasons and MENTION_TEXT_NOT_IN_PAYLOAD not in routed.post.flags
    assert routed.created_at == waiting.created_at and routed.sla_due_at == waiting.created_at + timedelta(hours=1)
    assert [c.case_id for c in queues.sent] == [waiting.case_id]
    assert [e.action for e in cases.events] == ["triaged", "text_fetched"]
    # Asked again for the same case: nothing fetched, nothing sent
    fetcher = Fetcher()
    assert EnrichService(cases, fetcher, triage).enrich(EnrichRequest(case_id=waiting.case_id,
                                                                      post=waiting.post)) is None
    assert fetcher.calls == 0 and len(queues.sent) == 1


def test_a_failed_fetch_leaves_the_case_waiting_and_sends_nothing() -> None:
    triage, cases, queues, _ = setup()
    waiting = triage.triage(mention()).case
    with pytest.raises(TextUnavailable):
        EnrichService(cases, Fetcher(fail=True), triage).enrich(EnrichRequest(case_id=waiting.case_id,
                                                                               post=waiting.post))
    assert cases.cases[waiting.case_id].status == CaseStatus.TEXT_PENDING and queues.sent == []

"""TriageService with in-memory fakes: routing, SLAs, and exactly-once routing across failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from moderato.models import Author, Case, Label, Platform, Post, PostKind, Verdict
from moderato.reasons import EMPTY_TEXT, reason
from moderato.settings import SlaPolicy
from moderato.triage.cases import case_message
from moderato.triage.routing import route
from moderato.triage.service import TriageService
from tests.support import assert_case_message
from tests.unit.signals.fakes import MemoryCases

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class FlakyQueues:
    def __init__(self, failures: int = 0) -> None:
        self.sent: list[Case] = []
        self.failures = failures

    def send(self, case: Case) -> str:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SQS unavailable")
        self.sent.append(case)
        return "m"

    def send_many(self, cases: list[Case]) -> None:
        for case in cases:
            self.send(case)


class Alerts:
    def __init__(self) -> None:
        self.published: list[Case] = []

    def publish_crisis(self, case: Case) -> str:
        self.published.append(case)
        return "a"


def post(text: str = "hello", key: str = "facebook:1:add", delivery: str = "delivery:first") -> Post:
    return Post(platform=Platform.FACEBOOK, kind=PostKind.COMMENT, post_id="1", account_id="page",
                author=Author(id="a", name="Jeanne", followers=10), text=text, created_at=NOW, dedup_key=key,
                raw_ref=delivery)


def fixed(label: Label):
    return lambda _post: Verdict(label=label, scores={lbl.value: float(lbl == label) for lbl in Label},
                                 reasons=[reason(EMPTY_TEXT)], model="fixed")


def service(label: Label, queues: FlakyQueues | None = None) -> tuple[TriageService, MemoryCases, FlakyQueues, Alerts]:
    cases, sent, alerts = MemoryCases(), queues or FlakyQueues(), Alerts()
    return TriageService(cases, sent, alerts, fixed(label), SlaPolicy(), clock=lambda: NOW), cases, sent, alerts


@pytest.mark.parametrize(("label", "queue", "priority", "sla_minutes"), [
    (Label.CRISIS, "CrisisQueue", 1, 15), (Label.COMPLAINT, "ComplaintQueue", 2, 60),
    (Label.SPAM, "SpamQueue", 3, 1440), (Label.NORMAL, None, 4, None)])
def test_each_label_goes_to_its_queue_with_its_sla(label: Label, queue: str | None, priority: int,
                                                   sla_minutes: int | None) -> None:
    triage, cases, sent, alerts = service(label)
    outcome = triage.triage(post())
    assert outcome.created and outcome.case.queue == queue and outcome.case.priority == priority
    expected_due = NOW + timedelta(minutes=sla_minutes) if sla_minutes else None
    assert outcome.case.sla_due_at == expected_due
    assert len(sent.sent) == (0 if queue is None else 1)
    assert len(alerts.published) == (1 if label == Label.CRISIS else 0)
    assert [e.action for e in cases.events] == ["triaged"]


def test_a_redelivery_is_not_routed_twice() -> None:
    # Given a crisis triaged from one delivery, When the platform delivers the same post again
    triage, _cases, sent, alerts = service(Label.CRISIS)
    triage.triage(post())
    again = triage.triage(post(delivery="delivery:second"))
    # Then it is found, and neither sent nor alerted again
    assert not again.created and len(sent.sent) == 1 and len(alerts.published) == 1


def test_a_crash_between_write_and_send_is_completed_on_retry() -> None:
    # Given the case written and the send failing (the record is retried by SQS)
    triage, cases, sent, _alerts = service(Label.COMPLAINT, FlakyQueues(failures=1))
    with pytest.raises(ConnectionError):
        triage.triage(post())
    assert len(cases.cases) == 1 and sent.sent == []
    # When the same delivery comes again, Then its case is found as its own and sent, once
    outcome = triage.triage(post())
    assert not outcome.created and len(sent.sent) == 1 and len(cases.cases) == 1
    # And a later redelivery of the post by the platform sends nothing more
    triage.triage(post(delivery="delivery:second"))
    assert len(sent.sent) == 1


def test_case_message_matches_the_public_schema() -> None:
    triage, *_ = service(Label.SPAM)
    message = case_message(triage.triage(post("Gagnez 500€ sur Telegram")).case)
    assert_case_message(message)
    assert message["schema"] == "moderato.case/v1" and message["post"]["text"] == "Gagnez 500€ sur Telegram"


def test_normal_cases_expire_and_queued_cases_do_not() -> None:
    assert route(Label.NORMAL, NOW, SlaPolicy(normal_retention_days=7)).expires_at == NOW + timedelta(days=7)
    assert route(Label.COMPLAINT, NOW, SlaPolicy()).expires_at is None


class LostAnswerCases(MemoryCases):
    """The put is applied, its answer lost, and the SDK's retry is refused by the condition it set."""

    def create(self, case: Case, expires_at: datetime | None = None) -> tuple[Case, bool]:
        super().create(case, expires_at)
        return case, False


def test_a_case_whose_write_answer_was_lost_is_still_sent_and_alerted() -> None:
    cases, sent, alerts = LostAnswerCases(), FlakyQueues(), Alerts()
    triage = TriageService(cases, sent, alerts, fixed(Label.CRISIS), SlaPolicy(), clock=lambda: NOW)
    outcome = triage.triage(post())
    assert len(cases.cases) == 1 and len(sent.sent) == 1 and len(alerts.published) == 1
    assert outcome.case.case_id in cases.cases


class RacedCases(MemoryCases):
    """Another delivery of the same post writes its case between this batch's read and its write."""

    def __init__(self, concurrent: Case) -> None:
        super().__init__()
        self.concurrent = concurrent

    def create(self, case: Case, expires_at: datetime | None = None) -> tuple[Case, bool]:
        if self.concurrent.case_id not in self.cases:
            super().create(self.concurrent)
        return super().create(case, expires_at)


def test_a_case_written_first_by_another_delivery_is_left_to_it() -> None:
    # Given the same post written a moment before by a concurrent delivery (another request id)
    builder = TriageService(MemoryCases(), FlakyQueues(), Alerts(), fixed(Label.CRISIS), SlaPolicy(),
                            clock=lambda: NOW)
    cases = RacedCases(builder.build(post(delivery="delivery:other"), NOW, NOW)[0])
    sent, alerts = FlakyQueues(), Alerts()
    triage = TriageService(cases, sent, alerts, fixed(Label.CRISIS), SlaPolicy(), clock=lambda: NOW)
    # When this delivery is triaged, Then it sends nothing: the other delivery's triage routes that case
    outcome = triage.triage(post())
    assert sent.sent == [] and alerts.published == [] and not outcome.created

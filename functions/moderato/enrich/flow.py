"""Fetch the text of a waiting case, then classify and route it with triage's own classifier and table. Pure.

The case was opened by triage in ``text_pending`` (never dropped, visible in the console). Here it gets
its text, its verdict, its route and its queue message, as if the text had been in the delivery. What
the case is sent to comes first and the case is saved after: a crash between the two resends the message
on the retry (queue consumers already take a case id more than once), it never loses it. Safe to run
twice: a case no longer waiting is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from moderato.case_errors import CaseNotFound
from moderato.models import Case, CaseEvent, CaseStatus, Post
from moderato.reasons import MENTION_TEXT_NOT_IN_PAYLOAD, TEXT_FETCHED
from moderato.triage.service import TriageService
from moderato.triage.text_pending import EnrichRequest

SYSTEM_ENRICH = "system:enrich"


@dataclass(frozen=True)
class FetchedText:
    """What the platform API returned for a post that came as ids only."""

    text: str
    author_handle: str | None = None
    created_at: datetime | None = None
    permalink: str | None = None


class TextUnavailable(Exception):
    """The platform did not give the text (no token, an error, an outage): retried, then EnrichDLQ."""


class TextFetcher(Protocol):
    def fetch(self, post: Post) -> FetchedText: ...


class EnrichCases(Protocol):
    def get(self, case_id: str) -> Case | None: ...

    def save(self, case: Case, event: CaseEvent, expected_version: int, retain: bool = False,
             expires_at: datetime | None = None) -> Case: ...


@dataclass
class EnrichService:
    cases: EnrichCases
    fetcher: TextFetcher
    triage: TriageService  # its classifier, signals, SLA table, queues and alerts: one way to classify and route

    def enrich(self, request: EnrichRequest) -> Case | None:
        """The routed case, or None when the case is not waiting any more (done by an earlier attempt)."""
        case = self.cases.get(request.case_id)
        if case is None:
            raise CaseNotFound(f"case {request.case_id} is not in the cases table (yet): retried, then EnrichDLQ")
        if case.status != CaseStatus.TEXT_PENDING:
            return None
        post = with_text(case.post, self.fetcher.fetch(case.post))
        routed, expires_at = self._classified(case, post)
        self._send(routed)
        event = CaseEvent(case_id=case.case_id, at=routed.updated_at, actor=SYSTEM_ENRICH, action="text_fetched",
                          version=routed.version, reason=", ".join(r.code for r in routed.reasons) or None,
                          data={"label": routed.label.value, "queue": routed.queue, "scores": routed.scores,
                                "model": routed.model})
        # A mention found normal expires like any normal case, counted from when the post reached us.
        return self.cases.save(routed, event, expected_version=case.version, expires_at=expires_at)

    def _classified(self, case: Case, post: Post) -> tuple[Case, datetime | None]:
        now = self.triage.clock()
        built, assessment, expires_at = self.triage.build(post, case.created_at, now)
        if assessment.wave_alert is not None:
            self.triage.publish_wave(assessment.wave_alert)
        routed = built.model_copy(update={"status": CaseStatus.OPEN, "version": case.version + 1, "updated_at": now})
        return routed, expires_at

    def _send(self, case: Case) -> None:
        if case.queue is not None:
            self.triage.queues.send(case)
        self.triage.alert_crisis(case)


def with_text(post: Post, fetched: FetchedText) -> Post:
    """The post with its fetched text, validated again (the text cap applies), its flag saying where it came from."""
    flags = tuple(flag for flag in post.flags if flag != MENTION_TEXT_NOT_IN_PAYLOAD)
    author = post.author.model_copy(update={"handle": post.author.handle or fetched.author_handle})
    return Post.model_validate({
        **post.model_dump(), "text": fetched.text, "author": author.model_dump(),
        "created_at": fetched.created_at or post.created_at, "permalink": post.permalink or fetched.permalink,
        "flags": (*flags, TEXT_FETCHED),
    })

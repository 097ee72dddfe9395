"""Posts that arrive as ids only: the case that waits for their text, and the request to fetch it.

Shared by triage (which opens the waiting case and asks for the text) and the enrich flow (which fetches
the text, then classifies and routes the case). Neither flow imports the other's module for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from moderato.models import Case, CaseStatus, Label, Post, Verdict
from moderato.people import NO_LINKS, PersonLinks
from moderato.reasons import MENTION_TEXT_NOT_IN_PAYLOAD, TEXT_PENDING, reason
from moderato.triage.cases import build_case
from moderato.triage.routing import PRIORITY_FOR_LABEL, Route

ENRICH_SCHEMA = "moderato.enrich/v1"


def needs_text(post: Post) -> bool:
    """The parser said the platform sent ids only, and there is indeed no text to classify."""
    return MENTION_TEXT_NOT_IN_PAYLOAD in post.flags and not post.text.strip()


class EnrichRequest(BaseModel):
    """One EnrichQueue message: which case waits for its text, and the post as triage parsed it."""

    version: str = ENRICH_SCHEMA
    case_id: str
    post: Post


class TextRequests(Protocol):
    def request(self, case: Case) -> str: ...


def pending_case(post: Post, now: datetime, links: PersonLinks = NO_LINKS) -> Case:
    """A case that exists at once, visibly waiting: no queue, no label worth acting on yet, never expiring."""
    verdict = Verdict(label=Label.NORMAL, scores={}, reasons=[reason(TEXT_PENDING)], model="none (text pending)")
    waiting = Route(queue=None, priority=PRIORITY_FOR_LABEL[Label.NORMAL], sla_due_at=None, expires_at=None)
    return build_case(post, verdict, waiting, now, links).model_copy(update={"status": CaseStatus.TEXT_PENDING})

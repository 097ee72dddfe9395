"""Cases: building one from a post and its verdict, its history events, and its queue message.

The queue message is a public contract (``moderato.case/v1``, schemas/moderato.case.v1.schema.json):
review queue consumers parse it, so fields are only ever added, never renamed or removed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from moderato.models import Case, CaseEvent, Post, Verdict
from moderato.orders import order_numbers
from moderato.people import NO_LINKS, PersonLinks, person_key
from moderato.reasons import reason
from moderato.triage.routing import Route

CASE_SCHEMA = "moderato.case/v1"
SYSTEM_TRIAGE = "system:triage"


def case_id_for(post: Post) -> str:
    """Deterministic: the same platform post always maps to the same case, whatever the redelivery."""
    digest = hashlib.sha256(post.dedup_key.encode("utf-8")).hexdigest()[:20]
    return f"{post.platform.value}-{digest}"


def build_case(post: Post, verdict: Verdict, case_route: Route, now: datetime,
               links: PersonLinks = NO_LINKS) -> Case:
    """``links``: configured ids of one person (the brands file), folded into the case's person key."""
    reasons = list(verdict.reasons) + [reason(flag) for flag in post.flags if reason(flag) not in verdict.reasons]
    return Case(
        case_id=case_id_for(post),
        label=verdict.label,
        queue=case_route.queue,
        priority=case_route.priority,
        scores=verdict.scores,
        reasons=reasons,
        model=verdict.model,
        language=verdict.language,
        sla_due_at=case_route.sla_due_at,
        created_at=now,
        updated_at=now,
        post=post,
        person_key=person_key(post, links),
        order_numbers=order_numbers(post.text),
        safety=list(verdict.safety),
    )


def opening_event(case: Case) -> CaseEvent:
    return CaseEvent(
        case_id=case.case_id,
        at=case.created_at,
        actor=SYSTEM_TRIAGE,
        action="triaged",
        version=case.version,
        reason=", ".join(r.code for r in case.reasons) or None,
        data={"label": case.label.value, "queue": case.queue, "scores": case.scores, "model": case.model},
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def case_message(case: Case) -> dict[str, Any]:
    """The JSON body sent to SpamQueue, ComplaintQueue or CrisisQueue."""
    post = case.post
    return {
        "schema": CASE_SCHEMA,
        "case_id": case.case_id,
        "label": case.label.value,
        "queue": case.queue,
        "status": case.status.value,
        "priority": case.priority,
        "scores": case.scores,
        "reasons": [r.model_dump() for r in case.reasons],
        "model": case.model,
        "sla_due_at": _iso(case.sla_due_at),
        "created_at": _iso(case.created_at),
        "person_key": case.person_key,
        "order_numbers": case.order_numbers,
        "safety": case.safety,
        "suggested_reply": case.suggested_reply,
        "post": {
            "platform": post.platform.value,
            "kind": post.kind.value,
            "post_id": post.post_id,
            "parent_id": post.parent_id,
            "thread_id": post.thread_id,
            "permalink": post.permalink,
            "account_id": post.account_id,
            "brand": post.brand,
            "author": post.author.model_dump(),
            "text": post.text,
            "language": case.language,
            "created_at": _iso(post.created_at),
            "edited": post.edited,
        },
    }

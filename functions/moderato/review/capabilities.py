"""What a platform lets Moderato do to a post, checked before a decision is recorded. Pure.

The actions function would refuse these at execution time (moderato/actions/calls.py); refusing them
here instead means the reviewer hears it at once, and no request that can never run is queued.
A reply's text is checked too: a reply template whose placeholders are not all filled in must not
reach a customer.
"""

from __future__ import annotations

import re

from moderato.models import ActionKind, Case, Platform, PostKind
from moderato.review.errors import DecisionNotAllowed, InvalidRequest
from moderato.review.requests import Decision, DecisionRequest

# Reply templates mark what the reviewer must fill in as {{name}} (moderato console, templates.js).
PLACEHOLDER = re.compile(r"\{\{\s*[\w.-]+\s*\}\}")
_ACTION_OF_DECISION = {Decision.HIDE: ActionKind.HIDE, Decision.REPLY: ActionKind.REPLY}


def refusal(case: Case, kind: ActionKind) -> str | None:
    """Why the platform cannot do ``kind`` on this case's post, or None when it can."""
    post = case.post
    private = post.kind == PostKind.MESSAGE or post.platform == Platform.MESSENGER
    if private and kind in (ActionKind.HIDE, ActionKind.UNHIDE):
        return f"a private {post.platform.value} message cannot be hidden: only public comments can"
    if private and kind == ActionKind.REPLY:
        return (f"a private {post.platform.value} message cannot get a public reply: answer it from the "
                "platform's inbox")
    if kind == ActionKind.BAN and post.platform == Platform.INSTAGRAM:
        return "Instagram has no ban API: hide the comments instead"
    return None


def supported(case: Case, kind: ActionKind) -> bool:
    return refusal(case, kind) is None


def unfilled_placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def check_decision(case: Case, request: DecisionRequest) -> None:
    """Refuse a decision whose platform action could never be performed, or a reply still holding a placeholder."""
    kind = _ACTION_OF_DECISION.get(request.decision)
    if kind is None:
        return
    why = refusal(case, kind)
    if why is not None:
        raise DecisionNotAllowed(f"'{request.decision.value}' refused: {why}")
    if request.decision == Decision.REPLY:
        missing = unfilled_placeholders(request.reply_text or "")
        if missing:
            raise InvalidRequest(f"the reply still holds placeholders to fill in: {', '.join(missing)}")

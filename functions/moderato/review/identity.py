"""Who is asking: the reviewer behind a request, read from the JWT claims the authorizer passed on.

API Gateway HTTP APIs hand claims to Lambda as strings and flatten arrays, so ``cognito:groups``
arrives as ``"[moderators approvers]"``; the local gateway copies that. A JSON list (``'["a","b"]'``),
a real list (direct invocation, tests) and a comma-separated string are accepted too.

A person is their token's ``sub``: Cognito's immutable, never reassigned user id. User names are for
display only. Names that look alike (``alice``, ``Alice``, ``alice`` with a zero-width space or a
Cyrillic ``а``) may be one person or two; only ``sub`` says which, so every "same person?" rule
(self-approval, whose claim) compares subs, and a token without one is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moderato.guardrails import APPROVERS
from moderato.review.errors import NotAllowed, NotAuthenticated

MODERATORS = "moderators"
REVIEW_GROUPS = frozenset({MODERATORS, APPROVERS})


@dataclass(frozen=True)
class Reviewer:
    username: str  # for display (history, messages); never compared
    sub: str  # who the person is
    groups: frozenset[str]

    def is_person(self, sub: str | None) -> bool:
        """Whether ``sub`` is this reviewer. A record without a sub (written before subs were kept) is nobody's."""
        return sub is not None and sub == self.sub

    @property
    def is_approver(self) -> bool:
        return APPROVERS in self.groups

    def require_reviewer(self) -> None:
        if not self.groups & REVIEW_GROUPS:
            raise NotAllowed(f"{self.username} is in neither the moderators nor the approvers group")

    def require_approver(self) -> None:
        if not self.is_approver:
            raise NotAllowed(f"only members of the approvers group may do this; {self.username} is not one")


def parse_groups(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(item) for item in value if str(item))
    text = str(value).strip()
    if not text:
        return frozenset()
    if text.startswith("[") and text.endswith("]"):
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, list):
            return frozenset(str(item) for item in loaded if str(item))
        text = text[1:-1]  # API Gateway's flattened form: [moderators approvers]
    parts = text.replace(",", " ").split()
    return frozenset(part.strip().strip('"') for part in parts if part.strip().strip('"'))


def reviewer_from_claims(claims: Mapping[str, Any] | None) -> Reviewer:
    """The reviewer, or NotAuthenticated when the request carries no usable identity.

    The gateway already refused invalid tokens (401); this is the second lock, for a route deployed
    without its authorizer by mistake: no identity, no case data. ``sub`` is compared exactly as the
    issuer wrote it: it is an opaque id, not a name to normalise.
    """
    if not claims:
        raise NotAuthenticated("no verified identity on this request")
    sub = str(claims.get("sub") or "")
    if not sub.strip():
        raise NotAuthenticated("the token has no sub: the review API cannot tell who this person is")
    username = claims.get("cognito:username") or claims.get("username") or sub
    return Reviewer(username=str(username), sub=sub, groups=parse_groups(claims.get("cognito:groups")))

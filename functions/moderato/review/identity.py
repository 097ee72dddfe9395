"""Who is asking: the reviewer behind a request, read from the JWT claims the authorizer passed on.

API Gateway HTTP APIs hand claims to Lambda as strings and flatten arrays, so ``cognito:groups``
arrives as ``"[moderators approvers]"``; the local gateway copies that. A JSON list (``'["a","b"]'``),
a real list (direct invocation, tests) and a comma-separated string are accepted too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moderato.review.errors import NotAllowed, NotAuthenticated

MODERATORS = "moderators"
APPROVERS = "approvers"
REVIEW_GROUPS = frozenset({MODERATORS, APPROVERS})


@dataclass(frozen=True)
class Reviewer:
    username: str
    sub: str | None
    groups: frozenset[str]

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
    without its authorizer by mistake: no identity, no case data.
    """
    if not claims:
        raise NotAuthenticated("no verified identity on this request")
    username = claims.get("cognito:username") or claims.get("username") or claims.get("sub")
    if not username:
        raise NotAuthenticated("the token names no user")
    return Reviewer(username=str(username), sub=str(claims["sub"]) if claims.get("sub") else None,
                    groups=parse_groups(claims.get("cognito:groups")))

"""Helpers for the review tests: cases in any state, reviewers, and review API events with claims."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from moderato.models import Author, Case, Label, Platform, Post, PostKind
from moderato.review.identity import Reviewer
from moderato.settings import SlaPolicy
from moderato.triage.routing import route
from moderato_local.events import HttpRequest, http_api_event
from moderato_local.jwt_issuer import flatten_claims

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PAGE_ID = "206070979425408"
SLA = SlaPolicy()

ALICE = Reviewer("alice", "sub-alice", frozenset({"moderators"}))
BOB = Reviewer("bob", "sub-bob", frozenset({"moderators", "approvers"}))
CAROL = Reviewer("carol", "sub-carol", frozenset({"approvers"}))
MALLORY = Reviewer("mallory", "sub-mallory", frozenset())  # a valid token, but no review group


def make_case(label: Label = Label.SPAM, case_id: str = "facebook-case1", author_id: str = "author-1",
              platform: Platform = Platform.FACEBOOK, now: datetime = T0, text: str | None = None,
              brand: str | None = "Floralys", account_id: str = PAGE_ID, post_id: str | None = None) -> Case:
    routed = route(label, now, SLA)
    post = Post(platform=platform, kind=PostKind.COMMENT, post_id=post_id or f"{case_id}-post", account_id=account_id,
                author=Author(id=author_id, name="Jeanne Martin"), text=text or f"a {label.value} post",
                created_at=now - timedelta(minutes=1), brand=brand, dedup_key=f"dedup-{case_id}")
    return Case(case_id=case_id, label=label, queue=routed.queue, priority=routed.priority,
                scores={label.value: 0.9}, reasons=[], sla_due_at=routed.sla_due_at, created_at=now,
                updated_at=now, post=post, language="fr")


def claims_of(user: str, *groups: str) -> dict[str, Any]:
    """Claims as API Gateway passes them to Lambda: strings, arrays flattened to "[a b]"."""
    return flatten_claims({"sub": f"sub-{user}", "username": user, "cognito:username": user,
                           "cognito:groups": list(groups), "token_use": "id"})


ROUTES = {
    ("GET", 1): "GET /cases", ("GET", 2): "GET /cases/{case_id}",
    ("POST", "claim"): "POST /cases/{case_id}/claim", ("POST", "release"): "POST /cases/{case_id}/release",
    ("POST", "decisions"): "POST /cases/{case_id}/decisions",
    ("POST", "ban-proposals"): "POST /cases/{case_id}/ban-proposals",
    ("POST", "approve"): "POST /cases/{case_id}/ban-proposals/{proposal_id}/approve",
    ("POST", "reject"): "POST /cases/{case_id}/ban-proposals/{proposal_id}/reject",
    ("POST", "undo-hide"): "POST /cases/{case_id}/undo-hide",
    ("POST", "bulk-hide"): "POST /cases/bulk-hide",
}


def review_event(method: str, path: str, claims: dict[str, Any] | None, body: dict[str, Any] | None = None,
                 query: dict[str, str] | None = None) -> dict[str, Any]:
    parts = path.strip("/").split("/")
    params: dict[str, str] = {}
    if len(parts) >= 2 and parts[1] != "bulk-hide":
        params["case_id"] = parts[1]
    if len(parts) >= 4 and parts[2] == "ban-proposals":
        params["proposal_id"] = parts[3]
    key = ROUTES[(method, len(parts))] if method == "GET" else ROUTES[(method, parts[-1])]
    request = HttpRequest(method=method, raw_path=path, raw_query=urlencode(query or {}),
                          headers=[("content-type", "application/json")],
                          body=json.dumps(body).encode() if body is not None else b"")
    authorizer = {"jwt": {"claims": claims, "scopes": None}} if claims is not None else None
    return http_api_event(request, key, params, api_id="local", domain_name="127.0.0.1:8787",
                          authorizer=authorizer)

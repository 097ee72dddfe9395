"""Which HTTP call each action is on each platform (PLATFORMS.md, "Moderation calls"). Pure.

Building the call is separate from making it: a dry run records exactly the call it would have made,
and tests check the calls without a network.

Instagram accounts come in two kinds (Meta's Instagram Platform docs, "Comment Moderation"): one
connected with Facebook Login through its Page is called on ``graph.facebook.com`` with the Page
token (family ``meta``); one connected with Instagram Login (Business Login for Instagram) is called
on ``graph.instagram.com`` with an Instagram user token (family ``instagram``). The paths are the
same: hide ``POST /{ig-comment-id}`` with ``hide``, reply ``POST /{ig-comment-id}/replies``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from moderato.actions.graph_versions import (
    CURRENT_GRAPH_API_VERSION,
    FACEBOOK_GRAPH_HOST,
    INSTAGRAM_GRAPH_HOST,
    graph_base_url,
)
from moderato.models import ActionKind, ActionRecord, Case, Platform

DEFAULT_META_GRAPH_URL = graph_base_url(FACEBOOK_GRAPH_HOST, CURRENT_GRAPH_API_VERSION)
DEFAULT_INSTAGRAM_GRAPH_URL = graph_base_url(INSTAGRAM_GRAPH_HOST, CURRENT_GRAPH_API_VERSION)
DEFAULT_X_API_URL = "https://api.x.com"
X_TOKEN_PATH = "/2/oauth2/token"
SAFE_METHODS = ("POST", "PUT")  # DELETE is how platforms delete: never sent by Moderato


class ActionUnsupported(Exception):
    """The platform has no API for this action (e.g. Instagram has no ban): recorded, not retried."""


@dataclass(frozen=True)
class Endpoints:
    meta_graph_url: str = DEFAULT_META_GRAPH_URL
    x_api_url: str = DEFAULT_X_API_URL
    instagram_graph_url: str = DEFAULT_INSTAGRAM_GRAPH_URL
    # Instagram account ids connected with Instagram Login (brands.json ``connection``); others use their Page.
    instagram_login_accounts: frozenset[str] = frozenset()

    @property
    def x_token_url(self) -> str:
        return f"{self.x_api_url.rstrip('/')}{X_TOKEN_PATH}"


TokenFamily = Literal["meta", "instagram", "x"]  # the PlatformTokens secret's keys


@dataclass(frozen=True)
class PlatformCall:
    family: TokenFamily  # which token authorises it
    account_id: str  # the brand account whose token is used
    method: Literal["POST", "PUT"]
    url: str
    form: dict[str, str] = field(default_factory=dict)  # Graph API takes form fields
    json: dict[str, Any] | None = None  # X API v2 takes JSON

    def __post_init__(self) -> None:
        if self.method not in SAFE_METHODS:
            raise ValueError(f"Moderato never sends {self.method}: only {', '.join(SAFE_METHODS)}")

    def describe(self) -> dict[str, Any]:
        """What the history shows: the call without any token."""
        return {"method": self.method, "url": self.url, "form": self.form, "json": self.json}


_META = (Platform.FACEBOOK, Platform.INSTAGRAM, Platform.MESSENGER)


def build_call(case: Case, record: ActionRecord, endpoints: Endpoints) -> PlatformCall:
    post = case.post
    if post.platform == Platform.INSTAGRAM and post.account_id in endpoints.instagram_login_accounts:
        return _meta_call(case, record, endpoints.instagram_graph_url.rstrip("/"), "instagram")
    if post.platform in _META:
        return _meta_call(case, record, endpoints.meta_graph_url.rstrip("/"), "meta")
    if post.platform == Platform.X:
        return _x_call(case, record, endpoints.x_api_url.rstrip("/"))
    raise ActionUnsupported(f"no moderation API wired for {post.platform.value}")


def _target_author(case: Case, record: ActionRecord) -> str:
    proposal = next((p for p in case.ban_proposals if p.proposal_id == record.proposal_id), None)
    if proposal is None:
        raise ActionUnsupported("a ban without its proposal")
    return proposal.target_author_id


def _meta_call(case: Case, record: ActionRecord, graph: str, family: TokenFamily) -> PlatformCall:
    post = case.post
    account = post.account_id
    instagram = post.platform == Platform.INSTAGRAM
    if record.kind == ActionKind.BAN:
        if instagram:
            raise ActionUnsupported("Instagram has no ban API: hide the comments instead")
        return PlatformCall(family, account, "POST", f"{graph}/{account}/blocked",
                            form={"user": _target_author(case, record)})
    if post.platform == Platform.MESSENGER:
        raise ActionUnsupported(f"{record.kind.value} is not possible on a private Messenger message")
    if record.kind in (ActionKind.HIDE, ActionKind.UNHIDE):
        value = "true" if record.kind == ActionKind.HIDE else "false"
        field_name = "hide" if instagram else "is_hidden"
        return PlatformCall(family, account, "POST", f"{graph}/{post.post_id}", form={field_name: value})
    if record.kind == ActionKind.REPLY:
        edge = "replies" if instagram else "comments"
        return PlatformCall(family, account, "POST", f"{graph}/{post.post_id}/{edge}",
                            form={"message": record.text or ""})
    raise ActionUnsupported(f"{record.kind.value} on {post.platform.value}")


def _x_call(case: Case, record: ActionRecord, api: str) -> PlatformCall:
    post = case.post
    account = post.account_id
    if record.kind in (ActionKind.HIDE, ActionKind.UNHIDE):
        return PlatformCall("x", account, "PUT", f"{api}/2/tweets/{post.post_id}/hidden",
                            json={"hidden": record.kind == ActionKind.HIDE})
    if record.kind == ActionKind.REPLY:
        return PlatformCall("x", account, "POST", f"{api}/2/tweets",
                            json={"text": record.text or "", "reply": {"in_reply_to_tweet_id": post.post_id}})
    if record.kind == ActionKind.BAN:
        # Block needs an Enterprise plan on X; the error, if any, is recorded on the case.
        return PlatformCall("x", account, "POST", f"{api}/2/users/{account}/blocking",
                            json={"target_user_id": _target_author(case, record)})
    raise ActionUnsupported(f"{record.kind.value} on x")

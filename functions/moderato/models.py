"""The domain's data: posts as platforms give them to us, verdicts, and cases.

These pydantic models are the typed edges of every function: the webhook enqueues a ``Delivery``,
triage turns it into ``Post``s, the classifier returns a ``Verdict`` and triage stores a ``Case``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from moderato.reasons import Reason


class Label(StrEnum):
    SPAM = "spam"
    COMPLAINT = "complaint"
    CRISIS = "crisis"
    NORMAL = "normal"


class Platform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    MESSENGER = "messenger"
    X = "x"
    LINKEDIN = "linkedin"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"


class PostKind(StrEnum):
    COMMENT = "comment"
    POST = "post"
    REPLY = "reply"
    MENTION = "mention"
    MESSAGE = "message"


class Author(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str | None = None
    name: str | None = None
    handle: str | None = None
    followers: int | None = None


class Post(BaseModel):
    """One comment, post, reply, mention or private message, normalized across platforms."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    kind: PostKind
    post_id: str = Field(description="The platform's own id of this post, comment or message.")
    parent_id: str | None = Field(default=None, description="The post or comment this one answers.")
    thread_id: str | None = Field(default=None, description="The top-level post of the conversation.")
    permalink: str | None = None
    account_id: str = Field(description="The brand account (page, IG account, X user) it was sent to.")
    author: Author = Field(default_factory=Author)
    text: str = ""
    created_at: datetime
    edited: bool = False
    brand: str | None = Field(default=None, description="The brand this account belongs to, if configured.")
    raw_ref: str | None = Field(default=None, description="Where the raw delivery is kept (message or S3 key).")
    dedup_key: str = Field(description="Stable key from the platform's own ids; one case per key.")
    flags: tuple[str, ...] = Field(default=(), description="Reason codes the parser attached (e.g. no text).")


class Verdict(BaseModel):
    """What the classifier concluded about one post, and why."""

    model_config = ConfigDict(frozen=True)

    label: Label
    scores: dict[str, float] = Field(description="Calibrated score per label, each in [0, 1].")
    reasons: list[Reason] = Field(default_factory=list)
    language: str | None = None
    model: str = Field(default="unknown", description="Which classifier produced this verdict.")


class Delivery(BaseModel):
    """A raw verified webhook delivery, as the webhook function enqueues it (claim-check aware)."""

    platform: str
    received_at: datetime
    request_id: str
    body: str | None = Field(default=None, description="The raw body, exactly as signed.")
    body_s3_key: str | None = Field(default=None, description="Set instead of body above the size limit.")
    headers: dict[str, str] = Field(default_factory=dict)


class CaseStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    CLOSED = "closed"


class Case(BaseModel):
    """The state of record for one post: its verdict, where it went, and what people did about it."""

    case_id: str
    label: Label
    queue: str | None = Field(description="SpamQueue, ComplaintQueue, CrisisQueue, or None for normal.")
    status: CaseStatus = CaseStatus.OPEN
    priority: int = Field(ge=1, le=4, description="1 is the most urgent.")
    scores: dict[str, float]
    reasons: list[Reason]
    model: str = "unknown"
    language: str | None = None
    sla_due_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1
    post: Post
    claimed_by: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class CaseEvent(BaseModel):
    """One immutable entry of a case's history."""

    case_id: str
    at: datetime
    actor: str = Field(description="'system:<function>' or the reviewer's user name.")
    action: str
    version: int = Field(description="The case version this event produced.")
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

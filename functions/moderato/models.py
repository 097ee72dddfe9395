"""The domain's data: posts as platforms give them to us, verdicts, and cases.

These pydantic models are the typed edges of every function: the webhook enqueues a ``Delivery``,
triage turns it into ``Post``s, the classifier returns a ``Verdict`` and triage stores a ``Case``.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from moderato.reasons import TEXT_TRUNCATED, Reason

MAX_TEXT_CHARS = 8_000
"""The most of a post's text Moderato reads, stores and matches patterns on. Facebook comments stop at
8,000 characters; longer texts (X long posts, a forged 1 MB comment) are cut with ``post.text_truncated``.
The cap bounds every regex run, keeps a case far below DynamoDB's 400 KB item limit, and applies to every
post wherever it comes from, because it is enforced by the model that carries the text into triage."""
MAX_NAME_CHARS = 200
"""Author names and handles are short on every platform (X: 50, Instagram: 30); longer ones are cut."""
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(value: Any) -> Any:
    """A JSON ``"\\ud800"`` escape is valid JSON but cannot be encoded as UTF-8 (nor stored in DynamoDB,
    nor sent to SQS): lone surrogates become U+FFFD, the replacement character."""
    if not isinstance(value, str) or not _LONE_SURROGATE.search(value):
        return value
    # A valid pair written as two code units is re-joined; a lone half becomes U+FFFD.
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


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
    # Only where the platform's payload says so (X does; Meta webhooks send neither): None is "unknown".
    # Serialized as an ISO string even by model_dump(), so the case message stays plain JSON.
    account_created_at: Annotated[datetime, PlainSerializer(lambda at: at.isoformat(), return_type=str)] | None = (
        Field(default=None, description="When the author's account was created, as the platform reports it."))
    posts_count: int | None = Field(default=None, ge=0, description="Posts the platform counts for the author.")

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)

    @field_validator("name", "handle")
    @classmethod
    def _short(cls, value: str | None) -> str | None:
        return value[:MAX_NAME_CHARS] if value is not None else None


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
    raw_ref: str | None = Field(default=None, description=(
        "The delivery it came in: its S3 key when claim-checked, else delivery:<request id>."))
    dedup_key: str = Field(description="Stable key from the platform's own ids; one case per key.")
    flags: tuple[str, ...] = Field(default=(), description="Reason codes the parser attached (e.g. no text).")

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)

    @model_validator(mode="before")
    @classmethod
    def _bounded_text(cls, data: Any) -> Any:
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str) or len(text) <= MAX_TEXT_CHARS:
            return data
        flags = tuple(data.get("flags") or ())
        return {**data, "text": text[:MAX_TEXT_CHARS],
                "flags": flags if TEXT_TRUNCATED in flags else (*flags, TEXT_TRUNCATED)}


class Verdict(BaseModel):
    """What the classifier concluded about one post, and why."""

    model_config = ConfigDict(frozen=True)

    label: Label
    scores: dict[str, float] = Field(description="Calibrated score per label, each in [0, 1].")
    reasons: list[Reason] = Field(default_factory=list)
    language: str | None = None
    model: str = Field(default="unknown", description="Which classifier produced this verdict.")
    safety: list[str] = Field(default_factory=list, description=(
        "Safety-net categories that matched (crisis.self_harm first): the post is crisis whatever the scores."))


class Delivery(BaseModel):
    """A raw verified webhook delivery, as the webhook function enqueues it (claim-check aware)."""

    platform: str
    received_at: datetime
    request_id: str
    body: str | None = Field(default=None, description="The raw body, exactly as signed.")
    body_s3_key: str | None = Field(default=None, description="Set instead of body above the size limit.")
    headers: dict[str, str] = Field(default_factory=dict)
    note: str | None = Field(default=None, description=(
        "Why the webhook kept a signed delivery it does not recognise (reason code: detail); None otherwise."))


class CaseStatus(StrEnum):
    OPEN = "open"
    # Ids only so far (an Instagram mention): the enrich function fetches the text, then classifies and routes.
    TEXT_PENDING = "text_pending"
    CLAIMED = "claimed"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    CLOSED = "closed"


# Statuses in which a human still owes the case something: listed by default, and what the guardrails
# call open. In the order a case moves through them.
ACTIVE_STATUSES: tuple[CaseStatus, ...] = (CaseStatus.OPEN, CaseStatus.CLAIMED, CaseStatus.ACKNOWLEDGED)


class ReviewQueue(StrEnum):
    """The review queues, most urgent first; each value is also the queue's logical id in template.yaml.
    Which label goes where, how urgent and by when: moderato/triage/routing.py."""

    CRISIS = "CrisisQueue"
    COMPLAINT = "ComplaintQueue"
    SPAM = "SpamQueue"


class ActionKind(StrEnum):
    """What Moderato may do on a platform. There is deliberately no DELETE: nothing is ever deleted."""

    HIDE = "hide"
    UNHIDE = "unhide"
    REPLY = "reply"
    BAN = "ban"


class ActionStatus(StrEnum):
    REQUESTED = "requested"
    DONE = "done"
    DRY_RUN = "dry_run"
    FAILED = "failed"  # the last attempt failed; SQS retries with backoff, then ActionsDLQ
    REFUSED = "refused"  # the re-check at execution time said no: a decision, never retried


class ActionRecord(BaseModel):
    """A platform action a reviewer asked for, and how its execution went (the actions function's ledger)."""

    action_id: str
    kind: ActionKind
    requested_by: str
    requested_at: datetime
    status: ActionStatus = ActionStatus.REQUESTED
    proposal_id: str | None = Field(default=None, description="The approved ban proposal (bans only).")
    text: str | None = Field(default=None, description="The reply text (replies only).")
    attempts: int = 0
    last_error: str | None = None
    completed_at: datetime | None = None


class ProposalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTED = "executed"


class BanProposal(BaseModel):
    """A ban proposed by one reviewer; it takes effect only once a *different* approver approves it."""

    proposal_id: str
    target_author_id: str
    target_author_name: str | None = None
    platform: Platform
    account_id: str
    proposed_by: str
    # The proposer's token sub: the two-person rule compares subs, never names. None on a proposal
    # recorded before subs were kept: nobody can prove being a second person, so it cannot be approved.
    proposed_by_sub: str | None = None
    proposed_at: datetime
    reason: str
    status: ProposalStatus = ProposalStatus.PENDING
    decided_by: str | None = None
    decided_by_sub: str | None = None
    decided_by_groups: list[str] = Field(default_factory=list)
    decided_at: datetime | None = None
    decision_reason: str | None = None


class Promise(BaseModel):
    """What a reviewer told the customer would be done, by when; and, on resolution, whether it was kept."""

    text: str
    due_at: datetime
    made_by: str
    made_at: datetime
    resolved_at: datetime | None = None
    kept: bool | None = None
    outcome: str | None = None


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
    claimed_by: str | None = Field(default=None, description="The holder's user name, for display.")
    claimed_by_sub: str | None = Field(default=None, description="The holder's token sub: whose claim it is.")
    extra: dict[str, Any] = Field(default_factory=dict)
    # Review state; optional so cases written before it still load.
    hidden: bool = Field(default=False, description="Hidden on the platform by an approved action.")
    relabel_reason: str | None = Field(default=None, description="Why a reviewer last changed the label.")
    promise: Promise | None = None
    ban_proposals: list[BanProposal] = Field(default_factory=list)
    actions: list[ActionRecord] = Field(default_factory=list)
    # Safety net (moderato/classify/safety.py); optional so cases written before it still load.
    safety: list[str] = Field(default_factory=list, description=(
        "Safety-net categories that matched (crisis.self_harm, crisis.violence ...), most urgent first."))
    suggested_reply: str | None = Field(default=None, description=(
        "A reply with helpline numbers for a human to send (self-harm only); never sent automatically."))
    # Who wrote it across the brand's surfaces (moderato/people.py) and the orders it quotes
    # (moderato/orders.py); optional so cases written before them still load.
    person_key: str | None = Field(default=None, description="Brand / identity family / user id of the author.")
    order_numbers: list[str] = Field(default_factory=list, description="Order numbers quoted in the post.")


class CaseEvent(BaseModel):
    """One immutable entry of a case's history."""

    case_id: str
    at: datetime
    actor: str = Field(description="'system:<function>' or the reviewer's user name.")
    actor_sub: str | None = Field(default=None, description="The reviewer's token sub (who it was).")
    action: str
    version: int = Field(description="The case version this event produced.")
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

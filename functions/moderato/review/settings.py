"""Environment of the review, actions and SLA-check functions, parsed once and validated at start.

Names match template.yaml; the SLA variables are the ones triage uses, so every function reads the
same deadlines. Platform API base URLs are optional: they default to the real hosts, and the local
stack or a test points them at the fake platform (META_GRAPH_URL, X_API_URL).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from moderato.actions.calls import DEFAULT_META_GRAPH_URL, DEFAULT_X_API_URL, Endpoints
from moderato.settings import ConfigurationError, SlaPolicy, _env

_M = TypeVar("_M", bound=BaseModel)
_SLA_NAMES = ["COMPLAINT_ACK_SLA_MINUTES", "COMPLAINT_RESOLVE_SLA_MINUTES", "CRISIS_ACK_SLA_MINUTES",
              "SPAM_REVIEW_SLA_MINUTES", "NORMAL_RETENTION_DAYS"]


def sla_policy() -> SlaPolicy:
    return SlaPolicy.model_validate({key.replace("_sla", ""): value for key, value in _env(_SLA_NAMES).items()})


class ReviewSettings(BaseModel):
    cases_table_name: str
    actions_queue_url: str
    signals_table_name: str | None = None  # where confirmed spammers are remembered (repeat offenders)
    sla: SlaPolicy = Field(default_factory=SlaPolicy)


class ActionsSettings(BaseModel):
    cases_table_name: str
    actions_queue_url: str
    platform_tokens_secret_id: str
    secrets_max_age_seconds: int = Field(default=300, ge=0)


class SlaCheckSettings(BaseModel):
    cases_table_name: str
    sla: SlaPolicy = Field(default_factory=SlaPolicy)


def _load(model: type[_M], function: str, names: list[str], with_sla: bool) -> _M:
    values: dict[str, object] = dict(_env(names))
    try:
        if with_sla:
            values["sla"] = sla_policy()
        return model.model_validate(values)
    except ValidationError as error:
        raise ConfigurationError(f"{function} function misconfigured: {error}") from error


@lru_cache(maxsize=1)
def review_settings() -> ReviewSettings:
    return _load(ReviewSettings, "review", ["CASES_TABLE_NAME", "ACTIONS_QUEUE_URL", "SIGNALS_TABLE_NAME"], True)


@lru_cache(maxsize=1)
def actions_settings() -> ActionsSettings:
    return _load(ActionsSettings, "actions", ["CASES_TABLE_NAME", "ACTIONS_QUEUE_URL",
                                              "PLATFORM_TOKENS_SECRET_ID", "SECRETS_MAX_AGE_SECONDS"], False)


@lru_cache(maxsize=1)
def sla_check_settings() -> SlaCheckSettings:
    return _load(SlaCheckSettings, "sla-check", ["CASES_TABLE_NAME"], True)


def platform_endpoints() -> Endpoints:
    """Read on every batch, not cached: pointing the actions at a fake platform needs no cold start."""
    return Endpoints(meta_graph_url=os.environ.get("META_GRAPH_URL") or DEFAULT_META_GRAPH_URL,
                     x_api_url=os.environ.get("X_API_URL") or DEFAULT_X_API_URL)


def clear_caches() -> None:
    for cached in (review_settings, actions_settings, sla_check_settings):
        cached.cache_clear()

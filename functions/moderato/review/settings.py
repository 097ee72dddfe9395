"""Environment of the review, actions and SLA-check functions, parsed once and validated at start.

Names match template.yaml; the SLA variables are the ones triage uses, so every function reads the
same deadlines. Platform API base URLs are optional: they default to the real hosts with the
configured Graph API version (META_GRAPH_API_VERSION), and the local stack or a test points them at
the fake platform (META_GRAPH_URL, INSTAGRAM_GRAPH_URL, X_API_URL: whole base URLs).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from moderato.actions.calls import DEFAULT_X_API_URL, Endpoints
from moderato.actions.graph_versions import (
    CURRENT_GRAPH_API_VERSION,
    FACEBOOK_GRAPH_HOST,
    INSTAGRAM_GRAPH_HOST,
    VERSION_PATTERN,
    graph_base_url,
)
from moderato.settings import ConfigurationError, SlaPolicy, _env

_M = TypeVar("_M", bound=BaseModel)
_SLA_NAMES = ["COMPLAINT_ACK_SLA_MINUTES", "COMPLAINT_RESOLVE_SLA_MINUTES", "CRISIS_ACK_SLA_MINUTES",
              "SPAM_REVIEW_SLA_MINUTES", "NORMAL_RETENTION_DAYS"]


def sla_policy() -> SlaPolicy:
    return SlaPolicy.model_validate({key.replace("_sla", ""): value for key, value in _env(_SLA_NAMES).items()})


class ReviewSettings(BaseModel):
    cases_table_name: str
    actions_queue_url: str
    alerts_topic_arn: str  # a re-label or escalation to crisis alerts the on-call team, as triage does
    signals_table_name: str | None = None  # where confirmed spammers are remembered (repeat offenders)
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    # A claim untouched this long is nobody's again (moderato/review/claims.py).
    claim_lease_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Cognito hosted UI for the console's sign-in (template.yaml, HasConsoleSignIn); empty locally, where
    # reviewers paste a token.
    console_auth_domain_prefix: str = ""
    console_url: str = ""
    console_client_id: str = ""
    aws_region: str = "eu-west-1"

    @property
    def console_auth_domain(self) -> str:
        """The hosted UI's origin, or "" when the console has no hosted sign-in."""
        if not (self.console_auth_domain_prefix and self.console_url and self.console_client_id):
            return ""
        return f"https://{self.console_auth_domain_prefix}.auth.{self.aws_region}.amazoncognito.com"


class ActionsSettings(BaseModel):
    cases_table_name: str
    actions_queue_url: str
    platform_tokens_secret_id: str
    secrets_max_age_seconds: int = Field(default=300, ge=0)
    meta_graph_api_version: str = Field(default=CURRENT_GRAPH_API_VERSION, pattern=VERSION_PATTERN)


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
    return _load(ReviewSettings, "review", ["CASES_TABLE_NAME", "ACTIONS_QUEUE_URL", "SIGNALS_TABLE_NAME",
                                            "ALERTS_TOPIC_ARN", "CLAIM_LEASE_MINUTES", "CONSOLE_AUTH_DOMAIN_PREFIX",
                                            "CONSOLE_URL", "CONSOLE_CLIENT_ID", "AWS_REGION"], True)


@lru_cache(maxsize=1)
def actions_settings() -> ActionsSettings:
    return _load(ActionsSettings, "actions", ["CASES_TABLE_NAME", "ACTIONS_QUEUE_URL",
                                              "PLATFORM_TOKENS_SECRET_ID", "SECRETS_MAX_AGE_SECONDS",
                                              "META_GRAPH_API_VERSION"], False)


@lru_cache(maxsize=1)
def sla_check_settings() -> SlaCheckSettings:
    return _load(SlaCheckSettings, "sla-check", ["CASES_TABLE_NAME"], True)


def platform_endpoints(graph_api_version: str = CURRENT_GRAPH_API_VERSION,
                       instagram_login_accounts: frozenset[str] = frozenset()) -> Endpoints:
    """Read on every batch, not cached: pointing the actions at a fake platform needs no cold start."""
    return Endpoints(
        meta_graph_url=os.environ.get("META_GRAPH_URL") or graph_base_url(FACEBOOK_GRAPH_HOST, graph_api_version),
        x_api_url=os.environ.get("X_API_URL") or DEFAULT_X_API_URL,
        instagram_graph_url=(os.environ.get("INSTAGRAM_GRAPH_URL")
                             or graph_base_url(INSTAGRAM_GRAPH_HOST, graph_api_version)),
        instagram_login_accounts=instagram_login_accounts)


def clear_caches() -> None:
    for cached in (review_settings, actions_settings, sla_check_settings):
        cached.cache_clear()

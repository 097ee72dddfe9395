"""Environment of the actions function (and the platform endpoints the enrich function shares), parsed
once and validated at start.

Platform API base URLs are optional: they default to the real hosts with the configured Graph API version
(META_GRAPH_API_VERSION), and the local stack or a test points them at the fake platform
(META_GRAPH_URL, INSTAGRAM_GRAPH_URL, X_API_URL: whole base URLs).
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field, ValidationError

from moderato.actions.calls import DEFAULT_X_API_URL, Endpoints
from moderato.actions.graph_versions import (
    CURRENT_GRAPH_API_VERSION,
    FACEBOOK_GRAPH_HOST,
    INSTAGRAM_GRAPH_HOST,
    VERSION_PATTERN,
    graph_base_url,
)
from moderato.settings import ConfigurationError, _env


class ActionsSettings(BaseModel):
    cases_table_name: str
    actions_queue_url: str
    platform_tokens_secret_id: str
    secrets_max_age_seconds: int = Field(default=300, ge=0)
    meta_graph_api_version: str = Field(default=CURRENT_GRAPH_API_VERSION, pattern=VERSION_PATTERN)


@lru_cache(maxsize=1)
def actions_settings() -> ActionsSettings:
    names = ["CASES_TABLE_NAME", "ACTIONS_QUEUE_URL", "PLATFORM_TOKENS_SECRET_ID", "SECRETS_MAX_AGE_SECONDS",
             "META_GRAPH_API_VERSION"]
    try:
        return ActionsSettings.model_validate(dict(_env(names)))
    except ValidationError as error:
        raise ConfigurationError(f"actions function misconfigured: {error}") from error


def platform_endpoints(graph_api_version: str = CURRENT_GRAPH_API_VERSION,
                       instagram_login_accounts: frozenset[str] = frozenset()) -> Endpoints:
    """Read on every batch, not cached: pointing the actions at a fake platform needs no cold start."""
    return Endpoints(
        meta_graph_url=os.environ.get("META_GRAPH_URL") or graph_base_url(FACEBOOK_GRAPH_HOST, graph_api_version),
        x_api_url=os.environ.get("X_API_URL") or DEFAULT_X_API_URL,
        instagram_graph_url=(os.environ.get("INSTAGRAM_GRAPH_URL")
                             or graph_base_url(INSTAGRAM_GRAPH_HOST, graph_api_version)),
        instagram_login_accounts=instagram_login_accounts)

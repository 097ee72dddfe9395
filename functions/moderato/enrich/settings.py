"""The enrich function's configuration, from the environment named in template.yaml, validated at start."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, Field, ValidationError

from moderato.actions.graph_versions import CURRENT_GRAPH_API_VERSION, VERSION_PATTERN
from moderato.settings import (
    BrandAccount,
    ConfigurationError,
    SlaPolicy,
    _env,
    instagram_login_accounts,
    load_brand_accounts,
)


class EnrichSettings(BaseModel):
    cases_table_name: str
    enrich_queue_url: str
    spam_queue_url: str
    complaint_queue_url: str
    crisis_queue_url: str
    alerts_topic_arn: str
    platform_tokens_secret_id: str
    secrets_max_age_seconds: int = Field(default=300, ge=0)
    meta_graph_api_version: str = Field(default=CURRENT_GRAPH_API_VERSION, pattern=VERSION_PATTERN)
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    brand_accounts: dict[str, BrandAccount] = Field(default_factory=dict)

    @property
    def instagram_login_accounts(self) -> frozenset[str]:
        return instagram_login_accounts(self.brand_accounts)


@lru_cache(maxsize=1)
def enrich_settings() -> EnrichSettings:
    names = ["CASES_TABLE_NAME", "ENRICH_QUEUE_URL", "SPAM_QUEUE_URL", "COMPLAINT_QUEUE_URL", "CRISIS_QUEUE_URL",
             "ALERTS_TOPIC_ARN", "PLATFORM_TOKENS_SECRET_ID", "SECRETS_MAX_AGE_SECONDS", "META_GRAPH_API_VERSION"]
    sla_names = ["COMPLAINT_ACK_SLA_MINUTES", "COMPLAINT_RESOLVE_SLA_MINUTES", "CRISIS_ACK_SLA_MINUTES",
                 "SPAM_REVIEW_SLA_MINUTES", "NORMAL_RETENTION_DAYS"]
    sla = {key.replace("_sla", ""): value for key, value in _env(sla_names).items()}
    try:
        return EnrichSettings.model_validate(
            {**_env(names), "sla": SlaPolicy.model_validate(sla), "brand_accounts": load_brand_accounts()})
    except ValidationError as error:
        raise ConfigurationError(f"enrich function misconfigured: {error}") from error

"""Configuration from the environment, parsed once and validated at start.

A missing variable fails loudly when the function starts, not halfway through a batch. The names
match template.yaml; defaults are the SLAs of ARCHITECTURE.md so tests need set only what they use.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

# The webhook's settings are plain Python (its cold start must not pay for pydantic) and live in
# moderato/webhook_settings.py, with the one ConfigurationError every function's settings raise.
from moderato.webhook_settings import ConfigurationError as ConfigurationError

_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_DEFAULT_BRANDS_FILE = Path(__file__).parent / "config" / "brands.json"


class SlaPolicy(BaseModel):
    complaint_ack_minutes: int = Field(default=60, ge=1)
    complaint_resolve_minutes: int = Field(default=1440, ge=1)
    crisis_ack_minutes: int = Field(default=15, ge=1)
    spam_review_minutes: int = Field(default=1440, ge=1)
    normal_retention_days: int = Field(default=30, ge=1)


class BrandAccount(BaseModel):
    brand: str
    platform: str
    handles: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    # How an Instagram account is connected: through its Facebook Page (graph.facebook.com, Page token)
    # or with Instagram Login (graph.instagram.com, Instagram user token). The actions function uses it.
    connection: Literal["facebook_page", "instagram_login"] = "facebook_page"

    @field_validator("domains")
    @classmethod
    def _bare_hosts(cls, domains: list[str]) -> list[str]:
        # The classifier compares link hosts with these: a scheme, a path or a typo would never match.
        for domain in domains:
            if not _HOST.fullmatch(domain):
                raise ValueError(f"brand domain {domain!r} must be a bare lower-case host such as 'ebay.com'")
        return domains


class TriageSettings(BaseModel):
    cases_table_name: str
    spam_queue_url: str
    complaint_queue_url: str
    crisis_queue_url: str
    alerts_topic_arn: str
    delivery_bucket_name: str
    signals_table_name: str | None = None
    delivery_ledger_table_name: str | None = None
    enrich_queue_url: str | None = None  # without it, a post with ids only is classified on empty text
    # Where an unreadable delivery is set aside at once; without it, SQS retries it into IngestDLQ.
    ingest_dlq_url: str | None = None
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    brand_accounts: dict[str, BrandAccount] = Field(default_factory=dict)

    @property
    def brands_by_account(self) -> dict[str, str]:
        return {account_id: account.brand for account_id, account in self.brand_accounts.items()}


def _env(names: list[str]) -> dict[str, str]:
    return {name.lower(): os.environ[name] for name in names if os.environ.get(name) not in (None, "")}


def load_brand_accounts(path: str | None = None) -> dict[str, BrandAccount]:
    """Brand accounts (account id -> brand), from MODERATO_BRANDS_FILE or the bundled file."""
    source = Path(path or os.environ.get("MODERATO_BRANDS_FILE") or _DEFAULT_BRANDS_FILE)
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
        return {key: BrandAccount.model_validate(value) for key, value in raw.get("accounts", {}).items()}
    except (OSError, ValueError, ValidationError) as error:
        raise ConfigurationError(f"cannot load brand accounts from {source}: {error}") from error


def instagram_login_accounts(accounts: dict[str, BrandAccount]) -> frozenset[str]:
    """Instagram accounts connected with Instagram Login: acted on and read through graph.instagram.com."""
    return frozenset(account_id for account_id, account in accounts.items()
                     if account.platform == "instagram" and account.connection == "instagram_login")


@lru_cache(maxsize=1)
def triage_settings() -> TriageSettings:
    names = ["CASES_TABLE_NAME", "SPAM_QUEUE_URL", "COMPLAINT_QUEUE_URL",
             "CRISIS_QUEUE_URL", "ALERTS_TOPIC_ARN", "DELIVERY_BUCKET_NAME", "SIGNALS_TABLE_NAME",
             "DELIVERY_LEDGER_TABLE_NAME", "ENRICH_QUEUE_URL", "INGEST_DLQ_URL"]
    sla_names = ["COMPLAINT_ACK_SLA_MINUTES", "COMPLAINT_RESOLVE_SLA_MINUTES", "CRISIS_ACK_SLA_MINUTES",
                 "SPAM_REVIEW_SLA_MINUTES", "NORMAL_RETENTION_DAYS"]
    sla = {
        key.replace("_sla", ""): value for key, value in _env(sla_names).items()
    }
    try:
        return TriageSettings.model_validate(
            {**_env(names), "sla": SlaPolicy.model_validate(sla), "brand_accounts": load_brand_accounts()}
        )
    except ValidationError as error:
        raise ConfigurationError(f"triage function misconfigured: {error}") from error

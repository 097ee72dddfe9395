"""Environment of the review and SLA-check functions, parsed once and validated at start.

Names match template.yaml; the SLA variables are the ones triage uses, so every function reads the
same deadlines. The actions function's own settings are in moderato/actions/settings.py.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

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
def sla_check_settings() -> SlaCheckSettings:
    return _load(SlaCheckSettings, "sla-check", ["CASES_TABLE_NAME"], True)


def clear_caches() -> None:
    """Forget the parsed environment (tests and the local stack change it between runs)."""
    for cached in (review_settings, sla_check_settings):
        cached.cache_clear()

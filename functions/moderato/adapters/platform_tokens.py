"""Platform access tokens from the PlatformTokens secret (read only by the actions function).

Shape: ``{"meta": {"<page or IG account id>": "token", "default": "token"}, "x": {"<account id>": "token"}}``.
An empty or missing token means dry run for that account: the call is recorded, not made.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import BotoCoreError, ClientError


class PlatformTokensUnavailable(Exception):
    """Secrets Manager did not answer: retry the message later, never fall back to a dry run silently."""


class PlatformTokens:
    def __init__(self, secret_id: str, max_age_seconds: int = 300) -> None:
        self._secret_id = secret_id
        self._max_age = max_age_seconds

    def token_for(self, family: str, account_id: str) -> str | None:
        try:
            secret: Any = parameters.get_secret(self._secret_id, transform="json", max_age=self._max_age)
        except (parameters.exceptions.GetParameterError, parameters.exceptions.TransformParameterError,
                ClientError, BotoCoreError) as error:
            raise PlatformTokensUnavailable("platform tokens are unavailable; retry later") from error
        tokens = secret.get(family) if isinstance(secret, dict) else None
        if not isinstance(tokens, dict):
            return None
        token = tokens.get(account_id) or tokens.get("default")
        return str(token) if token else None

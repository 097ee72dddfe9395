"""Webhook-verification secrets from Secrets Manager, through Powertools parameters with caching."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from moderato.platforms.errors import SecretsUnavailable


class WebhookSecrets:
    """``{"meta": {"app_secret": ..., "verify_token": ...}, "x": {"consumer_secret": ...}, ...}``."""

    def __init__(self, secret_id: str, max_age_seconds: int = 300) -> None:
        self._secret_id = secret_id
        self._max_age = max_age_seconds

    def for_platform(self, platform: str) -> dict[str, Any]:
        secrets = self._all()
        value = secrets.get(platform) if isinstance(secrets, dict) else None
        return value if isinstance(value, dict) else {}

    def check_loadable(self) -> None:
        """Raise SecretsUnavailable unless the secret loads as a JSON object (cached: usually no AWS call)."""
        if not isinstance(self._all(), dict):
            raise SecretsUnavailable("webhook secrets are not a JSON object")

    def _all(self) -> Any:
        # Imported on first use, with the Secrets Manager client it builds then: not part of the cold import.
        from aws_lambda_powertools.utilities import parameters

        try:
            return parameters.get_secret(self._secret_id, transform="json", max_age=self._max_age)
        except (parameters.exceptions.GetParameterError, parameters.exceptions.TransformParameterError,
                ClientError, BotoCoreError) as error:
            raise SecretsUnavailable("webhook secrets are unavailable; retry later") from error

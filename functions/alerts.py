"""alerts function: AlertsTopic subscriber. Format each alert for people and post it to the chat webhook.

Crisis cases, complaint waves and CloudWatch alarms all arrive here through SNS. With
CHAT_WEBHOOK_URL empty the formatted message is only logged. A failed post raises: Lambda retries an
SNS invocation twice, so a chat outage of a few minutes does not lose an alert (e-mail subscribers
got theirs from SNS directly anyway).
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from moderato.alerting.format import format_alert

logger = Logger()
metrics = Metrics()

CHAT_TIMEOUT_SECONDS = 5


class ChatWebhookFailed(RuntimeError):
    pass


def post_to_chat(url: str, payload: dict[str, Any]) -> None:
    if not url.startswith(("https://", "http://")):
        raise ChatWebhookFailed("CHAT_WEBHOOK_URL must be an http(s) URL")
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=CHAT_TIMEOUT_SECONDS) as response:  # nosec B310  # http(s) checked
            if response.status >= 300:
                raise ChatWebhookFailed(f"chat webhook answered HTTP {response.status}")
    except OSError as error:  # URLError and HTTPError are OSErrors
        raise ChatWebhookFailed(f"chat webhook unreachable: {error}") from error


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=SNSEvent)
def lambda_handler(event: SNSEvent, context: LambdaContext) -> dict[str, int]:
    # Read at each call, not at import: the URL is a deploy parameter and tests point it at a receiver.
    url = os.environ.get("CHAT_WEBHOOK_URL", "")
    base_url = os.environ.get("ALERTS_LINK_BASE_URL", "")
    posted = 0
    for record in event.records:
        payload = format_alert(record.sns.subject, record.sns.message, base_url)
        # The text quotes the post and names its author: personal data, kept out of INFO logs.
        logger.info("alert", extra={"subject": record.sns.subject, "chat": bool(url),
                                    "characters": len(payload["text"])})
        logger.debug("alert text", extra={"text": payload["text"]})
        if url:
            post_to_chat(url, payload)
            posted += 1
            metrics.add_metric(name="ChatAlertsPosted", unit=MetricUnit.Count, value=1)
    return {"alerts": len(list(event.records)), "posted": posted}

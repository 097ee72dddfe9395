"""actions function: ActionsQueue consumer. Re-check each requested action on its case, then act.

Only this function can read the PlatformTokens secret (IAM and the secret's resource policy, asserted
in tests/unit/test_template_review.py). Without a token for an account it runs dry: the call it would
have made is written to the case history. A transient platform error (429, 5xx, network), an action
another delivery is handling right now, or unavailable tokens: the message is hidden for an
exponential backoff and reported as a batch item failure; after maxReceiveCount it waits in
ActionsDLQ. A permanent platform error (400, 401, 403, 404) is recorded on the case and not retried.
An X token that X refuses to refresh is recorded on the case as needing re-authorization, counted
(PlatformTokenNeedsReauthorization, alarmed) and retried like a transient error. At cold start the
function warns when the configured Graph API version is within 60 days of its end of life.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from moderato.actions.calls import Endpoints
from moderato.actions.executor import ActionBusy, ActionExecutor, Outcome, PlatformError
from moderato.actions.graph_versions import end_of_life_warning
from moderato.actions.messages import ActionMessage
from moderato.actions.settings import actions_settings, platform_endpoints
from moderato.actions.tokens import TokenNeedsReauthorization
from moderato.adapters.actions_queue import ActionsQueue
from moderato.adapters.aws import client
from moderato.adapters.case_store import CaseStore
from moderato.adapters.platform_http import HttpTransport, HttpXTokenRefresher
from moderato.adapters.platform_tokens import PlatformTokens, PlatformTokensUnavailable, SecretsManagerVault
from moderato.case_errors import StaleCaseVersion
from moderato.platform_retry import backoff_seconds
from moderato.settings import instagram_login_accounts, load_brand_accounts

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)

_settings = actions_settings()
_queue = ActionsQueue(_settings.actions_queue_url, client("sqs"))
_store = CaseStore(_settings.cases_table_name, client("dynamodb"))
_instagram_login = instagram_login_accounts(load_brand_accounts())


def _endpoints() -> Endpoints:
    return platform_endpoints(_settings.meta_graph_api_version, _instagram_login)


_tokens = PlatformTokens(SecretsManagerVault(_settings.platform_tokens_secret_id, client("secretsmanager")),
                         HttpXTokenRefresher(lambda: _endpoints().x_token_url), _settings.secrets_max_age_seconds)


def warn_about_graph_version(version: str, now: datetime) -> str | None:
    """Once per cold start: a Graph API version near or past its end of life is a WARNING in the logs."""
    warning = end_of_life_warning(version, now.date())
    if warning:
        logger.warning(warning, extra={"graph_api_version": version})
    return warning


warn_about_graph_version(_settings.meta_graph_api_version, datetime.now(UTC))


def _retry_later(record: SQSRecord, why: str, error: Exception) -> None:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    delay = backoff_seconds(receive_count)
    logger.warning(f"{why}; retrying later", extra={"error": str(error), "retry_in": delay,
                                                     "receive_count": receive_count})
    try:
        _queue.retry_later(record.receipt_handle, delay)
    except (ClientError, BotoCoreError):
        # E.g. the other delivery already deleted the message: the record still fails, SQS decides.
        logger.warning("could not delay the retry", exc_info=True)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    message = ActionMessage.model_validate_json(record.body)
    executor = ActionExecutor(cases=_store, transport=HttpTransport(), tokens=_tokens,
                              endpoints=_endpoints(), leases=_store, stale_errors=(StaleCaseVersion,))
    # Per record, not per batch: the next record of the batch must not log this one's ids.
    logger.append_keys(case_id=message.case_id, action_id=message.action_id, kind=message.kind.value)
    try:
        outcome = executor.run(message)
    except PlatformError as error:
        metrics.add_metric(name="ActionsFailed", unit=MetricUnit.Count, value=1)
        _retry_later(record, "platform call failed", error)
        raise
    except TokenNeedsReauthorization as error:
        # Alarmed (PlatformTokenReauthorizationAlarm): a person must authorize the app again.
        metrics.add_metric(name="PlatformTokenNeedsReauthorization", unit=MetricUnit.Count, value=1)
        _retry_later(record, "platform token needs re-authorization", error)
        raise
    except (ActionBusy, PlatformTokensUnavailable) as error:
        _retry_later(record, "action not attempted", error)
        raise
    finally:
        logger.remove_keys(["case_id", "action_id", "kind"])
    if outcome == Outcome.FAILED:
        # Permanent: recorded on the case with the platform's answer; retrying would fail the same way.
        metrics.add_metric(name="ActionsFailed", unit=MetricUnit.Count, value=1)
    with single_metric(name="ActionsHandled", unit=MetricUnit.Count, value=1,
                       default_dimensions=metrics.default_dimensions) as metric:
        metric.add_dimension(name="outcome", value=outcome.value)
    logger.info("action handled", extra={"outcome": outcome.value})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)

"""enrich function: EnrichQueue consumer. Fetch the text of a post that came as ids only, classify, route.

Triage opened the case in ``text_pending`` and sent it here; this function is the only one besides
actions that reads PlatformTokens (the Page token the Graph API wants), so triage stays token-free.
A fetch that fails (no token, Graph API error or outage) is hidden for an exponential backoff and
reported as a batch item failure; after maxReceiveCount it waits in EnrichDLQ (alarmed), and the case
stays visibly ``text_pending`` until a redrive.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from moderato.actions.settings import platform_endpoints
from moderato.adapters.aws import client
from moderato.adapters.case_queues import AlertPublisher, CaseQueues
from moderato.adapters.case_store import CaseStore
from moderato.adapters.enrich_queue import EnrichQueue
from moderato.adapters.graph_mentions import GraphMentionFetcher
from moderato.adapters.platform_tokens import PlatformTokens, SecretsManagerVault
from moderato.classify import classify
from moderato.enrich.flow import EnrichService
from moderato.enrich.settings import enrich_settings
from moderato.models import ReviewQueue
from moderato.people import load_person_links
from moderato.platform_retry import backoff_seconds
from moderato.triage.service import TriageService
from moderato.triage.text_pending import EnrichRequest

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)

_settings = enrich_settings()
_queue = EnrichQueue(_settings.enrich_queue_url, client("sqs"))
_cases = CaseStore(_settings.cases_table_name, client("dynamodb"))
_alerts = AlertPublisher(_settings.alerts_topic_arn, client("sns"))
_tokens = PlatformTokens(SecretsManagerVault(_settings.platform_tokens_secret_id, client("secretsmanager")),
                         max_age_seconds=_settings.secrets_max_age_seconds)


def _graph_url(family: str) -> str:
    endpoints = platform_endpoints(_settings.meta_graph_api_version, _settings.instagram_login_accounts)
    return endpoints.instagram_graph_url if family == "instagram" else endpoints.meta_graph_url


_service = EnrichService(
    cases=_cases,
    fetcher=GraphMentionFetcher(_tokens, _graph_url, _settings.instagram_login_accounts),
    # Triage's classifier, routing table and senders, without signals: a mention's text reaches them late.
    triage=TriageService(
        cases=_cases,
        queues=CaseQueues({ReviewQueue.SPAM: _settings.spam_queue_url,
                           ReviewQueue.COMPLAINT: _settings.complaint_queue_url,
                           ReviewQueue.CRISIS: _settings.crisis_queue_url}, client("sqs")),
        alerts=_alerts, classify=classify, sla=_settings.sla, person_links=load_person_links(),
        alert_claims=_cases),
)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    request = EnrichRequest.model_validate_json(record.body)
    logger.append_keys(case_id=request.case_id)
    try:
        case = _service.enrich(request)
    except Exception as error:
        metrics.add_metric(name="EnrichFailures", unit=MetricUnit.Count, value=1)
        delay = backoff_seconds(int(record.attributes.approximate_receive_count or 1))
        logger.warning("text not fetched; retrying later", extra={"error": f"{type(error).__name__}: {error}",
                                                                  "retry_in": delay})
        try:
            _queue.retry_later(record.receipt_handle, delay)
        except (ClientError, BotoCoreError):
            logger.warning("could not delay the retry", exc_info=True)
        raise  # reported in batchItemFailures: SQS retries, then EnrichDLQ
    finally:
        logger.remove_keys(["case_id"])
    if case is None:
        logger.info("case no longer waits for its text", extra={"case_id": request.case_id})
        return
    metrics.add_metric(name="TextsFetched", unit=MetricUnit.Count, value=1)
    logger.info("text fetched, case classified", extra={"case_id": case.case_id, "label": case.label.value,
                                                        "queue": case.queue})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)

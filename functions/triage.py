"""triage function: IngestQueue consumer. Parse each delivery into posts, triage each post once.

Partial batch responses: a record that fails (unparseable delivery, AWS error) is reported alone,
retried by SQS, and lands in IngestDLQ after maxReceiveCount, where it waits for a fix and a redrive.
Lambda's ``Errors`` does not see such a record (the invocation succeeds), so each failure also emits
``TriageRecordFailures`` (EMF), which TriageRecordFailuresAlarm watches.
Redeliveries by the platform are dropped by Powertools idempotency keyed on the platform's own ids,
kept past Meta's 36-hour retry window, and by the case store's conditional write behind it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from moderato.adapters.aws import client
from moderato.adapters.case_queues import AlertPublisher, CaseQueues
from moderato.adapters.case_store import CaseStore
from moderato.adapters.ingest_queue import DeliveryStore
from moderato.adapters.signal_store import DynamoSignalStore
from moderato.classify import classify
from moderato.models import Delivery, Label, Post
from moderato.platforms import get_platform
from moderato.platforms.base import DeliveryContext, UnparseableDelivery, WebhookError
from moderato.settings import triage_settings
from moderato.signals import SignalEngine, signals_config
from moderato.triage_service import TriageService

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)

_settings = triage_settings()
_deliveries = DeliveryStore(_settings.delivery_bucket_name, client("s3"))
_alerts = AlertPublisher(_settings.alerts_topic_arn, client("sns"))
# Without a signals table (a minimal deployment), triage is the classifier alone.
_signals = (SignalEngine(DynamoSignalStore(_settings.signals_table_name, client("dynamodb")), signals_config(),
                         _settings.brand_accounts)
            if _settings.signals_table_name else None)
_service = TriageService(
    cases=CaseStore(_settings.cases_table_name, client("dynamodb")),
    queues=CaseQueues(
        {"SpamQueue": _settings.spam_queue_url, "ComplaintQueue": _settings.complaint_queue_url,
         "CrisisQueue": _settings.crisis_queue_url},
        client("sqs"),
    ),
    alerts=_alerts,
    classify=classify,
    sla=_settings.sla,
    signals=_signals,
    waves=_alerts,
)
_idempotency = IdempotencyConfig(
    event_key_jmespath="dedup_key",
    expires_after_seconds=_settings.idempotency_ttl_seconds,
    raise_on_no_idempotency_key=True,
)
_persistence = DynamoDBPersistenceLayer(table_name=_settings.idempotency_table_name, boto3_client=client("dynamodb"))


@idempotent_function(data_keyword_argument="post", config=_idempotency, persistence_store=_persistence)
def triage_post(post: dict[str, Any]) -> dict[str, Any]:
    outcome = _service.triage(Post.model_validate(post))
    case = outcome.case
    with single_metric(name="PostsTriaged", unit=MetricUnit.Count, value=1,
                       default_dimensions=metrics.default_dimensions) as metric:
        metric.add_dimension(name="label", value=case.label.value)
        metric.add_dimension(name="platform", value=case.post.platform.value)
    if case.label == Label.CRISIS and outcome.created:
        metrics.add_metric(name="CrisisCases", unit=MetricUnit.Count, value=1)
    if case.label == Label.COMPLAINT and outcome.created:
        # Service dimension only: the ComplaintVolumeAlarm's anomaly band watches this one series.
        metrics.add_metric(name="ComplaintCases", unit=MetricUnit.Count, value=1)
    if outcome.wave_alert is not None and outcome.wave_alert.escalated:
        metrics.add_metric(name="WaveEscalations", unit=MetricUnit.Count, value=1)
        logger.warning("complaint wave: a large account joined, escalation published",
                       extra=outcome.wave_alert.message())
    elif outcome.wave_alert is not None:
        metrics.add_metric(name="WaveAlerts", unit=MetricUnit.Count, value=1)
        logger.warning("complaint wave: one alert published", extra=outcome.wave_alert.message())
    if outcome.relabelled:
        metrics.add_metric(name="CasesRelabelledBySignals", unit=MetricUnit.Count, value=len(outcome.relabelled))
    logger.info("post triaged", extra={"case_id": case.case_id, "label": case.label.value, "queue": case.queue,
                                       "reasons": [r.code for r in case.reasons], "new_case": outcome.created,
                                       "relabelled": outcome.relabelled})
    return {"case_id": case.case_id, "label": case.label.value, "queue": case.queue}


def posts_of(record: SQSRecord) -> list[Post]:
    delivery = Delivery.model_validate_json(record.body)
    try:
        platform = get_platform(delivery.platform)
        payload = json.loads(_deliveries.body_of(delivery))
        return platform.parse(payload, DeliveryContext(
            received_at=delivery.received_at,
            raw_ref=delivery.body_s3_key or f"sqs:{record.message_id}",
            brands=_settings.brands_by_account,
        ))
    except (WebhookError, ValueError, KeyError, TypeError) as error:
        raise UnparseableDelivery(f"delivery {delivery.request_id} from {delivery.platform}: {error}") from error


def triage_record(record: SQSRecord) -> None:
    posts = posts_of(record)
    if not posts:
        logger.info("delivery holds no post to triage (reactions, follows, own posts, edits we skip)")
    for post in posts:
        triage_post(post=post.model_dump(mode="json"))


def record_failed(record: SQSRecord, error: Exception) -> None:
    """Count one failed record, at once: the invocation may still succeed (partial batch response)."""
    with single_metric(name="TriageRecordFailures", unit=MetricUnit.Count, value=1,
                       default_dimensions=metrics.default_dimensions):
        pass
    logger.exception("record failed: SQS will retry it, then IngestDLQ",
                     extra={"message_id": record.message_id, "error": type(error).__name__,
                            "receive_count": record.attributes.approximate_receive_count})


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    try:
        triage_record(record)
    except Exception as error:
        record_failed(record, error)
        raise  # the batch processor reports the record in batchItemFailures: never swallowed


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


def _now() -> datetime:
    return datetime.now(UTC)

"""triage function: IngestQueue consumer. Parse each delivery into posts; triage the batch's posts together.

The posts of all the records of an SQS batch are triaged in one pass (``TriageService.triage_many``):
one read of their cases, one write of their buffered signals, one SendMessageBatch per review queue,
one write of routed markers, instead of a dozen calls per post. If that pass fails (an AWS error, a
bug on one post), each record is triaged alone, so only the record at fault fails; what the batch
pass already wrote is found again by then (cases, routed markers): nothing is duplicated.
Partial batch responses: a record that fails (unparseable delivery, an update no parser can read once
its good updates are triaged, AWS error) is reported alone, retried by SQS, and lands in IngestDLQ
after maxReceiveCount, where it waits for a fix and a redrive.
Lambda's ``Errors`` does not see such a record (the invocation succeeds), so each failure also emits
``TriageRecordFailures`` (EMF), which TriageRecordFailuresAlarm watches.
Redeliveries by the platform are found by the batch's one read of the cases table (the case id
derives from the platform's own ids), and by each case's conditional write behind it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from moderato.adapters.aws import client
from moderato.adapters.case_queues import AlertPublisher, CaseQueues
from moderato.adapters.case_store import CaseStore
from moderato.adapters.delivery_ledger import DeliveryLedger
from moderato.adapters.enrich_queue import EnrichQueue
from moderato.adapters.ingest_queue import DeliveryStore
from moderato.adapters.routed_markers import RoutedMarkers
from moderato.adapters.signal_store import DynamoSignalStore
from moderato.classify import classify
from moderato.models import Delivery, Label, Post
from moderato.people import load_person_links
from moderato.platforms import get_platform
from moderato.platforms.base import (
    DeliveryContext,
    ParsedDelivery,
    PlatformEvent,
    Unparseable,
    UnparseableDelivery,
    WebhookError,
    decode_json,
)
from moderato.settings import triage_settings
from moderato.signals import SignalEngine, signals_config
from moderato.signals.waves import WaveAlert
from moderato.triage_service import TriageOutcome, TriageService

logger = Logger()
tracer = Tracer()
metrics = Metrics()

_settings = triage_settings()
_deliveries = DeliveryStore(_settings.delivery_bucket_name, client("s3"))
_alerts = AlertPublisher(_settings.alerts_topic_arn, client("sns"))
# Without a signals table (a minimal deployment), triage is the classifier alone.
# Buffered: the fingerprints and wave posts of a whole batch are written in one call (triage_many flushes).
_signals = (SignalEngine(DynamoSignalStore(_settings.signals_table_name, client("dynamodb"), buffer_writes=True),
                         signals_config(), _settings.brand_accounts)
            if _settings.signals_table_name else None)
_cases = CaseStore(_settings.cases_table_name, client("dynamodb"))
_markers = RoutedMarkers(_settings.signals_table_name, client("dynamodb")) if _settings.signals_table_name else None
_service = TriageService(
    cases=_cases,
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
    person_links=load_person_links(),
    alert_claims=_cases,
    text_requests=EnrichQueue(_settings.enrich_queue_url, client("sqs")) if _settings.enrich_queue_url else None,
    markers=_markers,
)
_ledger = (DeliveryLedger(_settings.delivery_ledger_table_name, client("dynamodb"))
           if _settings.delivery_ledger_table_name else None)


def triage_posts(posts: list[Post]) -> list[TriageOutcome]:
    """Triage these posts in one pass; metrics and logs only once the pass succeeded."""
    outcomes = _service.triage_many(posts)
    for outcome in outcomes:
        _observe(outcome)
    return outcomes


def _observe(outcome: TriageOutcome) -> None:
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
                       extra=_wave_log(outcome.wave_alert))
    elif outcome.wave_alert is not None:
        metrics.add_metric(name="WaveAlerts", unit=MetricUnit.Count, value=1)
        logger.warning("complaint wave: one alert published", extra=_wave_log(outcome.wave_alert))
    if outcome.relabelled:
        metrics.add_metric(name="CasesRelabelledBySignals", unit=MetricUnit.Count, value=len(outcome.relabelled))
    logger.info("post triaged", extra={"case_id": case.case_id, "label": case.label.value, "queue": case.queue,
                                       "reasons": [r.code for r in case.reasons], "new_case": outcome.created,
                                       "relabelled": outcome.relabelled})


def _wave_log(alert: WaveAlert) -> dict[str, Any]:
    """The wave without its quoted posts and author names (personal data: DEBUG only)."""
    logger.debug("complaint wave: full alert", extra=alert.message())
    return alert.model_dump(mode="json", exclude={"samples", "escalation", "top_terms"})


def parse_record(record: SQSRecord) -> ParsedDelivery:
    delivery = Delivery.model_validate_json(record.body)
    try:
        platform = get_platform(delivery.platform)
        payload = decode_json(_deliveries.body_of(delivery).encode("utf-8"))
        return platform.parse(payload, DeliveryContext(
            received_at=delivery.received_at,
            raw_ref=delivery.body_s3_key or f"sqs:{record.message_id}",
            brands=_settings.brands_by_account,
        ))
    except (WebhookError, ValueError, KeyError, TypeError) as error:
        raise UnparseableDelivery(f"delivery {delivery.request_id} from {delivery.platform}: {error}") from error


def record_events(events: list[PlatformEvent]) -> None:
    """Legitimate events that are not posts (an app revoked, a like, a follow): counted and logged, no case."""
    for event in events:
        metrics.add_metric(name="PlatformEventsRecorded", unit=MetricUnit.Count, value=1)
        logger.info("platform event recorded (not a post)", extra={"event_kind": event.kind, "where": event.where})


def set_aside(record: SQSRecord, unparseable: list[Unparseable]) -> UnparseableDelivery:
    """Log and count the updates no post came from. The raw update may hold a person's words: DEBUG only."""
    for item in unparseable:
        metrics.add_metric(name="UnparseableUpdates", unit=MetricUnit.Count, value=1)
        logger.warning("update set aside", extra={"message_id": record.message_id, "where": item.where,
                                                  "reason": item.reason, "detail": item.detail})
        logger.debug("update set aside: raw", extra={"where": item.where, "fragment": item.fragment})
    summary = "; ".join(f"{item.where}: {item.detail}" for item in unparseable[:5])
    return UnparseableDelivery(f"{len(unparseable)} update(s) could not be read ({summary})")


@tracer.capture_method
def triage_batch(records: list[SQSRecord]) -> list[str]:
    """Triage every record's posts together; the message ids of the records that failed."""
    failed: list[str] = []
    parsed: list[tuple[SQSRecord, ParsedDelivery]] = []
    for record in records:
        try:
            delivery = parse_record(record)
        except Exception as error:
            record_failed(record, error)
            failed.append(record.message_id)
            continue
        record_events(delivery.events)
        parsed.append((record, delivery))
    outcomes: list[TriageOutcome] | None = None
    try:
        outcomes = triage_posts([post for _, delivery in parsed for post in delivery.posts])
    except Exception as error:
        logger.warning("batch pass failed: each record is triaged alone, so only the one at fault fails",
                       extra={"error": type(error).__name__, "records": len(parsed)})
    position = 0
    for record, delivery in parsed:
        try:
            mine = (triage_posts(delivery.posts) if outcomes is None
                    else outcomes[position:position + len(delivery.posts)])
            finish_record(record, delivery, [outcome.case.case_id for outcome in mine])
        except Exception as error:
            record_failed(record, error)
            failed.append(record.message_id)
        position += len(delivery.posts)
    return failed


def finish_record(record: SQSRecord, parsed: ParsedDelivery, case_ids: list[str]) -> None:
    """After its posts were triaged: set the unreadable updates aside, record the outcome in the ledger."""
    if not parsed.posts and not parsed.unparseable:
        logger.info("delivery holds no post to triage (reactions, follows, own posts, edits we skip)")
    if parsed.unparseable:
        # The good updates are triaged; the delivery, raw, goes on to IngestDLQ for the bad ones, and a
        # redrive after the fix replays the good ones as no-ops (their cases exist and are routed).
        # Sending only the bad updates to IngestDLQ (each as a delivery of its own) would spare the
        # retries, but needs a per-platform envelope for one update and a new grant: until then the
        # ledger at least names the good posts' cases next to "unparseable", so reconcile counts them.
        _note_case_ids(record, case_ids)
        raise set_aside(record, parsed.unparseable)
    if _ledger is not None:
        # Part of the record: if this write fails, the record is retried and finds its posts' cases.
        delivery = Delivery.model_validate_json(record.body)
        _ledger.triaged(delivery.request_id, delivery.platform, delivery.received_at, case_ids, _now())


def _note_case_ids(record: SQSRecord, case_ids: list[str]) -> None:
    if _ledger is None or not case_ids:
        return
    try:
        delivery = Delivery.model_validate_json(record.body)
        _ledger.note_case_ids(delivery.request_id, delivery.platform, delivery.received_at, case_ids)
    except (ValueError, ClientError, BotoCoreError) as error:  # bookkeeping: the record fails anyway
        logger.warning("could not record the cases of a partly unparseable delivery in the ledger",
                       extra={"message_id": record.message_id, "error": type(error).__name__})


def record_failed(record: SQSRecord, error: Exception) -> None:
    """Count one failed record, at once: the invocation may still succeed (partial batch response)."""
    with single_metric(name="TriageRecordFailures", unit=MetricUnit.Count, value=1,
                       default_dimensions=metrics.default_dimensions):
        pass
    logger.exception("record failed: SQS will retry it, then IngestDLQ",
                     extra={"message_id": record.message_id, "error": type(error).__name__,
                            "receive_count": record.attributes.approximate_receive_count})
    if _ledger is not None:
        _note_failure(_ledger, record, error)


def _note_failure(ledger: DeliveryLedger, record: SQSRecord, error: Exception) -> None:
    """Tell reconcile and `moderato dlq show` why the delivery failed; never hide the error itself."""
    try:
        delivery = Delivery.model_validate_json(record.body)
        ledger.failed(delivery.request_id, delivery.platform, delivery.received_at,
                      f"{type(error).__name__}: {error}", isinstance(error, UnparseableDelivery),
                      int(record.attributes.approximate_receive_count), _now())
    except (ValueError, ClientError, BotoCoreError) as ledger_error:
        logger.warning("could not record the failure in the delivery ledger",
                       extra={"message_id": record.message_id, "error": type(ledger_error).__name__})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = [SQSRecord(raw) for raw in event.get("Records", [])]
    failed = triage_batch(records)
    if records and len(failed) == len(records):
        # As Powertools' batch processor does: nothing succeeded, so the invocation fails (Lambda's
        # Errors and TriageErrorsAlarm see it), and SQS retries the whole batch.
        raise BatchProcessingError(f"all {len(records)} records of the batch failed")
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def _now() -> datetime:
    return datetime.now(UTC)

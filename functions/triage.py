"""triage function: IngestQueue consumer. Parse each delivery into posts; triage the batch's posts together.

The posts of all the records of an SQS batch are triaged in one pass (``TriageService.triage_many``):
one read of their cases, one write of their buffered signals, one SendMessageBatch per review queue,
instead of a dozen calls per post. If that pass fails (an AWS error, a
bug on one post), each record is triaged alone, so only the record at fault fails; the cases the batch
pass already wrote are found again as this delivery's own and routed, never written twice.
Partial batch responses: a record that fails (an AWS error, a bug) is reported alone, retried by SQS, and
lands in IngestDLQ after maxReceiveCount, where it waits for a fix and a redrive. A delivery no parser can
read (whole, or one update of it once its good updates are triaged) goes to IngestDLQ at once: the same
bytes would fail the same way five times, and each retry would send its good posts' messages again.
Lambda's ``Errors`` does not see such a record (the invocation succeeds), so each failure also emits
``TriageRecordFailures`` (EMF), which TriageRecordFailuresAlarm watches.
Redeliveries by the platform are found by the batch's one read of the cases table (the case id
derives from the platform's own ids), and by each case's conditional write behind it.
"""

from __future__ import annotations

import time
from collections import Counter
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
from moderato.adapters.delivery_ledger import DeliveryLedger, Outcome
from moderato.adapters.enrich_queue import EnrichQueue
from moderato.adapters.ingest_dlq import IngestDeadLetters
from moderato.adapters.ingest_queue import DeliveryStore
from moderato.adapters.signal_store import DynamoSignalStore
from moderato.classify import classify
from moderato.models import Delivery, Label, Post, ReviewQueue
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
from moderato.triage.service import TriageOutcome, TriageService

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
_service = TriageService(
    cases=_cases,
    queues=CaseQueues(
        {ReviewQueue.SPAM: _settings.spam_queue_url, ReviewQueue.COMPLAINT: _settings.complaint_queue_url,
         ReviewQueue.CRISIS: _settings.crisis_queue_url},
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
)
_ledger = (DeliveryLedger(_settings.delivery_ledger_table_name, client("dynamodb"))
           if _settings.delivery_ledger_table_name else None)
_dead_letters = IngestDeadLetters(_settings.ingest_dlq_url, client("sqs")) if _settings.ingest_dlq_url else None


def triage_posts(posts: list[Post]) -> list[TriageOutcome]:
    """Triage these posts in one pass; metrics and logs only once the pass succeeded."""
    outcomes = _service.triage_many(posts)
    # One EMF line per label and platform for the whole pass, not one per post: CloudWatch sums the
    # values, and every logged byte is billed.
    counted = Counter((o.case.label.value, o.case.post.platform.value) for o in outcomes)
    for (label, platform), count in sorted(counted.items()):
        with single_metric(name="PostsTriaged", unit=MetricUnit.Count, value=count,
                           default_dimensions=metrics.default_dimensions) as metric:
            metric.add_dimension(name="label", value=label)
            metric.add_dimension(name="platform", value=platform)
    for outcome in outcomes:
        _observe(outcome)
    return outcomes


def _observe(outcome: TriageOutcome) -> None:
    case = outcome.case
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


def parse_record(delivery: Delivery) -> ParsedDelivery:
    try:
        platform = get_platform(delivery.platform)
        payload = decode_json(_deliveries.body_of(delivery).encode("utf-8"))
        return platform.parse(payload, DeliveryContext(
            received_at=delivery.received_at,
            # Stable across SQS retries and a redrive from IngestDLQ: how triage knows a case found again was
            # written by this same delivery (TriageService.triage_many).
            raw_ref=delivery.body_s3_key or f"delivery:{delivery.request_id}",
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
    parsed: list[tuple[SQSRecord, str, ParsedDelivery]] = []  # with the delivery's request id
    for record in records:
        try:
            envelope = Delivery.model_validate_json(record.body)
            delivery = parse_record(envelope)
        except UnparseableDelivery as error:
            if not set_aside_now(record, error):
                failed.append(record.message_id)
            continue
        except Exception as error:
            record_failed(record, error)
            failed.append(record.message_id)
            continue
        record_events(delivery.events)
        parsed.append((record, envelope.request_id, delivery))
    outcomes = _batch_pass([post for _, _, delivery in parsed for post in delivery.posts], len(parsed))
    position = 0
    finished: list[tuple[SQSRecord, Outcome]] = []
    for record, request_id, delivery in parsed:
        try:
            mine = (triage_posts(delivery.posts) if outcomes is None
                    else outcomes[position:position + len(delivery.posts)])
            case_ids = [outcome.case.case_id for outcome in mine]
            if finish_record(record, delivery, case_ids):
                finished.append((record, Outcome(request_id, case_ids)))
        except Exception as error:
            record_failed(record, error)
            failed.append(record.message_id)
        position += len(delivery.posts)
    if not record_outcomes([outcome for _, outcome in finished]):
        for record, _ in finished:
            record_failed(record, LedgerUnavailable("the batch's outcomes could not be written to the ledger"))
            failed.append(record.message_id)
    return failed


# An AWS error in the batch pass is tried again with the whole batch, this many times, before each record
# is triaged alone: a pass that failed halfway is safe to repeat (its cases are found as this batch's
# own and sent), and one more pass costs about a tenth of ten single-record ones.
_BATCH_PASS_RETRIES = 4


def _batch_pass(posts: list[Post], records: int) -> list[TriageOutcome] | None:
    """The posts of every record triaged together; None when each record must be triaged alone."""
    for attempt in range(_BATCH_PASS_RETRIES + 1):
        try:
            return triage_posts(posts)
        except (ClientError, BotoCoreError) as error:
            logger.warning("batch pass failed on an AWS error", extra={
                "error": type(error).__name__, "records": records, "retry": attempt < _BATCH_PASS_RETRIES})
        except Exception as error:
            # A bug on one post would fail every pass: only the record at fault must fail.
            logger.warning("batch pass failed: each record is triaged alone, so only the one at fault fails",
                           extra={"error": type(error).__name__, "records": records})
            return None
    logger.warning("batch pass failed again: each record is triaged alone", extra={"records": records})
    return None


def finish_record(record: SQSRecord, parsed: ParsedDelivery, case_ids: list[str]) -> bool:
    """After its posts were triaged: set the unreadable updates aside. True when the delivery is done (its
    outcome goes to the ledger), False when it waits in IngestDLQ."""
    if not parsed.posts and not parsed.unparseable:
        logger.info("delivery holds no post to triage (reactions, follows, own posts, edits we skip)")
    if parsed.unparseable:
        # The good updates are triaged; the delivery, raw, goes to IngestDLQ for the bad ones. A redrive
        # after the fix finds the good ones' cases as its own (same request id) and sends their messages
        # once more, which consumers take (they key on the case id). The ledger names the good posts'
        # cases next to "unparseable", so reconcile counts them.
        _note_case_ids(record, case_ids)
        error = set_aside(record, parsed.unparseable)
        if _dead_letters is None:
            raise error
        _dead_letters.set_aside(record.body, str(error))
        _note_failure(record, error)
        return False
    return True


def set_aside_now(record: SQSRecord, error: UnparseableDelivery) -> bool:
    """A delivery no parser can read, straight to IngestDLQ; False when it must go the usual way (retries)."""
    if _dead_letters is None:
        record_failed(record, error)
        return False
    try:
        _dead_letters.set_aside(record.body, str(error))
    except (ClientError, BotoCoreError) as send_error:
        record_failed(record, send_error)
        return False
    metrics.add_metric(name="UnparseableUpdates", unit=MetricUnit.Count, value=1)
    logger.warning("delivery set aside in IngestDLQ: no parser can read it",
                   extra={"message_id": record.message_id, "error": str(error)[:500]})
    _note_failure(record, error)
    return True


class LedgerUnavailable(Exception):
    """The ledger item of a batch could not be written: its records are retried, so none goes unaccounted."""


# After botocore's own retries: a short pause, and a last attempt, before the records are given back to SQS.
_LEDGER_PAUSES = (0.05, 0.25)


def record_outcomes(finished: list[Outcome]) -> bool:
    """The batch's finished deliveries, in one ledger item; False if it could not be written.

    The posts are routed by then, so a failure is first retried here: giving the records back to SQS makes
    their retry send their cases' messages again (consumers take a case id twice), which beats a delivery
    that reconcile cannot account for."""
    if _ledger is None or not finished:
        return True
    for pause in (*_LEDGER_PAUSES, None):
        try:
            _ledger.triaged_batch(finished, _now())
            return True
        except (ClientError, BotoCoreError) as error:
            metrics.add_metric(name="LedgerWriteFailures", unit=MetricUnit.Count, value=1)
            logger.warning("could not record the batch's outcomes in the delivery ledger",
                           extra={"deliveries": len(finished), "error": type(error).__name__,
                                  "retry": pause is not None})
            if pause is not None:
                time.sleep(pause)
    return False


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
    _note_failure(record, error)


def _note_failure(record: SQSRecord, error: Exception) -> None:
    """Tell reconcile and `moderato dlq show` why the delivery failed; never hide the error itself."""
    if _ledger is None:
        return
    try:
        delivery = Delivery.model_validate_json(record.body)
        _ledger.failed(delivery.request_id, delivery.platform, delivery.received_at,
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

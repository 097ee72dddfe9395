"""sla-check function: every 5 minutes, count the cases past a deadline and emit it as a metric.

``OverdueCases`` (all kinds) drives the CloudWatch alarm; ``OverdueByKind`` with a ``kind`` dimension
(crisis_ack, complaint_ack, complaint_resolve, spam_review, promise) tells the on-call what is late.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from moderato.adapters.aws import client
from moderato.adapters.case_store import CaseFilter, CaseStore
from moderato.review.settings import sla_check_settings
from moderato.review.sla import Overdue, count_overdue

logger = Logger()
tracer = Tracer()
metrics = Metrics()

_settings = sla_check_settings()
_store = CaseStore(_settings.cases_table_name, client("dynamodb"))
PAGE = 100


def active_cases() -> list[Any]:
    """Every case a human still owes something, in the three review queues."""
    found: list[Any] = []
    cursor: dict[str, Any] | None = None
    while True:
        cases, cursor = _store.list_cases(CaseFilter(), PAGE, cursor)
        found.extend(cases)
        if cursor is None:
            return found


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = datetime.now(UTC)
    total, kinds = count_overdue(active_cases(), now, _settings.sla)
    metrics.add_metric(name="OverdueCases", unit=MetricUnit.Count, value=total)
    for kind in Overdue:
        with single_metric(name="OverdueByKind", unit=MetricUnit.Count, value=kinds.get(kind, 0),
                           default_dimensions=metrics.default_dimensions) as metric:
            metric.add_dimension(name="kind", value=kind.value)
    logger.info("SLA check", extra={"overdue": total, "by_kind": {k.value: n for k, n in kinds.items()}})
    return {"overdue": total, "by_kind": {k.value: n for k, n in kinds.items()}}

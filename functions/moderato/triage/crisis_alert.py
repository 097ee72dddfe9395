"""One crisis alert per case, whoever makes it a crisis: triage, or a reviewer who re-labels or escalates.

Both flows claim the alert on the case (``crisis_alerted_at``, set with a condition) before publishing,
so triage then a re-label, a re-label done twice, or a crisis re-labelled away and escalated back,
page the on-call team once. Neither triage nor review owns this rule; both import it.

If publishing fails, the claim is given back and the error raised: the caller's retry (SQS for
triage) or the reviewer sees it. Known limit: a function that dies between the claim and the publish
(a timeout) leaves the claim without an alert; the crisis acknowledgement SLA alarm still fires.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from moderato.models import Case, Label


class CrisisAlertClaims(Protocol):
    def claim_crisis_alert(self, case_id: str, at: datetime) -> bool: ...

    def release_crisis_alert(self, case_id: str, at: datetime) -> None: ...


class CrisisAlerter(Protocol):
    def publish_crisis(self, case: Case) -> str: ...


def alert_once(case: Case, claims: CrisisAlertClaims, alerts: CrisisAlerter, now: datetime) -> bool:
    """Publish the crisis alert of ``case`` unless one was already published; True if this call did."""
    if case.label != Label.CRISIS or not claims.claim_crisis_alert(case.case_id, now):
        return False
    try:
        alerts.publish_crisis(case)
    except Exception:
        claims.release_crisis_alert(case.case_id, now)
        raise
    return True

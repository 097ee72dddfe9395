"""Claims lapse: a case nobody has touched for the claim lease is nobody's again. Pure.

A reviewer who claims a case and goes home must not lock it away from the next shift. The lease is
counted from the case's last change (``updated_at``: the claim itself, or any later decision), so a
reviewer working on the case keeps it; ``CLAIM_LEASE_MINUTES`` (template parameter
``ClaimLeaseMinutes``) sets it. A lapsed claim is not written back: the case is read as unclaimed, and
the next change (anyone's claim or decision) saves it that way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from moderato.models import Case, CaseStatus


def claim_expires_at(case: Case, lease: timedelta | None) -> datetime | None:
    if not case.claimed_by or lease is None:
        return None
    return case.updated_at + lease


def lapsed(case: Case, now: datetime, lease: timedelta | None) -> Case:
    """The case as reviewers see it at ``now``: without its claim once the lease has run out."""
    expires = claim_expires_at(case, lease)
    if expires is None or now < expires:
        return case
    status = CaseStatus.OPEN if case.status == CaseStatus.CLAIMED else case.status
    return case.model_copy(update={"claimed_by": None, "claimed_by_sub": None, "status": status})

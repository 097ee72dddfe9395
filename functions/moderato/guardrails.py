"""The rules review and actions both enforce, owned by neither: who must not be silenced, and who approves.

Review checks them when a reviewer decides; the actions function checks them again when the platform
call is about to run, because the situation may have moved in between (a complaint opened on another
surface, an approval grown old). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from moderato.models import ACTIVE_STATUSES, Case, Label
from moderato.people import PersonCase

# Whose author must not be silenced while the case is open: the customer who complained, and whoever
# raised a crisis (a health hazard, a threat, a data breach...). A complaint escalated to crisis stays
# protected; only a re-label with a written reason (to spam or normal) lifts it.
PROTECTED_LABELS = frozenset({Label.COMPLAINT, Label.CRISIS})
# The group whose members may approve a ban proposed by someone else.
APPROVERS = "approvers"
# An approval is a judgement on a situation that moves: after a day, someone must look again.
APPROVAL_VALID_FOR = timedelta(hours=24)


def protects_author(case: Case) -> bool:
    """True while the case is an open complaint or crisis: its author may be neither hidden nor banned."""
    return case.label in PROTECTED_LABELS and case.status in ACTIVE_STATUSES


def silencing_refusal(case: Case, open_cases: Sequence[PersonCase], what: str) -> str | None:
    """Why ``what`` (a hide, a ban) must not happen, or None: the author has an open complaint or crisis case,
    this one or another on any surface of the brand (same person key: Facebook, Messenger, Instagram; one
    X account).

    ``open_cases``: the person's open complaint and crisis cases (the store's person index).
    """
    protecting = {c.case_id: c for c in open_cases}
    if protects_author(case):
        protecting[case.case_id] = PersonCase(case_id=case.case_id, label=case.label, status=case.status,
                                              platform=case.post.platform)
    if not protecting:
        return None
    named = "; ".join(f"{c.label.value} on {c.platform.value}: case {c.case_id}"
                      for c in sorted(protecting.values(), key=lambda c: c.case_id))
    return (f"{what} refused: this person has an open complaint or crisis case ({named}). The "
            "customer who complained, or who raised a crisis such as a health hazard, must not be silenced. "
            "Resolve the case, or re-label it with a written reason first if it is not really a complaint "
            "or a crisis.")

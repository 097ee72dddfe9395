"""Whether a post is hidden on its platform, as far as the case's action ledger knows. Pure.

A reviewer's hide is a *request*: the post is hidden only once the actions function performed it (or
recorded it as a dry run, which is all that happens without a platform token). So ``Case.hidden``
changes when the action completes, never when it is requested, and while it is on its way the case
says so (``HIDE_PENDING``) instead of claiming a state the platform does not have.
"""

from __future__ import annotations

from enum import StrEnum

from moderato.models import ActionKind, ActionRecord, ActionStatus, Case

# The action reached the platform (or was recorded as what it would have done, in a dry run).
PERFORMED = frozenset({ActionStatus.DONE, ActionStatus.DRY_RUN})
_VISIBILITY_KINDS = (ActionKind.HIDE, ActionKind.UNHIDE)


class Visibility(StrEnum):
    VISIBLE = "visible"
    HIDE_PENDING = "hide_pending"  # requested (or failed and waiting for a retry), not performed yet
    HIDDEN = "hidden"
    UNHIDE_PENDING = "unhide_pending"


def is_final(record: ActionRecord) -> bool:
    """Nothing more will be attempted: performed, refused, or failed for good (a permanent platform error).

    A failure that will be retried has no ``completed_at``; a permanent one (HTTP 400/401/403/404)
    is completed, so a redelivered message does not call the platform again.
    """
    if record.status in PERFORMED or record.status == ActionStatus.REFUSED:
        return True
    return record.status == ActionStatus.FAILED and record.completed_at is not None


def is_pending(record: ActionRecord) -> bool:
    return not is_final(record)


def latest_visibility_action(case: Case) -> ActionRecord | None:
    """The most recent hide or unhide request: the one that decides what the post should look like."""
    return next((a for a in reversed(case.actions) if a.kind in _VISIBILITY_KINDS), None)


def visibility(case: Case) -> Visibility:
    latest = latest_visibility_action(case)
    if latest is not None and is_pending(latest):
        return Visibility.HIDE_PENDING if latest.kind == ActionKind.HIDE else Visibility.UNHIDE_PENDING
    return Visibility.HIDDEN if case.hidden else Visibility.VISIBLE


def superseded_by(case: Case, record: ActionRecord) -> ActionRecord | None:
    """A later hide/unhide request of the opposite kind: the reviewers changed their mind before it ran."""
    later = False
    for action in case.actions:
        if action.action_id == record.action_id:
            later = True
            continue
        if later and action.kind in _VISIBILITY_KINDS and action.kind != record.kind:
            return action
    return None

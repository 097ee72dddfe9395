"""Every way a review request can be refused, each with the HTTP status it is answered with.

The review handler turns any ``ReviewError`` into a response in one place (its exception handler),
so a route never builds an error answer by hand and the same refusal reads the same everywhere.
"""

from __future__ import annotations

from moderato.case_errors import CaseNotFound, StaleCaseVersion


class ReviewError(Exception):
    """A refused request; ``status`` is the HTTP answer, ``code`` a stable token, ``message`` safe to show."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadCursor(ReviewError):
    """A pagination cursor this API did not hand out (garbled, edited, or from another filter)."""

    status = 400
    code = "invalid_cursor"


class NotAuthenticated(ReviewError):
    status = 401
    code = "not_authenticated"


class NotAllowed(ReviewError):
    """The reviewer lacks the role, or the rule forbids this person doing it (self-approval)."""

    status = 403
    code = "forbidden"


class CaseMissing(ReviewError, CaseNotFound):
    status = 404
    code = "not_found"


class ProposalMissing(ReviewError):
    status = 404
    code = "proposal_not_found"


class StaleVersion(ReviewError, StaleCaseVersion):
    """The reviewer decided on a version of the case that is no longer current (optimistic concurrency)."""

    status = 409
    code = "stale_version"


class ClaimedByOther(ReviewError):
    status = 409
    code = "claimed_by_other"


class DecisionNotAllowed(ReviewError):
    """This decision does not apply to a case with this label and status."""

    status = 409
    code = "decision_not_allowed"


class ComplainantProtected(ReviewError):
    """The guardrail: whoever complained or raised a crisis is the one person a brand must not silence."""

    status = 409
    code = "complaint_open"


class ProposalNotPending(ReviewError):
    status = 409
    code = "proposal_not_pending"


class InvalidRequest(ReviewError):
    status = 422
    code = "invalid_request"


class ActionQueueUnavailable(ReviewError):
    status = 503
    code = "actions_unavailable"


class AlertUnavailable(ReviewError):
    """The change was recorded (e.g. a re-label to crisis) but its crisis alert could not be published."""

    status = 503
    code = "alert_unavailable"

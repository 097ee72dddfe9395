"""What can go wrong with a case itself, whoever reads or writes it: defined once, raised by the case
store, caught by the flows and mapped to answers by the handlers (review: 404 and 409)."""

from __future__ import annotations


class CaseNotFound(LookupError):
    """No case has this id (yet: a case written a moment ago may not be readable everywhere)."""


class StaleCaseVersion(Exception):
    """The case changed since the caller read it (optimistic concurrency): read it again and decide again."""

"""The usual rate of negative posts per account and subject, learned hour by hour (pure).

An exponentially weighted mean of the hourly counts: each closed hour moves the rate a step ``alpha``
towards that hour's count, so a half-life of 72 h means what happened three days ago weighs half as
much as the last hour. A brand that gets 40 complaints an hour on every launch day learns it, and a
new brand starts at 0 (any surge above ``min_count`` is a wave). Hours are folded once, by the first
post that sees a new hour (the store's conditional write makes concurrent folders agree); the current
hour is never folded, so a surge does not raise its own baseline while it is being judged.

Hourly counts come from the journal the store keeps in memory (signals/window.py): its last hours, so a
fold sees the hours it holds whole (``known_from``); an hour it no longer holds folds as quiet.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from moderato.signals.store import Baseline

HOUR = timedelta(hours=1)
# A fold reaches back at most this far: older unfolded hours are taken as quiet, and their weight after
# this many hours is small anyway.
MAX_FOLD_HOURS = 48


def hour_bucket(at: datetime) -> str:
    return f"H#{at:%Y%m%d%H}"


def bucket_hour(bucket: str) -> datetime:
    return datetime.strptime(bucket.removeprefix("H#"), "%Y%m%d%H").replace(tzinfo=UTC)


def alpha(half_life_hours: float) -> float:
    """The weight of one new hour: after ``half_life_hours`` hours, older hours weigh half."""
    return 1.0 - 0.5 ** (1.0 / half_life_hours)


def hours_to_fold(previous: Baseline | None, last_closed: datetime, bootstrap_hours: int,
                  known_from: datetime | None = None) -> tuple[datetime, datetime]:
    """The first and last hour whose counts the fold needs (first > last: nothing to read).

    ``known_from``: the first hour whose count is known whole (None: all are); a bootstrap averages only
    known hours, so hours before the journal's reach do not dilute it."""
    # Without a baseline, bootstrap from the hours still known (nothing on a new deployment).
    first = last_closed - (bootstrap_hours - 1) * HOUR if previous is None else bucket_hour(previous.through) + HOUR
    if previous is None and known_from is not None:
        first = max(first, min(known_from, last_closed))
    return max(first, last_closed - (MAX_FOLD_HOURS - 1) * HOUR), last_closed


def learn(previous: Baseline | None, hourly: Mapping[str, int], last_closed: datetime, half_life_hours: float,
          bootstrap_hours: int, known_from: datetime | None = None) -> Baseline:
    """Fold the closed hours after ``previous`` into it; without one, start from the mean of the last
    ``bootstrap_hours`` hours that are known (0 on a new deployment)."""
    first, last = hours_to_fold(previous, last_closed, bootstrap_hours, known_from)
    through = hour_bucket(last_closed)
    if previous is None:
        hours = max(1, int((last - first) / HOUR) + 1)
        return Baseline(round(sum(hourly.values()) / hours, 4), through)
    if first > last:
        return previous
    step = alpha(half_life_hours)
    rate = previous.rate
    # Hours skipped beyond the fold horizon had no readable count: they decay the rate as quiet hours.
    skipped = int((first - bucket_hour(previous.through)) / HOUR) - 1
    rate *= (1.0 - step) ** max(0, skipped)
    hour = first
    while hour <= last:
        rate += step * (hourly.get(hour_bucket(hour), 0) - rate)
        hour += HOUR
    return Baseline(round(rate, 4), through)

"""Crisis waves: many negative posts on one subject for one account, faster than its usual rate.

Per (brand account, subject) the engine counts negative posts (complaints, crises, and normal posts
the classifier read as complaining or negative) per minute and per hour (in the signal window, from the
journal), and learns the usual hourly rate (signals/baseline.py). A wave starts when either window is well above usual:

- the short window (15 min): at least ``min_count`` posts and ``baseline_ratio`` × the usual count;
- the long window (3 h), for slow waves that never surge in 15 minutes: at least ``long_min_count``
  posts and ``baseline_ratio`` × the usual count for 3 h.

One alert per wave. A wave lasts while either window stays above its threshold and ends after
``quiet_minutes`` without that; only a new wave alerts again (see SignalStore.claim_wave_alert). One
escalation per wave when a large account joins it after its alert was sent.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field

from moderato.signals.config import WaveConfig
from moderato.signals.store import WavePost
from moderato.signals.text import fold

OTHER_SUBJECT = "other"
WAVE_ALERT: Final = "wave_alert"
WAVE_ESCALATED: Final = "wave_escalated"


def subject_of(text: str, subjects: Mapping[str, Iterable[str]]) -> str:
    """The configured subject with the most hits (word prefixes over folded text); first wins ties."""
    folded = " " + " ".join(fold(text).replace("'", " ").split()) + " "
    best, best_hits = OTHER_SUBJECT, 0
    for name, stems in subjects.items():
        hits = sum(1 for stem in stems if f" {stem}" in folded)
        if hits > best_hits:
            best, best_hits = name, hits
    return best


def wave_key(account_id: str, subject: str) -> str:
    return f"{account_id}#{subject}"


def wave_id(key: str, started_at: datetime) -> str:
    return hashlib.sha256(f"{key}#{started_at.isoformat()}".encode()).hexdigest()[:16]


def minute_bucket(at: datetime) -> str:
    return f"M#{at:%Y%m%d%H%M}"


@dataclass(frozen=True, slots=True)
class WindowLevel:
    minutes: int
    count: int
    expected: float  # posts usual in such a window, from the learned hourly rate
    threshold: float

    @property
    def active(self) -> bool:
        return self.count >= self.threshold


@dataclass(frozen=True, slots=True)
class WaveLevel:
    short: WindowLevel
    long: WindowLevel

    @property
    def active(self) -> bool:
        return self.short.active or self.long.active

    @property
    def trigger(self) -> WindowLevel:
        """The window that shows the wave (the short one when both do: it is the sharper signal)."""
        return self.long if self.long.active and not self.short.active else self.short


def wave_level(short_count: int, long_count: int, usual_per_hour: float, config: WaveConfig) -> WaveLevel:
    """Both windows against the learned usual rate (posts per hour) and their minimum counts."""
    short_expected = usual_per_hour * config.short_window_minutes / 60
    long_expected = usual_per_hour * config.long_window_hours
    return WaveLevel(
        short=WindowLevel(config.short_window_minutes, short_count, round(short_expected, 2),
                          max(float(config.min_count), config.baseline_ratio * short_expected)),
        long=WindowLevel(config.long_window_hours * 60, long_count, round(long_expected, 2),
                         max(float(config.long_min_count), config.baseline_ratio * long_expected)),
    )


class WaveSample(BaseModel):
    case_id: str
    text: str = Field(description="The start of the post, one line (at most 120 characters).")


class Amplifier(BaseModel):
    case_id: str
    followers: int
    author: str
    text: str


class WaveAlert(BaseModel):
    """The message a wave sends to AlertsTopic (and from there to e-mail and chat): one when it starts,
    at most one more (``wave_escalated``) when a large account joins it afterwards."""

    kind: Literal["wave_alert", "wave_escalated"] = WAVE_ALERT
    priority: int = Field(default=2, ge=1, le=4, description="1 for an escalation, 2 for a new wave.")
    wave_id: str
    account_id: str
    brand: str | None = None
    platform: str
    subject: str
    count: int = Field(description="Negative posts on this subject in the window that shows the wave.")
    window_minutes: int
    usual: float = Field(description="Posts usual in such a window for this account and subject (learned).")
    top_terms: list[str]
    sample_case_ids: list[str]
    samples: list[WaveSample] = Field(default_factory=list, description="A few posts of the wave, truncated.")
    list_path: str = Field(description="Review API path listing the cases; the alerts function makes it a link.")
    started_at: datetime
    quiet_minutes: int = Field(description="The wave ends after this long below threshold; only a new one alerts.")
    starter_case_id: str
    max_followers: int = 0
    amplifiers: int = Field(default=0, description="Posts in the wave by authors above the influencer threshold.")
    escalation: Amplifier | None = Field(default=None, description="The large account that joined (escalations).")

    @property
    def escalated(self) -> bool:
        return self.kind == WAVE_ESCALATED

    def sns_subject(self) -> str:
        where = self.brand or self.account_id
        if self.escalation is not None:
            return (f"[Moderato] Wave escalated: a {self.escalation.followers:,}-follower account joined "
                    f"the {self.subject} wave on {where} ({self.platform})")[:100]
        return f"[Moderato] Wave: {self.count} complaints about {self.subject} on {where} ({self.platform})"[:100]

    def message(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def top_terms(posts: Iterable[WavePost], limit: int) -> list[str]:
    counter: Counter[str] = Counter()
    for post in posts:
        counter.update(set(post.terms))
    return [term for term, _ in sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]]


def list_path(config: WaveConfig, brand: str | None, platform: str, account_id: str, since: datetime) -> str:
    values = {"brand": quote(brand or ""), "platform": quote(platform), "account_id": quote(account_id),
              "since": quote(since.isoformat().replace("+00:00", "Z"))}
    return config.list_path_template.format(**values)


def _samples(posts: list[WavePost], starter_case_id: str, config: WaveConfig) -> tuple[list[str], list[WaveSample]]:
    ids = [p.case_id for p in posts[: config.sample_size]]
    if starter_case_id not in ids:
        ids = [starter_case_id, *ids][: config.sample_size]
    by_id = {p.case_id: p for p in posts}
    quoted = [WaveSample(case_id=i, text=by_id[i].text) for i in ids if i in by_id and by_id[i].text]
    return ids, quoted[: config.sample_texts]


def build_alert(*, key: str, account_id: str, brand: str | None, platform: str, subject: str, level: WaveLevel,
                posts: list[WavePost], starter_case_id: str, now: datetime, config: WaveConfig,
                influencer_followers: int, started_at: datetime | None = None, wave: str | None = None,
                escalation: Amplifier | None = None) -> WaveAlert:
    """The alert of a new wave, or (with ``escalation``) the one escalation of an ongoing wave."""
    window = level.trigger
    since = now - timedelta(minutes=window.minutes)
    ids, quoted = _samples(posts, starter_case_id, config)
    started = started_at or now
    return WaveAlert(
        kind=WAVE_ESCALATED if escalation else WAVE_ALERT,
        priority=1 if escalation else 2,
        wave_id=wave or wave_id(key, started),
        account_id=account_id,
        brand=brand,
        platform=platform,
        subject=subject,
        count=window.count,
        window_minutes=window.minutes,
        usual=window.expected,
        top_terms=top_terms(posts, config.top_terms),
        sample_case_ids=ids,
        samples=quoted,
        list_path=list_path(config, brand, platform, account_id, since),
        started_at=started,
        quiet_minutes=config.quiet_minutes,
        starter_case_id=starter_case_id,
        max_followers=max((p.followers for p in posts), default=0),
        amplifiers=sum(1 for p in posts if p.followers >= influencer_followers),
        escalation=escalation,
    )

"""Crisis waves: many complaints on one subject for one account, faster than its usual rate.

Per (brand account, subject) the engine keeps minute and hour counters of complaints. A wave starts
when the short window (15 min by default) holds at least ``min_count`` complaints and at least
``baseline_ratio`` times what the long window (24 h) says is usual for that many minutes. The usual
rate is learned from the account's own history, so a brand that always gets 40 complaints an hour on
launch day does not page anyone for 12. One alert per wave, then a cooldown (see SignalStore.claim_wave_alert).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field

from moderato.signals.config import WaveConfig
from moderato.signals.store import WavePost
from moderato.signals.text import fold

OTHER_SUBJECT = "other"


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


def hour_bucket(at: datetime) -> str:
    return f"H#{at:%Y%m%d%H}"


@dataclass(frozen=True, slots=True)
class WaveLevel:
    short_count: int
    expected: float  # complaints usual in a short window, learned from the long window
    threshold: float

    @property
    def active(self) -> bool:
        return self.short_count >= self.threshold


def wave_level(short_count: int, long_count: int, config: WaveConfig) -> WaveLevel:
    """Compare the short window with the rate of the rest of the long window."""
    short_minutes = config.short_window_minutes
    rest_minutes = config.long_window_hours * 60 - short_minutes
    # Hour buckets overlap the short window: what is left is the history before this surge.
    history = max(0, long_count - short_count)
    expected = history * short_minutes / rest_minutes
    threshold = max(float(config.min_count), config.baseline_ratio * expected)
    return WaveLevel(short_count, round(expected, 2), threshold)


class WaveAlert(BaseModel):
    """The one message a wave sends to AlertsTopic (and from there to e-mail and chat)."""

    kind: str = "wave_alert"
    wave_id: str
    account_id: str
    brand: str | None = None
    platform: str
    subject: str
    count: int = Field(description="Complaints on this subject in the short window.")
    window_minutes: int
    usual: float = Field(description="Complaints usual in such a window for this account (learned).")
    top_terms: list[str]
    sample_case_ids: list[str]
    list_path: str = Field(description="Review API path listing the cases; the alerts function makes it a link.")
    started_at: datetime
    cooldown_until: datetime
    starter_case_id: str
    max_followers: int = 0
    amplifiers: int = Field(default=0, description="Posts in the wave by authors above the influencer threshold.")

    def sns_subject(self) -> str:
        where = self.brand or self.account_id
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


def build_alert(*, key: str, account_id: str, brand: str | None, platform: str, subject: str, level: WaveLevel,
                posts: list[WavePost], starter_case_id: str, now: datetime, config: WaveConfig,
                influencer_followers: int) -> WaveAlert:
    since = now - timedelta(minutes=config.short_window_minutes)
    samples = [p.case_id for p in posts[: config.sample_size]]
    if starter_case_id not in samples:
        samples = [starter_case_id, *samples][: config.sample_size]
    return WaveAlert(
        wave_id=wave_id(key, now),
        account_id=account_id,
        brand=brand,
        platform=platform,
        subject=subject,
        count=level.short_count,
        window_minutes=config.short_window_minutes,
        usual=level.expected,
        top_terms=top_terms(posts, config.top_terms),
        sample_case_ids=samples,
        list_path=list_path(config, brand, platform, account_id, since),
        started_at=now,
        cooldown_until=now + timedelta(minutes=config.cooldown_minutes),
        starter_case_id=starter_case_id,
        max_followers=max((p.followers for p in posts), default=0),
        amplifiers=sum(1 for p in posts if p.followers >= influencer_followers),
    )

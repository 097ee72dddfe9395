"""The signal engine: what one post alone cannot show, computed from the signals table.

``SignalEngine.assess`` is called by triage after the classifier and before the case is written. It
records what this post adds (fingerprint, rate counters, wave counters; once per post, so a redelivery
counts nothing twice), reads what the recent past says, and returns the adjusted verdict, the priority,
at most one wave alert to publish, and earlier posts of a flood that now deserve the duplicate reason.
Pure: the store is a Protocol, time comes from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from moderato.models import Label, Post, Verdict
from moderato.reasons import Reason, reason
from moderato.settings import BrandAccount
from moderato.signals import codes
from moderato.signals.config import SignalsConfig
from moderato.signals.decide import (
    Signal,
    Strength,
    adjust,
    complaint_evidence,
    raises_priority,
    spam_evidence,
)
from moderato.signals.fingerprint import Fingerprint, distance, fingerprint
from moderato.signals.identity import contact_redirects, impersonation, is_empty_account, is_influencer
from moderato.signals.links import check_links
from moderato.signals.store import FingerprintRecord, SignalStore, WavePost
from moderato.signals.text import terms
from moderato.signals.waves import (
    WaveAlert,
    build_alert,
    hour_bucket,
    minute_bucket,
    subject_of,
    wave_key,
    wave_level,
)

_LINK_STRENGTH = {
    codes.LINK_DENIED: Strength.SCAM,
    codes.LINK_LOOKALIKE: Strength.SCAM,
    codes.LINK_SHORTENER: Strength.WEAK,
    codes.LINK_OBFUSCATED: Strength.WEAK,
}
Flood = tuple[FingerprintRecord, Reason]  # an earlier post of a flood, and the reason it deserves
DUPLICATE_CODES = frozenset({codes.DUPLICATE_BY_AUTHOR, codes.DUPLICATE_COORDINATED})


@dataclass(frozen=True)
class Retro:
    """An earlier post of a flood, fingerprinted before the flood was visible: it gets the reason now."""

    record: FingerprintRecord
    reason: Reason
    bands: list[str]


@dataclass(frozen=True)
class Assessment:
    verdict: Verdict
    priority_raised: bool = False
    wave_alert: WaveAlert | None = None
    retro: list[Retro] = field(default_factory=list)


def author_key(post: Post) -> str:
    who = post.author.id or post.author.handle or post.author.name or "unknown"
    return f"{post.platform.value}:{who}"


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _minutes(minutes: int) -> str:
    return f"{minutes} min" if minutes < 60 or minutes % 60 else f"{minutes // 60} h"


@dataclass
class SignalEngine:
    store: SignalStore
    config: SignalsConfig
    accounts: Mapping[str, BrandAccount] = field(default_factory=dict)

    def assess(self, post: Post, verdict: Verdict, case_id: str, now: datetime) -> Assessment:
        at = min(post.created_at.astimezone(UTC), now)  # the platform's time, never in our future
        first = self.store.first_sighting(case_id, _epoch(now + timedelta(days=self.config.retention.seen_days)))
        signals = self._identity_signals(post) + self._link_signals(post)
        signals += self._behaviour_signals(post, at, now, first)
        fp = fingerprint(post.text)
        eligible = fp.token_count >= self.config.duplicates.min_tokens
        neighbours = self._neighbours(fp, case_id, at) if eligible else []
        # A customer complaining is never part of a campaign, however many customers write the same.
        protected = complaint_evidence(verdict)
        dup_signals, flood = self._duplicate_signals(post, at, neighbours, spam_evidence(verdict, signals))
        signals += [] if protected else dup_signals
        adjusted = adjust(verdict, signals)
        flagged = adjusted.label == Label.SPAM and any(s.code in DUPLICATE_CODES for s in signals)
        retro = [Retro(r, reason, fp_bands(r)) for r, reason in flood] if flagged else []
        if first and eligible:
            # What the cluster's share of complaints counts: a protected normal post is a customer's.
            stored_label = (Label.COMPLAINT if protected and adjusted.label == Label.NORMAL else adjusted.label).value
            record = FingerprintRecord(case_id, fp.value, at, author_key(post), _thread(post), stored_label, flagged)
            expires = _epoch(now + timedelta(hours=self.config.retention.fingerprint_hours))
            self.store.add_fingerprint(record, fp.bands(), expires)
        counted = adjusted.label.value in self.config.waves.labels or (adjusted.label == Label.NORMAL and protected)
        alert, wave_reasons = self._wave(post, counted, case_id, at, now, first)
        if wave_reasons:
            adjusted = adjusted.model_copy(update={"reasons": [*adjusted.reasons, *wave_reasons]})
        return Assessment(verdict=adjusted, priority_raised=raises_priority(adjusted.label, signals),
                          wave_alert=alert, retro=retro)

    def settle(self, retro: Retro) -> None:
        """The earlier post got its duplicate reason (or was a complaint): never revisit it."""
        self.store.mark_flagged(retro.record, retro.bands)

    def wave_published(self, alert: WaveAlert, at: datetime) -> None:
        self.store.mark_wave_published(wave_key(alert.account_id, alert.subject), alert.starter_case_id, at)

    # --- who wrote it, and what it links to ---------------------------------------------------------

    def _brand_domains(self, post: Post) -> list[str]:
        brand = post.brand
        return sorted({d for a in self.accounts.values() if brand is None or a.brand == brand for d in a.domains})

    def _identity_signals(self, post: Post) -> list[Signal]:
        signals: list[Signal] = []
        redirects = contact_redirects(post.text, self._brand_domains(post))
        imitation = impersonation(post, self.accounts)
        if imitation:
            strength = Strength.SCAM if redirects else Strength.WEAK
            detail = f'{imitation.field} "{imitation.value}" imitates {imitation.brand}, not one of its accounts'
            signals.append(Signal(codes.IMPERSONATION, detail, strength))
        if redirects:
            strength = Strength.SCAM if imitation else Strength.WEAK
            signals.append(Signal(codes.CONTACT_REDIRECT, ", ".join(redirects), strength))
        behaviour = self.config.behaviour
        if is_empty_account(post.author, behaviour.empty_account_max_followers):
            signals.append(Signal(codes.EMPTY_ACCOUNT, f"{post.author.followers} followers", Strength.WEAK))
        if is_influencer(post.author, behaviour.influencer_followers):
            signals.append(Signal(codes.INFLUENCER, f"{post.author.followers:,} followers", Strength.INFO))
        return signals

    def _link_signals(self, post: Post) -> list[Signal]:
        findings = check_links(post.text, self._brand_domains(post), self.config.links)
        seen: set[str] = set()
        signals: list[Signal] = []
        for finding in findings:
            if finding.code not in seen:
                seen.add(finding.code)
                signals.append(Signal(finding.code, finding.domain, _LINK_STRENGTH[finding.code]))
        return signals

    # --- how the author behaves ---------------------------------------------------------------------

    def _behaviour_signals(self, post: Post, at: datetime, now: datetime, first: bool) -> list[Signal]:
        behaviour = self.config.behaviour
        author = author_key(post)
        rate_key = f"RATE#{author}"
        if first:
            expires = _epoch(now + timedelta(hours=self.config.retention.rate_hours))
            self.store.increment(rate_key, minute_bucket(at), 1, expires)
        window = behaviour.burst_window_minutes
        counts = self.store.counts(rate_key, minute_bucket(at - timedelta(minutes=window - 1)), minute_bucket(at))
        in_minute = counts.get(minute_bucket(at), 0)
        in_window = sum(counts.values())
        signals: list[Signal] = []
        if in_minute >= behaviour.burst_per_minute:
            signals.append(Signal(codes.AUTHOR_BURST, f"{in_minute} posts in 1 min", Strength.FLOOD))
        elif in_window >= behaviour.burst_per_window:
            signals.append(Signal(codes.AUTHOR_BURST, f"{in_window} posts in {window} min", Strength.FLOOD))
        confirmed = sum(self.store.counts(offender_key(post.platform.value, post.author.id or ""),
                                          "TOTAL", "TOTAL").values()) if post.author.id else 0
        if confirmed:
            plural = "s" if confirmed > 1 else ""
            detail = f"{confirmed} confirmed spam case{plural} in {behaviour.offender_memory_days} days"
            signals.append(Signal(codes.REPEAT_OFFENDER, detail, Strength.WEAK))
        return signals

    # --- near-duplicates ----------------------------------------------------------------------------

    def _neighbours(self, fp: Fingerprint, case_id: str, at: datetime) -> list[FingerprintRecord]:
        dup = self.config.duplicates
        since = at - timedelta(minutes=max(dup.author_window_minutes, dup.coordinated_window_minutes))
        return [r for r in self.store.similar(fp.bands(), since, dup.max_candidates)
                if r.case_id != case_id and distance(r.simhash, fp.value) <= dup.max_hamming_distance]

    def _duplicate_signals(self, post: Post, at: datetime, neighbours: list[FingerprintRecord],
                           campaign_like: bool) -> tuple[list[Signal], list[Flood]]:
        dup = self.config.duplicates
        me, thread = author_key(post), _thread(post)
        signals: list[Signal] = []
        flood: list[Flood] = []
        author_since = at - timedelta(minutes=dup.author_window_minutes)
        mine = [r for r in neighbours if r.author == me and r.at >= author_since]
        threads = {r.thread for r in mine} | {thread}
        if len(threads) >= dup.author_min_threads:
            detail = f"same text by this author in {len(threads)} threads in {_minutes(dup.author_window_minutes)}"
            signals.append(Signal(codes.DUPLICATE_BY_AUTHOR, detail, Strength.FLOOD))
            flood += [(r, reason(codes.DUPLICATE_BY_AUTHOR, detail)) for r in mine if _retro_candidate(r)]
        coordinated_since = at - timedelta(minutes=dup.coordinated_window_minutes)
        recent = [r for r in neighbours if r.at >= coordinated_since]
        authors = {r.author for r in recent} | {me}
        others = [r for r in recent if r.author != me]
        # Many customers with the same question are a complaint wave, not a campaign: trust the
        # classifier's view of the cluster, not duplication alone.
        complaints = sum(1 for r in others if r.label in (Label.COMPLAINT.value, Label.CRISIS.value))
        if len(authors) >= dup.coordinated_min_authors and complaints * 2 < max(1, len(others)):
            detail = (f"same text by {len(authors)} authors in "
                      f"{_minutes(dup.coordinated_window_minutes)} (coordinated)")
            # Duplication alone is only a hint: many people do write the same words.
            strength = Strength.FLOOD if campaign_like else Strength.WEAK
            signals.append(Signal(codes.DUPLICATE_COORDINATED, detail, strength))
            known = {r.case_id for r, _ in flood}
            if campaign_like:  # other authors' posts are relabelled only for a clear campaign
                flood += [(r, reason(codes.DUPLICATE_COORDINATED, detail)) for r in recent
                          if _retro_candidate(r) and r.case_id not in known]
        return signals, flood

    # --- crisis waves -------------------------------------------------------------------------------

    def _wave(self, post: Post, counted: bool, case_id: str, at: datetime, now: datetime,
              first: bool) -> tuple[WaveAlert | None, list[Reason]]:
        config = self.config.waves
        if not counted:
            return None, []
        subject = subject_of(post.text, config.subjects)
        key = wave_key(post.account_id, subject)
        counter_key = f"WAVE#{key}"
        expires = _epoch(now + timedelta(days=self.config.retention.wave_days))
        if first:
            self.store.increment(counter_key, minute_bucket(at), 1, expires)
            self.store.increment(counter_key, hour_bucket(at), 1,
                                 _epoch(now + timedelta(hours=config.long_window_hours + 24)))
            self.store.add_wave_post(key, WavePost(case_id, at, tuple(terms(post.text)),
                                                   post.author.followers or 0, author_key(post)), expires)
        short_since = at - timedelta(minutes=config.short_window_minutes - 1)
        short = sum(self.store.counts(counter_key, minute_bucket(short_since), minute_bucket(at)).values())
        long_since = at - timedelta(hours=config.long_window_hours)
        long = sum(self.store.counts(counter_key, hour_bucket(long_since), hour_bucket(at)).values())
        level = wave_level(short, long, config)
        if not level.active:
            return None, []
        detail = f"{short} complaints about {subject} in {_minutes(config.short_window_minutes)}"
        reasons = [reason(codes.WAVE_MEMBER, detail)]
        cooldown_until = now + timedelta(minutes=config.cooldown_minutes)
        if not self.store.claim_wave_alert(key, case_id, now, cooldown_until,
                                           _epoch(cooldown_until + timedelta(days=1))):
            return None, reasons
        posts = self.store.wave_posts(key, at - timedelta(minutes=config.short_window_minutes), 200)
        alert = build_alert(key=key, account_id=post.account_id, brand=post.brand, platform=post.platform.value,
                            subject=subject, level=level, posts=posts, starter_case_id=case_id, now=now,
                            config=config, influencer_followers=self.config.behaviour.influencer_followers)
        return alert, [*reasons, reason(codes.WAVE_STARTED, f"wave {alert.wave_id}")]


def offender_key(platform: str, author_id: str) -> str:
    return f"OFFENDER#{platform}:{author_id}"


def fp_bands(record: FingerprintRecord) -> list[str]:
    return Fingerprint(record.simhash, 0).bands()


def _thread(post: Post) -> str:
    return f"{post.account_id}:{post.thread_id or post.parent_id or post.post_id}"


def _retro_candidate(record: FingerprintRecord) -> bool:
    return not record.flagged and record.label in (Label.NORMAL.value, Label.SPAM.value)

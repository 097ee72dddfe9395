"""The signal engine: what one post alone cannot show, computed from the recent past.

``SignalEngine.assess`` is called by triage after the classifier and before the case is written. It
reads what the recent past says (the store's in-memory window of the journal: near-duplicates, the
author's rate, the wave's minutes), records what this post adds (one journal entry: its fingerprint,
author, thread, label and wave; once per post: triage calls it with ``first`` only for a post that has
no case yet, so a redelivery counts nothing twice), and returns the adjusted verdict, the priority, at
most one wave alert (or wave escalation) to publish, and earlier posts of a flood that now deserve the
duplicate reason.

Per batch: ``prepare`` (one read of what other invocations journaled since the last batch, one read of
the batch's repeat offenders), ``assess`` per post (no call, except the rare wave claims and a baseline
fold once an hour per wave), ``flush`` (one write of the batch's journal entries).

Across concurrent invocations: each sees the others' posts once they are written and read, that is
from its next batch on (eventually consistent, as the band queries were). A flood split across two
batches triaged at the same moment is found by the next post of it, which also gives the earlier ones
their duplicate reason; a wave counted by two invocations is claimed once (a conditional write).
Pure: the store is a Protocol, time comes from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from moderato.alerting.format import window_text
from moderato.models import Author, Label, Post, Verdict
from moderato.reasons import Reason, reason
from moderato.settings import BrandAccount
from moderato.signals import codes
from moderato.signals.baseline import HOUR, hour_bucket, hours_to_fold, learn
from moderato.signals.config import SignalsConfig
from moderato.signals.decide import (
    Signal,
    Strength,
    adjust,
    complaint_evidence,
    raises_priority,
    spam_evidence,
)
from moderato.signals.fingerprint import Fingerprint, bands_of, fingerprint_of, similarity
from moderato.signals.identity import (
    account_age,
    answers_someone_else,
    contact_redirects,
    impersonation,
    is_empty_account,
    is_influencer,
    is_new_account,
)
from moderato.signals.links import check_links
from moderato.signals.store import FingerprintRecord, JournalEntry, SignalStore, WavePost, WaveState
from moderato.signals.text import excerpt, negative_words, terms, words
from moderato.signals.waves import (
    WAVE_ESCALATED,
    Amplifier,
    WaveAlert,
    WaveLevel,
    build_alert,
    minute_bucket,
    subject_of,
    wave_id,
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


def _author_name(post: Post) -> str:
    author = post.author
    return (f"@{author.handle}" if author.handle else author.name or author.id or "unknown")[:64]


@dataclass
class SignalEngine:
    store: SignalStore
    config: SignalsConfig
    accounts: Mapping[str, BrandAccount] = field(default_factory=dict)

    def __post_init__(self) -> None:
        dup, behaviour, waves = self.config.duplicates, self.config.behaviour, self.config.waves
        recent = max(dup.author_window_minutes, dup.coordinated_window_minutes, behaviour.burst_window_minutes)
        # Wave posts for the long window, and the hour before it whole for the baseline's fold.
        journal = max(timedelta(hours=self.config.retention.journal_hours),
                      timedelta(hours=waves.long_window_hours + 1), timedelta(minutes=waves.short_window_minutes))
        self.store.window.configure(recent=timedelta(minutes=recent), waves=journal)

    def assess(self, post: Post, verdict: Verdict, case_id: str, now: datetime, first: bool = True) -> Assessment:
        """``first``: the post has no case yet, so it is counted. Triage knows it from the batch's one read
        of the cases table; False re-assesses an existing case whose routing did not finish (reads only,
        and the wave claim it may have made is re-published, never a second one)."""
        at = min(post.created_at.astimezone(UTC), now)  # the platform's time, never in our future
        signals = self._identity_signals(post, at) + self._link_signals(post)
        behaviour, recent_posts = self._behaviour_signals(post, case_id, at, first)
        signals += behaviour
        tokens = words(post.text)  # normalized once: the fingerprint, the wave's terms, the sentiment count
        fp = fingerprint_of(tokens)
        eligible = fp.token_count >= self.config.duplicates.min_tokens
        # A customer complaining is never part of a campaign, however many customers write the same.
        protected = complaint_evidence(verdict)
        campaign_like = spam_evidence(verdict, signals)
        look = eligible and self._duplicates_can_matter(verdict, protected, campaign_like, recent_posts)
        neighbours = self._neighbours(fp, case_id, at) if look else []
        dup_signals, flood = self._duplicate_signals(post, at, neighbours, campaign_like)
        signals += [] if protected else dup_signals
        adjusted = adjust(verdict, signals)
        flagged = adjusted.label == Label.SPAM and any(s.code in DUPLICATE_CODES for s in signals)
        retro = [Retro(r, reason, fp_bands(r)) for r, reason in flood] if flagged else []
        counted = self._counted(tokens, adjusted.label, protected)
        key = wave_key(post.account_id, subject_of(post.text, self.config.waves.subjects)) if counted else None
        if first and case_id not in self.store.window:
            # What the cluster's share of complaints counts: a protected normal post is a customer's.
            stored_label = (Label.COMPLAINT if protected and adjusted.label == Label.NORMAL else adjusted.label).value
            wave_post = (WavePost(case_id, at, tuple(terms(tokens)), post.author.followers or 0, _author_name(post),
                                  excerpt(post.text)) if key is not None else None)
            entry = JournalEntry(case_id, at, author_key(post), _thread(post), stored_label, flagged,
                                 fp.signature if eligible else None, key, wave_post)
            self.store.journal(entry, _epoch(now + timedelta(hours=self.config.retention.journal_hours)))
        alert, wave_reasons = self._wave(post, key, case_id, at, now)
        if wave_reasons:
            adjusted = adjusted.model_copy(update={"reasons": [*adjusted.reasons, *wave_reasons]})
        return Assessment(verdict=adjusted, priority_raised=raises_priority(adjusted.label, signals),
                          wave_alert=alert, retro=retro)

    def settle(self, retro: Retro) -> None:
        """The earlier post got its duplicate reason (or was a complaint): never revisit it."""
        self.store.mark_flagged(retro.record, retro.bands)

    def prepare(self, posts: list[Post]) -> None:
        """Before a batch's assessments: bring the window up to date (one read of the journal), and read
        what every post of it will look up by key (repeat offenders, baselines not read this hour), in
        one call."""
        self.store.refresh()
        offenders = [(offender_key(post.platform.value, post.author.id), "TOTAL") for post in posts if post.author.id]
        # The learned baseline of each wave a post may count in (whether it counts is known only later).
        subjects = self.config.waves.subjects
        baselines = [(f"WAVE#{wave_key(post.account_id, subject_of(post.text, subjects))}", "BASELINE")
                     for post in posts]
        self.store.prefetch(offenders + baselines)

    def flush(self) -> None:
        """Write what this batch's assessments journaled (one call for the batch, see the store)."""
        self.store.flush()

    def wave_published(self, alert: WaveAlert, at: datetime) -> None:
        key = wave_key(alert.account_id, alert.subject)
        if alert.kind == WAVE_ESCALATED and alert.escalation is not None:
            self.store.mark_escalation_published(key, alert.escalation.case_id, at)
        else:
            self.store.mark_wave_published(key, alert.starter_case_id, at)

    # --- who wrote it, and what it links to ---------------------------------------------------------

    def _brand_domains(self, post: Post) -> list[str]:
        brand = post.brand
        return sorted({d for a in self.accounts.values() if brand is None or a.brand == brand for d in a.domains})

    def _identity_signals(self, post: Post, at: datetime) -> list[Signal]:
        signals: list[Signal] = []
        redirects = contact_redirects(post.text, self._brand_domains(post))
        imitation = impersonation(post, self.accounts)
        # A scam only together: a service-like name, a private channel, offered in reply to someone
        # else. A complainant's own phone number, or a fan's name, is not evidence of anything.
        scam = bool(imitation and redirects and answers_someone_else(post))
        strength = Strength.SCAM if scam else Strength.WEAK
        if imitation:
            detail = (f'{imitation.field} "{imitation.value}" imitates {imitation.brand} ({imitation.how}), '
                      "not one of its accounts")
            signals.append(Signal(codes.IMPERSONATION, detail, strength))
        if redirects:
            detail = ", ".join(redirects) + (", in a reply to someone else" if scam else "")
            signals.append(Signal(codes.CONTACT_REDIRECT, detail, strength))
        return signals + self._account_signals(post, at)

    def _account_signals(self, post: Post, at: datetime) -> list[Signal]:
        behaviour = self.config.behaviour
        author = post.author
        signals: list[Signal] = []
        empty = is_empty_account(author, behaviour.empty_account_max_followers, behaviour.empty_account_max_posts)
        new = is_new_account(author, at, behaviour.new_account_days)
        # One weak signal for one fact: a brand-new account usually is an empty one too, and two weak
        # signals would turn a new customer's first message into spam on their own.
        if empty or new:
            code = codes.EMPTY_ACCOUNT if empty else codes.NEW_ACCOUNT
            signals.append(Signal(code, _account_detail(author, at), Strength.WEAK))
        if is_influencer(author, behaviour.influencer_followers):
            signals.append(Signal(codes.INFLUENCER, f"{author.followers:,} followers", Strength.INFO))
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

    def _behaviour_signals(self, post: Post, case_id: str, at: datetime, first: bool) -> tuple[list[Signal], int]:
        """The author's burst and repeat-offender signals, and how many posts the author wrote in the window."""
        behaviour = self.config.behaviour
        window = behaviour.burst_window_minutes
        counts = self.store.window.author_minutes(author_key(post), minute_bucket(at - timedelta(minutes=window - 1)),
                                                  minute_bucket(at))
        # The post itself counts: journaled after this read when it is new, already there when retried.
        own = 1 if first and case_id not in self.store.window else 0
        in_minute = counts.get(minute_bucket(at), 0) + own
        in_window = sum(counts.values()) + own
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
        return signals, in_window

    # --- near-duplicates ----------------------------------------------------------------------------

    def _duplicates_can_matter(self, verdict: Verdict, protected: bool, campaign_like: bool,
                               recent_posts: int) -> bool:
        """Whether near-duplicates could change this post's verdict (its band queries are then worth reading).

        Not for a protected post: its duplicate signals are dropped. Not for a normal post without any
        spam hint whose author wrote fewer posts in the author window than a copy-paste flood needs:
        "same text by this author" cannot reach its thread count, and coordinated text alone is one weak
        signal, which neither changes a normal label nor shows on it. Its fingerprint is still stored,
        so later posts find it.
        """
        dup = self.config.duplicates
        if protected:
            return False
        if verdict.label != Label.NORMAL or campaign_like:
            return True
        author_flood_possible = (dup.author_window_minutes > self.config.behaviour.burst_window_minutes
                                 or recent_posts >= dup.author_min_threads)
        return author_flood_possible

    def _neighbours(self, fp: Fingerprint, case_id: str, at: datetime) -> list[FingerprintRecord]:
        dup = self.config.duplicates
        since = at - timedelta(minutes=max(dup.author_window_minutes, dup.coordinated_window_minutes))
        return [r for r in self.store.window.similar(fp.signature, since, dup.max_candidates)
                if r.case_id != case_id and similarity(r.signature, fp.signature) >= dup.min_similarity]

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
            detail = f"same text by this author in {len(threads)} threads in {window_text(dup.author_window_minutes)}"
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
                      f"{window_text(dup.coordinated_window_minutes)} (coordinated)")
            # Duplication alone is only a hint: many people do write the same words.
            strength = Strength.FLOOD if campaign_like else Strength.WEAK
            signals.append(Signal(codes.DUPLICATE_COORDINATED, detail, strength))
            known = {r.case_id for r, _ in flood}
            if campaign_like:  # other authors' posts are relabelled only for a clear campaign
                flood += [(r, reason(codes.DUPLICATE_COORDINATED, detail)) for r in recent
                          if _retro_candidate(r) and r.case_id not in known]
        return signals, flood

    # --- crisis waves -------------------------------------------------------------------------------

    def _counted(self, tokens: list[str], label: Label, protected: bool) -> bool:
        """Negative posts count in waves: complaints and crises, and normal posts in which the classifier
        saw a complaint or whose words lean negative in its sentiment lexicon. Spam never counts."""
        waves = self.config.waves
        if label.value in waves.labels:
            return True
        if label != Label.NORMAL:
            return False
        if protected:
            return True
        if not waves.negative_min_words:
            return False
        negative, positive = negative_words(tokens)
        return negative >= waves.negative_min_words and negative > positive

    def _wave(self, post: Post, key: str | None, case_id: str, at: datetime,
              now: datetime) -> tuple[WaveAlert | None, list[Reason]]:
        """``key``: the wave the post counts in (None: it does not count); it is journaled already."""
        config = self.config.waves
        if key is None:
            return None, []
        subject = key.rsplit("#", 1)[1]
        level = self._current_level(key, at, now)
        if level is None:
            return None, []
        window = level.trigger
        reasons = [reason(codes.WAVE_MEMBER, f"{window.count} complaints about {subject} in "
                                             f"{window_text(window.minutes)}")]
        claim_expires = _epoch(now + timedelta(minutes=config.quiet_minutes, days=1))
        quiet_since = now - timedelta(minutes=config.quiet_minutes)
        if self.store.claim_wave_alert(key, case_id, wave_id(key, now), now, quiet_since, claim_expires):
            alert = self._alert(post, key, subject, level, at, now, starter_case_id=case_id)
            return alert, [*reasons, reason(codes.WAVE_STARTED, f"wave {alert.wave_id}")]
        # The same wave goes on: it has not ended, so it never alerts again.
        self.store.touch_wave(key, now, claim_expires)
        if not is_influencer(post.author, self.config.behaviour.influencer_followers):
            return None, reasons
        state = self.store.claim_escalation(key, case_id, now)
        if state is None:
            return None, reasons
        joined = Amplifier(case_id=case_id, followers=post.author.followers or 0, author=_author_name(post),
                           text=excerpt(post.text))
        alert = self._alert(post, key, subject, level, at, now, starter_case_id=state.starter, wave=state,
                            escalation=joined)
        return alert, [*reasons, reason(codes.WAVE_ESCALATED, f"wave {state.wave_id}: {joined.followers:,} followers")]

    def _current_level(self, key: str, at: datetime, now: datetime) -> WaveLevel | None:
        """Both windows against the learned usual rate; None when neither is above its threshold."""
        config = self.config.waves
        # One read for both windows: the minutes of the long window hold the short one.
        long_since = at - timedelta(minutes=config.long_window_hours * 60 - 1)
        minutes = self.store.window.wave_minutes(key, minute_bucket(long_since), minute_bucket(at))
        usual = self._usual_rate(key, at, now)
        level = self._level(minutes, at, usual)
        if not level.active:
            return None
        previous = self.store.wave_state(key)
        quiet_since = now - timedelta(minutes=config.quiet_minutes)
        if previous is not None and previous.last_active_at is not None and previous.last_active_at < quiet_since:
            # The last wave ended: a new one is judged on what came after it, not on the last one's tail
            # still inside the long window.
            after = minute_bucket(previous.last_active_at)
            level = self._level({b: n for b, n in minutes.items() if b > after}, at, usual)
        return level if level.active else None

    def _alert(self, post: Post, key: str, subject: str, level: WaveLevel, at: datetime, now: datetime, *,
               starter_case_id: str, wave: WaveState | None = None, escalation: Amplifier | None = None) -> WaveAlert:
        posts = self.store.window.wave_posts(key, at - timedelta(minutes=level.trigger.minutes), 200)
        return build_alert(key=key, account_id=post.account_id, brand=post.brand, platform=post.platform.value,
                           subject=subject, level=level, posts=posts, starter_case_id=starter_case_id, now=now,
                           config=self.config.waves, influencer_followers=self.config.behaviour.influencer_followers,
                           started_at=wave.started_at if wave else None, wave=wave.wave_id if wave else None,
                           escalation=escalation)

    def _level(self, minutes: Mapping[str, int], at: datetime, usual: float) -> WaveLevel:
        config = self.config.waves
        short_first = minute_bucket(at - timedelta(minutes=config.short_window_minutes - 1))
        short = sum(n for bucket, n in minutes.items() if bucket >= short_first)
        return wave_level(short, sum(minutes.values()), usual, config)

    def _usual_rate(self, key: str, at: datetime, now: datetime) -> float:
        """The learned hourly rate of this account and subject, folding the hours closed since last time."""
        waves = self.config.waves
        last_closed = at.replace(minute=0, second=0, microsecond=0) - HOUR
        stored = self.store.baseline(key)
        if stored is not None and stored.through >= hour_bucket(last_closed):
            return stored.rate
        known = self.store.window.first_whole_hour()
        first, last = hours_to_fold(stored, last_closed, waves.baseline_bootstrap_hours, known)
        hourly = self.store.window.wave_hours(key, first, last) if first <= last else {}
        learned = learn(stored, hourly, last_closed, waves.baseline_half_life_hours, waves.baseline_bootstrap_hours,
                        known)
        expires = _epoch(now + timedelta(days=self.config.retention.baseline_days))
        if self.store.save_baseline(key, learned, stored, expires):
            return learned.rate
        again = self.store.baseline(key)  # another invocation folded these hours first: use its result
        return again.rate if again is not None else learned.rate


def offender_key(platform: str, author_id: str) -> str:
    return f"OFFENDER#{platform}:{author_id}"


def fp_bands(record: FingerprintRecord) -> list[str]:
    return bands_of(record.signature)


def _account_detail(author: Author, at: datetime) -> str:
    parts = []
    if author.followers is not None:
        parts.append(f"{author.followers:,} followers")
    if author.posts_count is not None:
        parts.append(f"{author.posts_count:,} post{'s' if author.posts_count != 1 else ''}")
    age = account_age(author, at)
    if age is not None:
        parts.append(f"account {age.days} day{'s' if age.days != 1 else ''} old")
    return ", ".join(parts)


def _thread(post: Post) -> str:
    return f"{post.account_id}:{post.thread_id or post.parent_id or post.post_id}"


def _retro_candidate(record: FingerprintRecord) -> bool:
    return not record.flagged and record.label in (Label.NORMAL.value, Label.SPAM.value)

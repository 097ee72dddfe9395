"""Crisis waves through TriageService and the engine (in-memory store): when a wave starts, how long it
lasts, what it learns as usual, which posts it counts, and the one escalation when a large account joins.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from moderato.alerting.format import format_alert
from moderato.models import Label, Post, Verdict
from moderato.signals import codes
from moderato.signals.baseline import hour_bucket
from moderato.signals.store import Baseline, JournalEntry, WavePost
from moderato.triage.service import TriageService
from tests.unit.signals.test_triage_with_signals import PAGE, START, Clock, make_service, post, reasons

LATE = "Ma commande n'est toujours pas livrée, c'était pour aujourd'hui, numéro {n}"
KEY = f"{PAGE}#delivery"


def late(service: TriageService, clock: Clock, first: int, count: int, every_seconds: float,
         start: datetime = START, **kwargs: Any) -> None:
    """``count`` delivery complaints from different customers, one every ``every_seconds``."""
    for n in range(first, first + count):
        clock.now = start + timedelta(seconds=every_seconds * (n - first))
        service.triage(post(n, LATE.format(n=n), author_id=f"cust{n}", name=f"Client {n}", at=clock.now, **kwargs))


def test_a_continuing_wave_alerts_once_and_only_a_new_wave_after_a_quiet_period_alerts_again() -> None:
    """The rule: a wave lasts while the short or long window stays above its threshold, and ends after
    ``quiet_minutes`` (60) without that. The same wave never alerts twice, however long it lasts (the old
    120-minute cooldown alerted again in the middle of a long wave); a new surge after the quiet period
    is a new wave and alerts."""
    service, _, out, _, clock = make_service()
    late(service, clock, 0, 30, 30)  # 30 complaints in 15 min: the wave starts at the 10th
    late(service, clock, 30, 180, 60, start=START + timedelta(minutes=15))  # one a minute for three more hours
    assert [a.kind for a in out.waves] == ["wave_alert"]
    # Then nothing for 90 minutes: the wave ended. A new surge is a new wave.
    late(service, clock, 210, 12, 30, start=clock.now + timedelta(minutes=90))
    assert [a.kind for a in out.waves] == ["wave_alert", "wave_alert"]
    assert out.waves[0].wave_id != out.waves[1].wave_id and out.waves[1].count == 10


def test_a_surge_right_after_a_short_pause_is_the_same_wave() -> None:
    service, _, out, _, clock = make_service()
    late(service, clock, 0, 30, 30)
    late(service, clock, 30, 30, 30, start=clock.now + timedelta(minutes=40))  # back within the quiet period
    assert len(out.waves) == 1


def test_a_slow_wave_is_seen_by_the_long_window() -> None:
    service, cases, out, _, clock = make_service()
    late(service, clock, 0, 30, 360)  # one complaint every 6 minutes: never 10 in 15 minutes
    [alert] = out.waves
    assert (alert.window_minutes, alert.count) == (180, 25) and alert.usual < 2
    starter = next(c for c in cases.cases.values() if codes.WAVE_STARTED in reasons(c))
    assert starter.post.post_id == "c24"
    member = next(r for r in starter.reasons if r.code == codes.WAVE_MEMBER)
    assert member.detail == "25 complaints about delivery in 3 h"


def test_the_usual_rate_is_learned_per_account_and_subject() -> None:
    service, _, out, store, clock = make_service()
    # The journal's last four hours (all it keeps, what a new baseline starts from) held 20 complaints an
    # hour about deliveries on this page (a busy season).
    for n in range(80):
        at = START - timedelta(hours=4) + timedelta(minutes=3 * n)
        store.journal(JournalEntry(f"earlier-{n}", at, f"facebook:e{n}", f"{PAGE}:t", "complaint", wave_key=KEY,
                                   wave_post=WavePost(f"earlier-{n}", at)), 10**10)
    late(service, clock, 0, 12, 70)  # 12 in 14 min: an ordinary quarter of an hour for this page now
    assert out.waves == [] and store.baselines[KEY].rate == 20.0
    late(service, clock, 12, 30, 25, start=clock.now + timedelta(minutes=15))  # 30 in 12.5 min: 3 x usual
    [alert] = out.waves
    assert alert.usual == 5.0 and alert.count >= 15


def test_the_baseline_folds_each_closed_hour_once() -> None:
    service, _, _, store, clock = make_service()
    store.baselines[KEY] = Baseline(2.0, hour_bucket(START - timedelta(hours=1)))
    late(service, clock, 0, 40, 60)  # 09:00-09:39
    assert store.baselines[KEY] == Baseline(2.0, hour_bucket(START - timedelta(hours=1)))  # 09:00 still open
    late(service, clock, 40, 1, 0, start=START + timedelta(hours=1, minutes=5))
    learned = store.baselines[KEY]
    assert learned.through == hour_bucket(START) and 2.0 < learned.rate < 2.5  # a step towards the 40 of 09:00


def negative_but_normal(post: Post) -> Verdict:
    return Verdict(label=Label.NORMAL, scores={"normal": 0.9, "complaint": 0.1}, reasons=[], model="stub")


def test_negative_normal_posts_count_in_waves_and_positive_ones_do_not() -> None:
    service, cases, out, _, clock = make_service(classify=negative_but_normal)
    for n in range(12):
        clock.now = START + timedelta(seconds=60 * n)
        service.triage(post(n, "Livraison super rapide, magnifique bouquet, merci", author_id=f"h{n}", at=clock.now))
    assert out.waves == []
    for n in range(12, 24):
        clock.now = START + timedelta(minutes=20, seconds=60 * (n - 12))
        service.triage(post(n, "Franchement nul ce colis, quelle arnaque, horrible", author_id=f"u{n}",
                            at=clock.now))
    [alert] = out.waves
    assert alert.count == 10 and all(c.label == Label.NORMAL for c in cases.cases.values())


def test_the_alert_quotes_three_truncated_samples_next_to_their_case_ids() -> None:
    service, _, out, _, clock = make_service()
    long_text = "Ma commande n'est toujours pas livrée " + "et personne ne répond au téléphone " * 8
    for n in range(10):
        clock.now = START + timedelta(seconds=30 * n)
        service.triage(post(n, long_text + str(n), author_id=f"c{n}", at=clock.now))
    [alert] = out.waves
    assert [s.case_id for s in alert.samples] == alert.sample_case_ids[:3]
    assert all(len(s.text) == 120 and s.text.endswith("…") for s in alert.samples)


def test_a_large_account_joining_after_the_alert_escalates_the_wave_once() -> None:
    service, cases, out, _, clock = make_service()
    late(service, clock, 0, 15, 30)
    late(service, clock, 15, 1, 0, start=clock.now + timedelta(seconds=30), followers=250_000)  # joins late
    late(service, clock, 16, 5, 30, start=clock.now + timedelta(seconds=30))
    late(service, clock, 21, 1, 0, start=clock.now + timedelta(seconds=30), followers=900_000)  # a second one
    assert [a.kind for a in out.waves] == ["wave_alert", "wave_escalated"]
    wave, escalation = out.waves
    assert escalation.wave_id == wave.wave_id and escalation.started_at == wave.started_at
    assert escalation.priority == 1 < wave.priority
    assert escalation.escalation is not None and escalation.escalation.followers == 250_000
    assert escalation.escalation.case_id == next(c.case_id for c in cases.cases.values() if c.post.post_id == "c15")
    assert escalation.sns_subject().startswith("[Moderato] Wave escalated: a 250,000-follower account joined")
    influencer = next(c for c in cases.cases.values() if c.post.post_id == "c15")
    assert {codes.WAVE_ESCALATED, codes.INFLUENCER} <= reasons(influencer) and influencer.priority == 1
    # A redelivery of the influencer's post publishes nothing more.
    service.triage(influencer.post)
    assert len(out.waves) == 2


def test_an_influencer_before_the_alert_is_counted_in_it_not_escalated() -> None:
    service, _, out, _, clock = make_service()
    late(service, clock, 0, 1, 0, followers=250_000)
    late(service, clock, 1, 20, 30, start=START + timedelta(seconds=30))
    [alert] = out.waves
    assert alert.kind == "wave_alert" and alert.amplifiers == 1


def test_the_chat_shows_what_the_engine_built() -> None:
    service, _, out, _, clock = make_service()
    late(service, clock, 0, 15, 30)
    late(service, clock, 15, 1, 0, start=clock.now + timedelta(seconds=30), followers=250_000)
    wave, escalation = (format_alert(a.sns_subject(), json.dumps(a.message()))["text"] for a in out.waves)
    assert "10 complaints about *delivery* in 15 min (usually 0)" in wave
    assert wave.count("> Ma commande n'est toujours pas livrée") == 3 and "numéro 0 (facebook-" in wave
    assert "*Wave escalated*" in escalation and "Client 15 (250,000 followers) joined the *delivery* wave" in escalation

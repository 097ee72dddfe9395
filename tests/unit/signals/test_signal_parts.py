"""The pure parts of the signals: links, identity, waves and the learned baseline, the decision table, config.

Near-duplicate fingerprints have their own module (test_near_duplicates.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from moderato.models import Author, Label, Post, Verdict
from moderato.reasons import reason
from moderato.settings import ConfigurationError, load_brand_accounts
from moderato.signals import codes
from moderato.signals.baseline import alpha, hour_bucket, learn
from moderato.signals.config import WaveConfig, load_signals_config, signals_config
from moderato.signals.decide import Signal, Strength, adjust, complaint_evidence, decided_label
from moderato.signals.identity import (
    answers_someone_else,
    contact_redirects,
    impersonation,
    is_empty_account,
    is_new_account,
)
from moderato.signals.links import check_links
from moderato.signals.store import Baseline
from moderato.signals.text import fold, squash
from moderato.signals.waves import subject_of, wave_level

ACCOUNTS = load_brand_accounts()
PAGE = "206070979425408"


def post(name: str | None = None, handle: str | None = None, author_id: str = "42", text: str = "",
         kind: str = "comment", parent_id: str | None = None) -> Post:
    return Post(platform="facebook", kind=kind, post_id="p", parent_id=parent_id, account_id=PAGE, text=text,
                author=Author(id=author_id, name=name, handle=handle), created_at=datetime.now(UTC), dedup_key="k")


# --- folding


def test_fold_undoes_look_alike_letters_from_other_alphabets() -> None:
    # "Flоralys Ѕupport" with a Cyrillic о and Ѕ; "ꜰ" small capital aside, what a reader sees is Latin.
    assert fold("Flоralys Ѕupport") == "floralys support"
    assert fold("Frее Gіft") == "free gift"
    assert squash("F1oralys_Support.FR") == "floralyssupportfr"


# --- links


@pytest.mark.parametrize(("text", "expected"), [
    ("voir bit.ly/xyz", {codes.LINK_SHORTENER}),
    ("remboursement sur floralys-remboursement.com", {codes.LINK_LOOKALIKE}),
    ("hxxps://fl0ralys[.]fr/refund", {codes.LINK_LOOKALIKE, codes.LINK_OBFUSCATED}),
    ("allez sur promo-fleurs . shop", {codes.LINK_OBFUSCATED}),
    ("https://floralys.fr/aide et https://www.laposte.fr/suivi", set()),
    ("M.Dupont a dit etc. merci", set()),
])
def test_links(text: str, expected: set[str]) -> None:
    assert {f.code for f in check_links(text, ["floralys.fr"], signals_config().links)} == expected


def test_deny_list_wins_and_allow_list_is_silent() -> None:
    config = signals_config().links.model_copy(update={"deny": frozenset({"evil.example"}),
                                                       "allow": frozenset({"bit.ly"})})
    findings = check_links("https://evil.example/x and bit.ly/ok", ["floralys.fr"], config)
    assert [f.code for f in findings] == [codes.LINK_DENIED]


# --- identity


@pytest.mark.parametrize(("name", "handle", "how"), [
    ("Floralys Support FR", None, "support name"),
    (None, "floralys_help", "support name"),
    (None, "FloralysHelp", "support name"),
    (None, "savfloralys", "support name"),
    ("Fl0ralis Service Client", None, "support name"),
    ("SAV Floralys officiel", None, "support name"),
    ("FIoralys", None, "look-alike"),  # a capital I for the l
    ("Floralys", "floralys_2026", "look-alike"),  # the brand's name itself, not one of its accounts
    (None, "fl0ralys", "look-alike"),
])
def test_names_posing_as_the_brand_service_imitate_it(name: str | None, handle: str | None, how: str) -> None:
    found = impersonation(post(name, handle), ACCOUNTS)
    assert found is not None and found.how == how and found.brand == "Floralys"


@pytest.mark.parametrize(("name", "handle"), [
    ("Fan de Floralys", None),  # the brand in a fan's name is not a claim to be its service
    ("Floralys lover", "i_love_floralys"),
    ("Floralie Dupont", None),  # a first name two letters from the brand
    ("Jeanne Martin", None),
    ("Floral Design Studio", None),
    ("Florence", "flo_r"),
    ("Savannah", "savannah_fleurs"),
])
def test_people_who_merely_mention_the_brand_do_not_imitate_it(name: str | None, handle: str | None) -> None:
    assert impersonation(post(name, handle), ACCOUNTS) is None


def test_only_a_reply_to_someone_else_answers_someone() -> None:
    assert answers_someone_else(post(kind="reply", parent_id="customer-comment"))
    assert not answers_someone_else(post(kind="comment"))  # a comment under the brand's own post
    assert not answers_someone_else(post(kind="mention"))
    assert not answers_someone_else(post(kind="message"))


def test_empty_and_new_accounts_need_the_platform_to_say_so() -> None:
    now = datetime(2026, 5, 30, tzinfo=UTC)
    assert not is_empty_account(Author(), 0, 1) and not is_new_account(Author(), now, 30)
    assert is_empty_account(Author(followers=0, posts_count=900), 0, 1)  # no audience
    assert is_empty_account(Author(followers=300, posts_count=1), 0, 1)  # no history: its first post
    assert not is_empty_account(Author(followers=12, posts_count=40), 0, 1)
    assert is_new_account(Author(account_created_at=now - timedelta(days=3)), now, 30)
    assert not is_new_account(Author(account_created_at=now - timedelta(days=400)), now, 30)


def test_the_brand_itself_is_not_an_impersonator() -> None:
    assert impersonation(post("Floralys", None, author_id=PAGE), ACCOUNTS) is None
    assert impersonation(post("Floralys", "Floralys", author_id="other"), ACCOUNTS) is None


def test_contact_redirects() -> None:
    assert contact_redirects("Contactez-nous sur WhatsApp au +44 7700 900123") == ["WhatsApp", "phone number"]
    assert contact_redirects("écris-moi sur Telegram @gains_faciles") == ["Telegram"]
    assert contact_redirects("appelez le 06 12 34 56 78") == ["phone number"]
    assert contact_redirects("commande FL-20931 du 12/05, colis 6A12345678901") == []
    assert contact_redirects("écrivez à aide@floralys.fr", ["floralys.fr"]) == []


# --- waves


def test_subjects() -> None:
    subjects = signals_config().waves.subjects
    assert subject_of("Where is my order? Still nothing", subjects) == "delivery"
    assert subject_of("Mon colis n'est jamais arrivé", subjects) == "delivery"
    assert subject_of("Bouquet fané à l'arrivée, qualité nulle", subjects) == "quality"
    assert subject_of("Bonjour", subjects) == "other"


WAVES = WaveConfig(min_count=10, long_min_count=25, baseline_ratio=3.0, short_window_minutes=15, long_window_hours=3)


def test_a_wave_needs_the_minimum_and_more_than_usual() -> None:
    assert not wave_level(9, 9, 0.0, WAVES).active
    assert wave_level(10, 10, 0.0, WAVES).active and wave_level(10, 10, 0.0, WAVES).trigger.minutes == 15
    # 40 complaints an hour is this account's learned normal: 12 in 15 min is not a wave (30 would be).
    busy = wave_level(12, 100, 40.0, WAVES)
    assert busy.short.expected == 10.0 and busy.short.threshold == 30.0 and not busy.active
    assert wave_level(30, 130, 40.0, WAVES).active


def test_the_long_window_starts_slow_waves_the_short_one_never_sees() -> None:
    slow = wave_level(4, 26, 0.5, WAVES)  # never 10 in 15 minutes, but 26 in 3 hours where 1.5 are usual
    assert slow.active and not slow.short.active
    assert (slow.trigger.minutes, slow.trigger.count, slow.trigger.expected) == (180, 26, 1.5)
    assert not wave_level(4, 24, 0.5, WAVES).active  # below long_min_count
    assert not wave_level(4, 26, 3.0, WAVES).active  # 26 in 3 h is not 3 x the usual 9


def test_the_baseline_is_an_exponentially_weighted_hourly_rate() -> None:
    closed = datetime(2026, 5, 30, 9, tzinfo=UTC)
    # Bootstrap: the mean of what the hour counters still hold over the bootstrap window.
    start = learn(None, {hour_bucket(closed - timedelta(hours=1)): 12, hour_bucket(closed): 36}, closed, 72, 24)
    assert start == Baseline(2.0, hour_bucket(closed))
    # Each closed hour moves the rate a step alpha towards its count; skipped quiet hours decay it.
    step = alpha(72)
    assert step == pytest.approx(1 - 0.5 ** (1 / 72))
    later = closed + timedelta(hours=3)
    folded = learn(start, {hour_bucket(closed + timedelta(hours=2)): 50}, later, 72, 24)
    expected = 2.0 * (1 - step)  # 10:00, quiet
    expected += step * (50 - expected)  # 11:00, 50 posts
    expected *= 1 - step  # 12:00, quiet
    assert folded.through == hour_bucket(later) and folded.rate == pytest.approx(expected, abs=1e-3)
    # Half-life: 72 quiet hours halve it.
    assert learn(Baseline(8.0, hour_bucket(closed)), {}, closed + timedelta(hours=72), 72, 24).rate == (
        pytest.approx(4.0, abs=1e-3))
    assert learn(start, {}, closed, 72, 24) == start  # nothing new to fold


# --- the decision table


def verdict(label: Label) -> Verdict:
    return Verdict(label=label, scores={label.value: 0.9}, reasons=[], model="test")


SCAM = Signal(codes.IMPERSONATION, "x", Strength.SCAM)
FLOOD = Signal(codes.DUPLICATE_BY_AUTHOR, "x", Strength.FLOOD)
WEAK = Signal(codes.LINK_SHORTENER, "x", Strength.WEAK)
INFO = Signal(codes.INFLUENCER, "x", Strength.INFO)


@pytest.mark.parametrize(("label", "signals", "expected"), [
    (Label.CRISIS, [SCAM, FLOOD], Label.CRISIS),
    (Label.COMPLAINT, [SCAM], Label.SPAM),
    (Label.COMPLAINT, [FLOOD, WEAK, WEAK], Label.COMPLAINT),
    (Label.NORMAL, [FLOOD], Label.SPAM),
    (Label.NORMAL, [WEAK], Label.NORMAL),
    (Label.NORMAL, [WEAK, Signal(codes.EMPTY_ACCOUNT, None, Strength.WEAK)], Label.SPAM),
    (Label.NORMAL, [INFO], Label.NORMAL),
])
def test_decision_table(label: Label, signals: list[Signal], expected: Label) -> None:
    assert decided_label(label, signals) == expected


def test_a_spam_verdict_gets_no_complaint_protection_whatever_rules_matched() -> None:
    # The fake support reply matches complaint rules ("désolé pour ce problème de livraison, remboursement").
    fake_support = Verdict(label=Label.SPAM, scores={"spam": 1.0, "complaint": 0.0},
                           reasons=[reason("rule.complaint.delivery"), reason("rule.complaint.refund")], model="t")
    assert not complaint_evidence(fake_support)
    hesitant = Verdict(label=Label.NORMAL, scores={"normal": 0.6}, reasons=[reason("rule.complaint.delivery")])
    assert complaint_evidence(hesitant)
    assert complaint_evidence(Verdict(label=Label.NORMAL, scores={"normal": 0.6, "complaint": 0.35}))
    assert not complaint_evidence(Verdict(label=Label.NORMAL, scores={"normal": 0.9, "complaint": 0.1}))


def test_complaints_show_no_spam_reason() -> None:
    adjusted = adjust(verdict(Label.COMPLAINT), [FLOOD, INFO])
    assert adjusted.label == Label.COMPLAINT and [r.code for r in adjusted.reasons] == [codes.INFLUENCER]


# --- configuration


def test_env_overrides_are_validated(tmp_path: Path) -> None:
    config = load_signals_config(environ={"MODERATO_SIGNALS__WAVES__MIN_COUNT": "4"})
    assert config.waves.min_count == 4
    with pytest.raises(ConfigurationError):
        load_signals_config(environ={"MODERATO_SIGNALS__WAVES__MIN_COUNT": "-1"})
    with pytest.raises(ConfigurationError):
        load_signals_config(environ={"MODERATO_SIGNALS__DUPLICATES__MIN_SIMILARITY": "0.05"})
    with pytest.raises(ConfigurationError):  # SimHash is gone: its setting is refused, not silently ignored
        load_signals_config(environ={"MODERATO_SIGNALS__DUPLICATES__MAX_HAMMING_DISTANCE": "3"})
    bad = tmp_path / "signals.json"
    bad.write_text('{"waves": {"labels": ["complaints"]}}')
    with pytest.raises(ConfigurationError):
        load_signals_config(bad, environ={})

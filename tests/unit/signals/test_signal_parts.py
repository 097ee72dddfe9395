"""The pure parts of the signals: fingerprints, links, identity, waves, the decision table, config."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moderato.models import Author, Label, Post, Verdict
from moderato.settings import ConfigurationError, load_brand_accounts
from moderato.signals import codes
from moderato.signals.config import WaveConfig, load_signals_config, signals_config
from moderato.signals.decide import Signal, Strength, adjust, decided_label
from moderato.signals.fingerprint import distance, fingerprint
from moderato.signals.identity import contact_redirects, impersonation
from moderato.signals.links import check_links
from moderato.signals.waves import subject_of, wave_level

ACCOUNTS = load_brand_accounts()
PAGE = "206070979425408"
PROMO = "🔥 Gagnez 500€ par semaine depuis chez vous 🔥 crypto sans risque, écrivez-moi sur https://bit.ly/abc"


def post(name: str | None = None, handle: str | None = None, author_id: str = "42", text: str = "") -> Post:
    return Post(platform="facebook", kind="comment", post_id="p", account_id=PAGE, text=text,
                author=Author(id=author_id, name=name, handle=handle), created_at=datetime.now(UTC), dedup_key="k")


# --- fingerprints


@pytest.mark.parametrize("variant", [
    "Gagnez 500 € par semaine depuis chez vous !!! crypto sans risque\nécrivez moi sur https://tinyurl.com/xyz 😍",
    "GAGNEZ 500€ PAR SEMAINE DEPUIS CHEZ VOUS... Crypto sans risque ; écrivez-moi sur www.other.link/p?id=9",
    "gagnez 500€ par semaine depuis chez vous\r\n\r\ncrypto sans risque écrivez-moi sur http://a.b 💰💰",
])
def test_the_edits_spammers_make_do_not_change_the_fingerprint(variant: str) -> None:
    assert distance(fingerprint(PROMO).value, fingerprint(variant).value) <= 3


def test_different_texts_are_far_apart() -> None:
    other = fingerprint("Ma commande n'est jamais arrivée et personne ne répond au service client")
    assert distance(fingerprint(PROMO).value, other.value) > 10


@given(st.text(min_size=0, max_size=200))
def test_four_bands_always_cover_the_fingerprint(text: str) -> None:
    fp = fingerprint(text)
    bands = fp.bands()
    assert len(bands) == 4 and len(set(b.split(":")[0] for b in bands)) == 4
    rebuilt = sum(int(b.split(":")[1], 16) << (16 * i) for i, b in enumerate(bands))
    assert rebuilt == fp.value


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


@pytest.mark.parametrize(("name", "handle", "imitates"), [
    ("Floralys Support FR", None, True),
    (None, "floralys_help", True),
    ("Fl0ralis Service Client", None, True),
    ("Jeanne Martin", None, False),
    ("Floral Design Studio", None, False),
    ("Florence", "flo_r", False),
])
def test_impersonation(name: str | None, handle: str | None, imitates: bool) -> None:
    assert (impersonation(post(name, handle), ACCOUNTS) is not None) == imitates


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


def test_a_wave_needs_the_minimum_and_more_than_usual() -> None:
    config = WaveConfig(min_count=10, baseline_ratio=3.0, short_window_minutes=15, long_window_hours=24)
    assert not wave_level(9, 9, config).active
    assert wave_level(10, 10, config).active
    # 40 complaints an hour all day long is this account's normal: 12 in 15 min is not a wave.
    busy = wave_level(12, 12 + 40 * 23, config)
    assert busy.expected == pytest.approx(40 * 23 * 15 / (24 * 60 - 15), rel=0.01) and not busy.active


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
        load_signals_config(environ={"MODERATO_SIGNALS__DUPLICATES__MAX_HAMMING_DISTANCE": "9"})
    bad = tmp_path / "signals.json"
    bad.write_text('{"waves": {"labels": ["complaints"]}}')
    with pytest.raises(ConfigurationError):
        load_signals_config(bad, environ={})

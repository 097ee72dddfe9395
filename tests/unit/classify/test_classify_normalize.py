"""Normalization undoes the tricks spam uses, and keeps what a reader sees."""

from __future__ import annotations

import pytest

from moderato.classify.langid import detect_language
from moderato.classify.normalize import normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Frее gift", "free gift"),  # Cyrillic е
        ("𝐅𝐑𝐄𝐄 𝐆𝐈𝐅𝐓", "free gift"),  # mathematical bold
        ("ＦＲＥＥ", "free"),  # fullwidth
        ("🅵🆁🅴🅴", "free"),  # negative squared letters
        ("fr33 c4$h", "free cash"),  # leetspeak
        ("g r a t u i t", "gratuit"),  # spaced letters
        ("f.r.e.e", "free"),  # punctuation between letters
        ("g🎁r🎁a🎁t🎁u🎁i🎁t", "gratuit"),  # emojis between letters
        ("gra\u200btuit", "gratuit"),  # zero-width space
        ("Livrée très ÉNERVÉE", "livree tres enervee"),  # accents folded
        ("trooooop", "troop"),  # long repeats shortened
    ],
)
def test_tricks_are_undone(text: str, expected: str) -> None:
    assert normalize(text).folded == expected


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("visit www . promo-deal . com now", "urltok"),
        ("visit promo-deal[.]com now", "urltok"),
        ("hxxps://evil.example.com/login", "urltok"),
        ("https://bit.ly/3xYz", "urltok"),
        ("write to joe@example.com", "emailtok"),
        ("ping @support_fr", "mentiontok"),
        ("call 06 12 34 56 78", "phonetok"),
        ("call +44 7911 123456", "phonetok"),
        ("commande CMD-882134 perdue", "ordertok"),
        ("order #48213", "ordertok"),
        ("3 semaines", "numtok"),
    ],
)
def test_placeholders(text: str, token: str) -> None:
    assert token in normalize(text).tokens


def test_obfuscated_url_is_flagged_and_domain_kept() -> None:
    norm = normalize("promo sur site[.]com")
    assert "obfuscated_url" in norm.flags
    assert norm.domains == ("site.com",)


def test_ordinary_sentences_are_not_mangled() -> None:
    # Leetspeak and spaced-letter undoing must leave normal French and English alone.
    assert normalize("il y a à peine 3 jours, c'est la 2ème fois").folded == (
        "il y a a peine numtok jours, c'est la numtok eme fois"
    )
    assert normalize("Service. De plus, rien.").domains == ()


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("\u202eevil", "bidi_override"),
        ("a\u200bb", "invisible_chars"),
        ("oops \ud800", "invalid_unicode"),
        ("x" * 200_000, "truncated"),
        ("Frее", "homoglyphs"),
        ("𝐅𝐑𝐄𝐄", "styled_letters"),
        ("w1n n0w", "leetspeak"),
        ("g r a t u i t", "spaced_letters"),
    ],
)
def test_flags(text: str, flag: str) -> None:
    assert flag in normalize(text).flags


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Ma commande n'est toujours pas arrivée, c'est la troisième fois que je vous écris", "fr"),
        ("My order still hasn't arrived and nobody answers the phone", "en"),
        ("Mi pedido no ha llegado todavía y nadie responde", "es"),
        ("Meine Bestellung ist immer noch nicht angekommen und niemand antwortet", "de"),
        ("🔥🔥", "und"),
    ],
)
def test_language(text: str, lang: str) -> None:
    assert detect_language(normalize(text).folded, text) == lang

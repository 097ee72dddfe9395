"""Adversarial texts against every signal pattern: each call returns (quadratic patterns froze triage).

The bound on work is structural: texts are cut at MAX_TEXT_CHARS by the Post model before any pattern
runs, and each pattern, given 100,000 adversarial characters (twelve times the cap), still returns. The
timeout below is pytest-timeout's guard against a hang, not an assertion: before the fix the e-mail
pattern took 8 s on 40,000 word characters and the defanged-dot pattern 30 s on 40,000 spaces, so these
calls (quadratic: ~50 s and ~190 s) would hit it.
"""

from __future__ import annotations

import re

import pytest

from moderato.classify import normalize as classifier_normalize
from moderato.models import MAX_TEXT_CHARS
from moderato.platforms import x as x_platform
from moderato.signals import identity, links, text

SIZE = 100_000
ADVERSARIAL = {
    "word characters": "a" * SIZE,
    "spaces": "a" + " " * SIZE + "b",
    "dotted words": "a." * (SIZE // 2),
    "plus ones": "+1 " * (SIZE // 3),
    "at signs": "a@" * (SIZE // 2),
    "local part then no dot": "a@" + "b-" * (SIZE // 2),
    "www": "www." * (SIZE // 4),
    "digits": "0" * SIZE,
    "brackets": " [ " * (SIZE // 3),
    "hashes": "#a" * (SIZE // 2),
}
PATTERNS = {
    f"{module.__name__}.{name}[{key}]": pattern
    for module in (identity, links, text, x_platform, classifier_normalize)
    for name, value in vars(module).items()
    for key, pattern in ({"": value}.items() if isinstance(value, re.Pattern) else
                         value.items() if isinstance(value, dict) else {}.items())
    if isinstance(pattern, re.Pattern)
}


def test_the_cap_is_far_below_the_adversarial_size() -> None:
    assert MAX_TEXT_CHARS * 12 <= SIZE


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_every_signal_pattern_returns_on_adversarial_text(name: str) -> None:
    sample = ADVERSARIAL[name]
    assert len(PATTERNS) >= 15  # every pattern of signals/ and platforms/, not a chosen few
    for pattern in PATTERNS.values():
        list(pattern.finditer(sample))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_the_signal_functions_return_on_adversarial_text(name: str) -> None:
    sample = ADVERSARIAL[name]
    assert isinstance(identity.contact_redirects(sample, ["floralys.fr"]), list)
    assert isinstance(links.extract_domains(sample)[0], list)


def test_the_e_mail_pattern_still_finds_what_it_found() -> None:
    found = identity.contact_redirects("écrivez à remboursement.floralys+sav@gmail.com vite", ["floralys.fr"])
    assert found == ["e-mail"]
    assert identity.contact_redirects("écrivez à sav@floralys.fr", ["floralys.fr"]) == []
    # an address glued to the brand's own is still found
    assert identity.contact_redirects("écrivez à sav@floralys.fr+refund@scam.com", ["floralys.fr"]) == ["e-mail"]
    assert links.extract_domains("site [.] [.] com")[0] == links.extract_domains("site [.][.] com")[0]
    assert links.extract_domains("floralys [.] shop et floralys (dot) com")[0] == ["floralys.shop", "floralys.com"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_the_classifier_normalizes_adversarial_text(name: str) -> None:
    # normalize() cuts at 4,000 characters, but each of its patterns was also quadratic before that cut
    # ("a." * 4,000 cost 0.4 s a post); three times the cap still returns, with placeholders in place.
    sample = ADVERSARIAL[name][:MAX_TEXT_CHARS * 3]
    assert classifier_normalize.normalize(sample).folded is not None


def test_the_link_and_address_patterns_still_find_what_they_found() -> None:
    found = classifier_normalize.normalize("Écrivez à sav@floralys.fr ou allez sur ---floralys.fr.")
    assert "emailtok" in found.tokens and "urltok" in found.tokens
    assert classifier_normalize.normalize("voir promo-floralys.shop/x, merci").domains == ("promo-floralys.shop",)

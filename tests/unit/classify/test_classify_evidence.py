"""Spam evidence is what a spammer needs, not what every customer's post to a brand carries."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from moderato.classify import classify
from moderato.classify.decision import links_to_own_site, spam_evidence
from moderato.classify.normalize import MEDIA_TOKEN, URL_TOKEN, normalize
from moderato.classify.rules import match_rules
from moderato.settings import BrandAccount
from moderato_cli.commands.classify import post_from_row


def evidence(text: str) -> bool:
    norm = normalize(text)
    return spam_evidence(norm, match_rules(norm))


@pytest.mark.parametrize("text", [
    "tower burger with no tower #notangryjustdisapointed https://t.co/abc",
    "@XboxSupport I get this error code when setting my home console https://t.co/xyz",
    "@Walmart ordered a tv, got a box of cat litter pic.twitter.com/Ab3DeF7gHi",
    "Photo of the leak: https://imgur.com/a/f8Kx2Lq",
    "My parcel https://www.instagram.com/p/CxYz123AbC/ arrived crushed",
    "@Amazon_FR commande n°FR-2231987 toujours pas livrée, jai rien recu",
    "@Orange franchement the wifi is so bad depuis la mise a jour",
    "my order never came, call me back on 06 12 34 56 78",
])
def test_handles_photos_hashtags_and_order_numbers_are_not_evidence(text: str) -> None:
    assert not evidence(text)


@pytest.mark.parametrize("text", [
    "great deals at https://luxbags-outlet.shop",
    "contact me on WhatsApp",
    "write to promo@deals.biz",
    "call 06 12 34 56 78 now",
    "subscribe to my channel 🙏",
    "fr33 g1ft",
    "I recovered my lost funds thanks to @hackerX",
])
def test_what_a_spammer_needs_is_evidence(text: str) -> None:
    assert evidence(text)


@pytest.mark.parametrize(("link", "token"), [
    ("https://t.co/Qw8rT2LmZp", MEDIA_TOKEN), ("pic.twitter.com/Ab3DeF7gHi", MEDIA_TOKEN),
    ("https://i.imgur.com/x1.jpg", MEDIA_TOKEN), ("https://www.facebook.com/photo/?fbid=1022", MEDIA_TOKEN),
    ("https://x.com/anna/status/1234/photo/1", MEDIA_TOKEN), ("https://bit.ly/3xYz", URL_TOKEN),
    ("https://t.me/moonsignals", URL_TOKEN), ("https://facebook.com/dailymemez", URL_TOKEN),
    ("https://www.instagram.com/promo.page", URL_TOKEN),
])
def test_photo_links_are_told_from_other_links(link: str, token: str) -> None:
    assert token in normalize(f"look {link}").tokens


@pytest.mark.parametrize(("text", "brand_domains"), [
    ("@eBay seller sold me a fake, listing here https://www.ebay.com/itm/1234567 do something", ()),
    ("@Booking CHECK THIS OUT: https://www.booking.com/hotel/es/sol.html there is NO pool 🤬", ()),
    ("@XboxSupport the page https://support.xbox.com/help says nothing", ()),
    ("@AmazonHelp this is the listing https://www.amazon.co.uk/dp/B00X", ()),
    ("the bouquet I got looks nothing like https://www.floralys.fr/roses", ("floralys.fr",)),
])
def test_a_link_to_the_addressed_brands_own_site_is_not_evidence(text: str, brand_domains: tuple[str, ...]) -> None:
    norm = normalize(text)
    assert not spam_evidence(norm, match_rules(norm), brand_domains)
    assert links_to_own_site(norm, brand_domains)


@pytest.mark.parametrize("text", [
    "@eBay cheap deals at https://ebay.com.deals-outlet.ru/itm",
    "@eBay https://ebay-bargains.shop",
    "@Booking see https://www.booking.com/x and https://bit.ly/3xYz",
])
def test_a_look_alike_or_an_extra_link_is_still_evidence(text: str) -> None:
    assert evidence(text)


@pytest.mark.parametrize(("text", "label"), [
    ("@eBay seller sold me a fake, listing here https://www.ebay.com/itm/1234567 do something", "complaint"),
    ("@Booking CHECK THIS OUT: https://www.booking.com/hotel/es/sol.html there is NO pool 🤬", "complaint"),
    ("If you lost money to a fake broker, @CyberHackRecovery can recover it", "spam"),
    ("Get the same sneakers 70% cheaper here 👉 https://t.co/Ab12Cd", "spam"),
])
def test_brand_links_stay_complaints_and_pitches_with_photo_links_are_spam(text: str, label: str) -> None:
    verdict = classify(post_from_row({"text": text, "platform": "x"}, 1))
    assert verdict.label.value == label


def test_a_brand_domain_must_be_a_bare_host() -> None:
    with pytest.raises(ValidationError):
        BrandAccount(brand="B", platform="x", domains=["https://ebay.com/"])
    assert BrandAccount(brand="B", platform="x", domains=["ebay.co.uk"]).domains == ["ebay.co.uk"]


@pytest.mark.parametrize("text", ["hello!", "Hello", "hi", "first", "nice one", "coucou 👋", "ok merci"])
def test_a_greeting_without_evidence_is_never_spam(text: str) -> None:
    # X's own sample DM is "hello!": a few words with no link, contact or pitch ask nothing of the reader.
    verdict = classify(post_from_row({"text": text, "platform": "x"}))
    assert verdict.label != "spam", verdict


@pytest.mark.parametrize("text", ["Follow me", "DM me now", "check my bio", "promo https://bit.ly/xY"])
def test_a_short_post_with_spam_evidence_can_still_be_spam(text: str) -> None:
    assert classify(post_from_row({"text": text, "platform": "x"})).label == "spam"

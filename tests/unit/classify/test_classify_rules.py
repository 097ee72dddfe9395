"""Rules are data with reason codes; brands can add their own terms."""

from __future__ import annotations

import pytest

from moderato.classify.normalize import normalize
from moderato.classify.rules import RULES, match_brand, match_rules, validate_brand_lexicon
from moderato.models import Label
from moderato.reasons import describe


def codes(text: str) -> set[str]:
    return {h.code for h in match_rules(normalize(text))}


def test_every_rule_code_has_a_sentence() -> None:
    assert RULES
    for rule in RULES:
        assert describe(rule.code), rule.code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Toute la famille malade après votre plat, intoxication alimentaire", "rule.crisis.health"),
        ("My son had an allergic reaction to your cookies", "rule.crisis.health"),
        ("Je vais porter plainte et contacter mon avocat", "rule.crisis.legal"),
        ("I'm a journalist at a national paper, request for comment", "rule.crisis.press"),
        ("#boycott cette marque, partagez massivement", "rule.crisis.boycott"),
        ("Ma commande n'est jamais arrivée", "rule.complaint.own_order"),
        ("Still waiting for my refund", "rule.complaint.refund"),
        ("Contact me on WhatsApp", "rule.spam.contact_redirect"),
        ("Gagnez 500€ par jour avec la crypto", "rule.spam.money"),
        ("Verify your account within 24 hours: click here", "rule.spam.phishing"),
        ("Mi pedido no ha llegado", "rule.complaint.own_order"),
        ("Meine Bestellung ist kaputt angekommen", "rule.complaint.quality"),
        ("@Floralys where is my order?", "rule.complaint.order_status"),
        ("où en est ma commande ?", "rule.complaint.order_status"),
        ("¿Dónde está mi pedido?", "rule.complaint.order_status"),
        ("Wo bleibt meine Bestellung??", "rule.complaint.order_status"),
        ("any update on my refund? it's been 3 weeks", "rule.complaint.order_status"),
        ("Ask me how I did it 💸", "rule.spam.engagement_hook"),
        ("Comment \"YES\" below and I'll send you the details", "rule.spam.engagement_hook"),
        ("Revenus passifs grâce à Mme Laurent, demandez-moi comment", "rule.spam.engagement_hook"),
        ("check out my channel i make the same videos 🔥", "rule.spam.self_promo"),
        ("sub4sub anyone? i sub back", "rule.spam.self_promo"),
        ("follow me back pls 🙏", "rule.spam.self_promo"),
        ("I recovered my lost funds thanks to @hackerX, he is legit", "rule.spam.recovery_scam"),
        ("J'ai récupéré mes fonds grâce à @expert.recup, contactez-le sur whatsapp", "rule.spam.recovery_scam"),
        ("copy and paste this before midnight or 7 years of bad luck", "rule.spam.chain_letter"),
        ("Kopiere diesen Text und teile ihn vor Mitternacht", "rule.spam.chain_letter"),
        ("hi dear check my profile 💋", "rule.spam.dating_bait"),
        ("hola guapo 😘 mira mi perfil", "rule.spam.dating_bait"),
        ("🎁 Retweet + follow to win a PS5", "rule.spam.giveaway"),
        ("Kindly reach out to our customer care team via this link", "rule.spam.fake_support"),
    ],
)
def test_rule_matches(text: str, code: str) -> None:
    assert code in codes(text)


@pytest.mark.parametrize("text", [
    "@Delta thanks to @DeltaAssist for finding my bag!", "J'ai eu mon permis grâce à @AutoEcoleDuLac, merci Karim",
    "@instagram please help me recover my hacked account", "Amo este labial 💋", "Hi dear 🌹 the table looks beautiful",
    "RegioBahn wieder 50 Minuten Verspätung. Ich will mein Geld zurück.", "Amen to that, best coffee in town",
])
def test_spam_rules_leave_customers_alone(text: str) -> None:
    assert not {c for c in codes(text) if c.startswith("rule.spam.")}


@pytest.mark.parametrize("text", ["Where is your nearest store?", "Où est-ce que vous livrez ?",
                                  "¿Dónde está la tienda de Madrid?", "Wo ist die nächste Filiale?"])
def test_neutral_questions_are_not_order_status(text: str) -> None:
    assert "rule.complaint.order_status" not in codes(text)


def test_rules_see_through_obfuscation() -> None:
    assert "rule.spam.contact_redirect" in codes("contact me on W h a t s A p p")
    assert "rule.spam.money" in codes("b1tc01n")


def test_hit_detail_is_the_matched_text() -> None:
    hit = next(h for h in match_rules(normalize("Intoxication alimentaire !")) if h.label == Label.CRISIS)
    assert hit.matched == "intoxication"


def test_brand_lexicon() -> None:
    lexicon = {"crisis": ["Lot 4B rappelé"], "spam": ["cheap-watches"]}
    hits = match_brand(normalize("le LOT 4B RAPPELÉ est dans mon frigo"), lexicon)
    assert [(h.code, h.label, h.veto_spam) for h in hits] == [("rule.brand.crisis", Label.CRISIS, True)]
    assert match_brand(normalize("nothing here"), lexicon) == []


def test_brand_lexicon_is_validated() -> None:
    with pytest.raises(ValueError):
        validate_brand_lexicon({"urgent": ["x"]})
    with pytest.raises(ValueError):
        validate_brand_lexicon({"spam": "not a list"})

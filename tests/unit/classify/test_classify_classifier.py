"""The classifier gives a verdict with reasons for every post, whatever its text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderato.classify import Classifier, classify, default_classifier
from moderato.classify.decision import decide
from moderato.classify.model import Policy
from moderato.classify.normalize import normalize
from moderato.classify.rules import match_rules
from moderato.models import Label, Platform, Post, PostKind, Verdict


def post(text: str, brand: str | None = None) -> Post:
    return Post(platform=Platform.FACEBOOK, kind=PostKind.COMMENT, post_id="p1", account_id="acct",
                text=text, created_at=datetime(2026, 1, 1, tzinfo=UTC), brand=brand, dedup_key="facebook:p1")


def codes(verdict: Verdict) -> list[str]:
    return [r.code for r in verdict.reasons]


BAD_INPUTS = {
    "empty": ("", "post.empty_text"),
    "whitespace": ("   \n\t  ", "post.empty_text"),
    "huge": ("ma commande est en retard " * 4200, "input.truncated"),
    "surrogate": ("colis perdu \ud800", "input.invalid_unicode"),
    "zero_width": ("gra\u200btuit\u200b", "input.invisible_chars"),
    "only_zero_width": ("\u200b\u200c\u200d", "post.empty_text"),
    "rtl_override": ("\u202etiutarg\u202c promo", "input.bidi_override"),
    "emoji_only": ("😡😡😡🔥", "input.emoji_only"),
    "url_only": ("https://example.com/x", "input.url_only"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gets_a_verdict_with_a_reason(case: str) -> None:
    text, code = BAD_INPUTS[case]
    verdict = classify(post(text))
    assert verdict.label in set(Label)
    assert code in codes(verdict)
    assert all(0.0 <= s <= 1.0 for s in verdict.scores.values())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec=None), max_size=300))
def test_any_text_gives_a_verdict(text: str) -> None:
    verdict = classify(post(text))
    assert verdict.label in set(Label)
    assert verdict.reasons
    assert set(verdict.scores) == {"spam", "complaint", "crisis", "normal"}


def test_verdict_names_the_model_and_explains_its_score() -> None:
    verdict = classify(post("Ma commande n'est toujours pas arrivée après 3 semaines, remboursez-moi"))
    assert verdict.label == Label.COMPLAINT
    assert verdict.model == default_classifier().version
    assert verdict.language == "fr"
    if default_classifier().model is not None:
        score = next(r for r in verdict.reasons if r.code == "model.score")
        assert score.detail is not None and score.detail.startswith("complaint ")
    assert "rule.complaint.own_order" in codes(verdict)


def test_deterministic() -> None:
    text = "Bravo, 3 semaines pour une livraison, champion du monde 🏆"
    first = classify(post(text))
    assert all(classify(post(text)) == first for _ in range(3))
    assert Classifier(default_classifier().model).classify(post(text)) == first


def test_rules_only_fallback_without_model() -> None:
    verdict = Classifier(None).classify(post("Intoxication alimentaire après votre repas, toute la famille malade"))
    assert verdict.label == Label.CRISIS
    assert "model.unavailable" in codes(verdict)


def test_brand_crisis_term_escalates() -> None:
    classifier = Classifier(default_classifier().model, {"acme": {"crisis": ["lot 4B"]}})
    verdict = classifier.classify(post("j'ai acheté le lot 4B hier", brand="acme"))
    assert verdict.label == Label.CRISIS
    assert "rule.brand.crisis" in codes(verdict)


# The decision policy, on synthetic scores: crisis first, complaint never as spam.
POLICY = Policy(crisis_min=0.35, crisis_with_marker_min=0.15, spam_min=0.6, spam_margin=0.25,
                spam_with_complaint_marker_min=0.97)


def scores(spam: float, complaint: float, crisis: float, normal: float) -> dict[str, float]:
    return {"spam": spam, "complaint": complaint, "crisis": crisis, "normal": normal}


def hits(text: str) -> list:  # type: ignore[type-arg]
    return match_rules(normalize(text))


def test_decide_crisis_outranks_everything() -> None:
    assert decide(scores(0.3, 0.3, 0.36, 0.04), [], POLICY).label == Label.CRISIS
    assert decide(scores(0.5, 0.3, 0.16, 0.04), hits("intoxication"), POLICY).label == Label.CRISIS


def test_decide_spam_needs_margin_and_no_own_order() -> None:
    assert decide(scores(0.9, 0.05, 0.0, 0.05), [], POLICY).label == Label.SPAM
    assert decide(scores(0.55, 0.40, 0.0, 0.05), [], POLICY).label == Label.COMPLAINT
    own_order = hits("ma commande")
    assert decide(scores(0.9, 0.05, 0.0, 0.05), own_order, POLICY).label == Label.COMPLAINT
    assert decide(scores(0.99, 0.005, 0.0, 0.005), own_order, POLICY).label == Label.SPAM


def test_decide_order_status_question_leans_to_complaint() -> None:
    policy = Policy(order_status_margin=0.3)
    asked = hits("where is my order?")
    assert decide(scores(0.0, 0.40, 0.0, 0.60), asked, policy).label == Label.COMPLAINT
    assert "decision.order_status" in decide(scores(0.0, 0.40, 0.0, 0.60), asked, policy).notes
    assert decide(scores(0.0, 0.20, 0.0, 0.80), asked, policy).label == Label.NORMAL
    assert decide(scores(0.0, 0.40, 0.0, 0.60), hits("where is the shop?"), policy).label == Label.NORMAL


def test_decide_spam_with_crisis_marker_is_reviewed_as_crisis() -> None:
    assert decide(scores(0.80, 0.02, 0.16, 0.02), hits("lawsuit"), POLICY).label == Label.CRISIS


def test_decide_spam_needs_evidence() -> None:
    # No link, contact point, spam rule or disguise: a complaint-like text is never called spam.
    assert decide(scores(0.9, 0.05, 0.0, 0.05), [], POLICY, spam_evidence=False).label == Label.COMPLAINT

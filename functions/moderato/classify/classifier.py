"""The classification pipeline: normalize, detect language, match rules, score, decide, explain.

``Classifier.classify(post)`` never raises on any text: empty, huge, invalid Unicode or invisible
characters all give a verdict with a reason code. Without a trained model on disk it falls back to
the rules alone (and says so in the reasons), so triage keeps working while a model is retrained.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from moderato.classify.decision import Decision, decide, links_to_own_site, spam_evidence
from moderato.classify.features import featurize
from moderato.classify.langid import detect_language
from moderato.classify.model import LinearModel, default_model
from moderato.classify.normalize import MEDIA_TOKEN, PLACEHOLDERS, URL_TOKEN, Normalized, normalize
from moderato.classify.rules import RuleHit, match_brand, match_rules, validate_brand_lexicon
from moderato.classify.safety import SAFETY_OVERRIDE, check_safety
from moderato.models import Label, Post, Verdict
from moderato.reasons import EMPTY_TEXT, Reason, define, reason

MODEL_SCORE = define("model.score", "The statistical model's calibrated score for the chosen label.")
MODEL_MISSING = define("model.unavailable", "No trained model is installed: the verdict comes from rules only.")
RULES_NONE = define("rule.none", "No rule matched.")

_FLAG_REASONS: dict[str, str] = {
    "truncated": define("input.truncated", "The text is very long: only its beginning was classified."),
    "invalid_unicode": define("input.invalid_unicode", "The text had invalid characters; they were dropped."),
    "invisible_chars": define("input.invisible_chars", "The text hides zero-width or invisible characters."),
    "bidi_override": define("input.bidi_override", "The text uses right-to-left override characters."),
    "homoglyphs": define("text.homoglyphs", "Uses look-alike letters from other alphabets (a spam trick)."),
    "styled_letters": define("text.styled_letters", "Uses styled Unicode letters (bold, fullwidth, circled)."),
    "leetspeak": define("text.leetspeak", "Writes words with digits for letters (leetspeak)."),
    "spaced_letters": define("text.spaced_letters", "Spaces or symbols inserted between letters."),
    "obfuscated_url": define("text.obfuscated_url", "Contains a disguised link (spaced or bracketed dots)."),
}
EMOJI_ONLY = define("input.emoji_only", "The post has only emojis or symbols, no words.")
URL_ONLY = define("input.url_only", "The post is only a link.")
UNSUPPORTED_SCRIPT = define(
    "input.unsupported_script",
    "Written in a script the classifier does not read (Arabic, Cyrillic, Chinese...): a human should look.",
)
# Most of the letters are outside the Latin alphabet the model and the safety net read.
_FOREIGN_SHARE = 0.5
_FOREIGN_MIN_LETTERS = 3


class Classifier:
    """A model plus per-brand lexicons. ``classify`` is pure: same post, same verdict."""

    def __init__(self, model: LinearModel | None,
                 brand_lexicons: Mapping[str, Mapping[str, Iterable[str]]] | None = None,
                 brand_domains: Mapping[str, Iterable[str]] | None = None) -> None:
        self.model = model
        # A link to the brand's own site is a customer pointing at a listing, not spam evidence.
        self.brand_domains: dict[str, tuple[str, ...]] = {b: tuple(d) for b, d in (brand_domains or {}).items()}
        self.brand_lexicons: dict[str, Mapping[str, Iterable[str]]] = {}
        for brand, lexicon in (brand_lexicons or {}).items():
            self.add_brand_lexicon(brand, lexicon)

    @property
    def version(self) -> str:
        return self.model.version if self.model else "rules-only"

    def add_brand_lexicon(self, brand: str, lexicon: Mapping[str, Iterable[str]]) -> None:
        validate_brand_lexicon(lexicon)  # fail at configuration time, not on a post
        self.brand_lexicons[brand] = {k: tuple(v) for k, v in lexicon.items()}

    def classify(self, post: Post, extra_lexicon: Mapping[str, Iterable[str]] | None = None) -> Verdict:
        text = post.text or ""
        if not text.strip():
            return self._empty(EMPTY_TEXT)
        norm = normalize(text)
        language = detect_language(norm.folded, text)
        hits = match_rules(norm)
        lexicon = extra_lexicon if extra_lexicon is not None else self.brand_lexicons.get(post.brand or "")
        brand_hits = match_brand(norm, lexicon)
        input_reasons = _input_reasons(norm)
        if _unreadable_script(norm):
            return self._unreadable(input_reasons, language)
        if not norm.tokens and not norm.domains:
            # Only invisible characters or punctuation: nothing a reader can see either.
            return self._empty(EMPTY_TEXT, input_reasons, language=None)

        if self.model is None:
            label, scores = _rules_only(hits + brand_hits)
            notes: tuple[str, ...] = (MODEL_MISSING,)
        else:
            features = featurize(norm, hits, language, self.model.config)
            scores = self.model.probabilities(features)
            own_sites = self.brand_domains.get(post.brand or "", ())
            decision: Decision = decide(scores, hits + brand_hits, self.model.policy,
                                        spam_evidence(norm, hits + brand_hits, own_sites),
                                        own_site_link=links_to_own_site(norm, own_sites), words=len(norm.tokens))
            label, notes = decision.label, decision.notes

        # The safety net binds: a suicidal or threatening post is crisis whatever the model or rules say.
        safety = check_safety(norm)
        if safety and label != Label.CRISIS:
            label, notes = Label.CRISIS, (SAFETY_OVERRIDE,)
        reasons = _explain(label, hits + brand_hits, scores, notes, input_reasons, self.model is not None)
        if safety:
            reasons = [reason(h.code, h.matched) for h in safety] + [r for r in reasons if r.code != RULES_NONE]
        return Verdict(label=label, scores={k: round(v, 4) for k, v in scores.items()}, reasons=reasons,
                       language=language, model=self.version, safety=[h.code for h in safety])

    def _unreadable(self, extra: list[Reason], language: str | None) -> Verdict:
        # Neither the model nor the safety net can read it, so it may hide a crisis: a person reads it
        # in the complaint queue (a human within the hour) rather than it being filed as normal chatter,
        # and without paging on-call for every post in a language the brand does not serve.
        scores = {"spam": 0.0, "complaint": 1.0, "crisis": 0.0, "normal": 0.0}
        return Verdict(label=Label.COMPLAINT, scores=scores, reasons=[reason(UNSUPPORTED_SCRIPT), *extra],
                       language=language, model=self.version)

    def _empty(self, code: str, extra: list[Reason] | None = None, language: str | None = None) -> Verdict:
        scores = {"spam": 0.0, "complaint": 0.0, "crisis": 0.0, "normal": 1.0}
        return Verdict(label=Label.NORMAL, scores=scores, reasons=[reason(code), *(extra or [])],
                       language=language, model=self.version)


def _unreadable_script(norm: Normalized) -> bool:
    """Most letters are in a script the classifier does not read (look-alikes are already folded)."""
    letters = [ch for ch in norm.folded if ch.isalpha()]
    foreign = sum(1 for ch in letters if not ("a" <= ch <= "z"))
    return foreign >= _FOREIGN_MIN_LETTERS and foreign > _FOREIGN_SHARE * len(letters)


def _input_reasons(norm: Normalized) -> list[Reason]:
    reasons = [reason(code) for flag, code in _FLAG_REASONS.items() if flag in norm.flags]
    words = [t for t in norm.tokens if t.isalnum() and t not in PLACEHOLDERS]
    if not words:
        if norm.tokens and all(t in (URL_TOKEN, MEDIA_TOKEN) for t in norm.tokens):
            reasons.append(reason(URL_ONLY))
        elif norm.emojis:
            reasons.append(reason(EMOJI_ONLY))
    return reasons


def _rules_only(hits: list[RuleHit]) -> tuple[Label, dict[str, float]]:
    """Fallback without a model: crisis > complaint > spam (unless vetoed) > normal."""
    labels = {h.label for h in hits}
    veto = any(h.veto_spam for h in hits)
    if Label.CRISIS in labels:
        label = Label.CRISIS
    elif Label.COMPLAINT in labels:
        label = Label.COMPLAINT
    elif Label.SPAM in labels and not veto:
        label = Label.SPAM
    else:
        label = Label.NORMAL
    return label, {lab.value: (0.7 if lab == label else 0.1) for lab in Label}


def _explain(label: Label, hits: list[RuleHit], scores: dict[str, float], notes: tuple[str, ...],
             input_reasons: list[Reason], has_model: bool) -> list[Reason]:
    """Rules that support the chosen label first, then the decision notes, the model score and the rest."""
    supporting = [h for h in hits if h.label == label]
    others = [h for h in hits if h.label != label]
    reasons = [reason(h.code, h.matched) for h in supporting]
    reasons += [reason(code) for code in notes]
    if has_model:
        reasons.append(reason(MODEL_SCORE, f"{label.value} {scores[label.value]:.2f}"))
    reasons += input_reasons
    reasons += [reason(h.code, h.matched) for h in others]
    if not hits:
        reasons.append(reason(RULES_NONE))
    return reasons


_DEFAULT: Classifier | None = None


def default_classifier() -> Classifier:
    """The process-wide classifier (model loaded once per Lambda container)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Classifier(default_model(), brand_domains=_configured_brand_domains())
    return _DEFAULT


def _configured_brand_domains() -> dict[str, tuple[str, ...]]:
    """Each brand's own sites, from the brand accounts file (validated when it loads)."""
    from moderato.settings import load_brand_accounts  # configuration, read once per container

    domains: dict[str, set[str]] = {}
    for account in load_brand_accounts().values():
        domains.setdefault(account.brand, set()).update(account.domains)
    return {brand: tuple(sorted(sites)) for brand, sites in domains.items()}


def set_brand_lexicons(lexicons: Mapping[str, Mapping[str, Iterable[str]]]) -> None:
    """Install per-brand extra lexicons from configuration (``{brand: {label: [phrases]}}``)."""
    classifier = default_classifier()
    for brand, lexicon in lexicons.items():
        classifier.add_brand_lexicon(brand, lexicon)


def classify(post: Post) -> Verdict:
    """Classify one post with the shipped model (or the rules alone when none is installed)."""
    return default_classifier().classify(post)

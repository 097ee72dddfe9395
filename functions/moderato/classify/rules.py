"""The rules layer: data-driven lexicons per label and language, each rule a named reason code.

Rules live in ``data/rules.json`` (patterns per language over the normalized text), so adding a word
is a data change a reviewer can read. Rules do two jobs: they are features of the model (it learns how
much each one is worth) and they are the reasons shown to a reviewer. A few of them also bind the
decision: a customer speaking of her own order, or any crisis marker, forbids a spam verdict.

Per-brand additions come from configuration as a plain dict ``{"crisis": [...], "spam": [...],
"complaint": [...], "normal": [...]}`` of phrases (not regexes), matched after the same folding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from moderato.classify.normalize import Normalized, normalize
from moderato.models import Label
from moderato.reasons import define

RULES_FILE = Path(__file__).parent / "data" / "rules.json"
_MAX_DETAIL = 48


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    label: Label
    veto_spam: bool
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule that matched, with the text that made it match (shown to reviewers as the detail)."""

    code: str
    label: Label
    veto_spam: bool
    matched: str


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    # A leading word boundary keeps "livr" from matching inside "delivrance"; patterns end as they like.
    return re.compile("(?<![a-z0-9])(?:" + "|".join(f"(?:{p})" for p in patterns) + ")")


def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    """Load and validate the lexicon file; every code is registered with its sentence."""
    data = json.loads(path.read_text(encoding="utf-8"))
    rules: list[Rule] = []
    for entry in data["rules"]:
        code = define(entry["code"], entry["sentence"])
        label = Label(entry["label"])
        patterns = [p for lang in sorted(entry["patterns"]) for p in entry["patterns"][lang]]
        if not patterns:
            raise ValueError(f"rule {code} has no pattern")
        rules.append(Rule(code=code, label=label, veto_spam=bool(entry.get("veto_spam")),
                          pattern=_compile(patterns)))
    return tuple(rules)


RULES: tuple[Rule, ...] = load_rules()
RULE_CODES: tuple[str, ...] = tuple(r.code for r in RULES)

BRAND_CODES: dict[Label, str] = {
    label: define(f"rule.brand.{label.value}", f"Matches a term this brand configured as {label.value}.")
    for label in Label
}


def match_rules(norm: Normalized, rules: tuple[Rule, ...] = RULES) -> list[RuleHit]:
    """Every rule that matches the normalized text, in file order."""
    hits: list[RuleHit] = []
    for rule in rules:
        found = rule.pattern.search(norm.folded)
        if found:
            hits.append(RuleHit(rule.code, rule.label, rule.veto_spam, found.group(0)[:_MAX_DETAIL]))
    return hits


@lru_cache(maxsize=64)
def _brand_patterns(items: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[Label, re.Pattern[str]], ...]:
    compiled: list[tuple[Label, re.Pattern[str]]] = []
    for label_name, phrases in items:
        folded = [normalize(p).folded for p in phrases if p and p.strip()]
        folded = [p for p in folded if p]
        if folded:
            body = "|".join(re.escape(p) for p in sorted(set(folded), key=len, reverse=True))
            compiled.append((Label(label_name), re.compile(f"(?<![a-z0-9])(?:{body})(?![a-z0-9])")))
    return tuple(compiled)


def validate_brand_lexicon(lexicon: Mapping[str, Iterable[str]] | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Check a brand's extra lexicon (labels known, phrases strings) and freeze it for caching."""
    if not lexicon:
        return ()
    frozen: list[tuple[str, tuple[str, ...]]] = []
    for label_name, phrases in sorted(lexicon.items()):
        Label(label_name)  # raises ValueError on an unknown label: configuration fails loudly
        if isinstance(phrases, str):
            raise ValueError(f"brand lexicon {label_name!r} must be a list of phrases, not a string")
        items = tuple(str(p) for p in phrases)
        frozen.append((label_name, items))
    return tuple(frozen)


def match_brand(norm: Normalized, lexicon: Mapping[str, Iterable[str]] | None) -> list[RuleHit]:
    """Hits of a brand's configured phrases; crisis and complaint terms also forbid spam."""
    hits: list[RuleHit] = []
    for label, pattern in _brand_patterns(validate_brand_lexicon(lexicon)):
        found = pattern.search(norm.folded)
        if found:
            veto = label in (Label.CRISIS, Label.COMPLAINT)
            hits.append(RuleHit(BRAND_CODES[label], label, veto, found.group(0)[:_MAX_DETAIL]))
    return hits

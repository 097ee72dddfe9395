"""The crisis safety net: phrases that make a post crisis whatever the model scores.

A statistical model trained on brand posts rarely sees "je vais me suicider" or "I'll come back with
a gun", so it can score them normal; a lexicon cannot miss the words it lists. Each category is one
reason code (``crisis.self_harm`` first: it is the most urgent). Patterns live in
``data/safety.json``, per language, over the normalized text (see ``normalize``).

Idioms ("je suis morte de rire", "this traffic is killing me") are masked before any category is
matched, so an idiom never fires, and a real threat in the same post still does. Ambiguous, indirect
forms ("I won't be here next week") are dropped when the post speaks of a delivery, a holiday or a
hospital visit (the category's context guards). A category's ``weak`` phrases (someone passed out,
is at the emergency room) say there is an emergency but not which kind: hits are ranked direct, then
indirect, then weak, so the reviewer first sees the category that names the cause. A count of ten or
more is written ``numbig`` (and a smaller one stays ``numtok``), so "took 40 tylenol" matches where
"took 2 tylenol" does not. This is a lexicon, not a model: it misses what it
does not list (see docs/MODEL_CARD.md). No pattern nests an unbounded repeat in another (a test
checks it), so matching stays linear in the length of the post.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderato.classify.normalize import Normalized, normalize
from moderato.reasons import define
from moderato.safety_codes import SELF_HARM

SAFETY_FILE = Path(__file__).parent / "data" / "safety.json"
_MAX_DETAIL = 48
_MACRO = re.compile(r"<([a-z_0-9]+)>")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_MASK = " | "
_NUMBER_PLACEHOLDER = re.compile(r"(?<![a-z0-9])numtok(?![a-z0-9])")
_BIG_COUNT = 10

SAFETY_OVERRIDE = define(
    "decision.safety_net",
    "A safety phrase matched (self-harm, violence, poisoning, injury, medical device, doxxing): "
    "reviewed as crisis whatever the model scores.",
)


@dataclass(frozen=True, slots=True)
class SafetyHit:
    """One safety category that matched, with the words that made it match (the reviewer's detail)."""

    code: str
    matched: str


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    direct: re.Pattern[str] | None
    indirect: re.Pattern[str] | None
    guards: re.Pattern[str] | None
    weak: re.Pattern[str] | None = None

    def match(self, text: str) -> tuple[int, re.Match[str]] | None:
        """The strongest phrase of this category in the text, with its rank (0 direct, 1 indirect, 2 weak)."""
        found = self.direct.search(text) if self.direct else None
        if found is not None:
            return 0, found
        if self.indirect is not None:
            found = self.indirect.search(text)
            if found is not None and not (self.guards is not None and self.guards.search(text)):
                return 1, found
        found = self.weak.search(text) if self.weak else None
        return (2, found) if found is not None else None


@dataclass(frozen=True, slots=True)
class SafetyNet:
    idioms: re.Pattern[str] | None
    categories: tuple[Category, ...]

    def check(self, norm: Normalized) -> list[SafetyHit]:
        """Every category whose phrases occur in the post, most telling and most urgent first; idioms never count."""
        text = _with_counts(norm).translate(_APOSTROPHES)
        if self.idioms is not None:
            text = self.idioms.sub(_MASK, text)
        ranked: list[tuple[int, int, SafetyHit]] = []
        for order, category in enumerate(self.categories):
            found = category.match(text)
            if found is not None:
                rank, match = found
                ranked.append((rank, order, SafetyHit(category.code, match.group(0)[:_MAX_DETAIL])))
        return [hit for _, _, hit in sorted(ranked, key=lambda item: item[:2])]


def _with_counts(norm: Normalized) -> str:
    """The folded text with each count of ten or more written ``numbig``: an overdose names a count."""
    if not norm.numbers:
        return norm.folded
    numbers = iter(norm.numbers)

    def one(match: re.Match[str]) -> str:
        digits = next(numbers, "").replace(",", "").split(".")[0]
        return "numbig" if digits.isdigit() and int(digits[:6]) >= _BIG_COUNT else match.group(0)

    return _NUMBER_PLACEHOLDER.sub(one, norm.folded)


def _expand(pattern: str, macros: dict[str, str], where: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in macros:
            raise ValueError(f"{where}: unknown macro <{name}>")
        return macros[name]

    expanded = _MACRO.sub(one, pattern)
    if expanded != expanded.lower():
        raise ValueError(f"{where}: the text is folded to lower case, so must be the pattern ({pattern!r})")
    try:
        re.compile(expanded)
    except re.error as error:
        raise ValueError(f"{where}: invalid pattern {pattern!r}: {error}") from None
    return expanded


def _compile(by_language: dict[str, list[str]] | None, macros: dict[str, str], where: str) -> re.Pattern[str] | None:
    if not by_language:
        return None
    patterns = [_expand(p, macros, f"{where}.{lang}") for lang in sorted(by_language) for p in by_language[lang]]
    if not patterns:
        return None
    # Whole words only: "kms" is not inside "bookmarks", "suicidal" not inside a longer word.
    return re.compile("(?<![a-z0-9])(?:" + "|".join(f"(?:{p})" for p in patterns) + ")(?![a-z0-9])")


def load_safety_net(path: Path = SAFETY_FILE) -> SafetyNet:
    """Load and validate the safety lexicon; each category's code is registered with its sentence."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    macros: dict[str, str] = data.get("macros", {})
    categories: list[Category] = []
    for entry in data["categories"]:
        code = define(entry["code"], entry["sentence"])
        if not code.startswith("crisis."):
            raise ValueError(f"safety category {code} must be a crisis.* code")
        direct = _compile(entry.get("patterns"), macros, code)
        if direct is None:
            raise ValueError(f"safety category {code} has no pattern")
        categories.append(Category(code, direct, _compile(entry.get("indirect"), macros, f"{code}.indirect"),
                                   _compile(entry.get("context_guards"), macros, f"{code}.guards"),
                                   _compile(entry.get("weak"), macros, f"{code}.weak")))
    if len({c.code for c in categories}) != len(categories):
        raise ValueError("a safety category is listed twice")
    if categories[0].code != SELF_HARM:
        raise ValueError(f"{SELF_HARM} must come first: it is the most urgent category")
    return SafetyNet(_compile(data.get("idioms"), macros, "idioms"), tuple(categories))


SAFETY_NET: SafetyNet = load_safety_net()
SAFETY_CODES: tuple[str, ...] = tuple(c.code for c in SAFETY_NET.categories)


def check_safety(norm: Normalized) -> list[SafetyHit]:
    """The shipped safety net over an already normalized post."""
    return SAFETY_NET.check(norm)


def check_text(text: str) -> list[SafetyHit]:
    """Normalize and check one text (for tests, the CLI and evaluation)."""
    return SAFETY_NET.check(normalize(text))

"""Feature extraction: hashed word and character n-grams plus rule, signal and lexicon features.

The same function builds the features at training time (scikit-learn fits on them) and at run time
(numpy scores them), so the two cannot drift apart. Hashing with ``zlib.crc32`` keeps the vocabulary
out of the deployment package and is stable across Python versions and processes (unlike ``hash``).

Blocks, each a prefix in the hashed space:

- ``w:`` word unigrams and bigrams, optionally trigrams (tokens include ``!``, ``?`` and emojis), and,
  with ``negation``, ``w:~word`` for the words within three tokens after a negator (not, pas, nie,
  kein, nunca ...), L2-normalized as a block;
- ``c:`` character 2-5-grams inside word boundaries (catch "rembours", typos, inflections), L2-normalized;
- ``s:`` (``char_span``) character 3-5-grams over the whole normalized token sequence, crossing word
  boundaries ("my ord", "e est o"), L2-normalized;
- ``R:`` rule hits, ``F:`` normalization flags, ``L:`` language, ``M:`` shape signals, ``S:`` sentiment
  lexicon counts: each with a fixed value ``extra_weight`` (the hybrid model; the n-gram-only model
  sets ``with_extras=False``).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from moderato.classify.normalize import (
    EMAIL_TOKEN,
    MEDIA_TOKEN,
    MENTION_TOKEN,
    ORDER_TOKEN,
    PHONE_TOKEN,
    PLACEHOLDERS,
    URL_TOKEN,
    Normalized,
)
from moderato.classify.rules import RuleHit

SENTIMENT_FILE = Path(__file__).parent / "data" / "sentiment.json"


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """What the vectorizer does; saved with the model so training and run time agree."""

    n_features: int = 1 << 18
    char_min: int = 2
    char_max: int = 5
    word_bigrams: bool = True
    with_extras: bool = True
    extra_weight: float = 0.3
    word_trigrams: bool = False
    negation: bool = False
    char_span: bool = False
    extras_rules_only: bool = False  # only the ``R:`` rule hits as extras, no flags/shape/sentiment

    def to_dict(self) -> dict[str, object]:
        return {"n_features": self.n_features, "char_min": self.char_min, "char_max": self.char_max,
                "word_bigrams": self.word_bigrams, "with_extras": self.with_extras,
                "extra_weight": self.extra_weight, "word_trigrams": self.word_trigrams,
                "negation": self.negation, "char_span": self.char_span,
                "extras_rules_only": self.extras_rules_only}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FeatureConfig:
        return cls(
            n_features=int(data["n_features"]),  # type: ignore[call-overload]
            char_min=int(data["char_min"]),  # type: ignore[call-overload]
            char_max=int(data["char_max"]),  # type: ignore[call-overload]
            word_bigrams=bool(data["word_bigrams"]),
            with_extras=bool(data["with_extras"]),
            extra_weight=float(data["extra_weight"]),  # type: ignore[arg-type]
            word_trigrams=bool(data.get("word_trigrams", False)),
            negation=bool(data.get("negation", False)),
            char_span=bool(data.get("char_span", False)),
            extras_rules_only=bool(data.get("extras_rules_only", False)),
        )


@lru_cache(maxsize=1)
def sentiment_words() -> tuple[frozenset[str], frozenset[str]]:
    """Negative and positive words (accent-folded), derived at training time from public lexicons."""
    if not SENTIMENT_FILE.exists():
        return frozenset(), frozenset()
    data = json.loads(SENTIMENT_FILE.read_text(encoding="utf-8"))
    return frozenset(data["negative"]), frozenset(data["positive"])


def _bucket(n: int) -> str:
    return "0" if n == 0 else "1" if n == 1 else "2" if n == 2 else "3+"


def extra_names(norm: Normalized, hits: list[RuleHit], language: str) -> list[str]:
    """The non-n-gram feature names of a post: rules, flags, language and shape signals."""
    names = [f"R:{h.code}" for h in hits]
    names += [f"F:{flag}" for flag in sorted(norm.flags)]
    names.append(f"L:{language}")
    tokens = norm.tokens
    for tok in (URL_TOKEN, MEDIA_TOKEN, MENTION_TOKEN, PHONE_TOKEN, EMAIL_TOKEN, ORDER_TOKEN):
        count = tokens.count(tok)
        if count:
            names.append(f"M:{tok}:{_bucket(count)}")
    words = [t for t in tokens if t.isalnum() and t not in PLACEHOLDERS]
    n_words = len(words)
    names.append("M:words:" + ("0" if n_words == 0 else "1-5" if n_words <= 5 else "6-20" if n_words <= 20
                               else "21-60" if n_words <= 60 else "61+"))
    if norm.letters >= 12 and norm.caps_ratio > 0.5:
        names.append("M:shouting")
    bangs = tokens.count("!")
    if bangs >= 2:
        names.append("M:bangs")
    if norm.emojis:
        names.append(f"M:emojis:{_bucket(min(norm.emojis, 3))}")
    negative, positive = sentiment_words()
    if negative:
        names.append(f"S:neg:{_bucket(sum(1 for w in words if w in negative))}")
        names.append(f"S:pos:{_bucket(sum(1 for w in words if w in positive))}")
    return names


def _index(key: str, n_features: int) -> int:
    return zlib.crc32(key.encode("utf-8")) & (n_features - 1)


def _add_block(out: dict[int, float], keys: set[str], n_features: int) -> None:
    if not keys:
        return
    value = 1.0 / len(keys) ** 0.5  # binary presence, block L2-normalized: long posts do not dominate
    for key in keys:
        idx = _index(key, n_features)
        out[idx] = out.get(idx, 0.0) + value


NEGATORS = frozenset({
    "not", "no", "never", "nothing", "nobody", "dont", "don't", "didn't", "didnt", "doesn't", "isn't", "wasn't",
    "can't", "cant", "won't", "haven't", "hasn't", "aren't", "couldn't",
    "pas", "jamais", "rien", "aucun", "aucune", "personne", "ni", "plus",
    "nunca", "nada", "ningun", "ninguna", "nadie", "tampoco",
    "nicht", "nie", "kein", "keine", "keinen", "keiner", "nichts", "niemand",
})
_CLAUSE_END = frozenset({".", "!", "?", ",", ";", ":"})


def negated_words(tokens: tuple[str, ...]) -> set[str]:
    """``w:~word`` for the (up to three) words after a negator, until the clause ends."""
    out: set[str] = set()
    left = 0
    for tok in tokens:
        if tok in _CLAUSE_END:
            left = 0
        elif tok in NEGATORS:
            left = 3
        elif left:
            out.add(f"w:~{tok}")
            left -= 1
    return out


def featurize(norm: Normalized, hits: list[RuleHit], language: str, config: FeatureConfig) -> dict[int, float]:
    """Sparse feature vector ``{index: value}`` of one post."""
    tokens = norm.tokens
    words: set[str] = {f"w:{t}" for t in tokens}
    if config.word_bigrams:
        words.update(f"w:{a} {b}" for a, b in pairwise(tokens))
    if config.word_trigrams:
        words.update(f"w:{a} {b} {c}" for a, b, c in zip(tokens, tokens[1:], tokens[2:], strict=False))
    if config.negation:
        words.update(negated_words(tokens))
    chars: set[str] = set()
    lo, hi = config.char_min, config.char_max
    for tok in set(tokens):
        if tok in PLACEHOLDERS or not tok.isalnum():
            continue
        padded = f" {tok} "
        size = len(padded)
        for n in range(lo, min(hi, size) + 1):
            for i in range(size - n + 1):
                chars.add("c:" + padded[i:i + n])
    out: dict[int, float] = {}
    _add_block(out, words, config.n_features)
    _add_block(out, chars, config.n_features)
    if config.char_span:
        line = " " + " ".join(tokens[:400]) + " "
        size = len(line)
        _add_block(out, {"s:" + line[i:i + n] for n in range(3, 6) for i in range(size - n + 1)},
                   config.n_features)
    if config.with_extras:
        names = ([f"R:{h.code}" for h in hits] if config.extras_rules_only
                 else extra_names(norm, hits, language))
        for name in names:
            idx = _index(name, config.n_features)
            out[idx] = out.get(idx, 0.0) + config.extra_weight
    return out

"""Feature extraction: hashed word and character n-grams plus rule, signal and lexicon features.

The same function builds the features at training time (scikit-learn fits on them) and at run time
(numpy scores them), so the two cannot drift apart. Hashing with ``zlib.crc32`` keeps the vocabulary
out of the deployment package and is stable across Python versions and processes (unlike ``hash``).

Blocks, each a prefix in the hashed space:

- ``w:`` word unigrams and bigrams (tokens include ``!``, ``?`` and emojis), L2-normalized as a block;
- ``c:`` character 2-5-grams inside word boundaries (catch "rembours", typos, inflections), L2-normalized;
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

    def to_dict(self) -> dict[str, object]:
        return {"n_features": self.n_features, "char_min": self.char_min, "char_max": self.char_max,
                "word_bigrams": self.word_bigrams, "with_extras": self.with_extras,
                "extra_weight": self.extra_weight}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FeatureConfig:
        return cls(
            n_features=int(data["n_features"]),  # type: ignore[call-overload]
            char_min=int(data["char_min"]),  # type: ignore[call-overload]
            char_max=int(data["char_max"]),  # type: ignore[call-overload]
            word_bigrams=bool(data["word_bigrams"]),
            with_extras=bool(data["with_extras"]),
            extra_weight=float(data["extra_weight"]),  # type: ignore[arg-type]
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
    for tok in (URL_TOKEN, MENTION_TOKEN, PHONE_TOKEN, EMAIL_TOKEN, ORDER_TOKEN):
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


def featurize(norm: Normalized, hits: list[RuleHit], language: str, config: FeatureConfig) -> dict[int, float]:
    """Sparse feature vector ``{index: value}`` of one post."""
    tokens = norm.tokens
    words: set[str] = {f"w:{t}" for t in tokens}
    if config.word_bigrams:
        words.update(f"w:{a} {b}" for a, b in pairwise(tokens))
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
    if config.with_extras:
        for name in extra_names(norm, hits, language):
            idx = _index(name, config.n_features)
            out[idx] = out.get(idx, 0.0) + config.extra_weight
    return out

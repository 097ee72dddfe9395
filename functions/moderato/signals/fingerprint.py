"""Near-duplicate fingerprints: MinHash over word pairs, looked up through LSH bands.

Why MinHash and not SimHash: a spammer who swaps or adds one word in a 15-word promo changes two or
three of its ~15 word pairs. The share of word pairs two texts have in common (Jaccard similarity)
stays near 0.75, and MinHash estimates exactly that share; a 64-bit SimHash moved by more than its
3-bit lookup tolerance four times in five for such an edit.

- Features: the set of neighbouring word pairs of ``text.words`` (links, handles, numbers are
  placeholders; homoglyphs, emojis inside words and hashtags are gone). Pairs keep word order:
  "not delivered" is not "delivered, not". Two texts on the same topic share words, rarely pairs.
- Signature: ``PERMUTATIONS`` (64) minimum hashes, each kept to its low 16 bits (b-bit MinHash): two
  texts agree on a value with probability ≈ their Jaccard similarity, so the share of equal values
  estimates it (± 0.06). 64 × 16 bits: 128 bytes per post in the journal.
- Lookup without a scan (LSH banding): the first ``BANDS`` × ``ROWS`` (6 × 1) values are cut into
  6 bands of one value; the signal window (signals/window.py) indexes each post under each band.
  Two texts with similarity s share at least one band with probability 1 - (1 - s)⁶: 0.996 at
  s = 0.6, 0.98 at 0.5, 0.95 at 0.4. Ten bands of two values (1 - (1 - s²)¹⁰: 0.99, 0.94, 0.82)
  caught the same edits no more often; a one-value band also finds more unrelated candidates (0.74
  at s = 0.2 instead of 0.33), which cost a few microseconds each and are then dropped, since a
  candidate is kept only if its estimated similarity reaches ``min_similarity``.

Measured match rates and costs: docs/SIGNALS.md ("Near-duplicates").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import pairwise

from moderato.signals.text import words

PERMUTATIONS = 64
BANDS = 6
ROWS = 1
VALUE_BITS = 16
_VALUE_MASK = (1 << VALUE_BITS) - 1
_PRIME = (1 << 61) - 1  # a Mersenne prime: (a·x + b) mod p is a good family of hash permutations
_HEX = VALUE_BITS // 4


def _hash64(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")


# Fixed, derived coefficients: every Lambda, every deployment computes the same signatures.
_COEFFICIENTS = tuple(((_hash64(f"minhash-a-{i}") % (_PRIME - 1)) + 1, _hash64(f"minhash-b-{i}") % _PRIME)
                      for i in range(PERMUTATIONS))


@dataclass(frozen=True, slots=True)
class Fingerprint:
    signature: tuple[int, ...]  # PERMUTATIONS values of VALUE_BITS bits
    token_count: int

    @property
    def hex(self) -> str:
        return to_hex(self.signature)

    def bands(self) -> list[str]:
        return bands_of(self.signature)


def features(tokens: list[str]) -> set[str]:
    if len(tokens) < 2:
        return set(tokens)
    return {f"{a} {b}" for a, b in pairwise(tokens)}


def minhash(items: set[str]) -> tuple[int, ...]:
    if not items:
        return (0,) * PERMUTATIONS
    hashed = [_hash64(item) % _PRIME for item in items]
    return tuple(min((a * x + b) % _PRIME for x in hashed) & _VALUE_MASK for a, b in _COEFFICIENTS)


def fingerprint(text: str) -> Fingerprint:
    return fingerprint_of(words(text))


def fingerprint_of(tokens: list[str]) -> Fingerprint:
    """The fingerprint of a post's ``words`` (triage computes them once per post)."""
    return Fingerprint(minhash(features(tokens)), len(tokens))


def bands_of(signature: tuple[int, ...]) -> list[str]:
    """Band keys ``"<index>:<4 hex digits per row>"``: equal keys mean equal values in that band."""
    return [f"{band}:" + "".join(f"{v:0{_HEX}x}" for v in signature[band * ROWS:(band + 1) * ROWS])
            for band in range(BANDS)]


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of the two texts' word pairs (share of equal MinHash values)."""
    if len(a) != len(b) or not a:
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def to_hex(signature: tuple[int, ...]) -> str:
    return "".join(f"{v:0{_HEX}x}" for v in signature)


def from_hex(value: str) -> tuple[int, ...]:
    return tuple(int(value[i:i + _HEX], 16) for i in range(0, len(value), _HEX))

"""Near-duplicate fingerprints: a 64-bit SimHash of the folded text, looked up through four bands.

SimHash (Charikar 2002) maps similar texts to fingerprints a few bits apart: each feature (a word, and
each pair of neighbouring words for word order) votes on every bit through its hash. Changed
punctuation, emojis, links and line breaks never reach the features (see ``text.tokens``); a word
added or swapped moves only a few bits.

Lookup without a scan: the 64 bits are cut into four 16-bit bands and each post is stored under each
band. Two fingerprints at most 3 bits apart share at least one band exactly (pigeonhole), so four
key lookups find every candidate; the exact distance is checked afterwards.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import pairwise

from moderato.signals.text import tokens

BITS = 64
BANDS = 4
_BAND_BITS = BITS // BANDS
_MASK = (1 << BITS) - 1


@dataclass(frozen=True, slots=True)
class Fingerprint:
    value: int
    token_count: int

    @property
    def hex(self) -> str:
        return f"{self.value:016x}"

    def bands(self) -> list[str]:
        """Band keys ``"<index>:<4 hex digits>"``: equal keys mean equal 16-bit slices."""
        return [f"{i}:{(self.value >> (i * _BAND_BITS)) & 0xFFFF:04x}" for i in range(BANDS)]


def _hash64(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")


def simhash(features: list[str]) -> int:
    if not features:
        return 0
    weights = [0] * BITS
    for feature in features:
        h = _hash64(feature)
        for bit in range(BITS):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    return sum(1 << bit for bit in range(BITS) if weights[bit] > 0) & _MASK


def fingerprint(text: str) -> Fingerprint:
    words = tokens(text)
    # Words and word pairs: pairs keep "not delivered" apart from "delivered, not".
    features = words + [f"{a} {b}" for a, b in pairwise(words)]
    return Fingerprint(simhash(features), len(words))


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()

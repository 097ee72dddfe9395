"""Surface noise as platforms deliver posts, added to copies of our authored posts at training time.

Our writers typed clean sentences; real posts to a brand open with its @handle, end with a t.co photo
link, drop accents, lose their capitals and full stops. Each authored post gets, with probability
``share``, one noisy copy with the same label, the same cross-validation group (so a copy never sits
on the other side of a fold from its source) and a lower weight. The noise is label-blind: a handle
or a photo link must stop meaning anything about the label, which is the point.

Deterministic: the choices for a post depend only on its id and the seed.
"""

from __future__ import annotations

import hashlib
import random
import string
import unicodedata
from dataclasses import replace

from sources import Example

# A brand often runs one account per country or per service ("@AcmeHelp_fr", "@AcmeSupport").
HANDLE_SUFFIXES = ("support", "help", "care", "official", "team", "cs", "uk", "fr", "es", "de", "")
_ALNUM = string.ascii_letters + string.digits


def _rng(example_id: str, seed: int) -> random.Random:
    return random.Random(int(hashlib.sha256(f"{seed}:{example_id}".encode()).hexdigest()[:16], 16))


def _handle(rng: random.Random) -> str:
    stem = rng.choice(("Brand", "Shop", "Air", "Telco", "Food", "Bank", "Store", "Go", "My", "Get"))
    word = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 7)))
    suffix = rng.choice(HANDLE_SUFFIXES)
    return f"@{word.capitalize()}{stem}{('_' + suffix) if suffix else ''}"


def _photo_link(rng: random.Random, platform: str) -> str:
    code = "".join(rng.choice(_ALNUM) for _ in range(10))
    if platform == "instagram" and rng.random() < 0.6:
        return f"https://www.instagram.com/p/{code}/"
    if platform == "facebook" and rng.random() < 0.6:
        return f"https://www.facebook.com/photo/?fbid={rng.randint(10**11, 10**13)}"
    return rng.choice((f"https://t.co/{code}", f"https://t.co/{code}", f"pic.twitter.com/{code}",
                       f"https://imgur.com/a/{code[:7]}"))


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def noisy_text(example: Example, rng: random.Random, platform: str = "x") -> str:
    """One realistic variant of the text: at least one of handle, photo link, hashtag, casing, accents."""
    text = example.text.strip()
    changed = False
    while not changed:
        if rng.random() < 0.55:
            handle = _handle(rng)
            text = f"{handle} {text}" if rng.random() < 0.8 else f"{text} {handle}"
            changed = True
        if rng.random() < 0.3:
            text = _strip_accents(text)
            changed = True
        if rng.random() < 0.25:
            text = text.lower().rstrip(".!")
            changed = True
        if rng.random() < 0.15:
            tag = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9)))
            text = f"{text} #{tag}"
            changed = True
        if rng.random() < 0.45:
            text = f"{text} {_photo_link(rng, platform)}"
            changed = True
    return text


def augment(examples: list[Example], seed: int, share: float = 0.5, weight: float = 0.5) -> list[Example]:
    """Noisy copies of a share of the authored posts (never of public data or feedback)."""
    out: list[Example] = []
    for example in examples:
        if example.source != "authored":
            continue
        rng = _rng(example.id, seed)
        if rng.random() >= share:
            continue
        platform = rng.choice(("x", "x", "instagram", "facebook", "youtube"))
        out.append(replace(example, id=f"{example.id}~noisy", text=noisy_text(example, rng, platform),
                           source="augmented", weight=example.weight * weight, origin=example.text))
    return out

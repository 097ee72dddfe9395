"""Look-alike characters folded to the Latin letter a reader sees.

Spam hides words from filters with Cyrillic or Greek letters that look Latin ("frее" with a Cyrillic
"е"), with mathematical or fullwidth letters (NFKC already folds those), and with enclosed or
regional-indicator letters. This table covers what NFKC does not fold. It is data, kept small and
explicit: a reviewer can see why "реrfect" matched "perfect".
"""

from __future__ import annotations

import re
import unicodedata

# Cyrillic and Greek letters that render like Latin letters (lower and upper case).
_PAIRS: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ɡ": "g", "ӏ": "l", "ʏ": "y", "ь": "b", "п": "n", "г": "r", "ѵ": "v",
    # Cyrillic upper case
    "А": "a", "В": "b", "Е": "e", "Ё": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c",
    "Т": "t", "У": "y", "Х": "x", "Ѕ": "s", "І": "i", "Ї": "i", "Ј": "j", "Һ": "h", "Ԁ": "d", "Ԛ": "q",
    "Ԝ": "w", "Ӏ": "l",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ϲ": "c", "ϳ": "j",
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n", "Ο": "o",
    "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
    # Latin look-alikes outside ASCII that NFKC keeps
    "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "ƅ": "b", "ɑ": "a", "ɩ": "i",
    "ꞵ": "b", "ꜱ": "s", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ғ": "f", "ʜ": "h", "ɪ": "i",
    "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ᴛ": "t", "ᴜ": "u",
    "ᴠ": "v", "ᴡ": "w", "ᴢ": "z",
}


def _regional_indicators() -> dict[str, str]:
    # 🇦..🇿 are used as letters ("🇫🇷🇪🇪"); pairs that form a flag are rare in words and harmless here.
    return {chr(0x1F1E6 + i): chr(ord("a") + i) for i in range(26)}


def _enclosed() -> dict[str, str]:
    # Negative circled and squared letters (🅵🆁🅴🅴) are not folded by NFKC.
    table: dict[str, str] = {}
    for start in (0x1F130, 0x1F150, 0x1F170):
        for i in range(26):
            table[chr(start + i)] = chr(ord("a") + i)
    return table


CONFUSABLES: dict[int, str] = {ord(k): v for k, v in {**_PAIRS, **_regional_indicators(), **_enclosed()}.items()}
"""A ``str.translate`` table: look-alike code point -> Latin lower-case letter."""

CONFUSABLE_CHARS: frozenset[str] = frozenset(chr(c) for c in CONFUSABLES)

_WORD = re.compile(r"\S+")
_ASCII_LETTER = re.compile(r"[a-z]")


def _cyrillic_or_greek(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(("CYRILLIC", "GREEK"))


def fold_confusables(text: str) -> tuple[str, bool]:
    """Fold look-alikes word by word; True when a word mixes scripts (the spam trick).

    A word wholly in Cyrillic or Greek is another language, not a disguise: it is left as written and
    not flagged ("привет" stays "привет"). A word that mixes Latin with Cyrillic or Greek ("frее")
    is folded and flagged. Latin-script look-alikes (small capitals, enclosed and regional-indicator
    letters) are folded wherever they are, and flagged when the text also has plain Latin letters.
    """
    latin_text = bool(_ASCII_LETTER.search(text))
    mixed = False

    def one(match: re.Match[str]) -> str:
        nonlocal mixed
        word = match.group(0)
        if not any(ch in CONFUSABLE_CHARS for ch in word):
            return word
        letters = [ch for ch in word if ch.isalpha()]
        foreign = sum(1 for ch in letters if _cyrillic_or_greek(ch))
        if letters and foreign == len(letters):
            return word
        if foreign or latin_text:
            mixed = True
        return word.translate(CONFUSABLES)

    return _WORD.sub(one, text), mixed

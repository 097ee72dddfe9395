"""Text folding for signals: what copy-paste spammers change must not change what we compare.

Spammers vary a promo between pastes: punctuation, emojis, a new tracking link, a line break, accents,
look-alike letters. ``fold`` undoes those, ``tokens`` returns comparable words with links, handles,
e-mails and numbers replaced by placeholders. Kept separate from the classifier's normalizer on
purpose: fingerprints stored in the signals table must not change when the classifier is retrained.
"""

from __future__ import annotations

import re
import unicodedata

# The few look-alike letters and digits worth folding for names, handles and domains.
_LOOKALIKES = str.maketrans({
    "0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s", "@": "a", "|": "l",
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ӏ": "l", "ј": "j",
    "ɑ": "a", "ο": "o", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "ℓ": "l",
})
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufe00-\ufe0f\ufeff]")
URL = re.compile(r"(?:https?://|hxxps?://|www\.)\S+", re.IGNORECASE)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
MENTION = re.compile(r"(?<![\w@])@\w{2,30}")
NUMBER = re.compile(r"\+?\d[\d\s.\-]*\d|\d")
_WORD = re.compile(r"[a-z]+")

_STOPWORDS_TEXT = (
    "le la les un une des du de d l et ou mais donc or ni car a au aux en dans par pour sur sous avec sans "
    "ce cet cette ces mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs je tu il elle on nous "
    "vous ils elles me te se moi toi lui y ne pas plus que qui quoi quand comment est sont suis es etes ai as "
    "avons avez ont ete etre avoir fait faire tout tous toute toutes tres bien deja encore toujours rien "
    "jamais aussi alors si non oui merci bonjour bonsoir svp c s j n qu m t "
    "the a an and or but of to in on at for with without by from is are was were be been am i you he she it "
    "we they me my your his her its our their this that these those not no yes do does did have has had "
    "still yet again so very just please thanks thank hello hi what where when why how who any can will "
    "would should there here urltok mentiontok emailtok numtok"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def fold(text: str) -> str:
    """Lower case, accents and invisible characters removed, NFKC (styled letters become plain)."""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)).lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def squash(name: str) -> str:
    """A name or handle reduced to letters: "F1oralys_Support.FR" -> "floralyssupportfr"."""
    return "".join(ch for ch in fold(name).translate(_LOOKALIKES) if ch.isalnum())


def tokens(text: str) -> list[str]:
    """Comparable words: placeholders for links, e-mails, handles and numbers; no emoji or punctuation."""
    folded = fold(text)
    folded = URL.sub(" urltok ", folded)
    folded = EMAIL.sub(" emailtok ", folded)
    folded = MENTION.sub(" mentiontok ", folded)
    folded = NUMBER.sub(" numtok ", folded)
    return _WORD.findall(folded)


def terms(text: str, limit: int = 8) -> list[str]:
    """Distinct content words (for the "top terms" of a wave), at most ``limit``, 24 characters each."""
    seen: list[str] = []
    for token in tokens(text):
        if len(token) >= 4 and token not in STOPWORDS and token not in seen:
            seen.append(token[:24])
        if len(seen) >= limit:
            break
    return seen

"""Text folding for signals: what copy-paste spammers change must not change what we compare.

Spammers vary a promo between pastes: punctuation, emojis (even inside a word), a new tracking link, a
line break, accents, look-alike letters, a hashtag. ``words`` undoes those with the classifier's own
normalizer (one place knows how to undo homoglyphs, leetspeak, spaced letters and disguised links) and
returns comparable words, with links, handles, e-mails, phone, order and other numbers as placeholders.
``fold`` is the lighter version for names, handles and domains.

A change to the classifier's normalizer changes new fingerprints; stored ones live 48 hours, so at
worst a flood straddling a deployment is seen a little later.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from moderato.classify.confusables import CONFUSABLES
from moderato.classify.features import sentiment_words
from moderato.classify.normalize import PLACEHOLDERS, is_emoji, normalize

# Digits and symbols read as letters in names and domains ("F1oralys", "$upport"). Letters from other
# alphabets are folded by ``fold`` through the classifier's confusables table.
_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s", "@": "a",
                             "|": "l"})
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufe00-\ufe0f\ufeff]")
# Hashtags are tags, not the message: spammers append trending ones between pastes.
_HASHTAG = re.compile(r"(?<![\w#&])#[^\W\d_]\w*")
_WORD = re.compile(r"[a-z0-9_]+")
# What joins an emoji sequence (zero-width joiner, variation selectors, skin tones are emojis already).
_EMOJI_GLUE = frozenset("\u200d\ufe0e\ufe0f")

_STOPWORDS_TEXT = (
    "le la les un une des du de d l et ou mais donc or ni car a au aux en dans par pour sur sous avec sans "
    "ce cet cette ces mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs je tu il elle on nous "
    "vous ils elles me te se moi toi lui y ne pas plus que qui quoi quand comment est sont suis es etes ai as "
    "avons avez ont ete etre avoir fait faire tout tous toute toutes tres bien deja encore toujours rien "
    "jamais aussi alors si non oui merci bonjour bonsoir svp c s j n qu m t "
    "the a an and or but of to in on at for with without by from is are was were be been am i you he she it "
    "we they me my your his her its our their this that these those not no yes do does did have has had "
    "still yet again so very just please thanks thank hello hi what where when why how who any can will "
    "would should there here"
)
STOPWORDS = frozenset(_STOPWORDS_TEXT.split()) | PLACEHOLDERS


def fold(text: str) -> str:
    """Lower case; accents, invisible characters and look-alike letters (Cyrillic, Greek...) folded; NFKC."""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)).lower().translate(CONFUSABLES)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def squash(name: str) -> str:
    """A name or handle reduced to letters: "F1oralys_Support.FR" -> "floralyssupportfr"."""
    return "".join(ch for ch in fold(name).translate(_LOOKALIKES) if ch.isalnum())


def _is_emoji(ch: str) -> bool:
    return is_emoji(ch) or ch in _EMOJI_GLUE


def _without_emojis_inside_words(text: str) -> str:
    """"gra🎁tuit" -> "gratuit" (a filter-dodging trick); an emoji between words stays a separator."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if not _is_emoji(text[i]):
            out.append(text[i])
            i += 1
            continue
        end = i
        while end < len(text) and _is_emoji(text[end]):
            end += 1
        inside = bool(out) and out[-1].isalpha() and end < len(text) and text[end].isalpha()
        out.append("" if inside else " ")
        i = end
    return "".join(out)


def words(text: str) -> list[str]:
    """Comparable words of a post: placeholders for links, handles, e-mails and numbers; no emoji,
    punctuation or hashtag; homoglyphs, leetspeak and spaced letters undone (classifier normalizer)."""
    cleaned = _HASHTAG.sub(" ", _without_emojis_inside_words(text))
    return [token for token in normalize(cleaned).tokens if _WORD.fullmatch(token)]


def terms(tokens: Sequence[str], limit: int = 8) -> list[str]:
    """Distinct content words of a post's ``words`` (a wave's "top terms"), at most ``limit``, 24 characters each."""
    seen: list[str] = []
    for token in tokens:
        if len(token) >= 4 and token not in STOPWORDS and token not in seen:
            seen.append(token[:24])
        if len(seen) >= limit:
            break
    return seen


def negative_words(tokens: Sequence[str]) -> tuple[int, int]:
    """(negative, positive) counts among a post's ``words``, from the classifier's sentiment lexicon."""
    negative, positive = sentiment_words()
    return sum(1 for w in tokens if w in negative), sum(1 for w in tokens if w in positive)


def excerpt(text: str, limit: int = 120) -> str:
    """One line, at most ``limit`` characters (what an alert quotes of a post)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"

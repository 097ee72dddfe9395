"""Text normalization shared by every stage: rules, features and the model see the same text.

Spam is written to slip past filters: look-alike letters ("frее" with a Cyrillic e), leetspeak
("gr4tuit"), spaced letters ("g r a t u i t"), emojis between letters, zero-width characters, bidi
overrides and defanged links ("site[.]com", "www . site . com"). Undoing those tricks is what lets a
ten-word lexicon and a small model generalise. The pipeline is pure Python (``re``, ``unicodedata``)
and runs in well under a millisecond on a normal post.

``normalize(text)`` returns a :class:`Normalized` with:

- ``folded``: lower case, accents folded, tricks undone, URLs/mentions/e-mails/phones/order numbers/
  other numbers replaced by placeholder tokens (``urltok`` ...). Rules and features read this.
- ``flags``: which tricks or oddities were seen (each becomes a reason code and a model feature).
- ``domains``: the domains of the links, for the brand's own allow-list and for features.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from moderato.classify.confusables import CONFUSABLE_CHARS, fold_confusables

MAX_CHARS = 4000
"""Longer posts are cut here: the start of a post carries its intent, and the cost stays bounded."""

URL_TOKEN = "urltok"
MEDIA_TOKEN = "mediatok"
"""A photo or video a customer attached (t.co, pic.twitter.com, imgur, an Instagram or Facebook photo):
how platforms deliver a complaint with its evidence, not a place a spammer sends readers."""
MENTION_TOKEN = "mentiontok"
EMAIL_TOKEN = "emailtok"
PHONE_TOKEN = "phonetok"
ORDER_TOKEN = "ordertok"
NUMBER_TOKEN = "numtok"
PLACEHOLDERS = frozenset({URL_TOKEN, MEDIA_TOKEN, MENTION_TOKEN, EMAIL_TOKEN, PHONE_TOKEN, ORDER_TOKEN, NUMBER_TOKEN})

# Zero-width and invisible formatting characters, bidi embeddings/overrides/isolates, soft hyphen,
# variation selectors and tag characters: invisible to a reader, used to split words for filters.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u2060-\u2064\u206a-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# U+FFFD too: the Post model repairs lone surrogates to it before any stage sees the text (they cannot be
# stored), and it is what a client that mangled an encoding leaves behind: invalid characters either way.
_SURROGATE = re.compile("[\ud800-\udfff\ufffd]")
# Mathematical alphanumerics, fullwidth and circled letters: NFKC folds them, but their use in a post
# ("𝐅𝐑𝐄𝐄 𝐆𝐈𝐅𝐓") is itself a spam signal worth keeping.
_STYLED = re.compile("[\U0001d400-\U0001d7ff\uff21-\uff3a\uff41-\uff5a\u24b6-\u24e9]")

_TLDS_STRONG = (
    "com|net|org|io|ly|xyz|shop|store|site|online|top|club|info|biz|link|app|live|vip|click|fr|gg|cc|tk|ml"
)
_TLDS = (_TLDS_STRONG + "|co|me|de|es|eu|uk|us|ru|cn|be|ch|it|ca|tv|to|ai|pro|win|bid|icu|cyou|buzz|help|work"
         "|deals|today|space|website|page|life|world|news|email|fun|one|net|shopping|sale|promo|money")
# Defanged dots ("[.]", "(dot)") always mean a link; a spaced dot ("site . com") only before a TLD
# that is not also a common word in our languages ("de", "es", "me" are left alone).
# A run of spaces is entered at its first character only (and kept whole), so a long run is scanned once,
# not once per position (quadratic on adversarial text before); the matches are the same.
_DEFANGED_DOT = re.compile(
    r"(?:(?<!\s)\s*+)?(?:\[\s*(?:\.|dot|punkt|point|punto)\s*\]|\(\s*(?:\.|dot|punkt|point|punto)\s*\)"
    r"|\{\s*(?:\.|dot|punkt|point|punto)\s*\})\s*"
)
_SPACED_DOT = re.compile(rf"(?<=[a-z0-9])(?:\s+\.\s*|\s*\.\s+|\s+dot\s+)(?=(?:{_TLDS_STRONG})\b)")
_SPACED_WWW = re.compile(r"\bwww\s*\.\s*(?=[a-z0-9])")
_HXXP = re.compile(r"\bh(?:xx|\*\*|tt)p(s?)\s*(?:\[:\]|:)\s*/\s*/\s*")

# Both patterns may only start where a run of address or domain characters starts (the lookbehinds):
# started again from every position inside a long run, each scan was quadratic ("a." * 50,000 took
# 47 s). On every training and real-shape post the matches are the same as without them.
_EMAIL = re.compile(r"(?<![a-z0-9._%+-])[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}")
_URL = re.compile(
    rf"(?:https?://|www\.)[^\s<>\"']+"
    rf"|(?<![a-z0-9])(?<![a-z0-9][.-])\b(?:[a-z0-9][a-z0-9-]*\.)+(?:{_TLDS})\b(?:/[^\s<>\"']*)?"
)
_MENTION = re.compile(r"(?<![\w@])@[a-z0-9_.]{2,30}")
_PHONE = re.compile(
    r"(?:(?<![\w+])(?:\+|00)\d{1,3}[\s.\-]?(?:\(?\d+\)?[\s.\-]?){2,6}\d{2,})"
    r"|(?:(?<!\d)0\d(?:[\s.\-]?\d{2}){4}(?!\d))"
    r"|(?:(?<!\d)\(\d{3}\)\s?\d{3}[\s.\-]\d{4}(?!\d))"
    r"|(?:(?<!\d)\d{3}[.\-]\d{3}[.\-]\d{4}(?!\d))"
)
# Order, ticket and parcel numbers: a long digit run, or a short prefix glued to digits (CMD-88213).
_ORDER = re.compile(r"(?<![\w])(?:#\s?)?(?:[a-z]{1,4}[-_]?)?\d{5,}(?:[-_]\d+)*(?![\w])|(?<!\w)#\d{3,}(?!\w)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# X wraps every link in t.co and shows attached photos as t.co or pic.twitter.com links; Meta and image
# hosts serve photos from these paths. A link elsewhere (a shop, a form, a chat invite) stays a link.
_MEDIA_LINK = re.compile(
    r"^(?:t\.co/|pic\.(?:twitter|x)\.com/|pbs\.twimg\.com/|video\.twimg\.com/|(?:i\.|m\.)?imgur\.com/"
    r"|i\.redd\.it/|ibb\.co/|i\.ibb\.co/|postimg\.cc/|i\.postimg\.cc/|photos\.app\.goo\.gl/"
    r"|(?:[a-z0-9-]+\.)*fbcdn\.net/|(?:[a-z0-9-]+\.)*cdninstagram\.com/"
    r"|(?:instagram\.com|instagr\.am)/(?:p|reel|tv)/|(?:(?:m|web|mbasic)\.)?(?:facebook|fb)\.com/(?:photo|[^/\s]+/(?:photos|videos)/)"
    r"|(?:twitter|x)\.com/[^/\s]+/status/\d+/(?:photo|video)/)"
)

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                       "$": "s", "@": "a", "|": "l", "€": "e"})
_LEET_CANDIDATE = re.compile(r"(?<![\w$@|€])[a-z0-9$@|€]*[a-z][a-z0-9$@|€]*(?![\w$@|€])")
_LEET_INNER = re.compile(r"[a-z][0-9$@|€]+[a-z]")
_LEET_TRAILING = re.compile(r"^[a-z]{2,}(3{2,}|0{2,}|1{2,})$")

# Four or more single letters separated by spaces ("g r a t u i t"); three or more separated by
# punctuation or emojis ("f.r.e.e", "g🎁r🎁a🎁t"). Three spaced letters are left alone: "y a a" is French.
_SPACED_LETTERS = re.compile(r"(?<![a-z0-9])[a-z](?: [a-z]){3,}(?![a-z0-9])")
_SEPARATED_LETTERS = re.compile(r"(?<![a-z0-9])[a-z](?:[^a-z0-9\s]{1,3}[a-z]){2,}(?![a-z0-9])")
_NOT_LETTER = re.compile(r"[^a-z]")
_REPEATS = re.compile(r"(.)\1{2,}")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"[a-z0-9_]+|[!?]|[^\w\s.,;:'\"()\[\]{}<>/\\\-*+=&%#~^`|]")


@dataclass(frozen=True, slots=True)
class Normalized:
    """A post's text after normalization, with what was found on the way."""

    folded: str
    tokens: tuple[str, ...]
    flags: frozenset[str] = field(default_factory=frozenset)
    domains: tuple[str, ...] = ()
    # The numbers that became ``numtok``, in order: the safety net tells "took 40 pills" from "took 2".
    numbers: tuple[str, ...] = ()
    # Hosts of the links that stay ``urltok`` (not photos), and the @handles without the "@": a link
    # to the site of the brand the post addresses is a customer's evidence, not a spammer's.
    link_domains: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    letters: int = 0
    caps_ratio: float = 0.0
    emojis: int = 0


def is_emoji(ch: str) -> bool:
    """Pictographs, dingbats and symbols: they carry tone (🤬, 💰, 👇) and are kept as tokens."""
    code = ord(ch)
    return code >= 0x1F000 or 0x2600 <= code <= 0x27BF or (code >= 0x2100 and unicodedata.category(ch) == "So")


def fold_accents(text: str) -> str:
    """'livrée' -> 'livree': people type accents or not, rules and features must not care."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def clean_unicode(text: str) -> tuple[str, set[str]]:
    """Repair invalid surrogates, cut very long text, drop invisible and control characters, NFKC."""
    flags: set[str] = set()
    if _SURROGATE.search(text):
        # A lone surrogate cannot be encoded; a valid pair written as two code units is re-joined.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        flags.add("invalid_unicode")
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
        flags.add("truncated")
    if _BIDI.search(text):
        flags.add("bidi_override")
    if _STYLED.search(text):
        flags.add("styled_letters")
    stripped = _INVISIBLE.sub("", _BIDI.sub("", text))
    if (len(stripped) != len(text) and "bidi_override" not in flags) or _INVISIBLE.search(text):
        flags.add("invisible_chars")
    text = _CONTROL.sub(" ", stripped).replace("\ufffd", " ")
    return unicodedata.normalize("NFKC", text), flags


def _undo_leet(token: str) -> str:
    if _LEET_INNER.search(token) or _LEET_TRAILING.match(token):
        return token.translate(_LEET)
    return token


def _join_letters(match: re.Match[str]) -> str:
    return _NOT_LETTER.sub("", match.group(0))


def normalize(text: str | None) -> Normalized:
    """Normalize one post's text. Never raises on any ``str`` input (or None)."""
    text, flags = clean_unicode(text or "")
    letters = [ch for ch in text if ch.isalpha()]
    caps_ratio = sum(ch.isupper() for ch in letters) / len(letters) if letters else 0.0
    emojis = sum(1 for ch in text if is_emoji(ch))

    low = text.casefold()
    if any(ch in CONFUSABLE_CHARS for ch in low):
        low, mixed = fold_confusables(low)
        if mixed:
            flags.add("homoglyphs")
    low = fold_accents(low)

    # Defanged links first, so "site[.]com" is seen as the link it is.
    defanged = _HXXP.sub(r"http\1://", low)
    defanged = _DEFANGED_DOT.sub(".", defanged)
    defanged = _SPACED_WWW.sub("www.", defanged)
    defanged = _SPACED_DOT.sub(".", defanged)
    if defanged != low:
        flags.add("obfuscated_url")
    low = defanged

    low = _EMAIL.sub(f" {EMAIL_TOKEN} ", low)
    domains: list[str] = []

    def _url(match: re.Match[str]) -> str:
        url = match.group(0)
        bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", url)
        host = bare.split("/")[0].split("?")[0].rstrip(".,;:!?)")
        if host:
            domains.append(host)
        if _MEDIA_LINK.match(bare + "/"):
            return f" {MEDIA_TOKEN} "
        if host:
            link_domains.append(host)
        return f" {URL_TOKEN} "

    link_domains: list[str] = []
    low = _URL.sub(_url, low)
    mentions = tuple(m.group(0)[1:] for m in _MENTION.finditer(low))
    low = _MENTION.sub(f" {MENTION_TOKEN} ", low)
    low = _PHONE.sub(f" {PHONE_TOKEN} ", low)

    leet = _LEET_CANDIDATE.sub(lambda m: _undo_leet(m.group(0)), low)
    if leet != low:
        flags.add("leetspeak")
    low = leet

    low = _ORDER.sub(f" {ORDER_TOKEN} ", low)
    numbers: list[str] = []

    def _number(match: re.Match[str]) -> str:
        numbers.append(match.group(0))
        return f" {NUMBER_TOKEN} "

    low = _NUMBER.sub(_number, low)

    joined = _SEPARATED_LETTERS.sub(_join_letters, low)
    joined = _SPACED_LETTERS.sub(_join_letters, joined)
    if joined != low:
        flags.add("spaced_letters")
    low = _REPEATS.sub(r"\1\1", joined)

    # Emojis become their own tokens, so "super😡" is "super 😡".
    if emojis:
        low = "".join(f" {ch} " if is_emoji(ch) else ch for ch in low)
    folded = _SPACES.sub(" ", low).strip()
    tokens = tuple(_TOKEN.findall(folded))
    return Normalized(
        folded=folded,
        tokens=tokens,
        flags=frozenset(flags),
        domains=tuple(domains),
        numbers=tuple(numbers),
        link_domains=tuple(link_domains),
        mentions=mentions,
        letters=len(letters),
        caps_ratio=caps_ratio,
        emojis=emojis,
    )

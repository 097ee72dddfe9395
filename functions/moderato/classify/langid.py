"""Language detection for fr, en, es, de (and a guess at it, nl, pt), pure Python.

Social posts are short, so character-trigram models trained on prose are unreliable on them; function
words ("le", "the", "el", "der") are what a reader uses too. Each language scores the share of a
post's words found in its function-word list, plus a few letters only it uses (ñ, ß). Posts that
score two languages close to each other are "mixed" (franglais is common in our comments).
"""

from __future__ import annotations

import re


# Accent-folded, lower-case function words and very frequent words. Words shared by several
# languages ("a", "de", "en", "la", "die") are kept only where they are most telling.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    "fr": _words(
        "le la les un une des du au aux et est sont je tu il elle nous vous ils elles on ne pas plus que "
        "qui quoi dans pour par sur avec sans mais ou donc car ce cette ces mon ma mes ton ta tes son sa "
        "ses notre votre vos leur leurs c j m n s qu ai avez avons ont suis etes sommes fait faire tres "
        "bien merci bonjour toujours jamais rien encore deja depuis chez aussi comme tout tous toute meme "
        "apres avant quand parce y a ete etait cest jai nest moi toi lui eux oui non svp pourquoi alors "
        "vraiment trop peu ici voila"
    ),
    "en": _words(
        "the a an and is are was were be been i you he she it we they my your his her our their me him us "
        "them not no yes this that these those of to in on for with without but or so at by from what who "
        "why when how have has had do does did dont can cant will would should could just still never "
        "again already since thanks thank please hi hello very really all any some been being its im ive "
        "about after before because if than then there here get got"
    ),
    "es": _words(
        "el la los las un una unos unas y es son soy eres estoy esta estan yo tu el ella nosotros ellos "
        "mi mis su sus nuestro que quien por para con sin pero o porque como cuando donde muy mas ya "
        "todavia nunca gracias hola pedido no si del al lo le les hay fue ha han he hemos tengo tiene "
        "esto eso este ese nada todo todos aqui ahora tambien"
    ),
    "de": _words(
        "der die das ein eine einen einem einer und ist sind bin bist ich du er sie es wir ihr mein meine "
        "dein sein unser euer nicht kein keine mit ohne aber oder weil wie wann wo sehr noch schon immer "
        "nie danke bitte hallo hat habe haben war wurde werden auf fur von zu im am den dem des auch nur "
        "was wer warum mir mich dir dich uns euch"
    ),
    "it": _words(
        "il lo gli una e sono io tu lui lei noi voi loro mio mia che chi per con senza ma perche come "
        "quando dove molto piu gia ancora mai grazie ciao non si del della ho hai ha abbiamo"
    ),
    "nl": _words(
        "de het een en is zijn ik jij hij zij wij jullie mijn niet geen met zonder maar omdat hoe wanneer "
        "waar heel nog al altijd nooit bedankt dank hallo van voor op te"
    ),
    "pt": _words(
        "o os as um uma e sou eu voce ele ela nos eles meu minha que quem por para com sem mas porque "
        "como quando onde muito mais ja ainda nunca obrigado obrigada ola nao sim do da dos das tenho"
    ),
}
# Letters that single out a language even in a short post.
_MARKERS: dict[str, re.Pattern[str]] = {
    "es": re.compile(r"[ñ¿¡]"),
    "de": re.compile(r"[ß]|\b\w*(?:ung|keit|lich)\b"),
    "fr": re.compile(r"[çœ]|\b(?:[cdjlmnst]|qu)'"),
    "pt": re.compile(r"[ãõ]"),
}
_WORD = re.compile(r"[a-z]+")
MIXED = "mixed"
UNKNOWN = "und"


def detect_language(folded: str, raw: str = "") -> str:
    """Best language code for a post; ``folded`` is the normalized text, ``raw`` the original."""
    words = _WORD.findall(folded)
    if not words:
        return UNKNOWN
    scores: dict[str, float] = {}
    for lang, stop in _STOPWORDS.items():
        scores[lang] = sum(1.0 for w in words if w in stop)
    raw_low = raw.casefold()
    for lang, marker in _MARKERS.items():
        if marker.search(raw_low):
            scores[lang] += 1.5
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    (best, top), (second, runner_up) = ranked[0], ranked[1]
    if top < 1.0:
        return UNKNOWN
    # Two of our main languages, each well represented: a code-switched post.
    if second in ("fr", "en", "es", "de") and best in ("fr", "en", "es", "de") and runner_up >= 3 \
            and runner_up >= 0.6 * top:
        return MIXED
    return best

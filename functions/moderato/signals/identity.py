"""Who is writing: impersonators of the brand, private contact redirections, empty or new accounts, audience.

The scam this catches: under a customer's complaint, "Floralys Support FR" answers "sorry for the
delay, contact our refund service on WhatsApp +44 ..." and collects card numbers. What makes it a
scam is the combination: a name that poses as the brand's customer service, and a private channel
offered in answer to someone else. Each part alone is common and innocent: fans put the brand in
their name ("Fan de Floralys"), and complainants give their own phone number ("rappelez-moi au 06...").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from moderato.models import Author, Post, PostKind
from moderato.settings import BrandAccount
from moderato.signals.links import edit_distance
from moderato.signals.text import fold, squash

_REDIRECTS: dict[str, re.Pattern[str]] = {
    "WhatsApp": re.compile(r"whats?\s*app|wh?ats?ap+\b|wa\.me/|watsap", re.IGNORECASE),
    "Telegram": re.compile(r"telegram|t\.me/|\btelegr\b|\btg\s*[:@]", re.IGNORECASE),
    "Signal": re.compile(r"\bsignal\s*(?:app|messenger|au|at|:)", re.IGNORECASE),
    "phone number": re.compile(
        r"(?<![\w+])(?:\+|00)\d{1,3}[\s.\-]?(?:\(?\d+\)?[\s.\-]?){2,6}\d{2,}"
        r"|(?<!\d)0[1-9](?:[\s.\-]?\d{2}){4}(?!\d)"
        r"|(?<!\d)\(\d{3}\)\s?\d{3}[\s.\-]\d{4}(?!\d)"
    ),
}
# E-mail addresses are found from their "@", not by a pattern that reads the local part first: that one
# rescanned every run of word characters from each of its positions (8 s on 40,000 of them). Each domain
# is read once from its "@" (domains hold no "@"), so the search is linear in the text.
_LOCAL_PART_CHAR = re.compile(r"[\w.+-]")
# The lookbehind keeps a scan (finditer) linear too: a match may only start where a run of name
# characters starts, never again from each position inside it.
_DOMAIN_AFTER_AT = re.compile(r"(?<![\w-])[\w-]++(?:\.[\w-]++)+")

# Words with which a name poses as the brand's customer service, in the brand's languages (folded).
SUPPORT_WORDS = frozenset({
    "support", "help", "helpdesk", "helpline", "service", "services", "sav", "care", "team", "official",
    "officiel", "officielle", "oficial", "offiziell", "assistance", "assist", "client", "clients", "clientele",
    "customer", "customers", "aide", "refund", "refunds", "remboursement", "rembourse", "kundenservice",
    "kundendienst", "hilfe", "soporte", "ayuda", "atencion", "contact", "info", "desk", "hq", "admin",
})
_NAME_PARTS = re.compile(r"[a-z]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


@dataclass(frozen=True, slots=True)
class Impersonation:
    field: str  # "name" or "handle"
    value: str
    brand: str
    how: str  # "support name" or "look-alike"


def contact_redirects(text: str, brand_domains: Iterable[str] = ()) -> list[str]:
    """Private channels the text sends people to ("WhatsApp", "phone number"...), brand e-mails excepted."""
    folded = fold(text)
    own = tuple(d.lower() for d in brand_domains)
    found = [channel for channel, pattern in _REDIRECTS.items() if pattern.search(folded)]
    if any(not domain.endswith(own or ("\0",)) for domain in email_domains(folded)):
        found.append("e-mail")
    return found


def email_domains(text: str) -> Iterator[str]:
    """The domain of every address in ``text``: an "@" after a local-part character, before a dotted name.
    Addresses glued together ("sav@floralys.fr+refund@scam.com") are each found."""
    at = text.find("@")
    while at >= 0:
        if at > 0 and _LOCAL_PART_CHAR.match(text, at - 1) and (domain := _DOMAIN_AFTER_AT.match(text, at + 1)):
            yield domain.group(0)
        at = text.find("@", at + 1)


def answers_someone_else(post: Post) -> bool:
    """The post replies to another person: a reply to a comment (Facebook, Instagram) or to a tweet (X).

    That is where a fake support account works, under the customer's complaint. Top-level comments,
    mentions and private messages address the brand itself: a phone number there is the customer's own.
    """
    return post.kind == PostKind.REPLY and post.parent_id is not None and post.parent_id != post.post_id


def _brand_names(accounts: Mapping[str, BrandAccount]) -> dict[str, str]:
    """Squashed brand names and handles ("floralys") -> the brand they belong to."""
    names: dict[str, str] = {}
    for account in accounts.values():
        for value in [account.brand, *account.handles]:
            core = squash(value.split(".")[0])  # "floralys.fr" as an IG handle imitates "floralys"
            if len(core) >= 4:
                names[core] = account.brand
    return names


def is_brand_author(author: Author, post: Post, accounts: Mapping[str, BrandAccount]) -> bool:
    if author.id and (author.id in accounts or author.id == post.account_id):
        return True
    handles = {h.lower() for account in accounts.values() for h in account.handles}
    return bool(author.handle and author.handle.lower().lstrip("@") in handles)


def _brand_span(squashed: str, brand_core: str) -> tuple[int, int] | None:
    """Where the brand, or a look-alike one or two letters off ("Floralis", "Fl0raIys"), sits in the name."""
    found = squashed.find(brand_core)
    if found >= 0:
        return found, found + len(brand_core)
    width = len(brand_core)
    for size in (width, width - 1, width + 1):
        for start in range(0, max(0, len(squashed) - size) + 1):
            window = squashed[start:start + size]
            if len(window) >= width - 1 and edit_distance(window, brand_core, 2) <= 1:
                return start, start + size
    return None


def _support_worded(value: str, squashed: str, span: tuple[int, int]) -> bool:
    """A customer-service word next to the brand: as a separate word ("Floralys Support FR",
    "floralys_help", "FloralysHelp"), or glued to it ("floralyshelp", "savfloralys")."""
    parts = set(_NAME_PARTS.findall(fold(_CAMEL.sub(" ", value))))
    if parts & SUPPORT_WORDS:
        return True
    before, after = squashed[: span[0]], squashed[span[1]:]
    return any(before.endswith(word) or after.startswith(word) for word in SUPPORT_WORDS if len(word) >= 3)


def _imitation(value: str, brand_core: str) -> str | None:
    squashed = squash(value)
    if not squashed:
        return None
    # A copy or near-copy of the brand's name or handle itself ("Floralys", "FIoralys", "Fl0ralys"): one
    # edit at most, so first names that merely resemble it ("Floralie") stay people.
    if edit_distance(squashed, brand_core, 1) <= 1:
        return "look-alike"
    span = _brand_span(squashed, brand_core)
    if span is not None and _support_worded(value, squashed, span):
        return "support name"
    return None


def impersonation(post: Post, accounts: Mapping[str, BrandAccount]) -> Impersonation | None:
    """The name or handle that poses as the brand's service, unless the author is one of its accounts.

    Containing the brand is not enough ("Fan de Floralys", "Floralys lover"): the name must add a
    customer-service word, or be a near-copy of a brand name or handle.
    """
    author = post.author
    if is_brand_author(author, post, accounts):
        return None
    for core, brand in _brand_names(accounts).items():
        for field, value in (("name", author.name), ("handle", author.handle)):
            if value and (how := _imitation(value, core)):
                return Impersonation(field, value[:64], brand, how)
    return None


def is_empty_account(author: Author, max_followers: int, max_posts: int) -> bool:
    """Only when the platform says so: no audience or no history. Unknown counts are not "empty"."""
    no_audience = author.followers is not None and author.followers <= max_followers
    no_history = author.posts_count is not None and author.posts_count <= max_posts
    return no_audience or no_history


def account_age(author: Author, at: datetime) -> timedelta | None:
    if author.account_created_at is None:
        return None
    return max(timedelta(0), at - author.account_created_at)


def is_new_account(author: Author, at: datetime, max_days: int) -> bool:
    age = account_age(author, at)
    return age is not None and age < timedelta(days=max_days)


def is_influencer(author: Author, threshold: int) -> bool:
    return author.followers is not None and author.followers >= threshold

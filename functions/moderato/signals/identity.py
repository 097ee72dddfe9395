"""Who is writing: impersonators of the brand, private contact redirections, empty accounts, audience.

The scam this catches: under a customer's complaint, "Floralys Support FR" answers "sorry for the
delay, contact our refund service on WhatsApp +44 ..." and collects card numbers. The name imitates
the brand; the real brand accounts are known (config/brands.json), so an author who looks like the
brand but is not one of its accounts is an impersonator, and with a contact redirection, a scam.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from moderato.models import Author, Post
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
    "e-mail": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
}


@dataclass(frozen=True, slots=True)
class Impersonation:
    field: str  # "name" or "handle"
    value: str
    brand: str


def contact_redirects(text: str, brand_domains: Iterable[str] = ()) -> list[str]:
    """Private channels the text sends people to ("WhatsApp", "phone number"...), brand e-mails excepted."""
    folded = fold(text)
    found: list[str] = []
    own = tuple(d.lower() for d in brand_domains)
    for channel, pattern in _REDIRECTS.items():
        for match in pattern.finditer(folded):
            if channel == "e-mail" and match.group(0).rsplit("@", 1)[-1].endswith(own or ("\0",)):
                continue
            found.append(channel)
            break
    return found


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


def _imitates(value: str, brand_core: str) -> bool:
    squashed = squash(value)
    if brand_core in squashed:
        return True
    # One or two letters off ("Floralis", "Fl0raIys"): compare windows of the brand's length.
    width = len(brand_core)
    windows = {squashed[i:i + width + d] for d in (-1, 0, 1) for i in range(max(1, len(squashed) - width + 2))}
    return any(len(w) >= width - 1 and edit_distance(w, brand_core, 2) <= 1 for w in windows if w)


def impersonation(post: Post, accounts: Mapping[str, BrandAccount]) -> Impersonation | None:
    """The name or handle that imitates a brand account, unless the author is one of them."""
    author = post.author
    if is_brand_author(author, post, accounts):
        return None
    for core, brand in _brand_names(accounts).items():
        for field, value in (("name", author.name), ("handle", author.handle)):
            if value and _imitates(value, core):
                return Impersonation(field, value[:64], brand)
    return None


def is_empty_account(author: Author, max_followers: int) -> bool:
    """Only when the platform says so: an unknown follower count is not an empty account."""
    return author.followers is not None and author.followers <= max_followers


def is_influencer(author: Author, threshold: int) -> bool:
    return author.followers is not None and author.followers >= threshold

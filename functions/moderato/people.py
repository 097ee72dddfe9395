"""Who wrote a post, across the surfaces of one brand: the person key. Pure, except loading the links file.

The complainant guardrail protects a *person*, not a post: Jeanne's open complaint in Messenger
must stop a ban of her Facebook comment on the same Page. A platform gives each person an id per
family of surfaces, so the key is brand + identity family + platform user id:

- ``meta``: Facebook Page comments, Messenger and Instagram of the brand. Messenger gives a
  page-scoped id (PSID); Page comment webhooks give the id Meta shows the Page for that user, which
  matches the PSID only where Meta gives the same id; Instagram gives its own id (IGSID). Ids that
  Meta does not make equal are joined only by configured links.
- ``x``: one X account, whether it mentions, replies or writes a direct message.

Two people with the same display name are two people: names never enter the key. Configured links
(``linked_ids`` in the brands file) join ids known to be one person, e.g. her IGSID and her PSID, or
her X account; every id of a link maps to the key of its first id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field

from moderato.models import Case, CaseStatus, Label, Platform, Post

_DEFAULT_BRANDS_FILE = Path(__file__).parent / "config" / "brands.json"


class IdentityFamily(StrEnum):
    """Surfaces on which a platform gives one person the same (or a linkable) id."""

    META = "meta"
    X = "x"
    LINKEDIN = "linkedin"
    TIKTOK = "tiktok"
    YOUTUBE = "youtube"


FAMILY_OF: Mapping[Platform, IdentityFamily] = {
    Platform.FACEBOOK: IdentityFamily.META,
    Platform.MESSENGER: IdentityFamily.META,
    Platform.INSTAGRAM: IdentityFamily.META,
    Platform.X: IdentityFamily.X,
    Platform.LINKEDIN: IdentityFamily.LINKEDIN,
    Platform.TIKTOK: IdentityFamily.TIKTOK,
    Platform.YOUTUBE: IdentityFamily.YOUTUBE,
}
SEPARATOR = "/"


def brand_scope(brand: str | None, account_id: str) -> str:
    """The brand as it appears in keys; a post on an account no brand claims is scoped to that account."""
    if brand and brand.strip():
        return "-".join(brand.strip().lower().replace(SEPARATOR, "-").split())
    return f"account-{account_id}"


def _key(scope: str, family: str, user_id: str) -> str:
    return SEPARATOR.join((scope, family, user_id))


@dataclass(frozen=True)
class PersonLinks:
    """Ids configured as one person: (brand scope, family, id) -> the person key of the link's first id."""

    aliases: Mapping[tuple[str, str, str], str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Iterable[Mapping[str, object]]) -> PersonLinks:
        """``[{"brand": "Floralys", "ids": ["meta:24266381753005180", "x:987654321"]}, ...]``."""
        aliases: dict[tuple[str, str, str], str] = {}
        for link in raw:
            brand, ids = link.get("brand"), link.get("ids")
            if not isinstance(brand, str) or not brand.strip() or not isinstance(ids, list) or len(ids) < 2:
                raise ValueError(f"a link needs a brand and at least two ids: {dict(link)!r}")
            scope = brand_scope(brand, "")
            members = [_member(str(item)) for item in ids]
            canonical = _key(scope, *members[0])
            for family, user_id in members:
                aliases[(scope, family, user_id)] = canonical
        return cls(aliases)

    def key(self, scope: str, family: str, user_id: str) -> str:
        return self.aliases.get((scope, family, user_id)) or _key(scope, family, user_id)


def _member(text: str) -> tuple[str, str]:
    family, _, user_id = text.partition(":")
    if not user_id or family not in set(IdentityFamily):
        raise ValueError(f"a linked id is '<family>:<id>' with family in {sorted(IdentityFamily)}: {text!r}")
    return family, user_id


NO_LINKS = PersonLinks()


def person_key(post: Post, links: PersonLinks = NO_LINKS) -> str | None:
    """The person who wrote ``post``, for this brand; None when the platform did not say who."""
    if not post.author.id:
        return None
    return links.key(brand_scope(post.brand, post.account_id), FAMILY_OF[post.platform], post.author.id)


def person_of(case: Case) -> str | None:
    """The key a case was stored under; a case from before person keys gets one from its post (no links)."""
    return case.person_key or person_key(case.post)


def keys_for_query(author: str, brands: Iterable[str], platform: Platform | None = None,
                   links: PersonLinks = NO_LINKS) -> list[str]:
    """The person keys an ``?author=`` value names: a person key as is, or a platform user id in every
    given brand and identity family (one family when the platform is given)."""
    author = author.strip()
    if SEPARATOR in author:
        scope, _, rest = author.partition(SEPARATOR)
        family, _, user_id = rest.partition(SEPARATOR)
        return [links.key(scope.lower(), family, user_id)]
    families = [FAMILY_OF[platform]] if platform else list(IdentityFamily)
    scopes = sorted({brand_scope(brand, "") for brand in brands if brand})
    return sorted({links.key(scope, family, author) for scope in scopes for family in families})


def load_person_links(path: str | None = None) -> PersonLinks:
    """Links from the brands file (``MODERATO_BRANDS_FILE`` or the bundled one); none if it has none."""
    source = Path(path or os.environ.get("MODERATO_BRANDS_FILE") or _DEFAULT_BRANDS_FILE)
    raw = json.loads(source.read_text(encoding="utf-8"))
    return PersonLinks.parse(raw.get("linked_ids", []))


class PersonCase(BaseModel):
    """One case of a person, as the person index lists it (enough to show and to guard, not the post)."""

    case_id: str
    label: Label
    status: CaseStatus
    platform: Platform
    created_at: datetime | None = None
    order_numbers: list[str] = Field(default_factory=list)

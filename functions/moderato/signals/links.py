"""Links: shorteners, disguised links, look-alike domains of the brand's own, allow and deny lists.

A community manager's spam is mostly links that hide where they go: a shortener, a link written as
"floralys-remboursement . com" or "hxxps://", a domain one letter away from the brand's. Domains on
the allow list (the brand's own, the platforms', the carriers') never raise anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from moderato.signals import codes
from moderato.signals.config import LinkConfig
from moderato.signals.text import fold, squash

# Common and abused top-level domains: a bare "word.tld" is a link only with one of these, so that
# "M.Dupont" or "etc." are not links. Anything after http(s):// or www. is a link whatever its TLD.
_TLDS = (
    "com|net|org|info|biz|io|co|me|ly|xyz|shop|store|site|online|top|club|link|app|live|vip|click|fr|eu|de|es|"
    "it|be|ch|uk|us|ru|cn|tk|ml|ga|cf|gq|cc|tv|to|ai|pro|win|bid|icu|cyou|buzz|gg|in|at|nl|pl|pt|br|today|"
    "support|help|services|online|website|space|fun|monster|rest|bar|lol|work|page|sbs|cfd"
)
# Patterns run on whatever a post holds: each may start a run (of spaces, of word characters) only at its
# first character, so a long run is scanned once, not once per position (quadratic before).
_DEFANGED = re.compile(r"(?:(?<!\s)\s*+)?(?:\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\})\s*",
                       re.IGNORECASE)
_SPACED_DOT = re.compile(rf"(?<=[a-z0-9])(?:\s+\.\s*|\s*\.\s+|\s+dot\s+)(?=(?:{_TLDS})\b)", re.IGNORECASE)
_HXXP = re.compile(r"\bh(?:xx|\*\*)p(s?)\s*(?:\[:\]|:)\s*/\s*/\s*", re.IGNORECASE)
_SCHEME_URL = re.compile(r"(?:https?://|www\.)([^\s/?#<>\"'),]+)", re.IGNORECASE)
_BARE_DOMAIN = re.compile(rf"(?<![\w@.-])((?:[\w-]+\.)+(?:{_TLDS}))(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LinkFinding:
    code: str  # one of moderato.signals.codes LINK_*
    domain: str


def _clean(domain: str) -> str:
    domain = domain.lower().strip(".").split(":")[0]
    return domain.removeprefix("www.")


def extract_domains(text: str) -> tuple[list[str], bool]:
    """The domains linked in ``text`` and whether any link was disguised to slip past filters."""
    folded = fold(text)
    undisguised = _HXXP.sub(r"http\1://", _SPACED_DOT.sub(".", _DEFANGED.sub(".", folded)))
    disguised = undisguised != folded
    found: list[str] = []
    for match in list(_SCHEME_URL.finditer(undisguised)) + list(_BARE_DOMAIN.finditer(undisguised)):
        domain = _clean(match.group(1))
        if "." in domain and domain not in found:
            found.append(domain)
    # Non-ASCII letters or punycode in a domain: look-alike characters, a classic phishing trick.
    raw_hosts = [m.group(1) for m in _SCHEME_URL.finditer(text)]
    if any(not host.isascii() or "xn--" in host.lower() for host in raw_hosts):
        disguised = True
    return found, disguised


def _matches(domain: str, listed: Iterable[str]) -> bool:
    return any(domain == entry or domain.endswith("." + entry) for entry in listed)


def edit_distance(a: str, b: str, cap: int = 3) -> int:
    """Levenshtein distance, stopped early above ``cap`` (names are short)."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > cap:
            return cap + 1
        previous = current
    return previous[-1]


def brand_labels(brand_domains: Iterable[str]) -> set[str]:
    """"floralys.fr" -> {"floralys"}: the part of a brand domain an imitation copies."""
    return {domain.lower().removeprefix("www.").split(".")[0] for domain in brand_domains if "." in domain}


def is_lookalike(domain: str, brand_domains: Iterable[str], max_distance: int) -> bool:
    brand_domains = [d.lower().removeprefix("www.") for d in brand_domains]
    if _matches(domain, brand_domains):
        return False
    labels = [squash(label) for label in re.split(r"[.\-_]", domain) if label]
    joined = squash(domain)
    for brand in brand_labels(brand_domains):
        if len(brand) < 4:
            continue
        if brand in joined:
            return True  # floralys-remboursement.com, floralys.fr.refund-help.co, fl0ralys.shop
        if any(edit_distance(label, brand, max_distance) <= max_distance for label in labels if len(label) >= 4):
            return True  # floralis.com, flora1ys.fr
    return False


def check_links(text: str, brand_domains: Iterable[str], config: LinkConfig) -> list[LinkFinding]:
    domains, disguised = extract_domains(text)
    brand_domains = list(brand_domains)
    findings: list[LinkFinding] = []
    for domain in domains:
        if _matches(domain, config.deny):
            findings.append(LinkFinding(codes.LINK_DENIED, domain))
        elif _matches(domain, config.allow) or _matches(domain, brand_domains):
            continue
        elif _matches(domain, config.shorteners):
            findings.append(LinkFinding(codes.LINK_SHORTENER, domain))
        elif is_lookalike(domain, brand_domains, config.lookalike_max_distance):
            findings.append(LinkFinding(codes.LINK_LOOKALIKE, domain))
    if disguised and domains:
        findings.append(LinkFinding(codes.LINK_OBFUSCATED, domains[0]))
    return findings

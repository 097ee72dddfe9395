"""From calibrated scores and rule hits to a label: the policy the product promises.

- Crisis outranks everything: a moderate crisis score is enough, a lower one when a crisis rule fired.
- Complaint-as-spam must be the rarest error: spam needs a high score, a margin over the other
  labels, and some spam evidence (``spam_evidence``: something a spammer needs) or else a
  near-certain score (``spam_without_evidence_min``), and never for a post of fewer than
  ``SPAM_WITHOUT_EVIDENCE_MIN_WORDS`` words ("hello!", "first", "nice"): with no link, contact or pitch, a
  greeting asks nothing of its reader, whatever the model makes of it; with a complaint marker (a delivery, a refund,
  a broken item) it needs a near-certain score. A spam-looking post with a crisis marker goes to
  crisis when the model gives crisis any real chance (``crisis_with_marker_min``).
- Otherwise the most likely of complaint and normal wins (complaint gets a log-odds shift
  ``complaint_bias``, tuned out of fold); a question about the author's own order
  ("where is my order?", ``rule.complaint.order_status``) is a complaint unless normal leads by more
  than ``order_status_margin``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from moderato.classify.model import Policy
from moderato.classify.normalize import EMAIL_TOKEN, PHONE_TOKEN, URL_TOKEN, Normalized
from moderato.classify.rules import RuleHit
from moderato.models import Label
from moderato.reasons import define

SPAM_VETOED = define(
    "decision.spam_vetoed",
    "Looked like spam, but it speaks of the author's own order or carries crisis markers: kept out of spam.",
)
SPAM_UNSURE = define(
    "decision.spam_unsure",
    "Spam was the most likely label but not by a safe margin: sent to the next most likely label.",
)
CRISIS_BY_MARKER = define(
    "decision.crisis_marker",
    "A crisis rule matched and the model gives crisis a real chance: reviewed as crisis.",
)
BRAND_CRISIS = define("decision.brand_crisis", "The brand configured a matching term as crisis.")
ORDER_STATUS = define(
    "decision.order_status",
    "Asks about the author's own order or refund: a customer waiting is a complaint, not small talk.",
)
ORDER_STATUS_RULE = "rule.complaint.order_status"
# A recovery scam tells of lost money to sell its "hacker": its complaint words veto nothing.
_STORY_SPAM_RULES = frozenset({"rule.spam.recovery_scam"})


_EVIDENCE_FLAGS = frozenset({"homoglyphs", "styled_letters", "leetspeak", "spaced_letters", "obfuscated_url"})
# What a brand appends to its name in a handle (@XboxSupport, @AmazonHelp, @Booking_UK, @AskAmex).
_HANDLE_AFFIXES = re.compile(
    r"^(?:ask|hello|hi|team|official|the)|(?:support|help|helps|care|cares|team|official|service|services|hq|news"
    r"|app|uk|us|usa|fr|es|de|it|ca|au|ie|nl|be|ch|at|mx|br|in|jp|global|intl|en)$"
)
# Second-level public suffixes, so "amazon.co.uk" names "amazon" and "shop.ebay.com.scam.ru" names "scam".
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "gob", "edu", "ne", "or"})


def site_name(host: str) -> str:
    """The registrable name of a host: 'www.ebay.co.uk' -> 'ebay', 'booking.com' -> 'booking'."""
    labels = [label for label in host.lower().strip(".").split(".") if label]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        labels = labels[:-1]
    return labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")


def handle_names(handle: str) -> set[str]:
    """A brand handle with and without its decorations: 'XboxSupport' -> {'xboxsupport', 'xbox'}.

    Every stage is kept, so a name that merely ends like a suffix ('Reddit') still names its site.
    """
    name = re.sub(r"[^a-z0-9]", "", handle.lower())
    names = {name}
    for _ in range(3):
        stripped = _HANDLE_AFFIXES.sub("", name)
        if stripped == name or len(stripped) < 2:
            break
        name = stripped
        names.add(name)
    return names


def is_own_site(host: str, brand_domains: Iterable[str], mentions: Iterable[str]) -> bool:
    """A link to the brand's configured site, or to the site named like an @handle the post addresses."""
    host = host.lower().removeprefix("www.")
    for domain in brand_domains:
        domain = domain.lower().removeprefix("www.")
        if host == domain or host.endswith("." + domain):
            return True
    name = site_name(host)
    return len(name) >= 2 and any(name in handle_names(handle) for handle in mentions)


def links_to_own_site(norm: Normalized, brand_domains: Iterable[str] = ()) -> bool:
    """The post links to the site of the brand it addresses (a listing, a booking, a product page)."""
    own = tuple(brand_domains)
    return any(is_own_site(host, own, norm.mentions) for host in norm.link_domains)


def spam_evidence(norm: Normalized, hits: list[RuleHit], brand_domains: Iterable[str] = ()) -> bool:
    """Something a spammer needs: a spam rule (a call to follow, subscribe or DM, money, a contact
    redirect ...), a link that leads off the platform, an e-mail address, a disguise trick, or a phone
    number in a post that speaks of no order or service of the author's own.

    Not evidence, because every customer's post to a brand carries them: @handles (the brand's, a
    reply's), attached photos (t.co, pic.twitter.com, imgur, Instagram or Facebook photos, which
    normalize to ``mediatok``), hashtags, order numbers, typos, missing accents and code-switching;
    nor is a link to the brand's own site (``brand_domains``, or the site named like an @handle the
    post addresses: @eBay and ebay.com), where a customer points at the listing or the booking.
    """
    if any(h.label == Label.SPAM for h in hits) or norm.flags & _EVIDENCE_FLAGS:
        return True
    tokens = set(norm.tokens)
    if EMAIL_TOKEN in tokens:
        return True
    if URL_TOKEN in tokens:
        own = tuple(brand_domains)
        if not norm.link_domains or any(not is_own_site(host, own, norm.mentions) for host in norm.link_domains):
            return True
    # A customer gives her own number to be called back; a spammer gives his to be called.
    return PHONE_TOKEN in tokens and not any(h.label == Label.COMPLAINT for h in hits)


@dataclass(frozen=True, slots=True)
class Decision:
    label: Label
    notes: tuple[str, ...] = ()


SPAM_WITHOUT_EVIDENCE_MIN_WORDS = 4


def decide(scores: dict[str, float], hits: list[RuleHit], policy: Policy, spam_evidence: bool = True,
           own_site_link: bool = False, words: int | None = None) -> Decision:
    """``words``: how many words the post has (None: unknown, no minimum applies)."""
    p_crisis = scores["crisis"]
    p_spam = scores["spam"]
    # Only crisis rules that are never spam-like bind the decision; softer ones are model features.
    crisis_marker = any(h.label == Label.CRISIS and h.veto_spam for h in hits)
    brand_crisis = any(h.label == Label.CRISIS and h.code.startswith("rule.brand.") for h in hits)
    # Any complaint rule (a delivery, a refund, a broken item) makes spam need a near-certain score.
    story_spam = any(h.code in _STORY_SPAM_RULES for h in hits)
    # A link to the addressed brand's own site is a customer showing the listing: treated like a marker.
    own_issue = (any(h.label == Label.COMPLAINT for h in hits) and not story_spam) or own_site_link
    order_status = any(h.code == ORDER_STATUS_RULE for h in hits)
    margin = policy.order_status_margin if order_status else 0.0
    complaint_first = scores["complaint"] * math.exp(policy.complaint_bias) >= scores["normal"]

    if brand_crisis:
        return Decision(Label.CRISIS, (BRAND_CRISIS,))
    if p_crisis >= policy.crisis_min:
        return Decision(Label.CRISIS)
    if crisis_marker and p_crisis >= policy.crisis_with_marker_min:
        return Decision(Label.CRISIS, (CRISIS_BY_MARKER,))

    others = max(scores["complaint"], scores["normal"], p_crisis)
    spam_wanted = p_spam >= others
    if spam_wanted:
        threshold = policy.spam_with_complaint_marker_min if own_issue else policy.spam_min
        if not spam_evidence:
            threshold = max(threshold, policy.spam_without_evidence_min)
            if words is not None and words < SPAM_WITHOUT_EVIDENCE_MIN_WORDS:
                threshold = math.inf
        if p_spam >= threshold and p_spam - others >= policy.spam_margin:
            return Decision(Label.SPAM)
        note = SPAM_VETOED if own_issue else SPAM_UNSURE
        fallback = Label.COMPLAINT if complaint_first or own_issue else Label.NORMAL
        return Decision(fallback, (note,))
    if complaint_first:
        return Decision(Label.COMPLAINT)
    if order_status and scores["complaint"] + margin >= scores["normal"]:
        return Decision(Label.COMPLAINT, (ORDER_STATUS,))
    return Decision(Label.NORMAL)

"""From calibrated scores and rule hits to a label: the policy the product promises.

- Crisis outranks everything: a moderate crisis score is enough, a lower one when a crisis rule fired.
- Complaint-as-spam must be the rarest error: spam needs a high score, a margin over the other
  labels, and some spam evidence (a spam rule, a link, a phone number, an e-mail address, a mention
  or a disguise trick) or else a near-certain score (``spam_without_evidence_min``); with a
  complaint marker (a delivery, a refund, a broken item) it needs a
  near-certain score. A spam-looking post with a crisis marker goes to crisis when the model gives
  crisis any real chance (``crisis_with_marker_min``).
- Otherwise the most likely of complaint and normal wins (complaint gets a log-odds shift
  ``complaint_bias``, tuned out of fold); a question about the author's own order
  ("where is my order?", ``rule.complaint.order_status``) is a complaint unless normal leads by more
  than ``order_status_margin``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from moderato.classify.model import Policy
from moderato.classify.normalize import EMAIL_TOKEN, MENTION_TOKEN, PHONE_TOKEN, URL_TOKEN, Normalized
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


_EVIDENCE_TOKENS = frozenset({URL_TOKEN, PHONE_TOKEN, EMAIL_TOKEN, MENTION_TOKEN})
_EVIDENCE_FLAGS = frozenset({"homoglyphs", "styled_letters", "leetspeak", "spaced_letters", "obfuscated_url"})


def spam_evidence(norm: Normalized, hits: list[RuleHit]) -> bool:
    """Something a spammer needs: a spam rule, a contact point (link, phone, e-mail, handle) or a disguise."""
    return (any(h.label == Label.SPAM for h in hits) or bool(_EVIDENCE_TOKENS.intersection(norm.tokens))
            or bool(_EVIDENCE_FLAGS & norm.flags))


@dataclass(frozen=True, slots=True)
class Decision:
    label: Label
    notes: tuple[str, ...] = ()


def decide(scores: dict[str, float], hits: list[RuleHit], policy: Policy, spam_evidence: bool = True) -> Decision:
    p_crisis = scores["crisis"]
    p_spam = scores["spam"]
    # Only crisis rules that are never spam-like bind the decision; softer ones are model features.
    crisis_marker = any(h.label == Label.CRISIS and h.veto_spam for h in hits)
    brand_crisis = any(h.label == Label.CRISIS and h.code.startswith("rule.brand.") for h in hits)
    # Any complaint rule (a delivery, a refund, a broken item) makes spam need a near-certain score.
    own_issue = any(h.label == Label.COMPLAINT for h in hits)
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

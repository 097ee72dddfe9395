"""How signals change a verdict: a small, explicit table, so a reviewer can predict it.

| strength | examples                                                 | effect on the classifier's label         |
|----------|----------------------------------------------------------|------------------------------------------|
| SCAM     | impersonator + contact redirect, look-alike or denied    | spam, even over complaint; never crisis  |
|          | domain                                                   |                                          |
| FLOOD    | same text by this author in N threads, coordinated text  | spam over normal; complaint/crisis stay  |
|          | by many authors (unless they complain), posting bursts   |                                          |
| WEAK     | shortener, disguised link, empty or new account, repeat  | two or more turn normal into spam        |
|          | offender, impersonation alone, contact redirect alone    |                                          |
| INFO     | influencer                                               | raises complaint and crisis priority     |

Crisis outranks everything: a spam-looking post with crisis markers is reviewed as crisis. A complaint
is never turned into spam by duplication or behaviour (thirty customers asking "where is my order?"
are thirty complaints); only a scam (a fake support account answering customers with a WhatsApp
number) overrides it. A post the classifier calls spam gets no complaint protection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from moderato.models import Label, Verdict
from moderato.reasons import Reason, reason
from moderato.signals import codes


class Strength(IntEnum):
    INFO = 0
    WEAK = 1
    FLOOD = 2
    SCAM = 3


@dataclass(frozen=True, slots=True)
class Signal:
    code: str
    detail: str | None
    strength: Strength

    def as_reason(self) -> Reason:
        return reason(self.code, self.detail)


WEAK_SIGNALS_FOR_SPAM = 2
COMPLAINT_EVIDENCE_SCORE = 0.3
# Reason-code prefixes of the classifier's complaint and crisis rules ("rule.complaint.own_order"...).
COMPLAINT_EVIDENCE_PREFIXES = ("rule.complaint.", "rule.crisis.", "rule.brand.complaint", "rule.brand.crisis")


def complaint_evidence(verdict: Verdict) -> bool:
    """Whether the classifier saw a customer complaining, even if it did not settle on that label.

    Duplication must never turn "where is my order?" into spam: a complaint label, a complaint or
    crisis score above 0.3, or any complaint or crisis rule that matched is enough to protect a post.
    Not when the classifier settled on spam: a fake support reply ("sorry for the delivery problem,
    claim your refund on WhatsApp") matches complaint rules by design, and must keep its flood reasons.
    """
    if verdict.label == Label.SPAM:
        return False
    if verdict.label in (Label.COMPLAINT, Label.CRISIS):
        return True
    if max(verdict.scores.get("complaint", 0.0), verdict.scores.get("crisis", 0.0)) >= COMPLAINT_EVIDENCE_SCORE:
        return True
    return any(r.code.startswith(COMPLAINT_EVIDENCE_PREFIXES) for r in verdict.reasons)


def spam_evidence(verdict: Verdict, signals: list[Signal]) -> bool:
    """Something besides duplication says "campaign": the classifier's spam view, a link, a redirect."""
    return verdict.label == Label.SPAM or verdict.scores.get("spam", 0.0) >= COMPLAINT_EVIDENCE_SCORE or any(
        s.strength >= Strength.WEAK and s.code not in _DUPLICATION for s in signals)


_DUPLICATION = frozenset({codes.DUPLICATE_BY_AUTHOR, codes.DUPLICATE_COORDINATED})


def decided_label(label: Label, signals: list[Signal]) -> Label:
    strengths = [s.strength for s in signals]
    if label == Label.CRISIS:
        return label
    if Strength.SCAM in strengths:
        return Label.SPAM
    if label == Label.COMPLAINT:
        return label
    if Strength.FLOOD in strengths:
        return Label.SPAM
    if label == Label.NORMAL and strengths.count(Strength.WEAK) >= WEAK_SIGNALS_FOR_SPAM:
        return Label.SPAM
    return label


def adjust(verdict: Verdict, signals: list[Signal]) -> Verdict:
    """The verdict with the label the signals call for and the reasons that explain it.

    Spam verdicts list every spam signal first (they are why); other labels carry only INFO signals,
    so a complaint never shows a spam reason to the support desk.
    """
    label = decided_label(verdict.label, signals)
    shown = signals if label == Label.SPAM else [s for s in signals if s.strength == Strength.INFO]
    signal_reasons = [s.as_reason() for s in shown]
    known = {r.code for r in signal_reasons}
    reasons = signal_reasons + [r for r in verdict.reasons if r.code not in known]
    if label == verdict.label and not signal_reasons:
        return verdict
    return verdict.model_copy(update={"label": label, "reasons": reasons})


def raises_priority(label: Label, signals: list[Signal]) -> bool:
    """Complaints and crises from a large audience go one step up the queue (1 is the most urgent)."""
    return label in (Label.COMPLAINT, Label.CRISIS) and any(s.code == codes.INFLUENCER for s in signals)

"""How signals change a verdict: a small, explicit table, so a reviewer can predict it.

| strength | examples                                                 | effect on the classifier's label         |
|----------|----------------------------------------------------------|------------------------------------------|
| SCAM     | impersonator + contact redirect, look-alike or denied    | spam, even over complaint; never crisis  |
|          | domain                                                   |                                          |
| FLOOD    | same text by this author in N threads, coordinated text  | spam over normal; complaint/crisis stay  |
|          | by many authors (unless they complain), posting bursts   |                                          |
| WEAK     | shortener, disguised link, empty account, repeat         | two or more turn normal into spam        |
|          | offender, impersonation alone, contact redirect alone    |                                          |
| INFO     | influencer                                               | raises complaint and crisis priority     |

Crisis outranks everything: a spam-looking post with crisis markers is reviewed as crisis. A complaint
is never turned into spam by duplication or behaviour (thirty customers asking "where is my order?"
are thirty complaints); only a scam (a fake support account sending people to WhatsApp) overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from moderato.models import Label, Verdict
from moderato.reasons import Reason, reason


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


def raised_priority(label: Label, base_priority: int, signals: list[Signal], raise_codes: set[str]) -> int:
    """Complaints and crises from a large audience go one step up the queue (1 is the most urgent)."""
    if label in (Label.COMPLAINT, Label.CRISIS) and any(s.code in raise_codes for s in signals):
        return max(1, base_priority - 1)
    return base_priority

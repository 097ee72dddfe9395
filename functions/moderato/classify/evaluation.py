"""Evaluation metrics for labelled posts, pure Python (used by ``moderato eval`` and training)."""

from __future__ import annotations

from collections.abc import Sequence

CLASSES: tuple[str, ...] = ("complaint", "crisis", "normal", "spam")


def report(y_true: Sequence[int], y_pred: Sequence[int], classes: tuple[str, ...] = CLASSES) -> dict[str, object]:
    """Per-class precision/recall/F1, macro-F1, confusion matrix (rows true, columns predicted),
    complaint-as-spam count and crisis recall. Labels are indexes into ``classes``."""
    k = len(classes)
    confusion = [[0] * k for _ in range(k)]
    for a, b in zip(y_true, y_pred, strict=True):
        confusion[int(a)][int(b)] += 1
    per_class: dict[str, dict[str, float]] = {}
    f1s: list[float] = []
    for i, name in enumerate(classes):
        tp = confusion[i][i]
        predicted = sum(confusion[r][i] for r in range(k))
        actual = sum(confusion[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                           "support": actual}
        f1s.append(f1)
    total = sum(map(sum, confusion))
    ci, cr, sp = classes.index("complaint"), classes.index("crisis"), classes.index("spam")
    return {
        "macro_f1": round(sum(f1s) / k, 4),
        "accuracy": round(sum(confusion[i][i] for i in range(k)) / total, 4) if total else 0.0,
        "per_class": per_class,
        "confusion": confusion,
        "complaint_as_spam": confusion[ci][sp],
        "crisis_recall": per_class["crisis"]["recall"],
        "crisis_as_other": sum(confusion[cr]) - confusion[cr][cr],
    }

"""Classification metrics in numpy only, shared by training and ``moderato eval``-style reports."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CLASSES: tuple[str, ...] = ("complaint", "crisis", "normal", "spam")


def report(y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray,
           classes: tuple[str, ...] = CLASSES) -> dict[str, object]:
    """Per-class precision/recall/F1, macro-F1, confusion matrix, complaint-as-spam, crisis recall."""
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    k = len(classes)
    confusion = np.zeros((k, k), dtype=int)
    for a, b in zip(t, p, strict=True):
        confusion[a, b] += 1
    per_class: dict[str, dict[str, float]] = {}
    f1s = []
    for i, name in enumerate(classes):
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = tp / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
                           "f1": round(float(f1), 4), "support": int(confusion[i].sum())}
        f1s.append(f1)
    ci, cr, sp = classes.index("complaint"), classes.index("crisis"), classes.index("spam")
    return {
        "macro_f1": round(float(np.mean(f1s)), 4),
        "accuracy": round(float(np.trace(confusion) / max(1, confusion.sum())), 4),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "complaint_as_spam": int(confusion[ci, sp]),
        "crisis_recall": per_class["crisis"]["recall"],
        "crisis_as_other": int(confusion[cr].sum() - confusion[cr, cr]),
    }

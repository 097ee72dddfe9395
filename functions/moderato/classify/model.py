"""Run-time scoring of the exported linear model: numpy only, no scikit-learn.

Training (``training/train.py``) fits a multinomial logistic regression on :func:`featurize` vectors
and exports its non-zero weight rows, the intercepts, a calibration temperature and the decision
thresholds to ``model/``. Here those rows are put back into a dense matrix once per process (a few MB),
so scoring one post is one gather and one small matrix product.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from moderato.classify.features import FeatureConfig

MODEL_DIR = Path(__file__).parent / "model"
WEIGHTS_FILE = MODEL_DIR / "weights.npz"
META_FILE = MODEL_DIR / "model.json"
CLASSES: tuple[str, ...] = ("complaint", "crisis", "normal", "spam")
"""Column order of the weights (scikit-learn sorts class names)."""


@dataclass(frozen=True, slots=True)
class Policy:
    """Decision thresholds, tuned at training time on out-of-fold predictions (never on dev data)."""

    crisis_min: float = 0.35
    crisis_with_marker_min: float = 0.15
    spam_min: float = 0.60
    spam_margin: float = 0.25
    spam_with_complaint_marker_min: float = 0.97
    # With an order-status question ("where is my order?"), complaint wins over normal unless normal
    # leads by more than this margin (0 = plain comparison).
    order_status_margin: float = 0.0
    # Complaint wins over normal when p(complaint) * exp(complaint_bias) >= p(normal): a log-odds
    # shift towards complaint (0 = plain comparison).
    complaint_bias: float = 0.0
    # Spam without any evidence (no spam rule, link, contact point or disguise) needs this score (>1 = never).
    spam_without_evidence_min: float = 1.01

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> Policy:
        return cls(**{k: float(v) for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class LinearModel:
    version: str
    config: FeatureConfig
    weights: np.ndarray  # (n_features, n_classes) float32
    intercept: np.ndarray  # (n_classes,) float64
    temperature: float
    policy: Policy
    classes: tuple[str, ...] = CLASSES
    meta: dict[str, object] = field(default_factory=dict)

    def logits(self, features: dict[int, float]) -> np.ndarray:
        if not features:
            return self.intercept.copy()
        idx = np.fromiter(features.keys(), dtype=np.int64, count=len(features))
        val = np.fromiter(features.values(), dtype=np.float64, count=len(features))
        return val @ self.weights[idx].astype(np.float64) + self.intercept

    def probabilities(self, features: dict[int, float], calibrated: bool = True) -> dict[str, float]:
        z = self.logits(features)
        if calibrated:
            z = z / self.temperature
        z = z - z.max()
        e = np.exp(z)
        p = e / e.sum()
        return {c: float(v) for c, v in zip(self.classes, p, strict=True)}


def load_model(weights_file: Path = WEIGHTS_FILE, meta_file: Path = META_FILE) -> LinearModel:
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    config = FeatureConfig.from_dict(meta["features"])
    with np.load(weights_file) as data:
        rows = data["rows"]
        dense = np.zeros((config.n_features, len(meta["classes"])), dtype=np.float32)
        dense[rows] = data["values"]
        intercept = data["intercept"].astype(np.float64)
    return LinearModel(
        version=str(meta["version"]),
        config=config,
        weights=dense,
        intercept=intercept,
        temperature=float(meta["temperature"]),
        policy=Policy.from_dict(meta.get("policy", {})),
        classes=tuple(meta["classes"]),
        meta=meta,
    )


@lru_cache(maxsize=1)
def default_model() -> LinearModel | None:
    """The shipped model, loaded once per process; None when no model has been trained yet."""
    if not (WEIGHTS_FILE.exists() and META_FILE.exists()):
        return None
    return load_model()

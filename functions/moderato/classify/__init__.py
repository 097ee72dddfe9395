"""Classification: ``classify(post) -> Verdict``.

The interface triage calls. Behind it: normalization, language detection, lexicon rules, a linear
model over hashed n-grams and rule features (numpy only), and the decision policy. Pure Python: no AWS.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moderato.classify.classifier import Classifier, classify, default_classifier, set_brand_lexicons

__all__ = ["Classifier", "classify", "default_classifier", "set_brand_lexicons"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, not with the package: numpy ships only in the functions that classify
    # (template.yaml's ClassifierLayer), while the others import normalize and confusables through
    # the signals and must not pull the model, and numpy with it, in on the way.
    if name in __all__:
        value = getattr(importlib.import_module("moderato.classify.classifier"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Classification: ``classify(post) -> Verdict``.

The interface triage calls. Behind it: normalization, language detection, lexicon rules, a linear
model over hashed n-grams and rule features (numpy only), and the decision policy. Pure Python: no AWS.
"""

from moderato.classify.classifier import Classifier, classify, default_classifier, set_brand_lexicons

__all__ = ["Classifier", "classify", "default_classifier", "set_brand_lexicons"]

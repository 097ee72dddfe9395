"""Metrics for training reports: the same code ``moderato eval`` uses, so figures are comparable."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "functions"))

from moderato.classify.evaluation import CLASSES, report

__all__ = ["CLASSES", "report"]

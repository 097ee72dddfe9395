"""Behaviour signals: what one post alone cannot show (floods, impersonators, links, crisis waves).

Pure domain code: the signals table is reached through the ``SignalStore`` protocol. Triage calls
``SignalEngine.assess`` after the classifier; the review side calls ``record_confirmed_spam``.
See docs/SIGNALS.md for every signal, its reason code and where its thresholds are configured.
"""

from moderato.signals.config import SignalsConfig, load_signals_config, signals_config
from moderato.signals.engine import Assessment, Retro, SignalEngine
from moderato.signals.offenders import record_confirmed_spam
from moderato.signals.store import FingerprintRecord, SignalStore, WavePost
from moderato.signals.waves import WaveAlert

__all__ = [
    "Assessment",
    "FingerprintRecord",
    "Retro",
    "SignalEngine",
    "SignalStore",
    "SignalsConfig",
    "WaveAlert",
    "WavePost",
    "load_signals_config",
    "record_confirmed_spam",
    "signals_config",
]

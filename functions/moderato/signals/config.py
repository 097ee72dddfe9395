"""Signal thresholds as data: ``config/signals.json``, validated at load, overridable from the environment.

``MODERATO_SIGNALS_FILE`` replaces the bundled file; ``MODERATO_SIGNALS__<SECTION>__<FIELD>`` overrides
one value (``MODERATO_SIGNALS__WAVES__MIN_COUNT=8``; lists as JSON). A bad value fails the function at
start, not halfway through a batch. Every field is documented in docs/SIGNALS.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from moderato.settings import ConfigurationError

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "config" / "signals.json"
ENV_FILE = "MODERATO_SIGNALS_FILE"
ENV_PREFIX = "MODERATO_SIGNALS__"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DuplicateConfig(_Section):
    min_tokens: int = Field(default=4, ge=1, description="Shorter texts ('merci !') are never fingerprinted.")
    # Estimated share of word pairs two texts have in common (MinHash). One or two words changed in a
    # 15-word text stay at 0.5-0.8; two different complaints about a delivery stay below 0.2.
    min_similarity: float = Field(default=0.4, ge=0.2, le=1.0)
    author_window_minutes: int = Field(default=10, ge=1, le=24 * 60)
    author_min_threads: int = Field(default=3, ge=2)
    coordinated_window_minutes: int = Field(default=60, ge=1, le=24 * 60)
    coordinated_min_authors: int = Field(default=5, ge=2)
    max_candidates: int = Field(default=200, ge=10, le=1000, description="Items read per band query.")


class BehaviourConfig(_Section):
    burst_window_minutes: int = Field(default=10, ge=1, le=60)
    burst_per_minute: int = Field(default=10, ge=2)
    burst_per_window: int = Field(default=30, ge=2)
    offender_memory_days: int = Field(default=180, ge=1)
    empty_account_max_followers: int = Field(default=0, ge=0)
    # X counts the post being triaged in statuses_count: 1 means "this is its first post".
    empty_account_max_posts: int = Field(default=1, ge=0, description="'Empty' at or below this many posts.")
    new_account_days: int = Field(default=30, ge=1, le=3650, description="A younger account is 'new'.")
    influencer_followers: int = Field(default=10_000, ge=1)


class LinkConfig(_Section):
    shorteners: frozenset[str] = frozenset()
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()
    lookalike_max_distance: int = Field(default=2, ge=0, le=3)

    @field_validator("shorteners", "allow", "deny", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError("expected a list of domains, not a string")
        return frozenset(str(domain).strip().lower().removeprefix("www.") for domain in value)


class WaveConfig(_Section):
    labels: frozenset[str] = frozenset({"complaint", "crisis"})
    # Normal posts count too when the classifier saw a complaint in them, or (this setting) when they
    # hold at least this many words of its negative sentiment lexicon, more negative than positive.
    # 0 counts no normal post for its tone alone.
    negative_min_words: int = Field(default=2, ge=0, le=10)
    short_window_minutes: int = Field(default=15, ge=1, le=60)
    min_count: int = Field(default=10, ge=2)
    # Slow waves: a subject that builds up over hours without ever surging in 15 minutes.
    long_window_hours: int = Field(default=3, ge=1, le=24)
    long_min_count: int = Field(default=25, ge=2)
    baseline_ratio: float = Field(default=3.0, ge=1.0)
    # The usual rate is learned per account and subject, an hourly exponentially weighted mean.
    baseline_half_life_hours: float = Field(default=72.0, ge=1.0, le=24 * 60)
    baseline_bootstrap_hours: int = Field(default=24, ge=1, le=48)
    # A wave ends after this long without either window above its threshold; only a new wave alerts.
    quiet_minutes: int = Field(default=60, ge=5, le=24 * 60)
    sample_size: int = Field(default=5, ge=1, le=20)
    sample_texts: int = Field(default=3, ge=0, le=5, description="Sample posts quoted (truncated) in the alert.")
    top_terms: int = Field(default=6, ge=1, le=20)
    list_path_template: str = "/cases?queue=ComplaintQueue&status=open&brand={brand}&platform={platform}&since={since}"
    subjects: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("labels", mode="before")
    @classmethod
    def _known_labels(cls, value: Any) -> Any:
        allowed = {"spam", "complaint", "crisis", "normal"}
        unknown = set(value) - allowed
        if unknown:
            raise ValueError(f"unknown labels {sorted(unknown)}")
        return frozenset(value)


class RetentionConfig(_Section):
    # The journal of recent posts: read back this far at a cold start, and kept (TTL) a little longer.
    # At least the long wave window and the hour before it (the baseline folds whole hours).
    journal_hours: int = Field(default=4, ge=1, le=24)
    baseline_days: int = Field(default=14, ge=1)


class SignalsConfig(_Section):
    duplicates: DuplicateConfig = Field(default_factory=DuplicateConfig)
    behaviour: BehaviourConfig = Field(default_factory=BehaviourConfig)
    links: LinkConfig = Field(default_factory=LinkConfig)
    waves: WaveConfig = Field(default_factory=WaveConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)


def _apply_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name.removeprefix(ENV_PREFIX).split("__")]
        if len(path) != 2:
            raise ConfigurationError(f"{name}: expected {ENV_PREFIX}<SECTION>__<FIELD>")
        section = raw.setdefault(path[0], {})
        try:
            section[path[1]] = json.loads(value)
        except ValueError:
            section[path[1]] = value  # a plain string (pydantic converts and validates it)
    return raw


def load_signals_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> SignalsConfig:
    environ = os.environ if environ is None else environ
    source = Path(path or environ.get(ENV_FILE) or DEFAULT_FILE)
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
        raw = {key: value for key, value in raw.items() if not key.startswith("_")}
        return SignalsConfig.model_validate(_apply_overrides(raw, environ))
    except (OSError, ValueError, ValidationError) as error:
        raise ConfigurationError(f"cannot load signal thresholds from {source}: {error}") from error


@lru_cache(maxsize=1)
def signals_config() -> SignalsConfig:
    return load_signals_config()

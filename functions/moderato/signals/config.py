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
    # Four 16-bit bands find every fingerprint within 3 bits (pigeonhole); more would miss some.
    max_hamming_distance: int = Field(default=3, ge=0, le=3)
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
    short_window_minutes: int = Field(default=15, ge=1, le=60)
    long_window_hours: int = Field(default=24, ge=2, le=24 * 7)
    min_count: int = Field(default=10, ge=2)
    baseline_ratio: float = Field(default=3.0, ge=1.0)
    cooldown_minutes: int = Field(default=120, ge=1)
    sample_size: int = Field(default=5, ge=1, le=20)
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
    fingerprint_hours: int = Field(default=48, ge=1)
    rate_hours: int = Field(default=2, ge=1)
    seen_days: int = Field(default=8, ge=1)
    wave_days: int = Field(default=2, ge=1)


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

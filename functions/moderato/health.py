"""The ``/health`` answer: each dependency probed once, ``ok`` or why not (pure: the probes are given)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

HEALTHY = "ok"
DEGRADED = "degraded"


def dependency_status(probes: Mapping[str, Callable[[], object]]) -> dict[str, str]:
    """``ok`` per dependency whose probe returned, else the error's name (never its text: it may hold an address)."""
    status: dict[str, str] = {}
    for name, probe in probes.items():
        try:
            probe()
            status[name] = HEALTHY
        except Exception as error:  # any failure of a probe is an unhealthy dependency, never a 500
            status[name] = f"unavailable: {type(error).__name__}"
    return status


def health_answer(dependencies: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """200 when every dependency is ok; else 503, naming the ones that are not."""
    down = sorted(name for name, state in dependencies.items() if state != HEALTHY)
    if not down:
        return 200, {"status": HEALTHY, "dependencies": dict(dependencies)}
    return 503, {"status": DEGRADED, "unavailable": down, "dependencies": dict(dependencies)}

"""The platforms Moderato has webhooks for, by the name used in ``/webhooks/{platform}``.

Importing this package costs nothing: the webhook function needs only the gates of
``moderato.platforms.webhooks`` (no models, no pydantic), so the parsing platforms are imported on
first use, by ``get_platform`` (triage, enrich, the CLI) or ``PLATFORMS``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moderato.platforms.base import WebhookPlatform

    PLATFORMS: dict[str, WebhookPlatform]


@cache
def _platforms() -> dict[str, WebhookPlatform]:
    from moderato.platforms.meta import MetaPlatform
    from moderato.platforms.x import XPlatform

    # The same names as moderato.platforms.webhooks.WEBHOOKS (a unit test holds them equal): the webhook
    # accepts exactly what triage can parse.
    return {"meta": MetaPlatform(), "x": XPlatform()}


def get_platform(name: str) -> WebhookPlatform:
    try:
        return _platforms()[name]
    except KeyError:
        from moderato.platforms.webhooks import unknown_platform

        raise unknown_platform(name) from None


def __getattr__(name: str) -> Any:
    if name == "PLATFORMS":
        return _platforms()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

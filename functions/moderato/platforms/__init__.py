"""The platforms Moderato has webhooks for, by the name used in ``/webhooks/{platform}``."""

from __future__ import annotations

from moderato.platforms.base import UnknownPlatform, WebhookPlatform
from moderato.platforms.meta import MetaPlatform
from moderato.platforms.x import XPlatform

PLATFORMS: dict[str, WebhookPlatform] = {"meta": MetaPlatform(), "x": XPlatform()}


def get_platform(name: str) -> WebhookPlatform:
    try:
        return PLATFORMS[name]
    except KeyError:
        known = ", ".join(sorted(PLATFORMS))
        raise UnknownPlatform(f"unknown platform '{name[:40]}': webhooks exist for {known}") from None

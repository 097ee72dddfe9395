"""The review console's static assets (HTML, ES modules, CSS), served by the review function. No build step."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Only plain file names of the static folder: no path, no dot files, nothing but what the console ships.
_ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(html|js|css|svg)$")
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
                 "css": "text/css; charset=utf-8", "svg": "image/svg+xml"}


@dataclass(frozen=True)
class Asset:
    content_type: str
    body: str


def asset(name: str) -> Asset | None:
    """The named asset, or None for anything that is not one of the console's files."""
    if not _ASSET_NAME.match(name):
        return None
    path = STATIC_DIR / name
    if not path.is_file():
        return None
    return Asset(CONTENT_TYPES[name.rsplit(".", 1)[1]], path.read_text(encoding="utf-8"))


def security_headers(auth_origin: str | None) -> dict[str, str]:
    """The page loads only its own scripts and talks only to this API (and Cognito, to sign in)."""
    connect = "'self'" + (f" {auth_origin}" if auth_origin else "")
    return {
        "Content-Security-Policy": (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                    f"connect-src {connect}; base-uri 'none'; form-action 'self'; "
                                    "frame-ancestors 'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }

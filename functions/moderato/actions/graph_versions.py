"""Graph API versions, the base URLs built from them, and the warning before a version's end of life. Pure.

Meta retires each Graph API version about two years after its release, and a call to a retired
version fails. The version is a deployment parameter (``MetaGraphApiVersion`` in template.yaml,
``META_GRAPH_API_VERSION`` in the actions function); this table lets the function warn at start
while there is still time to change it.

Source: Meta's Graph API changelog, "Available Graph API Versions"
(developers.facebook.com/docs/graph-api/changelog, page updated 29 Oct 2026) and the announcement of
v27.0 (developers.facebook.com/blog/post/2026/11/04/introducing-graph-api-v27-and-marketing-api-v27/).
``None``: Meta has not announced the end date yet ("TBD").
"""

from __future__ import annotations

import re
from datetime import date, timedelta

CURRENT_GRAPH_API_VERSION = "v27.0"
FACEBOOK_GRAPH_HOST = "https://graph.facebook.com"
INSTAGRAM_GRAPH_HOST = "https://graph.instagram.com"  # Instagram API with Instagram Login
WARN_BEFORE_END_OF_LIFE = timedelta(days=60)
VERSION_PATTERN = r"^v\d+\.\d+$"

AVAILABLE_UNTIL: dict[str, date | None] = {
    "v27.0": None,
    "v26.0": None,
    "v25.0": date(2028, 7, 29),
    "v24.0": date(2028, 2, 18),
    "v23.0": date(2027, 10, 8),
    "v22.0": date(2027, 5, 20),
    "v21.0": date(2027, 1, 21),
    "v20.0": date(2026, 9, 24),
    "v19.0": date(2026, 5, 21),
    "v18.0": date(2026, 1, 26),
}


def graph_base_url(host: str, version: str) -> str:
    """The one place a Graph API base URL is built: ``https://graph.facebook.com/v27.0``."""
    if not re.match(VERSION_PATTERN, version):
        raise ValueError(f"not a Graph API version: {version!r} (expected e.g. {CURRENT_GRAPH_API_VERSION})")
    return f"{host.rstrip('/')}/{version}"


def end_of_life_warning(version: str, today: date) -> str | None:
    """A sentence for the operator when ``version`` ends within 60 days or has ended; None otherwise."""
    if version not in AVAILABLE_UNTIL:
        # Older than the table (long retired) or newer than this code: say so rather than stay silent.
        oldest = min(AVAILABLE_UNTIL, key=_number)
        if _number(version) < _number(oldest):
            return (f"Graph API {version} is older than {oldest}, which Meta retired already: "
                    f"set MetaGraphApiVersion to {CURRENT_GRAPH_API_VERSION}")
        return None
    until = AVAILABLE_UNTIL[version]
    if until is None or today < until - WARN_BEFORE_END_OF_LIFE:
        return None
    if today >= until:
        return (f"Graph API {version} reached its end of life on {until.isoformat()}: Meta refuses its calls. "
                f"Set MetaGraphApiVersion to {CURRENT_GRAPH_API_VERSION} and deploy")
    return (f"Graph API {version} ends on {until.isoformat()} ({(until - today).days} days): "
            f"set MetaGraphApiVersion to {CURRENT_GRAPH_API_VERSION} and deploy before then")


def _number(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))

"""Make a ``PlatformCall`` over HTTPS (stdlib only: nothing extra in the Lambda package).

The token goes in the Authorization header, never in the URL, so it cannot end up in access logs
or in the case history (which records ``PlatformCall.describe()``).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from moderato.actions.calls import SAFE_METHODS, PlatformCall
from moderato.actions.executor import PlatformError
from moderato.actions.tokens import RefreshRefused, XClientCredentials, XGrant

USER_AGENT = "moderato-actions/1"


class HttpTransport:
    def __init__(self, timeout_seconds: float = 5.0) -> None:
        self._timeout = timeout_seconds

    def send(self, call: PlatformCall, token: str) -> dict[str, Any]:
        if call.method not in SAFE_METHODS:  # belt and braces: PlatformCall already refuses it
            raise PlatformError(0, f"refusing to send {call.method}")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                   "User-Agent": USER_AGENT}
        if call.json is not None:
            body = json.dumps(call.json).encode()
            headers["Content-Type"] = "application/json"
        else:
            body = urllib.parse.urlencode(call.form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(call.url, data=body, headers=headers, method=call.method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # nosec B310  # platform API URLs
                raw = response.read()
        except urllib.error.HTTPError as error:
            # The platform's own words (e.g. Graph API's error object) go to the case history.
            detail = error.read()[:500].decode("utf-8", "replace")
            raise PlatformError(error.code, detail or str(error.reason)) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise PlatformError(0, f"platform unreachable: {error}") from error
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {"body": raw[:300].decode("utf-8", "replace")}
        return answer if isinstance(answer, dict) else {"body": answer}


class HttpXTokenRefresher:
    """Exchange an X refresh token for a new pair: ``POST /2/oauth2/token`` with ``grant_type=refresh_token``.

    docs.x.com, "OAuth 2.0 Authorization Code Flow with PKCE": form-encoded ``refresh_token``,
    ``grant_type`` and ``client_id``; a confidential client also authenticates with HTTP Basic
    (client id and secret). The refresh token goes in the body, never in the URL.
    """

    def __init__(self, token_url: Callable[[], str], timeout_seconds: float = 5.0) -> None:
        self._token_url = token_url  # read per refresh: the local stack points it at the fake platform
        self._timeout = timeout_seconds

    def refresh(self, refresh_token: str, client: XClientCredentials) -> XGrant:
        body = urllib.parse.urlencode({"refresh_token": refresh_token, "grant_type": "refresh_token",
                                       "client_id": client.client_id}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
                   "User-Agent": USER_AGENT}
        if client.client_secret:
            basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        request = urllib.request.Request(self._token_url(), data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # nosec B310  # platform API URLs
                raw = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:500].decode("utf-8", "replace")
            if error.code in (400, 401):
                raise RefreshRefused(f"X refused the refresh token (HTTP {error.code}: {_oauth_error(detail)})") \
                    from error
            raise PlatformError(error.code, detail or str(error.reason)) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise PlatformError(0, f"X token endpoint unreachable: {error}") from error
        try:
            return XGrant.model_validate_json(raw)
        except ValidationError as error:
            raise PlatformError(0, "X token endpoint answered without a token pair") from error


def _oauth_error(detail: str) -> str:
    """``invalid_request: Value passed for the token was invalid.`` from an OAuth error body."""
    try:
        answer = json.loads(detail)
    except ValueError:
        return detail[:200]
    if not isinstance(answer, dict):
        return detail[:200]
    return ": ".join(str(answer[k]) for k in ("error", "error_description") if answer.get(k)) or detail[:200]

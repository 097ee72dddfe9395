"""Make a ``PlatformCall`` over HTTPS (stdlib only: nothing extra in the Lambda package).

The token goes in the Authorization header, never in the URL, so it cannot end up in access logs
or in the case history (which records ``PlatformCall.describe()``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from moderato.actions.calls import SAFE_METHODS, PlatformCall
from moderato.actions.executor import PlatformError


class HttpTransport:
    def __init__(self, timeout_seconds: float = 5.0) -> None:
        self._timeout = timeout_seconds

    def send(self, call: PlatformCall, token: str) -> dict[str, Any]:
        if call.method not in SAFE_METHODS:  # belt and braces: PlatformCall already refuses it
            raise PlatformError(0, f"refusing to send {call.method}")
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                   "User-Agent": "moderato-actions/1"}
        if call.json is not None:
            body = json.dumps(call.json).encode()
            headers["Content-Type"] = "application/json"
        else:
            body = urllib.parse.urlencode(call.form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(call.url, data=body, headers=headers, method=call.method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
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

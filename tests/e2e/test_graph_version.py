"""End to end: the Graph API version the functions call is the one template.yaml's parameter gives.

The stack is started from a copy of template.yaml whose only change is the ``MetaGraphApiVersion``
default, set to v21.0, which this code's default is not. If the version came from a constant in the
code, the call would still name the code's version. Here a reviewer hides a Facebook comment with no
Page token configured (a dry run, which records the exact call it would have made), and that call
names v21.0; the actions function warns at start that v21.0 is near its end of life.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from moderato.actions.graph_versions import AVAILABLE_UNTIL, CURRENT_GRAPH_API_VERSION
from moderato.platforms import get_platform
from moderato.platforms.base import DeliveryContext
from moderato.triage.cases import case_id_for
from moderato_local.cfn_yaml import load_template
from moderato_local.jwt_issuer import JwtSettings, issue_token
from moderato_local.process import LocalStackProcess
from tests.support import LOCAL_SECRETS, REPO, meta_comment

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
JWT = JwtSettings.load(REPO / "infra" / "local" / "secrets.json")
CONFIGURED = "v21.0"
COMMENT_ID = "712750021053074_1866000000000001"


def template_with_graph_version(path: Path, version: str) -> Path:
    text = (REPO / "template.yaml").read_text(encoding="utf-8")
    changed, count = re.subn(r"(\n  MetaGraphApiVersion:\n(?:    .*\n)*?    Default: )(\S+)", rf"\g<1>{version}", text)
    assert count == 1, "MetaGraphApiVersion has no Default line to change"
    path.write_text(changed, encoding="utf-8")
    assert load_template(path)["Parameters"]["MetaGraphApiVersion"]["Default"] == version
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackProcess]:
    template = template_with_graph_version(tmp_path_factory.mktemp("template") / "template.yaml", CONFIGURED)
    # No META_GRAPH_URL: the functions build the real Graph API URL, from the version they were given.
    with LocalStackProcess(template, REPO / "functions") as local:
        yield local


def api(stack: LocalStackProcess, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
    token = issue_token(JWT, "alice", ["moderators"])
    return requests.request(method, f"{stack.gateway_url}{path}", json=body, timeout=10,
                            headers={"Authorization": f"Bearer {token}"})


def spam_case_id(stack: LocalStackProcess) -> str:
    body = json.dumps(meta_comment("🚀 Get 10,000 followers FREE today 👉 DM me now! https://bit.ly/fr33-f0ll0w",
                                   comment_id=COMMENT_ID, author_id="spam-bot-9", name="Promo Bot")).encode()
    digest = hmac.new(LOCAL_SECRETS["meta"]["app_secret"].encode(), body, hashlib.sha256).hexdigest()
    answer = requests.post(f"{stack.gateway_url}/webhooks/meta", data=body, timeout=10,
                           headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"})
    assert answer.status_code == 200, answer.text
    [post] = get_platform("meta").parse(json.loads(body), DeliveryContext(received_at=datetime.now(UTC))).posts
    case_id = case_id_for(post)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if api(stack, "GET", f"/cases/{case_id}").status_code == 200:
            return case_id
        time.sleep(0.2)
    raise AssertionError("the spam comment never became a case")


def test_the_configured_version_is_not_the_code_default() -> None:
    assert CONFIGURED != CURRENT_GRAPH_API_VERSION and AVAILABLE_UNTIL[CONFIGURED] is not None


def test_the_functions_get_the_template_parameter(stack: LocalStackProcess) -> None:
    assert stack.environment["META_GRAPH_API_VERSION"] == CONFIGURED


def test_a_facebook_hide_names_the_templates_graph_version(stack: LocalStackProcess) -> None:
    case_id = spam_case_id(stack)
    detail = api(stack, "GET", f"/cases/{case_id}").json()
    assert detail["case"]["label"] == "spam", detail["case"]
    answer = api(stack, "POST", f"/cases/{case_id}/decisions",
                 {"expected_version": detail["case"]["version"], "decision": "hide"})
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        detail = api(stack, "GET", f"/cases/{case_id}").json()
        dry_runs = [event for event in detail["history"] if event["action"] == "action.dry_run"]
        if dry_runs:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"no dry run recorded: {detail['history']}")
    call = dry_runs[0]["data"]["call"]
    assert call["url"] == f"https://graph.facebook.com/{CONFIGURED}/{COMMENT_ID}", call
    assert call["form"] == {"is_hidden": "true"}
    assert "no platform token" in (dry_runs[0]["reason"] or "")  # the Page has no token: nothing was sent


def test_the_actions_function_warns_that_the_configured_version_ends_soon(stack: LocalStackProcess) -> None:
    until = AVAILABLE_UNTIL[CONFIGURED]
    assert until is not None
    warnings = [line for line in stack.log_file.read_text(encoding="utf-8", errors="replace").splitlines()
                if f"Graph API {CONFIGURED}" in line and until.isoformat() in line]
    assert warnings and all('"WARNING"' in line for line in warnings), warnings

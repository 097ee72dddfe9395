"""The Graph API version: one default shared by template.yaml and the code, and the end-of-life warning."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from moderato.actions.calls import DEFAULT_META_GRAPH_URL, Endpoints
from moderato.actions.graph_versions import (
    AVAILABLE_UNTIL,
    CURRENT_GRAPH_API_VERSION,
    WARN_BEFORE_END_OF_LIFE,
    end_of_life_warning,
    graph_base_url,
)
from moderato.actions.settings import platform_endpoints
from moderato_local.cfn_yaml import load_template
from tests.support import REPO

TODAY = date(2026, 12, 4)
TEMPLATE = load_template(REPO / "template.yaml")


def parameter() -> dict[str, Any]:
    return TEMPLATE["Parameters"]["MetaGraphApiVersion"]


def test_the_template_default_is_the_code_default_and_reaches_the_actions_function() -> None:
    assert parameter()["Default"] == CURRENT_GRAPH_API_VERSION
    env = TEMPLATE["Resources"]["ActionsFunction"]["Properties"]["Environment"]["Variables"]
    assert env["META_GRAPH_API_VERSION"] == {"Ref": "MetaGraphApiVersion"}
    assert f"https://graph.facebook.com/{parameter()['Default']}" == DEFAULT_META_GRAPH_URL


def test_the_default_is_in_the_table_and_far_from_its_end_of_life() -> None:
    assert CURRENT_GRAPH_API_VERSION in AVAILABLE_UNTIL
    until = AVAILABLE_UNTIL[CURRENT_GRAPH_API_VERSION]
    assert until is None or until - WARN_BEFORE_END_OF_LIFE > TODAY
    # The newest version of the table is the default: a new row without a new default is a forgotten bump.
    assert max(AVAILABLE_UNTIL, key=lambda v: tuple(map(int, v[1:].split(".")))) == CURRENT_GRAPH_API_VERSION


def test_the_template_pattern_accepts_exactly_what_the_code_accepts() -> None:
    import re

    pattern = parameter()["AllowedPattern"]
    for version in [*AVAILABLE_UNTIL, "v30.1"]:
        assert re.match(pattern, version)
        graph_base_url("https://graph.facebook.com", version)
    for wrong in ["27.0", "v27", "latest", "v27.0/"]:
        assert not re.match(pattern, wrong)
        with pytest.raises(ValueError):
            graph_base_url("https://graph.facebook.com", wrong)


def test_v21_warns_on_4_december_2026_and_the_default_does_not() -> None:
    warning = end_of_life_warning("v21.0", TODAY)
    assert warning is not None and "2027-01-21" in warning and "48 days" in warning
    assert CURRENT_GRAPH_API_VERSION in warning
    assert end_of_life_warning(CURRENT_GRAPH_API_VERSION, TODAY) is None
    assert end_of_life_warning("v22.0", TODAY) is None  # ends 20 May 2027: more than 60 days away


def test_the_warning_starts_60_days_before_and_says_when_it_is_too_late() -> None:
    until = AVAILABLE_UNTIL["v22.0"]
    assert until is not None
    assert end_of_life_warning("v22.0", until - WARN_BEFORE_END_OF_LIFE - timedelta(days=1)) is None
    assert end_of_life_warning("v22.0", until - WARN_BEFORE_END_OF_LIFE) is not None
    ended = end_of_life_warning("v20.0", TODAY)
    assert ended is not None and "reached its end of life on 2026-09-24" in ended
    older = end_of_life_warning("v12.0", TODAY)
    assert older is not None and "older than" in older
    assert end_of_life_warning("v31.0", TODAY) is None  # newer than this code knows: nothing to say


def test_endpoints_are_built_from_the_version_and_the_fake_platform_override_still_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("META_GRAPH_URL", raising=False)
    monkeypatch.delenv("INSTAGRAM_GRAPH_URL", raising=False)
    endpoints = platform_endpoints("v23.0")
    assert endpoints.meta_graph_url == "https://graph.facebook.com/v23.0"
    assert endpoints.instagram_graph_url == "https://graph.instagram.com/v23.0"
    monkeypatch.setenv("META_GRAPH_URL", "http://127.0.0.1:8790")
    monkeypatch.setenv("X_API_URL", "http://127.0.0.1:8790")
    endpoints = platform_endpoints("v23.0")
    assert endpoints.meta_graph_url == "http://127.0.0.1:8790"
    assert endpoints.x_token_url == "http://127.0.0.1:8790/2/oauth2/token"
    assert Endpoints().x_token_url == "https://api.x.com/2/oauth2/token"

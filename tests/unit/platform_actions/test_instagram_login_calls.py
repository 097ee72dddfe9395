"""Instagram accounts connected with Instagram Login are acted on through graph.instagram.com."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moderato.actions.calls import Endpoints, build_call
from moderato.models import Case, Label, Platform
from moderato.review import policy
from moderato.review.requests import Decision, DecisionRequest
from moderato.settings import ConfigurationError, load_brand_accounts
from tests.review_support import ALICE, SLA, T0, make_case

IG_LOGIN_ACCOUNT = "17841400000000001"
IG_PAGE_ACCOUNT = "17841405726653026"
ENDPOINTS = Endpoints(meta_graph_url="https://graph.facebook.com/v27.0", x_api_url="https://api.x.com",
                      instagram_graph_url="https://graph.instagram.com/v27.0",
                      instagram_login_accounts=frozenset({IG_LOGIN_ACCOUNT}))


def decided(decision: Decision, account_id: str, reply_text: str | None = None) -> Case:
    case = make_case(platform=Platform.INSTAGRAM, account_id=account_id, post_id="17865799348089039",
                     text="Ma commande n'est jamais arrivée @floralys.fr")
    request = DecisionRequest(expected_version=1, decision=decision, reply_text=reply_text)
    return policy.decide(case, ALICE, request, T0, SLA).case


def test_hide_of_an_instagram_login_account_goes_to_graph_instagram_with_the_instagram_token() -> None:
    case = decided(Decision.HIDE, IG_LOGIN_ACCOUNT)
    call = build_call(case, case.actions[0], ENDPOINTS)
    assert (call.family, call.account_id) == ("instagram", IG_LOGIN_ACCOUNT)
    assert (call.method, call.url, call.form) == (
        "POST", "https://graph.instagram.com/v27.0/17865799348089039", {"hide": "true"})


def test_hide_of_a_page_connected_account_stays_on_graph_facebook_with_the_page_token() -> None:
    case = decided(Decision.HIDE, IG_PAGE_ACCOUNT)
    call = build_call(case, case.actions[0], ENDPOINTS)
    assert (call.family, call.url, call.form) == (
        "meta", "https://graph.facebook.com/v27.0/17865799348089039", {"hide": "true"})


def test_unhide_of_an_instagram_login_account() -> None:
    case = decided(Decision.HIDE, IG_LOGIN_ACCOUNT)
    case = policy.undo_hide(case, ALICE, case.version, "the customer's order did arrive late", T0).case
    unhide = next(a for a in case.actions if a.kind.value == "unhide")
    call = build_call(case, unhide, ENDPOINTS)
    assert (call.family, call.url, call.form) == (
        "instagram", "https://graph.instagram.com/v27.0/17865799348089039", {"hide": "false"})


def test_reply_of_an_instagram_login_account_uses_the_replies_edge() -> None:
    case = make_case(Label.COMPLAINT, platform=Platform.INSTAGRAM, account_id=IG_LOGIN_ACCOUNT,
                     post_id="17865799348089039")
    request = DecisionRequest(expected_version=1, decision=Decision.REPLY,
                              reply_text="Bonjour, nous regardons votre commande tout de suite.")
    case = policy.decide(case, ALICE, request, T0, SLA).case
    reply = next(a for a in case.actions if a.kind.value == "reply")
    call = build_call(case, reply, ENDPOINTS)
    assert (call.family, call.url) == ("instagram", "https://graph.instagram.com/v27.0/17865799348089039/replies")
    assert call.form == {"message": "Bonjour, nous regardons votre commande tout de suite."}


def test_the_connection_comes_from_the_brand_accounts_file(tmp_path: Path) -> None:
    path = tmp_path / "brands.json"
    path.write_text(json.dumps({"accounts": {
        IG_LOGIN_ACCOUNT: {"brand": "Floralys", "platform": "instagram", "connection": "instagram_login"},
        IG_PAGE_ACCOUNT: {"brand": "Floralys", "platform": "instagram"}}}), encoding="utf-8")
    accounts = load_brand_accounts(str(path))
    assert accounts[IG_LOGIN_ACCOUNT].connection == "instagram_login"
    assert accounts[IG_PAGE_ACCOUNT].connection == "facebook_page"  # the default: through the Page
    path.write_text(json.dumps({"accounts": {IG_LOGIN_ACCOUNT: {"brand": "Floralys", "platform": "instagram",
                                                                "connection": "instagram"}}}), encoding="utf-8")
    with pytest.raises(ConfigurationError):
        load_brand_accounts(str(path))

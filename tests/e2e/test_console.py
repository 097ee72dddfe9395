"""End to end in a real browser: the review console served by the review function, on the local stack.

Headless Chromium (Debian's ``chromium``, never a browser Playwright downloads) drives the console at
``/console``; the stack runs the real handlers, and its actions function calls the local fake platform
with a configured token, so an approved ban is seen arriving there. Set ``CONSOLE_SCREENSHOTS=<dir>``
(``make screenshots``) to keep pictures of the main views.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from moderato.adapters.case_store import CaseStore
from moderato.models import Author, Label, Platform
from moderato_local.fake_platform import FakePlatform
from moderato_local.jwt_issuer import JwtSettings, issue_token
from moderato_local.process import LocalStackProcess
from tests.review_support import PAGE_ID, make_case
from tests.support import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
JWT = JwtSettings.load(REPO / "infra" / "local" / "secrets.json")
WAIT_MS = 15_000  # the console polls every 4 s; a change must show within a few polls
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")
BROWSER_ZONE = ZoneInfo("Europe/Paris")
expect.set_options(timeout=WAIT_MS)


def token(user: str, *groups: str) -> str:
    return issue_token(JWT, user, groups)


@pytest.fixture(scope="module")
def fake_platform() -> Iterator[FakePlatform]:
    with FakePlatform() as platform:
        yield platform


@pytest.fixture(scope="module")
def stack(fake_platform: FakePlatform) -> Iterator[LocalStackProcess]:
    from moderato_cli.commands.replay import replay
    from moderato_cli.deliveries import load_secrets, read_rows
    from moderato_cli.demo import DEMO_FILE
    from moderato_cli.paths import LOCAL_SECRETS

    env = {"META_GRAPH_URL": fake_platform.url, "X_API_URL": fake_platform.url}
    with LocalStackProcess(REPO / "template.yaml", REPO / "functions", env=env) as local:
        local.client("secretsmanager").put_secret_value(
            SecretId=local.resources["PlatformTokens"],
            SecretString=json.dumps({"meta": {PAGE_ID: "fake-page-token"}, "x": {}}))
        # The demo story, signed and sent to the webhooks, triaged by the real pipeline.
        rows = read_rows(DEMO_FILE)
        assert replay(rows, local.gateway_url, load_secrets(LOCAL_SECRETS)) == {200: len(rows)}
        assert local.wait_idle(60)
        yield local


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: `make test` installs Debian's chromium package (as root)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []
    script_errors: list[str] = []

    def make(locale: str = "en-GB", width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(locale=locale, timezone_id=str(BROWSER_ZONE),
                                      viewport={"width": width, "height": height})
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: script_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert script_errors == []  # the console's scripts never threw


def store(stack: LocalStackProcess) -> CaseStore:
    return CaseStore(stack.resources["CasesTable"], stack.client("dynamodb"))


def seed(stack: LocalStackProcess, label: Label, case_id: str, author_id: str, text: str,
         platform: Platform = Platform.FACEBOOK, name: str = "Jeanne Martin") -> None:
    case = make_case(label, case_id, author_id=author_id, now=datetime.now(UTC) - timedelta(minutes=2), text=text,
                     platform=platform)
    post = case.post.model_copy(update={"author": Author(id=author_id, name=name, followers=120)})
    case = case.model_copy(update={"post": post})
    store(stack).create(case)


def sign_in(page: Any, stack: LocalStackProcess, bearer: str) -> None:
    page.goto(f"{stack.gateway_url}/console")
    page.fill("#token", bearer)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#app:not([hidden]) #list .case-row")


def open_case(page: Any, case_id: str) -> None:
    page.click(f'.case-row[data-case-id="{case_id}"] button.open')
    page.wait_for_selector(f'#case article[data-case-id="{case_id}"]')


def search(page: Any, text: str) -> None:
    page.fill("#search", text)
    page.press("#search", "Enter")


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)


def api(stack: LocalStackProcess, bearer: str, path: str) -> Any:
    return requests.get(f"{stack.gateway_url}{path}", headers={"Authorization": f"Bearer {bearer}"}, timeout=10).json()


# ---------------------------------------------------------------- tests


def test_the_console_is_served_without_a_token_and_holds_no_case_data(stack: LocalStackProcess) -> None:
    page = requests.get(f"{stack.gateway_url}/console", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = requests.get(f"{stack.gateway_url}/console/app.js", timeout=10)
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert requests.get(f"{stack.gateway_url}/console/..%2Ftemplate.yaml", timeout=10).status_code == 404
    assert requests.get(f"{stack.gateway_url}/console/review.py", timeout=10).status_code == 404
    # The API routes keep their authorizer.
    assert requests.get(f"{stack.gateway_url}/cases", timeout=10).status_code == 401


def test_sign_in_shows_the_demo_crisis_on_top_with_local_times(stack: LocalStackProcess, new_page: Any) -> None:
    page = new_page()
    sign_in(page, stack, token("alice", "moderators"))
    first = page.locator("#list .case-row").first
    assert "crisis" in (first.get_attribute("class") or "")
    expect(page.locator('button.queue[data-view="CrisisQueue"] .queue-count')).to_have_text("2")
    assert "alice" in page.inner_text("#who")
    first.locator("button.open").click()
    page.wait_for_selector("#case article")
    # Reasons in plain words (never the classifier's internal tokens), times local with UTC on hover.
    reasons = page.inner_text("#case .reasons")
    assert reasons.strip() and "numtok" not in reasons and "urltok" not in reasons
    assert page.locator("#case time").first.get_attribute("title").endswith("UTC")
    shot(page, "queues-and-crisis")


def test_a_wrong_token_is_refused_and_shows_no_case(stack: LocalStackProcess, new_page: Any) -> None:
    page = new_page()
    forged = issue_token(JwtSettings("a-wrong-key-of-at-least-32-bytes", JWT.issuer, JWT.audience), "eve",
                         ["approvers"])
    for bad in ("not-a-token", forged):
        page.goto(f"{stack.gateway_url}/console")
        page.fill("#token", bad)
        page.click("#signin-form button[type=submit]")
        assert "refused" in page.inner_text("#signin-error")
        assert page.locator("#app").is_hidden() and page.locator(".case-row").count() == 0


def test_acknowledge_a_complaint_with_a_promise(stack: LocalStackProcess, new_page: Any) -> None:
    seed(stack, Label.COMPLAINT, "facebook-console-ack", "client-ack",
         "Ma commande n° FL-55021 n'est toujours pas arrivée, personne ne répond")
    page = new_page()
    sign_in(page, stack, token("alice", "moderators"))
    search(page, "FL-55021")
    page.wait_for_selector('.case-row[data-case-id="facebook-console-ack"]')
    open_case(page, "facebook-console-ack")
    page.click('#case [data-action="acknowledge"]')
    page.fill("#promise", "notre livreur vous appelle avant 18 h")
    due = datetime.now(BROWSER_ZONE) + timedelta(hours=3)  # typed as the reviewer would: her local time
    page.fill("#promise_due_at", due.strftime("%Y-%m-%dT%H:%M"))
    shot(page, "acknowledge-form")
    page.click('#case form[data-form="acknowledge"] button.primary')
    expect(page.locator("#case .case-head")).to_contain_text("acknowledged")
    assert "notre livreur vous appelle avant 18 h" in page.inner_text("#case")
    detail = api(stack, token("alice", "moderators"), "/cases/facebook-console-ack")
    assert detail["case"]["status"] == "acknowledged"
    assert detail["case"]["promise"]["text"] == "notre livreur vous appelle avant 18 h"
    # Resolving is offered next, saying whether the promise is kept.
    page.click('#case [data-action="resolve"]')
    assert "kept" in page.inner_text("#promise-preview")


def test_a_ban_proposed_by_one_is_approved_by_another_and_reaches_the_platform_once(
    stack: LocalStackProcess, new_page: Any, fake_platform: FakePlatform,
) -> None:
    seed(stack, Label.SPAM, "facebook-console-ban", "phisher-77",
         "Votre compte sera suspendu, vérifiez vos informations ici bit.ly/xx-verif")
    alice = new_page()
    sign_in(alice, stack, token("alice", "moderators"))
    search(alice, "phisher-77")
    alice.wait_for_selector('.case-row[data-case-id="facebook-console-ban"]')
    open_case(alice, "facebook-console-ban")
    alice.click('#case [data-action="propose_ban"]')
    alice.fill("#reason", "the same phishing link in ten threads")
    alice.click('#case form[data-form="propose_ban"] button.primary')
    alice.wait_for_selector('#case .proposals li[data-status="pending"]')
    # alice may withdraw her proposal, never approve it.
    assert alice.locator('#case [data-action="approve"]').count() == 0
    assert alice.locator('#case [data-action="withdraw"]').count() == 1

    bob = new_page()
    sign_in(bob, stack, token("bob", "approvers"))
    bob.click('button.queue[data-view="awaiting"]')
    bob.wait_for_selector('#list .case-row[data-case-id="facebook-console-ban"]')
    expect(bob.locator('button.queue[data-view="awaiting"] .queue-count')).to_have_text("1")
    open_case(bob, "facebook-console-ban")
    shot(bob, "ban-awaiting-approval")
    before = len(fake_platform.received())
    bob.click('#case [data-action="approve"]')
    bob.fill("#reason", "agreed, phishing")
    bob.click('#case form[data-form="approve"] button.primary')
    bob.wait_for_selector('#case .actions li[data-status="done"]', timeout=30_000)
    calls = fake_platform.received()[before:]
    assert [(c.method, c.path, c.form) for c in calls] == [("POST", f"/{PAGE_ID}/blocked", {"user": "phisher-77"})]
    assert f"POST {fake_platform.url}/{PAGE_ID}/blocked" in bob.inner_text("#case .actions")
    assert fake_platform.received("DELETE") == []


def test_banning_the_author_of_an_open_complaint_is_refused_with_the_reason(
    stack: LocalStackProcess, new_page: Any,
) -> None:
    seed(stack, Label.SPAM, "facebook-console-guard", "client-guard", "Suivez-moi pour des promos incroyables")
    page = new_page()
    sign_in(page, stack, token("carol", "approvers"))
    search(page, "client-guard")
    page.wait_for_selector('.case-row[data-case-id="facebook-console-guard"]')
    open_case(page, "facebook-console-guard")
    page.click('#case [data-action="propose_ban"]')
    page.fill("#reason", "promotional spam in every thread")
    # Meanwhile the same person files a complaint: the API refuses, and the console says why.
    seed(stack, Label.COMPLAINT, "facebook-console-guard-complaint", "client-guard",
         "Mon bouquet est arrivé fané, je veux un remboursement")
    page.click('#case form[data-form="propose_ban"] button.primary')
    expect(page.locator("#status")).to_contain_text("must not be silenced")
    assert "facebook-console-guard-complaint" in page.inner_text("#status")
    # Once reloaded, the console no longer offers the ban, and tells why.
    page.click('#case form[data-form="propose_ban"] button[type=button]')
    open_case(page, "facebook-console-guard")
    expect(page.locator('#case [data-action="propose_ban"]')).to_have_count(0)
    expect(page.locator('#case [data-unavailable="propose_ban"]')).to_contain_text("must not be silenced")
    expect(page.locator('#case [data-unavailable="hide"]')).to_contain_text("must not be silenced")


def test_a_private_messenger_message_offers_no_reply_and_the_api_refuses_one(
    stack: LocalStackProcess, new_page: Any,
) -> None:
    seed(stack, Label.COMPLAINT, "messenger-console-dm", "client-dm", "Toujours rien reçu, commande FL-66001",
         platform=Platform.MESSENGER)
    page = new_page()
    sign_in(page, stack, token("alice", "moderators"))
    search(page, "FL-66001")
    page.wait_for_selector('.case-row[data-case-id="messenger-console-dm"]')
    open_case(page, "messenger-console-dm")
    assert page.locator('#case [data-action="reply"]').count() == 0
    assert "private messenger message" in page.inner_text('#case [data-unavailable="reply"]')
    answer = requests.post(f"{stack.gateway_url}/cases/messenger-console-dm/decisions", timeout=10,
                           headers={"Authorization": f"Bearer {token('alice', 'moderators')}"},
                           json={"expected_version": 1, "decision": "reply", "reply_text": "Bonjour !"})
    assert answer.status_code == 409 and answer.json()["code"] == "decision_not_allowed"


def test_a_reply_template_cannot_be_sent_until_its_placeholders_are_filled(
    stack: LocalStackProcess, new_page: Any,
) -> None:
    seed(stack, Label.COMPLAINT, "facebook-console-reply", "client-reply", "Où est ma commande FL-77001 ?")
    page = new_page()
    sign_in(page, stack, token("alice", "moderators"))
    search(page, "FL-77001")
    page.wait_for_selector('.case-row[data-case-id="facebook-console-reply"]')
    open_case(page, "facebook-console-reply")
    page.click('#case [data-action="reply"]')
    page.select_option("#template", "delivery")
    submit = page.locator('#case form[data-form="reply"] button.primary')
    assert submit.is_disabled() and "first_name" in page.inner_text("#reply-missing")
    page.fill("#ph-first_name", "Jeanne")
    page.fill("#ph-order_number", "FL-77001")
    assert submit.is_disabled()
    page.fill("#ph-date", "Friday 6 pm")
    assert submit.is_enabled()
    submit.click()
    page.wait_for_selector('#case .actions li[data-status]')
    detail = api(stack, token("alice", "moderators"), "/cases/facebook-console-reply")
    assert detail["case"]["actions"][0]["text"].startswith("Hello Jeanne, we are sorry your order FL-77001")


def test_bulk_hide_a_spam_wave_with_one_reason(stack: LocalStackProcess, new_page: Any) -> None:
    wave = "Félicitations ! Vous êtes sélectionné pour tester le nouvel iPhone gratuitement, réclamez-le via le lien"
    ids = [f"facebook-console-wave-{n}" for n in range(3)]
    for n, case_id in enumerate(ids):
        seed(stack, Label.SPAM, case_id, f"wave-bot-{n}", f"{wave} {'!' * n} +33 6 12 34 56 7{n}",
             name=f"Promo Deals {n + 1}")
    seed(stack, Label.SPAM, "facebook-console-other-spam", "other-bot", "Buy 10,000 real followers for $9.99 today",
         name="Growth Bot")
    page = new_page()
    sign_in(page, stack, token("alice", "moderators"))
    page.click('button.queue[data-view="SpamQueue"]')
    page.wait_for_selector(f'.case-row[data-case-id="{ids[0]}"]')
    open_case(page, ids[0])
    page.click("#bulk-similar")
    checked = page.locator("#list .case-row .pick:checked")
    assert sorted(checked.evaluate_all("boxes => boxes.map(b => b.closest('li').dataset.caseId)")) == ids
    page.fill("#bulk-reason", "the same crypto scam pasted by three bots")
    shot(page, "bulk-hide-spam-wave")
    page.click("#bulk-hide")
    expect(page.locator("#status")).to_contain_text("3 hidden, 0 refused")
    for case_id in ids:
        detail = api(stack, token("alice", "moderators"), f"/cases/{case_id}")
        assert detail["case"]["status"] == "closed" and detail["case"]["actions"][0]["kind"] == "hide"
        assert detail["history"][-1]["reason"] == "the same crypto scam pasted by three bots" or any(
            e["reason"] == "the same crypto scam pasted by three bots" for e in detail["history"])
    assert api(stack, token("alice", "moderators"), "/cases/facebook-console-other-spam")["case"]["status"] == "open"

    # Not a wave: dismissed with its reason ("d"), then straight to the next case ("Submit and next").
    open_case(page, "facebook-console-other-spam")
    page.keyboard.press("d")
    page.fill("#reason", "a real shop owner asking, not spam")
    page.click('#case form[data-form="dismiss"] [data-submit-next]')
    expect(page.locator("#case article")).not_to_have_attribute("data-case-id", "facebook-console-other-spam")
    assert api(stack, token("alice", "moderators"), "/cases/facebook-console-other-spam")["case"]["status"] \
        == "dismissed"


def test_the_french_interface_follows_the_browser_and_can_be_switched(
    stack: LocalStackProcess, new_page: Any,
) -> None:
    page = new_page(locale="fr-FR")
    sign_in(page, stack, token("alice", "moderators"))
    expect(page.locator('button.queue[data-view="ComplaintQueue"] .queue-name')).to_have_text("Réclamations")
    assert page.get_attribute("html", "lang") == "fr"
    page.locator("#list .case-row").first.locator("button.open").click()
    page.wait_for_selector("#case article")
    assert "Pourquoi" in page.inner_text("#case")
    reasons = page.inner_text("#case .reasons")
    assert re.search(r"[éèàç]|\b(le|la|les|une|des)\b", reasons), reasons
    shot(page, "case-view-french")
    page.select_option("#lang", "en")
    expect(page.locator('button.queue[data-view="ComplaintQueue"] .queue-name')).to_have_text("Complaints")
    assert "Why" in page.inner_text("#case")


def test_a_french_reviewer_reads_the_guardrail_refusal_in_french_with_the_open_case(
    stack: LocalStackProcess, new_page: Any,
) -> None:
    # Given a spam-looking comment by a customer whose complaint on Messenger is open
    seed(stack, Label.SPAM, "facebook-console-fr-guard", "client-fr-guard", "Abonnez-vous à ma chaîne !!")
    seed(stack, Label.COMPLAINT, "messenger-console-fr-guard", "client-fr-guard",
         "Toujours pas de remboursement pour ma commande FL-77120", platform=Platform.MESSENGER)
    page = new_page(locale="fr-FR")
    sign_in(page, stack, token("camille", "approvers"))
    search(page, "client-fr-guard")
    page.wait_for_selector('.case-row[data-case-id="facebook-console-fr-guard"]')
    open_case(page, "facebook-console-fr-guard")
    # Then the console says in French why it offers no ban, naming her open case, with no English left
    refusal = page.locator('#case [data-unavailable="propose_ban"]')
    expect(refusal).to_contain_text("ne doit pas être réduit au silence")
    expect(refusal).to_contain_text("réclamation sur messenger: cas messenger-console-fr-guard")
    assert "must not be silenced" not in refusal.inner_text()
    # and her private message offers no public reply, said in French too
    open_case(page, "messenger-console-fr-guard")
    expect(page.locator('#case [data-unavailable="reply"]')).to_contain_text("message privé messenger")


def test_a_second_reviewer_sees_the_first_ones_claim_without_reloading(
    stack: LocalStackProcess, new_page: Any,
) -> None:
    seed(stack, Label.COMPLAINT, "facebook-console-claim", "client-claim", "Colis FL-88001 perdu, aucune nouvelle")
    alice, dora = new_page(), new_page()
    sign_in(alice, stack, token("alice", "moderators"))
    sign_in(dora, stack, token("dora", "moderators"))
    # A case arriving while she looks appears, marked new, without a reload.
    seed(stack, Label.COMPLAINT, "facebook-console-arrives", "client-new", "Livraison FL-88002 jamais reçue")
    expect(dora.locator('.case-row[data-case-id="facebook-console-arrives"] .badge.new')).to_have_text("new")
    search(dora, "FL-88001")
    row = '.case-row[data-case-id="facebook-console-claim"]'
    dora.wait_for_selector(row)
    assert "claimed by" not in dora.inner_text(row)
    search(alice, "FL-88001")
    alice.wait_for_selector(row)
    open_case(alice, "facebook-console-claim")
    alice.keyboard.press("c")  # the shortcut for claim
    alice.wait_for_selector('#case [data-action="release"]')
    expect(dora.locator(row)).to_contain_text("claimed by alice")
    assert "claim lapses" in alice.inner_text("#case .decide")  # the lease: when the claim is nobody's again
    # The list is polled, not reloaded: the page is the same document.
    assert dora.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_a_phone_sized_screen_and_the_keyboard_alone(stack: LocalStackProcess, new_page: Any) -> None:
    page = new_page(width=390, height=844)
    sign_in(page, stack, token("alice", "moderators"))
    # No horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # Keyboard only: j opens the first case, the case view takes the focus order after the list.
    page.keyboard.press("j")
    page.wait_for_selector("#case article")
    for _ in range(3):
        page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.tagName")
    assert focused in ("BUTTON", "A", "INPUT", "SELECT", "TEXTAREA")
    shot(page, "phone")
    # Every form control has a label.
    unlabelled = page.evaluate("""[...document.querySelectorAll('input, select, textarea')].filter(e =>
        !e.labels?.length && !e.getAttribute('aria-label') && e.type !== 'hidden').map(e => e.id || e.name)""")
    assert unlabelled == []


def test_signing_in_through_the_hosted_ui_uses_the_code_flow_with_pkce(
    stack: LocalStackProcess, new_page: Any,
) -> None:
    # Deployed, config.json names the Cognito domain (tests/integration/test_review_console.py proves that
    # and the page's CSP); here the browser gets that answer and talks to a stand-in for the hosted UI.
    hosted = "https://floralys-review.auth.eu-west-1.amazoncognito.com"
    page = new_page()
    seen: dict[str, str] = {}

    def console_page(route: Any) -> None:
        answer = route.fetch()
        policy = answer.headers["content-security-policy"].replace("connect-src 'self'", f"connect-src 'self' {hosted}")
        route.fulfill(response=answer, headers={**answer.headers, "content-security-policy": policy})

    def authorize(route: Any) -> None:
        query = dict(parse_qsl(urlsplit(route.request.url).query))
        seen.update(query)
        back = html.escape(f"{query['redirect_uri']}?code=one-time&state={query['state']}")
        # The hosted UI sends the reviewer back with the code (a new navigation, as after a real sign-in).
        route.fulfill(content_type="text/html", body=f'<meta http-equiv="refresh" content="0;url={back}">')

    def token_endpoint(route: Any) -> None:
        form = dict(parse_qsl(route.request.post_data or ""))
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        proof = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        expected = ("authorization_code", "one-time", seen["code_challenge"])
        if (form.get("grant_type"), form.get("code"), proof) != expected:
            route.fulfill(status=400, json={"error": "invalid_grant"}, headers={"access-control-allow-origin": "*"})
            return
        route.fulfill(json={"id_token": token("erin", "approvers"), "token_type": "Bearer", "expires_in": 3600},
                      headers={"access-control-allow-origin": "*"})

    page.route(re.compile(rf"^{re.escape(stack.gateway_url)}/console(\?.*)?$"), console_page)  # with ?code= too
    page.route(f"{stack.gateway_url}/console/config.json", lambda route: route.fulfill(
        json={"auth": {"domain": hosted, "client_id": "console-client"}, "claim_lease_minutes": 30}))
    page.route(f"{hosted}/oauth2/authorize?*", authorize)
    page.route(f"{hosted}/oauth2/token", token_endpoint)
    page.goto(f"{stack.gateway_url}/console")
    page.click("#signin button.primary")
    page.wait_for_selector("#app:not([hidden]) #list .case-row")
    assert (seen["response_type"], seen["client_id"], seen["code_challenge_method"]) == ("code", "console-client",
                                                                                          "S256")
    assert seen["redirect_uri"] == f"{stack.gateway_url}/console"
    assert "erin" in page.inner_text("#who") and "code=" not in page.url  # the code is not left in the address

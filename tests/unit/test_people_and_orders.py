"""Who wrote a post across a brand's surfaces (person keys), and the order numbers customers quote. Pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moderato.models import Author, Label, Platform, Post, PostKind, Verdict
from moderato.orders import normalize_order_number, order_numbers
from moderato.people import PersonLinks, keys_for_query, load_person_links, person_key
from moderato.settings import SlaPolicy
from moderato.triage.cases import build_case, case_message
from moderato.triage.routing import route
from tests.support import assert_case_message

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PAGE = "206070979425408"
IG_ACCOUNT = "17841405726653026"
X_ACCOUNT = "2244994945"
JEANNE_PSID = "24266381753005180"


def post(platform: Platform, author_id: str | None, kind: PostKind = PostKind.COMMENT, brand: str | None = "Floralys",
         account_id: str = PAGE, name: str = "Jeanne Martin", text: str = "bonjour") -> Post:
    return Post(platform=platform, kind=kind, post_id=f"{platform.value}-1", account_id=account_id,
                author=Author(id=author_id, name=name), text=text, created_at=T0, brand=brand,
                dedup_key=f"{platform.value}:{author_id}:{kind.value}")


# ---------------------------------------------------------------- person keys


def test_a_page_comment_and_a_messenger_message_with_the_same_id_are_one_person() -> None:
    comment = person_key(post(Platform.FACEBOOK, JEANNE_PSID))
    message = person_key(post(Platform.MESSENGER, JEANNE_PSID, PostKind.MESSAGE))
    instagram = person_key(post(Platform.INSTAGRAM, JEANNE_PSID, account_id=IG_ACCOUNT))
    assert comment == message == instagram == f"floralys/meta/{JEANNE_PSID}"


def test_an_x_mention_a_reply_and_a_direct_message_of_one_account_are_one_person() -> None:
    keys = {person_key(post(Platform.X, "987654321", kind, account_id=X_ACCOUNT))
            for kind in (PostKind.MENTION, PostKind.REPLY, PostKind.MESSAGE)}
    assert keys == {"floralys/x/987654321"}


def test_a_namesake_is_another_person_and_so_is_the_same_id_on_another_family_or_brand() -> None:
    jeanne = person_key(post(Platform.FACEBOOK, JEANNE_PSID))
    assert person_key(post(Platform.FACEBOOK, "10000000000000001")) != jeanne  # same display name, other id
    assert person_key(post(Platform.X, JEANNE_PSID, account_id=X_ACCOUNT)) != jeanne  # X ids are not Meta ids
    assert person_key(post(Platform.FACEBOOK, JEANNE_PSID, brand="Rosalie")) != jeanne


def test_no_author_id_no_person_and_an_unclaimed_account_scopes_the_key() -> None:
    assert person_key(post(Platform.FACEBOOK, None)) is None
    assert person_key(post(Platform.MESSENGER, "42", brand=None)) == f"account-{PAGE}/meta/42"


def test_configured_links_join_ids_meta_does_not_make_equal() -> None:
    links = PersonLinks.parse([{"brand": "Floralys", "ids": [f"meta:{JEANNE_PSID}", "meta:17841400000000001",
                                                             "x:987654321"]}])
    instagram = person_key(post(Platform.INSTAGRAM, "17841400000000001", account_id=IG_ACCOUNT), links)
    on_x = person_key(post(Platform.X, "987654321", PostKind.MENTION, account_id=X_ACCOUNT), links)
    comment = person_key(post(Platform.FACEBOOK, JEANNE_PSID), links)
    assert instagram == on_x == comment == f"floralys/meta/{JEANNE_PSID}"
    # Links are per brand: the same ids on another brand stay apart.
    assert person_key(post(Platform.X, "987654321", brand="Rosalie", account_id="1"), links) == "rosalie/x/987654321"


@pytest.mark.parametrize("bad", [{"brand": "Floralys", "ids": ["meta:1"]}, {"ids": ["meta:1", "x:2"]},
                                 {"brand": "Floralys", "ids": ["facebook:1", "x:2"]}])
def test_a_malformed_link_fails_loudly(bad) -> None:
    with pytest.raises(ValueError):
        PersonLinks.parse([bad])


def test_links_load_from_the_brands_file(tmp_path: Path) -> None:
    brands = tmp_path / "brands.json"
    brands.write_text(json.dumps({"accounts": {}, "linked_ids": [{"brand": "Floralys", "ids": ["meta:1", "x:2"]}]}))
    assert load_person_links(str(brands)).key("floralys", "x", "2") == "floralys/meta/1"
    assert load_person_links().aliases is not None  # the bundled file loads, links or not


def test_an_author_query_is_a_person_key_or_a_platform_user_id_in_every_brand_and_family() -> None:
    assert keys_for_query(f"Floralys/meta/{JEANNE_PSID}", ["Floralys"]) == [f"floralys/meta/{JEANNE_PSID}"]
    assert keys_for_query("987654321", ["Floralys"], Platform.X) == ["floralys/x/987654321"]
    everywhere = keys_for_query(JEANNE_PSID, ["Floralys", "Rosalie"])
    assert f"floralys/meta/{JEANNE_PSID}" in everywhere and f"rosalie/x/{JEANNE_PSID}" in everywhere
    links = PersonLinks.parse([{"brand": "Floralys", "ids": ["meta:1", "x:2"]}])
    assert keys_for_query("floralys/x/2", ["Floralys"], links=links) == ["floralys/meta/1"]


# ---------------------------------------------------------------- order numbers


@pytest.mark.parametrize(("text", "expected"), [
    ("Bonjour, j'ai commandé un bouquet (commande n° FL-20931), livraison prévue samedi.", ["FL-20931"]),
    ("toujours pas de bouquet ni de remboursement pour la commande FL-20931.", ["FL-20931"]),
    ("Mon n° de commande : fl-1234, merci de regarder", ["FL-1234"]),
    ("numero de commande 55555 svp", ["55555"]),
    ("@Floralys my order #123-456 never came", ["123-456"]),
    ("Ordered roses, Order FL-21877. Very disappointed.", ["FL-21877"]),
    ("order no. 778899 and order #778900", ["778899", "778900"]),
    ("Meine Bestellnummer 12345678 ist nicht angekommen", ["12345678"]),
    ("Bestellung Nr. 4711-22 fehlt seit Montag", ["4711-22"]),
    ("mi pedido 4567 no llegó", ["4567"]),
    ("número de pedido: 98765", ["98765"]),
    # Numbers that end on letters keep them; a thumb's typo of "order" still introduces one.
    ("commande FR12345A jamais reçue", ["FR12345A"]),
    ("mi pedido ES-20931-B no llegó", ["ES-20931-B"]),
    ("order 7H8K9L, where is it?", ["7H8K9L"]),
    ("ordr 887766 still not here", ["887766"]),
])
def test_order_numbers_quoted_after_an_order_word_are_found(text: str, expected: list[str]) -> None:
    assert order_numbers(text) == expected


@pytest.mark.parametrize("text", [
    "commande de 300 euros, jamais reçue",  # a price
    "I ordered 2 bouquets",
    "appelez-moi au 06 12 34 56 78",  # a phone number without an order word
    "j'ai commandé 3 fois chez vous",
    "Gagnez 500€ par semaine, écrivez-moi sur Telegram @gains_faciles",
])
def test_numbers_that_are_not_order_numbers_are_ignored(text: str) -> None:
    assert order_numbers(text) == []


@pytest.mark.parametrize("text", [
    "commande" + " : " * 2600 + "!",  # a forged comment of separators after an order word
    "commande" + " " * 7990 + "!",
    "order " + "n° " * 2600,
    "commande : " * 700,
])
def test_a_hostile_text_of_separators_finds_nothing_without_backtracking_for_ever(text: str) -> None:
    # Each order word is followed by a bounded window: this returns at once (pytest-timeout guards it).
    assert order_numbers(text) == []


@given(st.lists(st.sampled_from(["commande", "n°", "order", "#", "Bestellnummer", "pedido", ":", " ", "FL-",
                                  "2093", "1", "-", "/", "é", "abc", "12 34", "\n"]), max_size=40).map("".join))
def test_what_is_found_is_always_a_quoted_number_with_three_digits(text: str) -> None:
    found = order_numbers(text)
    assert len(found) <= 5 and len(set(found)) == len(found)
    for number in found:
        assert number == number.upper() and sum(ch.isdigit() for ch in number) >= 3
        assert number in text.upper()


def test_a_number_far_from_its_order_word_is_not_taken() -> None:
    assert order_numbers("commande" + " " * 80 + "FL-20931") == []


def test_a_search_term_is_normalized_like_the_stored_numbers() -> None:
    assert normalize_order_number(" #fl-20931 ") == "FL-20931"


# ---------------------------------------------------------------- on the case and in the queue message


def test_the_case_and_its_queue_message_carry_the_person_and_the_orders() -> None:
    message_post = post(Platform.MESSENGER, JEANNE_PSID, PostKind.MESSAGE,
                        text="toujours pas de bouquet pour la commande FL-20931")
    verdict = Verdict(label=Label.COMPLAINT, scores={"spam": 0, "complaint": 0.9, "crisis": 0.05, "normal": 0.05})
    case = build_case(message_post, verdict, route(Label.COMPLAINT, T0, SlaPolicy()), T0)
    assert case.person_key == f"floralys/meta/{JEANNE_PSID}" and case.order_numbers == ["FL-20931"]
    message = case_message(case)
    assert message["person_key"] == case.person_key and message["order_numbers"] == ["FL-20931"]
    assert_case_message(message)  # additive optional fields of moderato.case/v1

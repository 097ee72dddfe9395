"""The promises, on posts written as platforms deliver them (``tests/fixtures/real_shape``).

Those posts were written for this suite and are never trained on (a test below checks that none of
them is in ``training/data``). They carry @handles, t.co and photo links, hashtags, typos, missing
accents and code-switching, and comment spam of every kind seen on YouTube, Instagram, Facebook and X.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from moderato.classify import classify
from moderato.classify.normalize import normalize
from moderato_cli.commands.classify import post_from_row
from moderato_cli.commands.eval import SUITES, promises, suite_rows

ROOT = Path(__file__).resolve().parents[3]
TRAINING_DATA = ROOT / "training" / "data"
ROWS: list[dict[str, Any]] = [row for _, _, row in suite_rows("real-shape")]


def labelled(rows: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    return [(row, classify(post_from_row(row, i)).label.value) for i, row in enumerate(rows, start=1)]


@pytest.fixture(scope="module")
def judged() -> list[tuple[dict[str, Any], str]]:
    return labelled(ROWS)


def test_suite_covers_every_kind_it_promises_about() -> None:
    kinds = {row["kind"] for row in ROWS}
    assert len(ROWS) >= 200
    assert {"complaint_with_link_or_handle", "crisis_idiom", "chatter", "brand_crisis", "explicit_self_harm",
            "explicit_violence", "explicit_poisoning", "spam_promo", "spam_giveaway", "spam_crypto",
            "spam_chain", "spam_dating", "spam_fake_support"} <= kinds
    assert SUITES["real-shape"].is_dir()


def test_suite_is_never_trained_on() -> None:
    suite = {normalize(row["text"]).folded for row in ROWS}
    for path in TRAINING_DATA.rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                assert normalize(json.loads(line)["text"]).folded not in suite, path.name


def test_no_complaint_with_a_link_or_a_handle_is_spam(judged: list[tuple[dict[str, Any], str]]) -> None:
    as_spam = [row["text"] for row, got in judged
               if row["kind"] == "complaint_with_link_or_handle" and got == "spam"]
    assert as_spam == []


def test_no_chatter_or_idiom_with_a_handle_is_spam(judged: list[tuple[dict[str, Any], str]]) -> None:
    as_spam = [row["text"] for row, got in judged if row["kind"] in ("chatter", "crisis_idiom") and got == "spam"]
    assert len(as_spam) <= 1, as_spam


def test_spam_recall_and_precision_floor(judged: list[tuple[dict[str, Any], str]]) -> None:
    figures = promises(judged)
    assert figures["spam_recall"] >= 0.85
    assert figures["spam_precision"] >= 0.95


@pytest.mark.parametrize("kind", ["spam_promo", "spam_giveaway", "spam_crypto", "spam_chain", "spam_dating",
                                  "spam_fake_support"])
def test_each_kind_of_comment_spam_is_mostly_caught(judged: list[tuple[dict[str, Any], str]], kind: str) -> None:
    got = [label for row, label in judged if row["kind"] == kind]
    assert sum(label == "spam" for label in got) >= 0.6 * len(got), kind


def test_crisis_idioms_are_not_crises(judged: list[tuple[dict[str, Any], str]]) -> None:
    as_crisis = [row["text"] for row, got in judged if row["kind"] == "crisis_idiom" and got == "crisis"]
    assert len(as_crisis) <= 2, as_crisis


def test_every_explicit_self_harm_violence_or_poisoning_post_is_crisis(
        judged: list[tuple[dict[str, Any], str]]) -> None:
    missed = [row["text"] for row, got in judged if row.get("safety_net") and got != "crisis"]
    assert missed == []

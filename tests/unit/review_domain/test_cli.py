"""The reviewer CLI's pure parts: feedback rows for training, and refusing to run without a token."""

from __future__ import annotations

from typing import Any

import pytest

from moderato_cli.commands.export_feedback import training_rows
from moderato_cli.main import main


def test_feedback_becomes_one_training_row_per_case_latest_wins() -> None:
    records: list[dict[str, Any]] = [
        {"case_id": "c1", "to_label": "spam", "text": "buy followers", "language": "en", "platform": "x"},
        {"case_id": "c2", "to_label": "normal", "text": "", "language": None, "platform": "facebook"},
        {"case_id": "c1", "to_label": "normal", "text": "buy followers", "language": "en", "platform": "x"},
    ]
    assert training_rows(records) == [{"id": "feedback-c1", "text": "buy followers", "label": "normal",
                                       "lang": "en", "platform": "x", "source": "feedback"}]


def test_review_without_a_token_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("MODERATO_TOKEN", raising=False)
    assert main(["review", "--api", "http://127.0.0.1:9", "list"]) == 2
    assert "moderato token" in capsys.readouterr().err

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


def test_show_prints_the_post_reasons_and_history(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from moderato_cli.commands import review

    detail = {
        "case": {"case_id": "facebook-c1", "label": "complaint", "status": "open", "version": 2, "priority": 2,
                 "sla_due_at": "2999-01-01T00:00:00Z", "ban_proposals": [],
                 "reasons": [{"code": "rule.complaint.delivery", "message": "Late delivery.", "detail": "livraison"}],
                 "post": {"platform": "facebook", "kind": "comment", "text": "Rien reçu", "permalink": None,
                          "author": {"id": "42", "name": "Jeanne Martin", "handle": None, "followers": 180}}},
        "history": [{"version": 1, "at": "2026-11-25T09:00:00Z", "actor": "system:triage", "action": "triaged",
                     "reason": "rule.complaint.delivery"},
                    {"version": 2, "at": "2026-11-25T09:05:00Z", "actor": "alice", "action": "claimed"}],
    }
    monkeypatch.setattr(review.ReviewClient, "call", lambda self, method, path, *a, **k: detail)
    assert main(["review", "--token", "t", "show", "facebook-c1"]) == 0
    out = capsys.readouterr().out
    assert "Jeanne Martin, 180 followers" in out and "Rien reçu" in out
    assert "rule.complaint.delivery: Late delivery. (livraison)" in out
    assert "alice claimed" in out

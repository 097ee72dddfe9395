"""`moderato classify` and `moderato eval`: JSONL in, verdicts and figures out, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moderato_cli.main import main


def write(tmp_path: Path, rows: list[object] | str) -> Path:
    path = tmp_path / "posts.jsonl"
    if isinstance(rows, str):
        path.write_text(rows, encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_classify_prints_one_verdict_per_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, [
        {"id": "a", "text": "Ma commande n'est jamais arrivée, remboursez-moi", "platform": "x"},
        {"id": "b", "text": "", "author_followers": 3, "brand": "acme"},
    ])
    assert main(["classify", str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert lines[0]["label"] == "complaint"
    assert set(lines[0]["scores"]) == {"spam", "complaint", "crisis", "normal"}
    assert {"code", "message", "detail"} <= set(lines[0]["reasons"][0])
    assert lines[1]["reasons"][0]["code"] == "post.empty_text"


def test_classify_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO('{"text": "hello"}\n'))
    assert main(["classify"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] in {"spam", "complaint", "crisis", "normal"}


def test_bad_json_line_exits_2_with_line_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, '{"text": "ok"}\n{not json\n')
    assert main(["classify", str(path)]) == 2
    assert ":2:" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_eval_prints_figures_and_writes_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, [
        {"id": "1", "text": "Intoxication alimentaire, toute la famille aux urgences", "label": "crisis"},
        {"id": "2", "text": "Ma commande est arrivée cassée, je veux un remboursement", "label": "complaint"},
        {"id": "3", "text": "Merci, le bouquet était magnifique !", "label": "spam"},
    ])
    errors = tmp_path / "errors.jsonl"
    assert main(["eval", str(path), "--errors", str(errors)]) == 0
    out = capsys.readouterr().out
    for needle in ("macro-F1", "crisis recall", "complaint as spam", "confusion"):
        assert needle in out
    wrong = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [w["id"] for w in wrong] == ["3"]
    assert wrong[0]["expected"] == "spam" and wrong[0]["reasons"]


def test_eval_rejects_unknown_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, [{"text": "x", "label": "urgent"}])
    assert main(["eval", str(path)]) == 2
    assert ":1:" in capsys.readouterr().err


def test_sentences_on_the_command_line_get_a_readable_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    # Given two sentences typed as a newcomer would, not a file
    assert main(["classify", "je vais me suicider", "merci pour le bouquet, il était magnifique"]) == 0
    out = capsys.readouterr().out.splitlines()
    # Then each gets its label first and its reasons below; the safety net shows as a rule, not a score
    verdicts = [line for line in out if not line.startswith(" ")]
    assert verdicts[0].split()[:2] == ["CRISIS", "rule"] and verdicts[0].endswith("je vais me suicider")
    assert any("crisis.self_harm" in line for line in out)
    assert verdicts[1].split()[0] == "NORMAL"


def test_sentences_as_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "--json", "Ich bringe mich heute Nacht um"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["label"] == "crisis" and line["reasons"][0]["code"] == "crisis.self_harm"


def test_files_and_sentences_are_not_mixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, [{"text": "hello"}])
    assert main(["classify", str(path), "a sentence"]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_long_sentence_is_classified_not_taken_for_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    # 1,000 emojis and a 600-character complaint: both far past a file name's 255 bytes
    long_complaint = "@Floralys toujours pas de bouquet, commande FL-20931, " * 11
    assert main(["classify", "😀" * 1000, long_complaint]) == 0
    verdicts = [line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert len(verdicts) == 2 and verdicts[0].split()[0] == "NORMAL"

"""`moderato eval FILE.jsonl` or `moderato eval --suite real-shape`: measure the classifier on labelled posts.

Prints per-class precision, recall and F1, macro-F1, the confusion matrix, the complaint-as-spam count
and the crisis recall. ``--errors OUT.jsonl`` writes each misclassified post with its verdict and
reasons; ``--json`` prints the figures as one JSON object instead of a table.

``--suite real-shape`` reads ``tests/fixtures/real_shape/*.jsonl``: posts written as platforms deliver
them (@handles, t.co photo links, hashtags, typos, comment spam), never used in training. Each row
has a ``kind``; the suite adds the product's promises to the figures: complaints with a link or a
handle never spam, explicit self-harm, violence and poisoning posts always crisis, spam recall and
precision, and crisis idioms ("this price is killing me") kept out of crisis.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from moderato.classify.evaluation import CLASSES, report
from moderato_cli.commands.classify import InputError, open_input, post_from_row, read_rows, verdict_json
from moderato_cli.paths import REPO_ROOT

SUITES: dict[str, Path] = {"real-shape": REPO_ROOT / "tests" / "fixtures" / "real_shape"}
COMPLAINT_WITH_LINK_OR_HANDLE = "complaint_with_link_or_handle"
CRISIS_IDIOM = "crisis_idiom"


def suite_rows(name: str) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """``(source, line_number, row)`` for every post of a named suite, file by file in name order."""
    folder = SUITES[name]
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise InputError(f"suite {name}: no *.jsonl in {folder}")
    for path in files:
        handle, source = open_input(str(path))
        with handle:
            for number, row in read_rows(handle, source):
                yield source, number, row


def file_rows(path: str) -> Iterator[tuple[str, int, dict[str, Any]]]:
    handle, source = open_input(path)
    with handle:
        for number, row in read_rows(handle, source):
            yield source, number, row


def evaluate(path: str, errors_path: str | None = None) -> dict[str, Any]:
    """Figures for one labelled JSONL file."""
    return evaluate_rows(file_rows(path), errors_path)


def evaluate_rows(rows: Iterable[tuple[str, int, dict[str, Any]]], errors_path: str | None = None) -> dict[str, Any]:
    """Classify every labelled row; figures, plus the promises when rows carry a ``kind``."""
    from moderato.classify import classify, default_classifier

    y_true: list[int] = []
    y_pred: list[int] = []
    errors: list[dict[str, Any]] = []
    judged: list[tuple[dict[str, Any], str]] = []
    for source, number, row in rows:
        label = str(row.get("label", "")).strip().lower()
        if label not in CLASSES:
            raise InputError(f"{source}:{number}: 'label' must be one of {', '.join(CLASSES)}")
        post = post_from_row(row, number)
        verdict = classify(post)
        y_true.append(CLASSES.index(label))
        y_pred.append(CLASSES.index(verdict.label.value))
        judged.append((row, verdict.label.value))
        if verdict.label.value != label:
            errors.append({"expected": label, "text": post.text, "lang": row.get("lang"), "kind": row.get("kind"),
                           **verdict_json(str(row.get("id", post.post_id)), verdict)})
    if not y_true:
        raise InputError("no labelled posts")
    figures = report(y_true, y_pred)
    figures["n"] = len(y_true)
    figures["model"] = default_classifier().version
    if any("kind" in row for row, _ in judged):
        figures["promises"] = promises(judged)
    if errors_path:
        Path(errors_path).write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors),
                                     encoding="utf-8")
    return figures


def promises(judged: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
    """What the product promises on real-shape posts, counted over the rows marked for it."""
    linked = [got for row, got in judged if row.get("kind") == COMPLAINT_WITH_LINK_OR_HANDLE]
    explicit = [got for row, got in judged if row.get("safety_net")]
    idioms = [got for row, got in judged if row.get("kind") == CRISIS_IDIOM]
    spam_true = [got for row, got in judged if row.get("label") == "spam"]
    spam_said = [row.get("label") for row, got in judged if got == "spam"]
    by_kind: dict[str, dict[str, int]] = {}
    for row, got in judged:
        entry = by_kind.setdefault(str(row.get("kind", "")), {"posts": 0, "right": 0})
        entry["posts"] += 1
        entry["right"] += int(got == row.get("label"))
    return {
        "complaints_with_link_or_handle": len(linked),
        "complaints_with_link_or_handle_as_spam": sum(got == "spam" for got in linked),
        "explicit_crisis": len(explicit),
        "explicit_crisis_missed": sum(got != "crisis" for got in explicit),
        "crisis_idioms": len(idioms),
        "crisis_idioms_as_crisis": sum(got == "crisis" for got in idioms),
        "spam_recall": round(sum(got == "spam" for got in spam_true) / len(spam_true), 4) if spam_true else 0.0,
        "spam_precision": round(spam_said.count("spam") / len(spam_said), 4) if spam_said else 0.0,
        "by_kind": dict(sorted(by_kind.items())),
    }


def format_table(figures: dict[str, Any]) -> str:
    lines = [f"model {figures['model']}  posts {figures['n']}", "",
             f"{'label':<10} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for name in CLASSES:
        row = figures["per_class"][name]
        lines.append(f"{name:<10} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} "
                     f"{row['support']:>8}")
    lines += ["", f"macro-F1           {figures['macro_f1']:.4f}",
              f"accuracy           {figures['accuracy']:.4f}",
              f"crisis recall      {figures['crisis_recall']:.4f}",
              f"complaint as spam  {figures['complaint_as_spam']}", "",
              "confusion (rows: true, columns: predicted)",
              " " * 11 + "".join(f"{c[:9]:>10}" for c in CLASSES)]
    for name, counts in zip(CLASSES, figures["confusion"], strict=True):
        lines.append(f"{name:<11}" + "".join(f"{n:>10}" for n in counts))
    promised = figures.get("promises")
    if promised:
        lines += ["", "promises",
                  f"complaints with a link or handle as spam  {promised['complaints_with_link_or_handle_as_spam']}"
                  f" of {promised['complaints_with_link_or_handle']}",
                  f"explicit self-harm/violence/poisoning missed  {promised['explicit_crisis_missed']}"
                  f" of {promised['explicit_crisis']}",
                  f"crisis idioms sent to crisis  {promised['crisis_idioms_as_crisis']} of {promised['crisis_idioms']}",
                  f"spam recall {promised['spam_recall']:.3f}  precision {promised['spam_precision']:.3f}", "",
                  f"{'kind':<34} {'right':>6} {'posts':>6}"]
        for kind, entry in promised["by_kind"].items():
            lines.append(f"{kind:<34} {entry['right']:>6} {entry['posts']:>6}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if bool(args.file) == bool(args.suite):
        print("moderato eval: give a FILE or --suite NAME", file=sys.stderr)
        return 2
    try:
        rows = suite_rows(args.suite) if args.suite else file_rows(args.file)
        figures = evaluate_rows(rows, args.errors)
    except InputError as error:
        print(f"moderato eval: {error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        print(f"moderato eval: {args.file or args.suite}: not UTF-8 text ({error.reason})", file=sys.stderr)
        return 2
    print(json.dumps(figures, sort_keys=True) if args.json else format_table(figures))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("eval", help="measure the classifier on a labelled JSONL file or a suite",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", help="JSONL with 'text' and 'label' per line")
    parser.add_argument("--suite", choices=sorted(SUITES), help="a labelled suite of the repository")
    parser.add_argument("--errors", metavar="OUT.jsonl", help="write misclassified posts with their reasons")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=run)

"""`moderato eval FILE.jsonl`: measure the classifier on labelled posts.

Prints per-class precision, recall and F1, macro-F1, the confusion matrix, the complaint-as-spam count
and the crisis recall. ``--errors OUT.jsonl`` writes each misclassified post with its verdict and
reasons; ``--json`` prints the figures as one JSON object instead of a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from moderato.classify.evaluation import CLASSES, report
from moderato_cli.commands.classify import InputError, open_input, post_from_row, read_rows, verdict_json


def evaluate(path: str, errors_path: str | None = None) -> dict[str, Any]:
    from moderato.classify import classify, default_classifier

    y_true: list[int] = []
    y_pred: list[int] = []
    errors: list[dict[str, Any]] = []
    handle, source = open_input(path)
    with handle:
        for number, row in read_rows(handle, source):
            label = str(row.get("label", "")).strip().lower()
            if label not in CLASSES:
                raise InputError(f"{source}:{number}: 'label' must be one of {', '.join(CLASSES)}")
            post = post_from_row(row, number)
            verdict = classify(post)
            y_true.append(CLASSES.index(label))
            y_pred.append(CLASSES.index(verdict.label.value))
            if verdict.label.value != label:
                errors.append({"expected": label, "text": post.text, "lang": row.get("lang"),
                               **verdict_json(str(row.get("id", post.post_id)), verdict)})
    if not y_true:
        raise InputError(f"{source}: no labelled posts")
    figures = report(y_true, y_pred)
    figures["n"] = len(y_true)
    figures["model"] = default_classifier().version
    if errors_path:
        Path(errors_path).write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors),
                                     encoding="utf-8")
    return figures


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
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        figures = evaluate(args.file, args.errors)
    except InputError as error:
        print(f"moderato eval: {error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        print(f"moderato eval: {args.file}: not UTF-8 text ({error.reason})", file=sys.stderr)
        return 2
    print(json.dumps(figures, sort_keys=True) if args.json else format_table(figures))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("eval", help="measure the classifier on a labelled JSONL file",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("file", help="JSONL with 'text' and 'label' per line")
    parser.add_argument("--errors", metavar="OUT.jsonl", help="write misclassified posts with their reasons")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=run)

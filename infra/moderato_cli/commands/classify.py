"""`moderato classify [FILE | TEXT ...]`: classify posts, from JSONL or from sentences on the command line.

With a JSONL file (or stdin when nothing is given, or '-'), one JSON verdict per line. With sentences
(`moderato classify "je vais me suicider" "killer deal"`), a readable verdict per sentence: the label,
the scores and every reason; `--json` prints JSON lines for sentences too. An argument is a file when
it names one that exists or ends in .jsonl/.json; anything else is a sentence.

Each input line is an object with ``text`` and optionally ``id``, ``platform``, ``author_name``,
``author_followers``, ``brand``. Output: ``{"id", "label", "scores", "reasons": [{code, message,
detail}], "language", "model"}``. An unreadable file or a bad line stops with its line number, exit 2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from moderato.models import Author, Platform, Post, PostKind, Verdict


class InputError(Exception):
    """A line of the input cannot be turned into a post (the message names the line)."""


def post_from_row(row: dict[str, Any], line_number: int = 0) -> Post:
    """A ``Post`` from a JSONL row: platform defaults to facebook, kind comment, created now."""
    text = row.get("text", "")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InputError(f"line {line_number}: 'text' must be a string")
    platform_name = str(row.get("platform") or "facebook").lower()
    try:
        platform = Platform(platform_name)
    except ValueError:
        platform = Platform.FACEBOOK  # an unknown platform does not change what the text says
    followers = row.get("author_followers")
    post_id = str(row.get("id") or f"line-{line_number}")
    return Post(
        platform=platform,
        kind=PostKind.COMMENT,
        post_id=post_id,
        account_id=str(row.get("account_id") or "cli"),
        author=Author(name=row.get("author_name"),
                      followers=followers if isinstance(followers, int) and followers >= 0 else None),
        text=text,
        created_at=datetime.now(UTC),
        brand=row.get("brand"),
        dedup_key=f"cli:{hashlib.sha256(post_id.encode()).hexdigest()[:16]}",
    )


def read_rows(handle: TextIO, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, row)`` for each non-blank line; raise ``InputError`` on bad JSON."""
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{source}:{number}: invalid JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{source}:{number}: expected a JSON object")
        yield number, row


def open_input(path: str | None) -> tuple[TextIO, str]:
    if not path or path == "-":
        return sys.stdin, "<stdin>"
    try:
        return Path(path).open(encoding="utf-8", errors="surrogateescape"), path
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None


def verdict_json(post_id: str, verdict: Verdict) -> dict[str, Any]:
    return {
        "id": post_id,
        "label": verdict.label.value,
        "scores": verdict.scores,
        "reasons": [r.model_dump() for r in verdict.reasons],
        "language": verdict.language,
        "model": verdict.model,
    }


_FILE_SUFFIXES = (".jsonl", ".json", ".ndjson")


def is_file_argument(argument: str) -> bool:
    """A file (or stdin) to read, rather than a sentence to classify."""
    if argument == "-" or argument.lower().endswith(_FILE_SUFFIXES):
        return True
    try:
        return Path(argument).is_file()
    except (OSError, ValueError):  # a long sentence is no file name ("File name too long", NUL bytes)
        return False


def verdict_lines(text: str, verdict: Verdict) -> list[str]:
    """What a person reads: the label and its score, then every reason with its sentence."""
    # A safety-net hit binds the label whatever the model scores: its score would only mislead here.
    score = "rule" if verdict.safety else f"{verdict.scores.get(verdict.label.value, 0.0):.2f}"
    lines = [f"{verdict.label.value.upper():9} {score:>4}  {text}"]
    for item in verdict.reasons:
        detail = f" [{item.detail}]" if item.detail else ""
        lines.append(f"          - {item.code}: {item.message}{detail}")
    return lines


def run_sentences(sentences: list[str], as_json: bool) -> int:
    from moderato.classify import classify

    for number, text in enumerate(sentences, start=1):
        post = post_from_row({"text": text, "id": f"arg-{number}"}, number)
        verdict = classify(post)
        if as_json:
            sys.stdout.write(json.dumps(verdict_json(post.post_id, verdict), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write("\n".join(verdict_lines(text, verdict)) + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    inputs: list[str] = args.inputs
    files = [a for a in inputs if is_file_argument(a)]
    if files and len(files) != len(inputs):
        print("moderato classify: give either JSONL files or sentences, not both", file=sys.stderr)
        return 2
    if inputs and not files:
        return run_sentences(inputs, args.json)
    if len(files) > 1:
        print("moderato classify: one JSONL file at a time", file=sys.stderr)
        return 2
    return run_file(files[0] if files else None)


def run_file(path: str | None) -> int:
    from moderato.classify import classify

    try:
        handle, source = open_input(path)
        with handle if handle is not sys.stdin else _nullcontext(handle):
            for number, row in read_rows(handle, source):
                post = post_from_row(row, number)
                out = verdict_json(str(row.get("id", post.post_id)), classify(post))
                sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    except InputError as error:
        print(f"moderato classify: {error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        print(f"moderato classify: {path}: not UTF-8 text ({error.reason})", file=sys.stderr)
        return 2
    return 0


class _nullcontext:  # stdin must not be closed by the with-block
    def __init__(self, handle: TextIO) -> None:
        self.handle = handle

    def __enter__(self) -> TextIO:
        return self.handle

    def __exit__(self, *exc: object) -> None:
        return None


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("classify", help="classify sentences, or JSONL posts (stdin by default)",
                                   description=__doc__.split("\n\n")[1])
    parser.add_argument("inputs", nargs="*", metavar="FILE | TEXT",
                        help="a JSONL file of posts ('-' or nothing: stdin), or one or more sentences")
    parser.add_argument("--json", action="store_true", help="JSON lines for sentences too")
    parser.set_defaults(func=run)

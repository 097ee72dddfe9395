"""``moderato replay FILE.jsonl --to URL``: send posts as signed platform deliveries, with progress.

Rows may carry fields replay does not know (the demo's ``expect``, notes, ...): they are ignored and
never reach the delivery, so a labelled evaluation file can be replayed as it is.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import requests
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from moderato_cli.deliveries import load_secrets, read_rows, sign_delivery
from moderato_cli.paths import LOCAL_SECRETS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay", help="send JSONL posts as correctly signed platform webhook deliveries",
        description="Turn simple JSONL posts (text, optional platform, author_name, author_followers, brand, id) "
                    "into realistic signed Meta or X deliveries and POST them to a Moderato gateway. "
                    "Other fields (such as a demo row's expect) are ignored.",
        epilog="Optional fields per row: platform (facebook, instagram, messenger, x; default facebook), "
               "kind (message: an X direct message; messenger rows are always messages), "
               "brand (whose account receives it), id, author_name, author_id, author_handle, "
               "thread (posts with the same thread share a parent post), "
               "reply_to (the id of the row this one answers), offset_seconds (delay from now). "
               "author_followers, author_posts and author_age_days reach X payloads only: "
               "Meta webhooks carry no follower count or account age.",
    )
    parser.add_argument("file", type=Path, help="JSONL file, one post per line")
    parser.add_argument("--to", default="http://127.0.0.1:8787", metavar="URL",
                        help="base URL of the API (default: the local stack, %(default)s)")
    parser.add_argument("--secrets", type=Path, default=LOCAL_SECRETS,
                        help="webhook secrets used to sign (default: the fake local secrets)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default %(default)s)")
    parser.set_defaults(func=run)


def replay(rows: list[dict], base_url: str, secrets: dict, timeout: float = 10.0,
           console: Console | None = None) -> Counter[int]:
    """POST every row; return a count of HTTP statuses. Shows a progress bar on ``console``."""
    statuses: Counter[int] = Counter()
    session = requests.Session()
    console = console or Console(stderr=True)
    columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("replay", total=len(rows))
        for index, row in enumerate(rows):
            delivery = sign_delivery(row, index, secrets)
            url = f"{base_url.rstrip('/')}/webhooks/{delivery.webhook}"
            try:
                response = session.post(url, data=delivery.body, headers=delivery.headers, timeout=timeout)
                statuses[response.status_code] += 1
                if response.status_code != 200:
                    console.print(f"[yellow]{delivery.row_id}: HTTP {response.status_code} {response.text[:200]}")
            except requests.RequestException as error:
                statuses[0] += 1
                console.print(f"[red]{delivery.row_id}: {error}")
            progress.advance(task)
    return statuses


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    try:
        rows = read_rows(args.file)
        secrets = load_secrets(args.secrets)
    except (OSError, ValueError) as error:
        console.print(f"[red]error:[/red] {error}")
        return 2
    statuses = replay(rows, args.to, secrets, args.timeout, console)
    summary = ", ".join(f"{count} x {'no answer' if code == 0 else f'HTTP {code}'}"
                        for code, count in sorted(statuses.items()))
    print(f"sent {len(rows)} posts to {args.to}: {summary}", file=sys.stdout)
    return 0 if set(statuses) <= {200} else 1

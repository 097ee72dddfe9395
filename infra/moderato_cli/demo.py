"""The demo that ``moderato local --demo`` replays: the Floralys story, and where each post went.

A customer's bouquet never came; she complains on Facebook, on X and in Messenger; a fake "support"
account answers her with a WhatsApp number; spam piles on; a wave of double charges reaches the press
and a child has an allergic reaction. Each post must end as a case in the queue its label implies.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from moderato.adapters.aws import client
from moderato.adapters.case_store import CaseStore
from moderato.cases import case_id_for
from moderato.models import Case
from moderato.platforms import get_platform
from moderato.platforms.base import DeliveryContext
from moderato_cli.commands.replay import replay
from moderato_cli.deliveries import build_payload, load_secrets, read_rows
from moderato_cli.paths import DEMO_DIR, LOCAL_SECRETS

DEMO_FILE = DEMO_DIR / "floralys_story.jsonl"
LABEL_STYLE = {"crisis": "bold red", "complaint": "yellow", "spam": "magenta", "normal": "green"}
QUEUE_ENV = {"CrisisQueue": "CRISIS_QUEUE_URL", "ComplaintQueue": "COMPLAINT_QUEUE_URL",
             "SpamQueue": "SPAM_QUEUE_URL"}


def expected_case_ids(rows: list[dict[str, Any]]) -> list[str | None]:
    """The case id each row must produce, computed with the same parser triage uses."""
    ids: list[str | None] = []
    for index, row in enumerate(rows):
        _platform, webhook, payload = build_payload(row, index)
        posts = get_platform(webhook).parse(payload, DeliveryContext(received_at=datetime.now(UTC)))
        ids.append(case_id_for(posts[0]) if posts else None)
    return ids


def _short_reasons(case: Case) -> str:
    # Reasons come ordered by how much they support the label, so the first two say why.
    shown = [f"model {r.detail}" if r.code == "model.score" and r.detail else r.code for r in case.reasons[:2]]
    more = len(case.reasons) - len(shown)
    return ", ".join(shown) + (f" +{more}" if more > 0 else "")


def summary_table(rows: list[dict[str, Any]], cases: list[Case | None]) -> Table:
    table = Table(title="Where each demo post went", title_justify="left", header_style="bold")
    table.add_column("platform", no_wrap=True, min_width=9)
    table.add_column("author", no_wrap=True, max_width=18, overflow="ellipsis")
    table.add_column("post", no_wrap=True, max_width=50, overflow="ellipsis")
    table.add_column("label", no_wrap=True, min_width=9)
    table.add_column("queue", no_wrap=True, min_width=14)
    table.add_column("why (reason codes)", no_wrap=True, max_width=38, overflow="ellipsis")
    for row, case in zip(rows, cases, strict=True):
        author = row.get("author_name") or "?"
        if case is None:
            table.add_row(row.get("platform", "facebook"), author, row["text"], "[red]MISSING",
                          "-", "no case was created")
            continue
        style = LABEL_STYLE.get(case.label.value, "")
        table.add_row(case.post.platform.value, author, row["text"],
                      f"[{style}]{case.label.value}[/]", case.queue or "- (kept)", _short_reasons(case))
    return table


def queue_depths() -> dict[str, int]:
    sqs = client("sqs")
    depths: dict[str, int] = {}
    for queue, env_name in QUEUE_ENV.items():
        url = os.environ.get(env_name)
        if url:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            depths[queue] = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return depths


def run_demo(gateway_url: str, console: Console, wait_idle: Callable[[float], bool], aws: dict | None = None,
             demo_file: Path = DEMO_FILE) -> int:
    rows = read_rows(demo_file)
    if not console.is_terminal:
        console.width = max(console.width, 160)  # logs and CI: keep one post per line
    console.print(f"\n[bold]Replaying {len(rows)} signed demo webhooks[/] from {demo_file.name} "
                  f"to {gateway_url}/webhooks/{{meta,x}} ...")
    statuses = replay(rows, gateway_url, load_secrets(LOCAL_SECRETS), console=console)
    console.print("webhook answers: " + ", ".join(f"{n} x HTTP {code}" for code, n in sorted(statuses.items())))
    if not wait_idle(60.0):
        console.print("[yellow]triage is still busy after 60 s; the summary may be incomplete")
    store = CaseStore(os.environ["CASES_TABLE_NAME"], client("dynamodb"))
    cases = [store.get(case_id) if case_id else None for case_id in expected_case_ids(rows)]
    console.print(summary_table(rows, cases))
    depths = queue_depths()
    console.print("Messages waiting for review consumers: " +
                  ", ".join(f"[bold]{queue}[/] {count}" for queue, count in depths.items()))
    crises = sum(1 for case in cases if case and case.label.value == "crisis")
    console.print(f"Crisis alerts published to AlertsTopic (SNS): {crises}. "
                  "Nothing was hidden, deleted or banned: every decision waits for a human.")
    missing = sum(1 for case in cases if case is None)
    if missing:
        console.print(f"[red]{missing} demo post(s) did not become a case: see .local/logs/lambda.log")
    return 1 if missing else 0

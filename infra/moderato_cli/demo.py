"""The demo that ``moderato local --demo`` replays: the Floralys story, and where each post went.

A customer's bouquet never came; she complains on Facebook, on X and in Messenger; a fake "support"
account answers her with a WhatsApp number; spam piles on; a wave of double charges reaches the press
and a child has an allergic reaction. Each post must end as a case in the queue its label implies.

Each demo row carries the label it must get (``expect``, ignored by replay). The summary marks a post
whose label differs (and says so on a last line), and counts the crisis alerts that were really
published on AlertsTopic: a queue subscribed to the topic for the length of the demo receives them.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console
from rich.table import Table

from moderato.adapters.aws import client
from moderato.adapters.case_store import CaseStore
from moderato.models import Case
from moderato.platforms import get_platform
from moderato.platforms.base import DeliveryContext
from moderato.triage.cases import case_id_for
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
        posts = get_platform(webhook).parse(payload, DeliveryContext(received_at=datetime.now(UTC))).posts
        ids.append(case_id_for(posts[0]) if posts else None)
    return ids


def _short_reasons(case: Case) -> str:
    # Reasons come ordered by how much they support the label, so the first two say why.
    shown = [f"model {r.detail}" if r.code == "model.score" and r.detail else r.code for r in case.reasons[:2]]
    more = len(case.reasons) - len(shown)
    return ", ".join(shown) + (f" +{more}" if more > 0 else "")


def mismatches(rows: list[dict[str, Any]], cases: list[Case | None]) -> list[tuple[dict[str, Any], Case]]:
    """The (row, case) pairs whose case got another label than the row's ``expect``."""
    return [(row, case) for row, case in zip(rows, cases, strict=True)
            if case is not None and row.get("expect") and case.label.value != row["expect"]]


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
        label = f"[{style}]{case.label.value}[/]"
        expected = row.get("expect")
        if expected and expected != case.label.value:
            label += f" [bold red]✗ not {expected}[/]"
        table.add_row(case.post.platform.value, author, row["text"], label, case.queue or "- (kept)",
                      _short_reasons(case))
    return table


def queue_depths(sqs: Any) -> dict[str, int]:
    depths: dict[str, int] = {}
    for queue, env_name in QUEUE_ENV.items():
        url = os.environ.get(env_name)
        if url:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            depths[queue] = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return depths


@dataclass
class AlertsInbox:
    """A queue subscribed to AlertsTopic while the demo runs: it receives what the topic publishes."""

    sqs: Any
    sns: Any
    url: str | None = None
    subscription: str | None = None
    received: list[dict[str, Any]] = field(default_factory=list)

    def open(self, topic_arn: str) -> AlertsInbox:
        self.url = self.sqs.create_queue(QueueName=f"moderato-demo-alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.subscription = self.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
        return self

    def take_new(self) -> list[dict[str, Any]]:
        """The alerts published since the last call (the SNS message bodies, decoded)."""
        new: list[dict[str, Any]] = []
        while self.url and (batch := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10)
                            .get("Messages", [])):
            for message in batch:
                try:
                    new.append(json.loads(json.loads(message["Body"])["Message"]))
                except (ValueError, KeyError, TypeError):
                    new.append({"kind": "unreadable"})
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        self.received.extend(new)
        return new

    def drain(self) -> list[dict[str, Any]]:
        """Every alert published since open()."""
        self.take_new()
        return self.received

    def close(self) -> None:
        if self.subscription:
            self.sns.unsubscribe(SubscriptionArn=self.subscription)
        if self.url:
            self.sqs.delete_queue(QueueUrl=self.url)
        self.subscription = self.url = None


def print_summary(console: Console, rows: list[dict[str, Any]], cases: list[Case | None],
                  depths: dict[str, int], alerts: list[dict[str, Any]] | None) -> int:
    """Print where each post went and what was published; return 1 if a post is missing or mislabelled."""
    console.print(summary_table(rows, cases))
    console.print("Messages waiting for review consumers: " +
                  ", ".join(f"[bold]{queue}[/] {count}" for queue, count in depths.items()))
    if alerts is None:
        console.print("Crisis alerts published to AlertsTopic (SNS): not counted (no access to the topic).")
    else:
        demo_ids = {case.case_id for case in cases if case is not None}
        crises = sum(1 for alert in alerts if alert.get("kind") == "crisis_case" and alert.get("case_id") in demo_ids)
        waves = sum(1 for alert in alerts if alert.get("kind") == "wave_alert")
        console.print(f"Crisis alerts published to AlertsTopic (SNS): {crises}"
                      + (f", complaint wave alerts: {waves}" if waves else "") + ".")
    console.print("Nothing was hidden, deleted or banned: every decision waits for a human.")
    missing = sum(1 for case in cases if case is None)
    if missing:
        console.print(f"[red]{missing} demo post(s) did not become a case: see .local/logs/lambda.log")
    wrong = mismatches(rows, cases)
    if wrong:
        listed = ", ".join(f"{row.get('id', '?')} got {case.label.value}, expected {row['expect']}"
                           for row, case in wrong)
        console.print(f"[bold red]✗ {len(wrong)} demo post(s) did not get their expected label: {listed}")
    elif not missing and all(row.get("expect") for row in rows):
        console.print(f"[green]✓ all {len(rows)} demo posts got their expected label.")
    return 1 if missing or wrong else 0


def run_demo(gateway_url: str, console: Console, wait_idle: Callable[[float], bool], aws: dict | None = None,
             demo_file: Path = DEMO_FILE) -> int:
    """Replay the demo through the gateway, wait for triage, print the summary; 0 when all went as expected.

    ``aws``: boto3 client settings for the stack's emulated AWS (endpoint_url, region, credentials);
    without it, clients come from the environment.
    """
    rows = read_rows(demo_file)
    if not console.is_terminal:
        console.width = max(console.width, 160)  # logs and CI: keep one post per line

    def aws_client(service: str) -> Any:
        return boto3.client(service, **aws) if aws else client(service)

    sqs = aws_client("sqs")
    inbox = AlertsInbox(sqs, aws_client("sns"))
    topic_arn = os.environ.get("ALERTS_TOPIC_ARN")
    try:
        if topic_arn:
            inbox.open(topic_arn)  # before the replay: it sees only what is published from now on
        console.print(f"\n[bold]Replaying {len(rows)} signed demo webhooks[/] from {demo_file.name} "
                      f"to {gateway_url}/webhooks/{{meta,x}} ...")
        statuses = replay(rows, gateway_url, load_secrets(LOCAL_SECRETS), console=console)
        console.print("webhook answers: " + ", ".join(f"{n} x HTTP {code}" for code, n in sorted(statuses.items())))
        if not wait_idle(60.0):
            console.print("[yellow]triage is still busy after 60 s; the summary may be incomplete")
        store = CaseStore(os.environ["CASES_TABLE_NAME"], aws_client("dynamodb"))
        cases = [store.get(case_id) if case_id else None for case_id in expected_case_ids(rows)]
        alerts = inbox.drain() if topic_arn else None
    finally:
        inbox.close()
    return print_summary(console, rows, cases, queue_depths(sqs), alerts)

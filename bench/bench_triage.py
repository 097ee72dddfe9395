"""Triage function: AWS calls, DynamoDB write and read units per post, for batches of 10 single-post deliveries.

The real handler runs in process against moto (bench/triage_run.py); botocore hooks count every call
by service and operation, and the capacity units are computed from the items (bench/aws_meter.py says
why moto's own figure cannot be used). Three batches run on a table that already holds the earlier
ones, so the figures include the reads of a warm table, not only of an empty one.

The floor is the fewest calls a post strictly needs when triage works per SQS batch: one read of the
batch's state (BatchGetItem), one write of its items (BatchWriteItem, 25 items a call), one send per
review queue the batch uses (SendMessageBatch), one publish per crisis alert. Triage writes each new
case with a PutItem of its own, above that floor: a case must be written only if it does not exist, which
BatchWriteItem cannot say, and a transaction, which can, bills every item twice.

"Before" is the same bench run on earlier trees (commits named below), recorded when they were measured.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

BATCHES = 3
SUSTAINED_POSTS_PER_SECOND = 50  # the rate the local stack and the signals are sized for
# (calls, WCU, RCU) per post, measured by this bench on earlier trees.
BEFORE = {
    "8dde5bb (idempotency utility, a query per band, a send per case)": (24.3, 45.3, 6.7),
    "e067278 (batched reads and sends, routed markers, case transaction)": (6.17, 21.70, 0.92),
}


@dataclass
class TriageFigures:
    posts: int
    calls: Counter[str]
    wcu: float
    rcu: float
    wcu_by_table: dict[str, float]
    wcu_by_index: dict[str, float]
    seconds: float
    aws_seconds: float
    log_bytes: int
    floor_calls: float
    sends: int  # case queue messages (SendMessage or entries of SendMessageBatch)
    failures: int
    journal_item_bytes: float  # mean size of the signals journal items the batches wrote
    overlap_rcu: float  # per post: each batch's re-read of the journal overlap at the sustained rate


def overlap_read_units(journal_item_bytes: float, posts_per_second: float = SUSTAINED_POSTS_PER_SECOND) -> float:
    """Read units per post that each batch's refresh spends re-reading the journal's overlap, when every
    environment writes an item per batch of 10 at ``posts_per_second`` (3 quick batches here see little of
    it: a sustained rate does)."""
    from bench.aws_meter import query_read_units
    from moderato.adapters.signal_store import JOURNAL_OVERLAP

    items = JOURNAL_OVERLAP.total_seconds() * posts_per_second / 10
    return query_read_units(items * journal_item_bytes) / 10


def _journal_item_bytes() -> float:
    import os

    import boto3

    from bench.aws_meter import item_size

    unmetered = boto3.session.Session().client("dynamodb")  # the bench's own read is not triage's cost
    pages = unmetered.get_paginator("scan").paginate(TableName=os.environ["SIGNALS_TABLE_NAME"])
    sizes = [item_size(item) for page in pages for item in page["Items"] if item["pk"]["S"].startswith("JOURNAL#")]
    return sum(sizes) / len(sizes) if sizes else 0.0


def measure(batches: int = BATCHES) -> TriageFigures:
    from bench.triage_run import TEXTS, run_batch, sqs_event, triage_under_moto

    warnings.filterwarnings("ignore", message="No application metrics")
    with triage_under_moto() as (triage, meter):
        run_batch(triage, meter, sqs_event(TEXTS, 99))  # warm: first sightings of counters, baselines
        meter.reset()
        results = [run_batch(triage, meter, sqs_event(TEXTS, batch)) for batch in range(batches)]
        posts = sum(r.posts for r in results)
        queues = len(meter.queues_sent_to)
        crisis = meter.calls.get("sns.Publish", 0)
        floor = batches * (1 + 1 + queues) + crisis
        journal_bytes = _journal_item_bytes()
        return TriageFigures(
            posts=posts, calls=Counter(meter.calls), wcu=sum(meter.wcu.values()), rcu=sum(meter.rcu.values()),
            wcu_by_table=dict(meter.wcu), wcu_by_index=dict(meter.wcu_by_index),
            seconds=sum(r.seconds for r in results), aws_seconds=sum(r.aws_seconds for r in results),
            log_bytes=sum(r.log_bytes for r in results), floor_calls=floor / posts,
            sends=meter.sent_messages, failures=sum(r.failures for r in results),
            journal_item_bytes=journal_bytes, overlap_rcu=overlap_read_units(journal_bytes))


def _short(table: str) -> str:
    return table.split("-")[-1] if "-" in table else table


def run() -> None:
    figures = measure()
    posts = figures.posts
    total = sum(figures.calls.values())
    print(f"{posts} posts in {posts // 10} SQS batches of 10 single-post deliveries, against moto "
          f"(triage handler in process; table already holds earlier batches); failures: {figures.failures}")
    print(f"  AWS calls per post       {total / posts:6.2f}   (floor, batched per SQS batch: "
          f"{figures.floor_calls:.2f})")
    for name, count in sorted(figures.calls.items(), key=lambda item: -item[1]):
        print(f"    {name:38s} {count / posts:6.2f}")
    print(f"  DynamoDB WCU per post    {figures.wcu / posts:6.2f}   (computed from item sizes and index "
          f"projections: moto reports a constant)")
    for table, units in sorted(figures.wcu_by_table.items(), key=lambda item: -item[1]):
        print(f"    {_short(table):38s} {units / posts:6.2f}")
    for index, units in sorted(figures.wcu_by_index.items(), key=lambda item: -item[1]):
        if units:
            print(f"      of which index {_short(index):23s} {units / posts:6.2f}")
    print(f"  DynamoDB RCU per post    {figures.rcu / posts:6.2f}   + {figures.overlap_rcu:.2f} at a sustained "
          f"{SUSTAINED_POSTS_PER_SECOND} posts/s (each batch re-reads the journal's overlap: items of "
          f"{figures.journal_item_bytes:.0f} bytes)")
    print(f"  case messages per post   {figures.sends / posts:6.2f}")
    print(f"  log bytes per post       {figures.log_bytes / posts:6.0f}")
    print(f"  handler time per post    {figures.seconds / posts * 1000:6.1f} ms, of which in moto "
          f"{figures.aws_seconds / posts * 1000:.1f} ms")
    print("  per post                   calls     WCU     RCU")
    for tree, (calls, wcu, rcu) in BEFORE.items():
        print(f"    before {tree}")
        print(f"    {'':22s} {calls:7.2f} {wcu:7.2f} {rcu:7.2f}")
    print(f"    now {'':18s} {total / posts:7.2f} {figures.wcu / posts:7.2f} {figures.rcu / posts:7.2f}"
          f"   target: calls <= 3 ({'met' if total / posts <= 3 else 'MISSED'})")


if __name__ == "__main__":
    run()

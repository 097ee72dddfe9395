"""Signal window cold start at volume: what a new triage environment reads back and rebuilds.

A cold start reads the signals journal back over the waves' horizon (4 hours) and keeps, of the hours
before the recent one, only the posts counted in a wave (adapters/signal_store.py). This section writes
that journal for a sustained rate of posts with the real ``encode_journal`` (one item per batch of 10;
90 % of posts fingerprinted, a quarter counted in a wave), serves it to the real
``DynamoSignalStore.refresh`` through a client that pages it as DynamoDB does (a page stops after 1 MB of
items read), and prints what that read costs: items, pages, bytes and read units, the CPU time of
decoding it into the window, the window's memory, and an estimate of the wall time in Lambda (the CPU
time at the triage function's CPU share, plus each page at an assumed latency, as many at once as the
store reads in parallel). The figure to hold
against is the triage function's timeout: a cold start that cannot finish its first refresh times out,
and its batch is retried by a new environment that starts over.
"""

from __future__ import annotations

import base64
import bisect
import gc
import json
import random
import resource
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.aws_meter import item_size, query_read_units
from bench.cost import FULL_VCPU_MB

RATES = (10, 50)  # posts per second, sustained over the whole horizon
BATCH = 10  # posts per SQS batch: one journal item each
WAVE_SHARE = 0.25
SIGNED_SHARE = 0.9
PAGE_BYTES = 1_000_000  # DynamoDB stops a Query page after 1 MB of items read
PAGE_LATENCY_MS = 60.0  # assumed: one 1 MB Query page read in the region (cost.py assumes 6 ms for a small call)
TRIAGE_MEMORY_MB = 1024  # template.yaml, TriageFunction
TRIAGE_TIMEOUT_S = 30


def _journal(rate: int, now: datetime, horizon: timedelta) -> list[dict[str, Any]]:
    """The journal items a triage would have written at ``rate`` posts/s over ``horizon`` before ``now``."""
    from moderato.adapters.signal_store import _iso, encode_journal
    from moderato.signals.store import JournalEntry, WavePost

    dice = random.Random(rate)  # nosec B311  # synthetic load, not a secret
    items: list[dict[str, Any]] = []
    seconds_per_batch = BATCH / rate
    batches = int(horizon.total_seconds() / seconds_per_batch)
    start = now - horizon
    for batch in range(batches):
        written = start + timedelta(seconds=(batch + 1) * seconds_per_batch)
        entries = []
        for slot in range(BATCH):
            number = batch * BATCH + slot
            at = written - timedelta(seconds=seconds_per_batch * (BATCH - slot) / BATCH)
            signature = tuple(dice.getrandbits(16) for _ in range(64)) if dice.random() < SIGNED_SHARE else None
            wave_key, wave_post = None, None
            if dice.random() < WAVE_SHARE:
                wave_key = f"floralys-fb#{dice.choice(('delivery', 'refund', 'quality'))}"
                wave_post = WavePost(f"meta:1:{number}", at, ("livraison", "commande", "jamais"),
                                     dice.randrange(10, 50_000), f"Client {number}",
                                     "Ma commande n'est jamais arrivée et personne ne répond au service client, "
                                     "c'est la troisième fois")
            entries.append(JournalEntry(f"meta:1:{number}", at, f"meta:{dice.randrange(200_000)}",
                                        f"1:{dice.randrange(5_000)}", dice.choice(("normal", "complaint", "spam")),
                                        False, signature, wave_key, wave_post))
        d, s = encode_journal(entries, [], written)
        items.append({"pk": {"S": f"JOURNAL#{written:%Y%m%d}"},
                      "sk": {"S": f"{_iso(written)}#batch-{batch}"},
                      "d": {"B": d}, "s": {"B": s}, "expires_at": {"N": "0"}})
    return items


class PagingDynamoDB:
    """DynamoDB's side of the journal Query, answered to a real botocore client from a ``before-send`` hook:
    the partition's items after the start key, in key order, a page at a time (1 MB of items read), as
    the JSON DynamoDB sends (binary attributes in base64), so the client parses and decodes them as it
    would in Lambda. Counts pages, bytes and read units, and the CPU time spent on this side (building the
    answers), which the measurement leaves out."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self._items = sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))
        self._keys = [(item["pk"]["S"], item["sk"]["S"]) for item in self._items]
        self.pages = self.bytes = 0
        self.read_units = self.server_cpu = 0.0
        self._lock = threading.Lock()

    def client(self) -> Any:
        import boto3

        client = boto3.session.Session().client("dynamodb", region_name="eu-west-1", aws_access_key_id="bench",
                                                aws_secret_access_key="bench")  # nosec B106  # never sent
        client.meta.events.register("before-send.dynamodb.Query", self._answer)
        return client

    def _answer(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        begin = time.thread_time()  # this thread's CPU: the store reads from several threads at once
        query = json.loads(request.body)
        values = query["ExpressionAttributeValues"]
        partition = values[":pk"]["S"]
        after = query.get("ExclusiveStartKey", {}).get("sk", {}).get("S", values[":since"]["S"])
        until = values.get(":until", {}).get("S", "\uffff")  # BETWEEN :since AND :until, else no upper bound
        names = query.get("ExpressionAttributeNames", {})
        projection = ({names.get(name.strip(), name.strip()) for name in query["ProjectionExpression"].split(",")}
                      if "ProjectionExpression" in query else None)
        position = bisect.bisect_right(self._keys, (partition, after))
        page: list[dict[str, Any]] = []
        size = 0

        def more(at: int) -> bool:
            return at < len(self._items) and self._keys[at][0] == partition and self._keys[at][1] <= until

        while more(position) and size < PAGE_BYTES:
            page.append(self._items[position])
            size += item_size(self._items[position])  # read units count the whole item, projected or not
            position += 1
        answer: dict[str, Any] = {"Items": [_wire(item, projection) for item in page], "Count": len(page),
                                  "ScannedCount": len(page)}
        if size >= PAGE_BYTES and more(position):
            answer["LastEvaluatedKey"] = {"pk": page[-1]["pk"], "sk": page[-1]["sk"]}
        body = json.dumps(answer).encode()
        with self._lock:
            self.pages += 1
            self.bytes += size
            self.read_units += query_read_units(size)  # eventually consistent, as the store reads
            self.server_cpu += time.thread_time() - begin
        return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.0"}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _wire(item: dict[str, Any], projection: set[str] | None) -> dict[str, Any]:
    return {name: {"B": base64.b64encode(value["B"]).decode()} if "B" in value else value
            for name, value in item.items() if projection is None or name in projection}


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


def measure(rate: int) -> dict[str, float]:
    from moderato.adapters.signal_store import COLD_READ_THREADS, DynamoSignalStore
    from moderato.signals.window import SignalWindow

    now = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
    items = _journal(rate, now, SignalWindow().waves)
    dynamodb = PagingDynamoDB(items)
    store = DynamoSignalStore("SignalsTable", dynamodb.client(), clock=lambda: now)
    del items
    gc.collect()
    before = _rss_mb()
    start_cpu = time.process_time()
    store.refresh()
    cpu = time.process_time() - start_cpu - dynamodb.server_cpu
    figures = {"entries": float(len(dynamodb._items) * BATCH), "held": float(len(store.window)), "cpu_s": cpu,
               "memory_mb": _rss_mb() - before, "pages": float(dynamodb.pages), "mb_read": dynamodb.bytes / 1e6,
               "read_units": dynamodb.read_units}
    # In Lambda: the client's work (parsing, decoding, the window) at the function's CPU share, plus the
    # pages' round trips, COLD_READ_THREADS at a time (not counted as overlapping the CPU: an upper bound).
    figures["lambda_s"] = (cpu * FULL_VCPU_MB / TRIAGE_MEMORY_MB
                           + dynamodb.pages * PAGE_LATENCY_MS / 1000 / COLD_READ_THREADS)
    return figures


def run() -> None:
    print(f"signal window cold start: the journal of 4 hours at a sustained rate (one item per batch of {BATCH}, "
          f"{WAVE_SHARE:.0%} of posts in a wave),\n  read by the real refresh() through botocore, paged as DynamoDB "
          f"does; Lambda estimate: CPU at {TRIAGE_MEMORY_MB} MB's share + {PAGE_LATENCY_MS:.0f} ms per 1 MB page "
          f"(assumed),\n  pages read by the store's threads at once")
    print(f"  {'posts/s':>7s} {'entries':>9s} {'held':>9s} {'pages':>6s} {'MB read':>8s} {'RCU':>7s} {'CPU':>8s} "
          f"{'memory':>8s} {'in Lambda':>10s}  timeout {TRIAGE_TIMEOUT_S} s")
    for rate in RATES:
        f = measure(rate)
        verdict = "fits" if f["lambda_s"] < TRIAGE_TIMEOUT_S / 2 else (
            "TIGHT" if f["lambda_s"] < TRIAGE_TIMEOUT_S else "EXCEEDS")
        print(f"  {rate:>7d} {f['entries']:>9,.0f} {f['held']:>9,.0f} {f['pages']:>6.0f} {f['mb_read']:>8.1f} "
              f"{f['read_units']:>7.0f} {f['cpu_s']:>6.2f} s {f['memory_mb']:>5.0f} MB {f['lambda_s']:>8.1f} s  "
              f"{verdict}")


if __name__ == "__main__":
    run()

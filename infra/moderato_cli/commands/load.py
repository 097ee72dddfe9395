"""``moderato load``: signed deliveries against a local stack with faults injected; prove none is lost.

Starts its own local stack (a child process) with fault injection on (infra/moderato_local/faults.py:
a share of the handlers' SQS, DynamoDB, S3 and SNS calls fail, and one triage batch crashes halfway),
sends N signed posts with a share sent twice (platform redeliveries), retries a 5xx or a dropped
connection as platforms do, waits until the stack is idle, then counts. A delivery is lost when it was
accepted (answered 200: the local gateway's access log, as ``moderato reconcile`` reads it, joined with
the delivery ledger) and is neither a case nor in IngestDLQ; the same is checked per post, independently
of the access log and the ledger, from the posts sent and the cases that exist. Every delivery sent is correctly signed,
so one whose final answer is not 200 (a 4xx, or a 5xx or no answer after every platform retry) is a
failure too, counted in "lost". Exit status 1 when anything is lost.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from moderato.platforms import get_platform
from moderato.platforms.base import DeliveryContext
from moderato.triage.cases import case_id_for
from moderato_cli.commands.dlq import parse_delivery, peek, redrive
from moderato_cli.commands.reconcile import Evidence, Reconciliation, existing_case_ids, gather
from moderato_cli.deliveries import SignedDelivery, build_payload, load_secrets, read_rows, sign_delivery
from moderato_cli.paths import DEMO_DIR, FUNCTIONS_DIR, LOCAL_SECRETS, TEMPLATE
from moderato_cli.stack_resources import StackResources

SEGMENT = 500  # deliveries per throughput segment in the report
PLATFORM_ATTEMPTS = 4  # a platform retries a delivery that got a 5xx or no answer (Meta: for 36 h)
ROW_FIELDS = ("platform", "brand", "kind", "author_followers")
SCHEDULE_SECONDS = 300


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("load", help="replay signed deliveries against a local stack with faults; "
                                                "exit 1 if any is lost", description=__doc__)
    parser.add_argument("--n", type=int, default=100, help="distinct posts to send (default %(default)s)")
    parser.add_argument("--dup", type=float, default=0.1, help="share sent twice (default %(default)s)")
    parser.add_argument("--fault", type=float, default=0.05,
                        help="share of the handlers' SQS/DynamoDB/S3/SNS calls that fail (default %(default)s)")
    parser.add_argument("--crashes", type=int, default=1, help="triage batches that crash halfway (default 1)")
    parser.add_argument("--concurrency", type=int, default=4, help="deliveries in flight (default %(default)s)")
    parser.add_argument("--rate", type=float, default=0,
                        help="deliveries offered per second (default: as fast as --concurrency allows); latency "
                             "is only meaningful at a rate the stack keeps up with")
    parser.add_argument("--seed", type=int, default=7, help="makes posts, duplicates and faults repeatable")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the stack to go idle")
    parser.add_argument("--retry-delay", type=int, default=1,
                        help="seconds before SQS retries a failed record locally (AWS: the 200 s visibility "
                             "timeout; default %(default)s)")
    parser.add_argument("--no-redrive", dest="redrive", action="store_false",
                        help="do not switch faults off and redrive IngestDLQ at the end")
    parser.set_defaults(func=run)


def synthetic_rows(n: int, seed: int) -> list[dict[str, Any]]:
    """N distinct posts in the demo's voices (each its own id, so its own case)."""
    voices = read_rows(DEMO_DIR / "floralys_story.jsonl")
    dice = random.Random(seed)  # nosec B311  # sample data, not a secret
    rows = []
    for index in range(n):
        voice = voices[index % len(voices)]
        row = {key: voice[key] for key in ROW_FIELDS if key in voice}
        row.update(id=f"load-{seed}-{index:05d}", author_name=f"{voice.get('author_name', 'Client')} {index}",
                   text=f"{voice['text']} (commande FL-{dice.randrange(10_000, 99_999)})")
        rows.append(row)
    return rows


@dataclass
class Sent:
    delivery: SignedDelivery
    case_id: str | None
    status: int = 0  # the final answer; 0: no answer after every attempt
    attempts: int = 0


def expected_case_id(row: dict[str, Any], index: int) -> str | None:
    _platform, webhook, payload = build_payload(row, index)
    posts = get_platform(webhook).parse(payload, DeliveryContext(received_at=datetime.now(UTC))).posts
    return case_id_for(posts[0]) if posts else None


def deliver(session: requests.Session, base_url: str, sent: Sent, not_before: float = 0.0) -> Sent:
    url = f"{base_url}/webhooks/{sent.delivery.webhook}"
    if (wait := not_before - time.monotonic()) > 0:
        time.sleep(wait)  # the offered rate (--rate): a platform sends as its users post, not all at once
    for attempt in range(PLATFORM_ATTEMPTS):
        sent.attempts = attempt + 1
        try:
            sent.status = session.post(url, data=sent.delivery.body, headers=sent.delivery.headers,
                                       timeout=30).status_code
        except requests.RequestException:
            sent.status = 0
        if sent.status and sent.status < 500:
            return sent
        time.sleep(0.2 * 2 ** attempt)
    return sent


@dataclass
class LoadReport:
    sent: int
    redeliveries: int
    statuses: Counter[int]
    platform_retries: int
    reconciliation: Reconciliation
    lost_posts: list[str]
    dlq_depths: dict[str, int]
    faults: dict[str, int]
    elapsed: float
    settled: bool
    after_redrive: Reconciliation | None = None
    # Seconds from the receipt (the access-log line, else the ledger's received_at) to triage's outcome.
    latencies: list[float] = field(default_factory=list)
    # Seconds from the first send to each triaged delivery's outcome, in order: the throughput per segment.
    outcomes: list[float] = field(default_factory=list)
    distinct_posts: int = 0
    rate: float = 0.0  # offered deliveries per second, 0: as fast as the concurrency allowed

    @property
    def duplicated(self) -> int:
        """Cases beyond one per distinct post (a redelivery or a retried batch must add none)."""
        return max(0, self.reconciliation.cases - self.distinct_posts) if self.distinct_posts else 0

    @property
    def triage_rate(self) -> float:
        """Deliveries triaged per second, from the first send to the last outcome."""
        return len(self.outcomes) / self.outcomes[-1] if self.outcomes and self.outcomes[-1] > 0 else 0.0

    @property
    def refused(self) -> int:
        """Correctly signed deliveries whose final answer was not 200: the platform holds them, we do not."""
        return self.sent - self.statuses.get(200, 0)

    @property
    def lost(self) -> int:
        later = len(self.after_redrive.lost) if self.after_redrive else 0
        return len(self.reconciliation.lost) + len(self.lost_posts) + later + self.refused

    def lines(self) -> list[str]:
        accepted = self.statuses.get(200, 0)
        r = self.reconciliation
        return [
            f"sent        {self.sent:>7}  deliveries ({self.redeliveries} redeliveries of the same post)",
            f"accepted    {accepted:>7}  answered 200 ({self.platform_retries} platform retries after a 5xx); "
            f"{r.logged} in the access log reconcile reads",
            f"rejected    {self.sent - accepted:>7}  {dict(sorted(self.statuses.items()))}",
            f"cases       {r.cases:>7}",
            f"DLQ         {r.in_dlq:>7}  deliveries in IngestDLQ; every DLQ: {self.dlq_depths}",
            f"pending     {r.pending:>7}",
            f"lost        {self.lost:>7}  ({len(r.lost)} by reconcile: access log and ledger, {len(self.lost_posts)} "
            f"posts without a case or a DLQ message, {self.refused} signed deliveries not answered 200)",
            f"throughput  {r.cases / self.elapsed if self.elapsed else 0:>7.2f}  cases/s end to end "
            f"({self.elapsed:.0f} s{'' if self.settled else ', did NOT go idle before the timeout'})",
            f"deliveries  {self.sent / self.elapsed if self.elapsed else 0:>7.2f}  per second sent and settled",
            f"triaged     {self.triage_rate:>7.2f}  deliveries/s from the first send to the last outcome "
            f"({len(self.outcomes)} deliveries; offered {f'{self.rate:g}/s' if self.rate else 'as fast as answered'})",
            f"segments    {' '.join(f'{rate:.1f}' for rate in segment_rates(self.outcomes)) or '-':>7}  "
            f"deliveries/s per {SEGMENT} triaged, in order (a slowdown shows as falling figures)",
            f"latency     {_quantile(self.latencies, 0.5):>7.2f}  s receipt to case, p50; p95 "
            f"{_quantile(self.latencies, 0.95):.2f} s; max {max(self.latencies, default=0):.2f} s",
            f"duplicated  {self.duplicated:>7}  cases beyond one per distinct post",
            f"faults      {sum(self.faults.values()):>7}  injected {self.faults}",
            *(f"  DLQ {count}x  {error}" for error, count in r.dlq_errors.most_common(5)),
            *([] if self.after_redrive is None else [
                f"redrive     faults off, IngestDLQ sent back: cases {self.after_redrive.cases}, "
                f"DLQ {self.after_redrive.in_dlq}, pending {self.after_redrive.pending}, "
                f"lost {len(self.after_redrive.lost)}"]),
        ]


def run_load(n: int, dup: float, fault: float, crashes: int, concurrency: int, seed: int,
             timeout: float, redrive_after: bool = True, retry_delay: int = 1, rate: float = 0.0) -> LoadReport:
    from moderato_local.process import LocalStackProcess

    rows = synthetic_rows(n, seed)
    secrets = load_secrets(LOCAL_SECRETS)
    originals = [Sent(sign_delivery(row, index, secrets), expected_case_id(row, index))
                 for index, row in enumerate(rows)]
    dice = random.Random(seed)  # nosec B311  # sample data, not a secret
    again = [Sent(sent.delivery, sent.case_id) for sent in originals if dice.random() < dup]
    sends = originals + again
    dice.shuffle(sends)
    switch = Path(tempfile.mkdtemp(prefix="moderato-load-")) / "faults-off"
    env = {"MODERATO_LOCAL_FAULT_RATE": str(fault), "MODERATO_LOCAL_FAULT_SEED": str(seed),
           "MODERATO_LOCAL_RETRY_DELAY": str(retry_delay),
           # The SLA check at its deployed rate (template.yaml: rate(5 minutes)), not the demo's every 60 s:
           # over thousands of open cases, five times its deployed work would be measured as the pipeline's.
           "MODERATO_LOCAL_SCHEDULE_SECONDS": str(SCHEDULE_SECONDS),
           "MODERATO_LOCAL_CRASH_BATCHES": str(crashes), "MODERATO_LOCAL_FAULTS_OFF_FILE": str(switch)}
    with LocalStackProcess(TEMPLATE, FUNCTIONS_DIR, env=env) as stack:
        started, started_at = time.monotonic(), datetime.now(UTC)
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=max(1, concurrency)))
        spacing = 1 / rate if rate > 0 else 0.0
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            done = list(pool.map(lambda indexed: deliver(session, stack.gateway_url, indexed[1],
                                                         started + indexed[0] * spacing), enumerate(sends)))
        settled = stack.wait_idle(timeout, settle=2.0)
        elapsed = time.monotonic() - started
        resources = StackResources(local=True, stack="moderato-local", options=stack.aws_settings())
        # The gateway sends its access log every half second: idle for 2 s, every line is there.
        evidence = gather(resources)
        reconciliation = evidence.reconcile(grace=timedelta(0))
        lost_posts = _posts_without_a_trace(resources, done)
        sqs = resources.client("sqs")
        depths = {name: int(sqs.get_queue_attributes(QueueUrl=resources.physical_id(name),
                                                     AttributeNames=["ApproximateNumberOfMessages"])
                            ["Attributes"]["ApproximateNumberOfMessages"])
                  for name in resources.dead_letter_queues()}
        faults = requests.get(f"{stack.gateway_url}/health", timeout=5).json().get("faults_injected", {})
        latencies, outcomes = _timings(evidence, started_at)
        report = LoadReport(len(sends), len(again), Counter(sent.status for sent in done),
                            sum(sent.attempts - 1 for sent in done), reconciliation, lost_posts, depths, faults,
                            elapsed, settled, latencies=latencies, outcomes=outcomes,
                            distinct_posts=len({sent.case_id for sent in originals if sent.case_id}), rate=rate)
        if redrive_after and reconciliation.in_dlq:
            # The fix an operator would deploy: no more faults. Then what waited in IngestDLQ comes back.
            switch.touch()
            redrive(resources, resources.dead_letter_queues()["IngestDLQ"], limit=100_000)
            report.settled = stack.wait_idle(timeout, settle=2.0) and report.settled
            report.after_redrive = gather(resources).reconcile(grace=timedelta(0))
    return report


def _timings(evidence: Evidence, started_at: datetime) -> tuple[list[float], list[float]]:
    """Receipt to outcome (triage) of every triaged delivery, and the first send to each outcome, in
    seconds, both sorted. The receipt is the access-log line's time (the ledger's, for a delivery the
    access log does not have)."""
    latencies, outcomes = [], []
    for entry in evidence.entries:
        received = evidence.received(str(entry["delivery_id"]), entry)
        if received is not None and entry.get("outcome_at"):
            outcome = datetime.fromisoformat(str(entry["outcome_at"]).replace("Z", "+00:00"))
            latencies.append((outcome - received).total_seconds())
            outcomes.append((outcome - started_at).total_seconds())
    return sorted(latencies), sorted(outcomes)


def segment_rates(outcomes: list[float], size: int = SEGMENT) -> list[float]:
    """Deliveries per second of each run of ``size`` outcomes (seconds since the first send, sorted);
    a last, shorter run counts too when it holds at least a tenth of ``size``."""
    rates, previous = [], 0.0
    for start in range(0, len(outcomes), size):
        chunk = outcomes[start:start + size]
        if start and len(chunk) < max(1, size // 10):
            break
        seconds = chunk[-1] - previous
        rates.append(len(chunk) / seconds if seconds > 0 else float("inf"))
        previous = chunk[-1]
    return rates


def _quantile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def _posts_without_a_trace(resources: StackResources, done: list[Sent]) -> list[str]:
    """Accepted posts whose case does not exist and whose delivery is not in IngestDLQ."""
    accepted = {sent.case_id: sent.delivery.body for sent in done if sent.status == 200 and sent.case_id}
    existing = existing_case_ids(resources.client("dynamodb"), resources.physical_id("CasesTable"), set(accepted))
    in_dlq = {delivery.body for message in peek(resources.client("sqs"), resources.physical_id("IngestDLQ"), 100_000)
              if (delivery := parse_delivery(message.body)) is not None}
    return sorted(case_id for case_id, body in accepted.items()
                  if case_id not in existing and body.decode() not in in_dlq)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.dup <= 1 or not 0 <= args.fault < 1 or args.n < 1:
        print("load: --n must be positive, --dup in [0, 1], --fault in [0, 1)", file=sys.stderr)
        return 2
    print(f"load: {args.n} posts, {args.dup:.0%} sent twice, {args.fault:.0%} of AWS calls failing, "
          f"{args.crashes} triage crash(es), concurrency {args.concurrency}"
          f"{f', {args.rate:g} deliveries/s offered' if args.rate else ''}; starting a local stack ...",
          file=sys.stderr)
    report = run_load(args.n, args.dup, args.fault, args.crashes, args.concurrency, args.seed, args.timeout,
                      args.redrive, args.retry_delay, args.rate)
    print("\n".join(report.lines()))
    return 1 if report.lost or not report.settled else 0

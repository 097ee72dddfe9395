"""`make cost`: USD per million posts, item by item, from what the handlers measurably do.

Measured in this run (moto in process, calls counted by bench/aws_meter.py): the webhook's and
triage's AWS calls, DynamoDB write and read units, the bytes they log, and their CPU time outside AWS
calls. Assumed (stated, not measured): the latency of each AWS call in the region, how Lambda's CPU
share scales with memory, the lines Lambda and API Gateway log themselves, and SQS's event source
polling (one ReceiveMessage and one DeleteMessageBatch per batch of 10 under load). Prices: PRICES
below, with the date they were read; the workload: single-post deliveries, batches of 10.
"""

from __future__ import annotations

import contextlib
import functools
import math
import sys
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.bench_triage import SUSTAINED_POSTS_PER_SECOND, TriageFigures, measure

if TYPE_CHECKING:
    from moderato_local.template import Template

# Public us-east-1 list prices (on-demand, no free tier), read on 2026-12-05 (docs/COST.md says where).
PRICES = {
    "api_http_per_million": 1.00,  # HTTP API, first 300 M requests a month
    "lambda_request_per_million": 0.20,
    "lambda_gb_second_arm64": 0.0000133334,
    "sqs_per_million": 0.40,  # standard queue, per 64 KB request
    "ddb_write_unit_per_million": 0.625,  # on-demand write request unit
    "ddb_read_unit_per_million": 0.125,  # on-demand read request unit
    "sns_publish_per_million": 0.50,
    "logs_ingest_per_gb": 0.50,  # CloudWatch Logs standard ingestion
}
PRICES_DATE = "2026-12-05"

# Assumed latency of one call from Lambda to the service in the same region, milliseconds.
LATENCY_MS = {"dynamodb": 6.0, "dynamodb-batch": 10.0, "sqs": 8.0, "sns": 15.0, "s3": 20.0,
              "secretsmanager": 20.0}
FULL_VCPU_MB = 1769  # Lambda gives one full vCPU at this memory; less memory, proportionally less CPU
LAMBDA_LOG_BYTES = 420  # START, END, REPORT (and the X-Ray trace line) per invocation, at SystemLogLevel INFO
LOG_EVENT_OVERHEAD = 26  # CloudWatch counts 26 bytes per log event on top of its text
# What API Gateway puts in one access log line for a platform's webhook delivery (a Meta POST).
ACCESS_LOG_CONTEXT = {
    "$context.requestId": "Jb2mXhOwliAEJkQ=", "$context.requestTime": "05/Dec/2026:02:25:35 +0000",
    "$context.identity.sourceIp": "173.252.127.118", "$context.identity.userAgent": "facebookexternalua",
    "$context.httpMethod": "POST", "$context.routeKey": "POST /webhooks/{platform}",
    "$context.path": "/prod/webhooks/meta", "$context.status": "200", "$context.responseLength": "21",
    "$context.responseLatency": "23", "$context.integrationLatency": "21", "$context.integrationStatus": "200",
    "$context.integrationErrorMessage": "-",
}
BATCH = 10
TARGET_USD = 5.0  # per million posts, all items included
WEBHOOK_REQUESTS = 50


@dataclass
class WebhookFigures:
    calls: dict[str, float]  # per delivery
    wcu: float
    cpu_seconds: float  # per delivery, outside AWS calls
    log_bytes: float


def _latency(calls: dict[str, float]) -> float:
    total = 0.0
    for name, count in calls.items():
        service, operation = name.split(".", 1)
        batched = service == "dynamodb" and (operation.startswith(("Batch", "Transact")) or operation == "Query")
        total += count * LATENCY_MS["dynamodb-batch" if batched else service]
    return total / 1000


def measure_webhook() -> WebhookFigures:
    """Signed Meta comments through the real webhook handler, against the same moto account as triage."""
    from bench.triage_run import TEXTS, _Context, _Counting, triage_under_moto
    from tests.support import api_event, encode, meta_comment, signed_headers

    with triage_under_moto() as (_triage, meter):
        import importlib

        import moderato.webhook_settings

        moderato.webhook_settings.webhook_settings.cache_clear()
        sys.modules.pop("webhook", None)
        with contextlib.redirect_stdout(_Counting()):
            webhook = importlib.import_module("webhook")
        events = []
        for n in range(WEBHOOK_REQUESTS + 5):
            body = encode(meta_comment(TEXTS[n % len(TEXTS)], comment_id=f"712750021053074_{1063824900000000 + n}"))
            events.append(api_event("POST", "/webhooks/meta", body, signed_headers("meta", body)))
        sink = _Counting()
        with contextlib.redirect_stdout(sink):
            for event in events[:5]:  # the secret is fetched once, then cached: warm
                webhook.lambda_handler(event, _Context())
            meter.reset()
            sink.bytes = 0
            start = time.perf_counter()
            for event in events[5:]:
                assert webhook.lambda_handler(event, _Context())["statusCode"] == 200
            seconds = time.perf_counter() - start - meter.overhead_seconds
        n = WEBHOOK_REQUESTS
        return WebhookFigures(calls={k: v / n for k, v in meter.calls.items()}, wcu=sum(meter.wcu.values()) / n,
                              cpu_seconds=(seconds - meter.aws_seconds) / n, log_bytes=sink.bytes / n)


@functools.cache
def _template() -> Template:
    from bench.triage_run import REPO
    from moderato_local.template import Template

    return Template.load(REPO / "template.yaml")


def _memory(logical_id: str) -> int:
    return next(spec.memory for spec in _template().functions() if spec.logical_id == logical_id)


def access_log_bytes() -> int:
    """One access log line in template.yaml's format, its variables filled with a real delivery's values."""
    line = str(_template().properties("HttpApi")["AccessLogSettings"]["Format"])
    for variable in sorted(ACCESS_LOG_CONTEXT, key=len, reverse=True):
        line = line.replace(variable, ACCESS_LOG_CONTEXT[variable])
    return len(line.encode("utf-8"))


def lambda_log_bytes() -> int:
    """Lambda's own lines per invocation: none below INFO (template.yaml's LambdaSystemLogLevel default)."""
    level = _template().parameter_defaults().get("LambdaSystemLogLevel", "INFO")
    return LAMBDA_LOG_BYTES if level in ("DEBUG", "INFO") else 0


def _lambda_seconds(cpu: float, latency: float, memory: int) -> float:
    return cpu * max(1.0, FULL_VCPU_MB / memory) + latency


def _ms(seconds: float) -> float:
    return math.ceil(seconds * 1000)  # billed by the started millisecond


def lines(webhook: WebhookFigures, triage: TriageFigures) -> list[tuple[str, float, str]]:
    """(item, USD per million posts, how it was computed)."""
    posts = triage.posts
    triage_calls = {k: v / posts for k, v in triage.calls.items()}
    webhook_memory, triage_memory = _memory("WebhookFunction"), _memory("TriageFunction")
    webhook_s = _lambda_seconds(webhook.cpu_seconds, _latency(webhook.calls), webhook_memory)
    triage_cpu = (triage.seconds - triage.aws_seconds) / posts
    triage_batch_s = _lambda_seconds(triage_cpu * BATCH, _latency(triage_calls) * BATCH, triage_memory)
    sqs_requests = (sum(v for k, v in webhook.calls.items() if k.startswith("sqs."))
                    + sum(v for k, v in triage_calls.items() if k.startswith("sqs.")) + 2 / BATCH)
    wcu = webhook.wcu + triage.wcu / posts
    rcu = triage.rcu / posts + triage.overlap_rcu
    platform_lines = lambda_log_bytes()
    log_bytes = (webhook.log_bytes + triage.log_bytes / posts + access_log_bytes() + platform_lines
                 + platform_lines / BATCH + LOG_EVENT_OVERHEAD * (2 + (4 if platform_lines else 0)))
    p = PRICES
    return [
        ("API Gateway HTTP API requests", p["api_http_per_million"], "1 request per delivery"),
        ("Lambda requests", p["lambda_request_per_million"] * (1 + 1 / BATCH),
         f"webhook 1 + triage 1/{BATCH} per post"),
        ("Lambda duration, webhook", 1e6 * _ms(webhook_s) / 1000 * webhook_memory / 1024
         * p["lambda_gb_second_arm64"], f"{_ms(webhook_s):.0f} ms billed at {webhook_memory} MB"),
        ("Lambda duration, triage", 1e6 / BATCH * _ms(triage_batch_s) / 1000 * triage_memory / 1024
         * p["lambda_gb_second_arm64"], f"{_ms(triage_batch_s):.0f} ms per batch of {BATCH} at {triage_memory} MB"),
        ("SQS requests", p["sqs_per_million"] * sqs_requests,
         f"{sqs_requests:.2f} per post (enqueue, poll+delete per batch, case messages)"),
        ("DynamoDB writes", p["ddb_write_unit_per_million"] * wcu,
         f"{wcu:.1f} WCU per post (webhook {webhook.wcu:.1f}, triage {triage.wcu / posts:.1f})"),
        ("DynamoDB reads", p["ddb_read_unit_per_million"] * rcu,
         f"{rcu:.1f} RCU per post (of which {triage.overlap_rcu:.1f} re-reading the journal's overlap at "
         f"{SUSTAINED_POSTS_PER_SECOND} posts/s)"),
        ("SNS publishes", p["sns_publish_per_million"] * triage_calls.get("sns.Publish", 0.0),
         f"{triage_calls.get('sns.Publish', 0.0):.2f} per post (crisis alerts)"),
        ("CloudWatch Logs ingestion", p["logs_ingest_per_gb"] * log_bytes * 1e6 / 1024**3,
         f"{log_bytes:.0f} bytes per post (handlers {webhook.log_bytes + triage.log_bytes / posts:.0f})"),
    ]


def main() -> int:
    warnings.filterwarnings("ignore", message="No application metrics")
    webhook = measure_webhook()
    triage = measure()
    rows = lines(webhook, triage)
    total = sum(usd for _, usd, _ in rows)
    print(f"USD per million posts (us-east-1 list prices of {PRICES_DATE}, arm64, single-post deliveries, "
          f"batches of {BATCH})")
    for item, usd, how in rows:
        print(f"  {item:32s} {usd:7.2f}   {how}")
    print(f"  {'total':32s} {total:7.2f}   target <= {TARGET_USD:.2f}: {'met' if total <= TARGET_USD else 'MISSED'}")
    calls = sum(triage.calls.values()) / triage.posts
    webhook_calls = sum(webhook.calls.values())
    print(f"AWS calls per post: triage {calls:.2f} (floor {triage.floor_calls:.2f}), webhook {webhook_calls:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

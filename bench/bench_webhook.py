"""Webhook function: cold import time and per-request time with SQS stubbed.

Import time is measured in fresh interpreters (a Lambda cold start imports the handler once);
the baseline is a fresh interpreter importing only boto3, which any Python Lambda on AWS pays too.
Per-request time calls the real handler with a real API Gateway v2 event and a signed Meta delivery;
SQS and Secrets Manager are replaced by in-memory stubs so the figure is our code, not the network.
The baseline in the same process is the unavoidable work: HMAC verification plus json.loads.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FAKE_ENV = {
    "INGEST_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/IngestQueue",
    "DELIVERY_BUCKET_NAME": "bench-bucket", "WEBHOOK_SECRET_ID": "bench-secret",
    "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "moderato",
    "POWERTOOLS_METRICS_NAMESPACE": "Moderato", "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
IMPORT_RUNS = 7
REQUESTS = 2000


def _import_seconds(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {**os.environ, **FAKE_ENV, "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO / "infra")])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


class _StubSqs:
    def send_message(self, **_kwargs: Any) -> dict[str, str]:
        return {"MessageId": "bench"}


def _timed(function: Any, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        function()
        samples.append((time.perf_counter_ns() - start) / 1000.0)
    return samples


def _p(samples: list[float], q: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(q * len(samples)))]


def run() -> None:
    warnings.filterwarnings("ignore", message="No application metrics")
    boto = [_import_seconds("import boto3") for _ in range(IMPORT_RUNS)]
    handler = [_import_seconds("import webhook") for _ in range(IMPORT_RUNS)]
    print(f"import time, median of {IMPORT_RUNS} fresh interpreters:")
    print(f"  baseline `import boto3`      {statistics.median(boto) * 1000:8.1f} ms")
    print(f"  `import webhook` (handler)   {statistics.median(handler) * 1000:8.1f} ms"
          f"   ({statistics.median(handler) / statistics.median(boto):.2f}x baseline)")

    os.environ.update(FAKE_ENV)
    sys.path[:0] = [str(REPO / "functions"), str(REPO / "infra"), str(REPO)]
    import webhook
    from moderato.platforms.meta import MetaPlatform
    from tests.support import api_event, encode, meta_comment

    secrets = {"app_secret": "bench-secret", "verify_token": "bench"}
    webhook._secrets.for_platform = lambda _name: secrets  # type: ignore[method-assign]
    webhook._ingest._sqs = _StubSqs()
    body = encode(meta_comment("Ma commande n'est jamais arrivée, commande 4471 " * 4))
    headers = MetaPlatform().sign(body, secrets)
    event = api_event("POST", "/webhooks/meta", body, headers)

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "bench", 512, "bench"
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"

        def get_remaining_time_in_millis(self) -> int:
            return 10_000

    context = Context()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        assert webhook.lambda_handler(event, context)["statusCode"] == 200
    platform = MetaPlatform()

    def baseline() -> None:
        platform.verify(headers, body, secrets)
        json.loads(body)

    # Logs and EMF metrics go to stdout in Lambda too; here they go to /dev/null, not the report.
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for _ in range(200):  # warm caches before measuring
            webhook.lambda_handler(event, context)
        base = _timed(baseline, REQUESTS)
        full = _timed(lambda: webhook.lambda_handler(event, context), REQUESTS)
    print(f"per request ({REQUESTS} signed Meta comments, {len(body)} bytes, SQS stubbed):")
    print(f"  baseline verify+json.loads   p50 {_p(base, 0.5):7.1f} us   p99 {_p(base, 0.99):7.1f} us")
    print(f"  webhook.lambda_handler       p50 {_p(full, 0.5):7.1f} us   p99 {_p(full, 0.99):7.1f} us"
          f"   ({_p(full, 0.5) / _p(base, 0.5):.1f}x baseline)")

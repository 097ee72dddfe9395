"""Webhook function: cold import and CPU per request, in a Lambda-like environment, against a minimal handler.

Every handler runs in fresh interpreters with what Lambda sets (``LAMBDA_TASK_ROOT``, the function
name, an X-Ray trace header per request) and ``POWERTOOLS_TRACE_DISABLED`` as template.yaml sets it
(and once more with call tracing on), so Powertools' tracer behaves as it does in Lambda. The
baseline is bench/minimal_webhook.py (HMAC + json + a boto3 SQS client): what any webhook pays.
AWS answers from a botocore ``before-send`` hook, so each request still builds, signs and parses a
real botocore call, but no network is involved; Secrets Manager is replaced by the secret itself (the
real handler caches it for minutes anyway).
CPU per request is process CPU time (what Lambda bills is wall time, but on a shared machine CPU time
is the steadier figure; neither includes the network).
"""

from __future__ import annotations

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
LAMBDA_ENV = {
    "INGEST_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/IngestQueue",
    "DELIVERY_BUCKET_NAME": "bench-bucket", "WEBHOOK_SECRET_ID": "bench-secret",
    "DELIVERY_LEDGER_TABLE_NAME": "bench-ledger",
    "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench", "LAMBDA_TASK_ROOT": str(REPO / "functions"),
    "AWS_LAMBDA_FUNCTION_NAME": "moderato-webhook", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    "POWERTOOLS_SERVICE_NAME": "moderato", "POWERTOOLS_METRICS_NAMESPACE": "Moderato",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
RUNS = 5
REQUESTS = 1500


def _child(which: str) -> dict[str, float]:
    """In a fresh interpreter: import the handler (timed), then call it REQUESTS times."""
    import contextlib
    import io

    import boto3
    from botocore.awsrequest import AWSResponse

    class _Raw:
        def __init__(self, body: bytes) -> None:
            self._body = body

        def stream(self, **_: Any) -> Any:
            yield self._body

    def answer(request: Any, **_: Any) -> AWSResponse:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        body = b'{"MessageId": "bench"}' if "SQS" in target else b"{}"
        return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.0"}, _Raw(body))

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-send", answer)  # clients copy the session's handlers
    sink = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        module = __import__("webhook" if which == "webhook" else "bench.minimal_webhook", fromlist=["x"])
    imported = time.perf_counter() - start

    from tests.support import api_event, encode, meta_comment

    body = encode(meta_comment("Ma commande n'est jamais arrivée, commande 4471 " * 4))
    secrets = {"app_secret": "bench-secret", "verify_token": "bench"}
    if which == "webhook":
        module._secrets.for_platform = lambda _name: secrets
    from moderato.platforms.meta import MetaPlatform

    event = api_event("POST", "/webhooks/meta", body, MetaPlatform().sign(body, secrets))

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "moderato-webhook", 512, "bench"
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:moderato-webhook"

        def get_remaining_time_in_millis(self) -> int:
            return 10_000

    samples: list[float] = []
    with contextlib.redirect_stdout(sink):
        for n in range(REQUESTS + 100):
            os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-6752a0b0-{n:024x};Parent={n:016x};Sampled=1"
            begin = time.process_time()
            assert module.lambda_handler(event, Context())["statusCode"] == 200
            if n >= 100:  # warm first
                samples.append(time.process_time() - begin)
            if n % 200 == 0:
                sink.seek(0)
                sink.truncate()
    return {"import_s": imported, "cpu_us": statistics.median(samples) * 1e6,
            "cpu_mean_us": statistics.fmean(samples) * 1e6}


def _template_tracing() -> str:
    """POWERTOOLS_TRACE_DISABLED as template.yaml sets it for the webhook (parameter defaults)."""
    sys.path[:0] = [str(REPO / "infra")]
    from moderato_local.resolver import Resolver
    from moderato_local.template import Template

    template = Template.load(REPO / "template.yaml")
    spec = next(spec for spec in template.functions() if spec.logical_id == "WebhookFunction")
    return str(Resolver(template).resolve(spec.environment.get("POWERTOOLS_TRACE_DISABLED", "false")))


def _fresh(which: str, tracing_disabled: str) -> dict[str, float]:
    env = {**os.environ, **LAMBDA_ENV, "POWERTOOLS_TRACE_DISABLED": tracing_disabled,
           "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO / "infra"), str(REPO)])}
    env.pop("AWS_ENDPOINT_URL", None)
    out = subprocess.run([sys.executable, "-m", "bench.bench_webhook", which.split(":")[0]], env=env, cwd=REPO,
                         capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure() -> dict[str, dict[str, float]]:
    """Median over RUNS fresh interpreters per variant, interleaved so drift hits all of them: the minimal
    handler, the webhook as template.yaml deploys it, and the webhook with call tracing switched on."""
    deployed = _template_tracing()
    variants = {"minimal": "true", "webhook": deployed, "webhook:traced": "false"}
    runs: dict[str, list[dict[str, float]]] = {which: [] for which in variants}
    for _ in range(RUNS):
        for which, disabled in variants.items():
            runs[which].append(_fresh(which, disabled))
    return {which: {key: statistics.median(r[key] for r in results) for key in results[0]}
            for which, results in runs.items()}


def run() -> None:
    warnings.filterwarnings("ignore", message="No application metrics")
    figures = measure()
    base = figures["minimal"]
    print(f"Lambda-like environment (LAMBDA_TASK_ROOT set, tracer as in Lambda), median of {RUNS} fresh "
          f"interpreters each; AWS answered by a botocore before-send hook; {REQUESTS} signed Meta comments")
    print(f"  {'handler':34s} {'import':>9s} {'ratio':>6s} {'CPU/request':>12s} {'ratio':>6s}")
    for which, label in (("minimal", "minimal (hmac + json + boto3 SQS)"),
                         ("webhook", "webhook as template.yaml deploys it"),
                         ("webhook:traced", "webhook, call tracing on")):
        f = figures[which]
        print(f"  {label:34s} {f['import_s'] * 1000:6.1f} ms {f['import_s'] / base['import_s']:5.2f}x "
              f"{f['cpu_us']:8.0f} us {f['cpu_us'] / base['cpu_us']:5.2f}x")
    print("  targets: import <= 1.30x, CPU per request <= 2x the minimal handler")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("minimal", "webhook"):
        print(json.dumps(_child(sys.argv[1])))
    else:
        run()

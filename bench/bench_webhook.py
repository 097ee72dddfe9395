"""Webhook function: cold import and CPU per request, in a Lambda-like environment, against a minimal handler.

Every handler runs in fresh interpreters with what Lambda sets (``LAMBDA_TASK_ROOT``, the function
name, an X-Ray trace header per request) and ``POWERTOOLS_TRACE_DISABLED`` as template.yaml sets it
(and once more with call tracing on), so Powertools' tracer behaves as it does in Lambda. The
baseline is bench/minimal_webhook.py (HMAC + json + a boto3 SQS client): what any webhook pays.
AWS answers from a botocore ``before-send`` hook, so each request still builds, signs and parses a
real botocore call, but no network is involved; Secrets Manager is replaced by the secret itself (the
real handler caches it for minutes anyway).
CPU per request is process CPU time (what Lambda bills is wall time, but on a shared machine CPU time
is the steadier figure; neither includes the network). The first request is timed apart (wall time): what
a handler builds on first use (the S3 client of a claim-check) is part of its cold start, not hidden by it.
Like Lambda's read-only /var/task, the children run a fresh copy of functions/ and bench/ and write no
bytecode, so the handlers' own modules are compiled on every cold start, as they are in Lambda unless the
package ships them compiled (site-packages come compiled, as pip installs them); a local __pycache__ never
flatters a figure.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LAMBDA_ENV = {
    "INGEST_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/IngestQueue",
    "DELIVERY_BUCKET_NAME": "bench-bucket", "WEBHOOK_SECRET_ID": "bench-secret",
    "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_LAMBDA_FUNCTION_NAME": "moderato-webhook", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    "POWERTOOLS_SERVICE_NAME": "moderato", "POWERTOOLS_METRICS_NAMESPACE": "Moderato",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
RUNS = 5
REQUESTS = 1500
IMPORT_TARGET = 1.30  # the webhook's import, as a multiple of the minimal handler's
CPU_TARGET = 2.0  # its CPU per request, likewise


def _child(which: str) -> dict[str, float]:
    """In a fresh interpreter: import the handler (timed), then call it REQUESTS times."""
    import contextlib
    import gc
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
    # Each import starts from a just-collected heap: otherwise whether the bench's own setup (boto3, this
    # module) leaves the collector on the brink of a full pass (~20 ms over every botocore object) decides
    # which handler pays for it. What the import itself allocates is still collected, and counted, as it goes.
    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(sink):
        module = __import__("webhook" if which == "webhook" else "bench.minimal_webhook", fromlist=["x"])
    imported, imported_cpu = time.perf_counter() - start, time.process_time() - start_cpu

    from tests.support import api_event, encode, meta_comment

    body = encode(meta_comment("Ma commande n'est jamais arrivée, commande 4471 " * 4))
    secrets = {"app_secret": "bench-secret", "verify_token": "bench"}
    if which == "webhook":
        module._secrets.for_platform = lambda _name: secrets
    from moderato.platforms.meta_webhook import MetaWebhook

    event = api_event("POST", "/webhooks/meta", body, MetaWebhook().sign(body, secrets))

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "moderato-webhook", 512, "bench"
        invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:moderato-webhook"

        def get_remaining_time_in_millis(self) -> int:
            return 10_000

    samples: list[float] = []
    with contextlib.redirect_stdout(sink):
        os.environ["_X_AMZN_TRACE_ID"] = "Root=1-6752a0b0-ffffffffffffffffffffffff;Parent=ffffffffffffffff;Sampled=1"
        start = time.perf_counter()
        assert module.lambda_handler(event, Context())["statusCode"] == 200
        first = time.perf_counter() - start
        for n in range(REQUESTS + 100):
            os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-6752a0b0-{n:024x};Parent={n:016x};Sampled=1"
            begin = time.process_time()
            assert module.lambda_handler(event, Context())["statusCode"] == 200
            if n >= 100:  # warm first
                samples.append(time.process_time() - begin)
            if n % 200 == 0:
                sink.seek(0)
                sink.truncate()
    return {"import_s": imported, "import_cpu_s": imported_cpu, "first_s": first,
            "cpu_us": statistics.median(samples) * 1e6, "cpu_mean_us": statistics.fmean(samples) * 1e6}


def _template_tracing() -> str:
    """POWERTOOLS_TRACE_DISABLED as template.yaml sets it for the webhook (parameter defaults)."""
    sys.path[:0] = [str(REPO / "infra")]
    from moderato_local.resolver import Resolver
    from moderato_local.template import Template

    template = Template.load(REPO / "template.yaml")
    spec = next(spec for spec in template.functions() if spec.logical_id == "WebhookFunction")
    return str(Resolver(template).resolve(spec.environment.get("POWERTOOLS_TRACE_DISABLED", "false")))


def _task_root(root: Path) -> Path:
    """A copy of what Lambda would run (functions/) and of the bench, without any compiled bytecode."""
    no_bytecode = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "functions", root, dirs_exist_ok=True, ignore=no_bytecode)
    shutil.copytree(REPO / "bench", root / "bench", ignore=no_bytecode)
    return root


def _fresh(which: str, overrides: dict[str, str], task_root: Path) -> dict[str, float]:
    env = {**os.environ, **LAMBDA_ENV, **overrides, "PYTHONDONTWRITEBYTECODE": "1",
           "LAMBDA_TASK_ROOT": str(task_root),
           "PYTHONPATH": os.pathsep.join([str(task_root), str(REPO / "infra"), str(REPO)])}
    env.pop("AWS_ENDPOINT_URL", None)
    out = subprocess.run([sys.executable, "-m", "bench.bench_webhook", which.split(":")[0]], env=env, cwd=REPO,
                         capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure() -> dict[str, dict[str, float]]:
    """Median over RUNS fresh interpreters per variant, interleaved so drift hits all of them: the minimal
    handler, the webhook as template.yaml deploys it, and the webhook with call tracing switched on."""
    deployed = _template_tracing()
    variants = {"minimal": {"POWERTOOLS_TRACE_DISABLED": "true"},
                "webhook": {"POWERTOOLS_TRACE_DISABLED": deployed},
                "webhook:traced": {"POWERTOOLS_TRACE_DISABLED": "false"}}
    runs: dict[str, list[dict[str, float]]] = {which: [] for which in variants}
    with tempfile.TemporaryDirectory(prefix="moderato-task-") as root:
        task_root = _task_root(Path(root))
        for _ in range(RUNS):
            for which, overrides in variants.items():
                runs[which].append(_fresh(which, overrides, task_root))
    return {which: {key: statistics.median(r[key] for r in results) for key in results[0]}
            for which, results in runs.items()}


def run() -> None:
    warnings.filterwarnings("ignore", message="No application metrics")
    figures = measure()
    base = figures["minimal"]
    print(f"Lambda-like environment (LAMBDA_TASK_ROOT set, tracer as in Lambda), median of {RUNS} fresh "
          f"interpreters each; AWS answered by a botocore before-send hook; {REQUESTS} signed Meta comments")
    print(f"  {'handler':38s} {'import':>9s} {'CPU':>8s} {'ratio':>6s} {'1st request':>11s} {'CPU/request':>12s} "
          f"{'ratio':>6s}")
    for which, label in (("minimal", "minimal (hmac + json + boto3 SQS)"),
                         ("webhook", "webhook as template.yaml deploys it"),
                         ("webhook:traced", "webhook, call tracing on")):
        f = figures[which]
        print(f"  {label:38s} {f['import_s'] * 1000:6.1f} ms {f['import_cpu_s'] * 1000:5.1f} ms "
              f"{f['import_cpu_s'] / base['import_cpu_s']:5.2f}x {f['first_s'] * 1000:8.1f} ms "
              f"{f['cpu_us']:8.0f} us {f['cpu_us'] / base['cpu_us']:5.2f}x")
    deployed = figures["webhook"]
    import_ratio = deployed["import_cpu_s"] / base["import_cpu_s"]
    cpu_ratio = deployed["cpu_us"] / base["cpu_us"]
    print("  import: wall time, then CPU time and its ratio (the ratio and the target use CPU time: on a shared "
          "machine wall time\n  swings with the neighbours' load); 1st request: wall time of the first call after "
          "the import")
    print(f"  targets (webhook as deployed): import <= {IMPORT_TARGET:.2f}x: {_verdict(import_ratio, IMPORT_TARGET)}; "
          f"CPU per request <= {CPU_TARGET:.0f}x: {_verdict(cpu_ratio, CPU_TARGET)}")


def _verdict(ratio: float, target: float) -> str:
    return f"{ratio:.2f}x, {'met' if ratio <= target else 'MISSED'}"


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("minimal", "webhook"):
        print(json.dumps(_child(sys.argv[1])))
    else:
        run()

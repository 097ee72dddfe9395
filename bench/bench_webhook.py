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
Like Lambda's read-only /var/task, the children write no bytecode, and they run the package the way
functions/Makefile builds it for ``sam build``: a fresh copy of functions/ with our modules compiled in
unchecked-hash mode (site-packages come compiled too, as the build and pip install them), and the
minimal handler packaged the same way. One more row runs the same sources without bytecode, as SAM's
own Python builder ships them: every cold start then compiles our modules (and, in Lambda, botocore,
Powertools and pydantic as well, which this row does not count). A local __pycache__ never flatters a
figure: the copy is made from sources only.
"""

from __future__ import annotations

import compileall
import json
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from bench.package import build_code

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
COLD_IMPORTS_PER_RUN = 5
REQUESTS = 1500
IMPORT_TARGET = 1.30  # the webhook's import, as a multiple of the minimal handler's
CPU_TARGET = 2.0  # its CPU per request, likewise


def _module_name(which: str) -> str:
    return "webhook" if which == "webhook" else "bench.minimal_webhook"


def _cold_import(which: str) -> dict[str, float]:
    """In a fresh interpreter: import the handler, boto3 and all, as Lambda's init phase does. Nothing else
    runs first (no stub is needed: neither handler calls AWS while importing)."""
    import contextlib
    import gc
    import io

    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        __import__(_module_name(which), fromlist=["x"])
    return {"cold_import_s": time.perf_counter() - start, "cold_import_cpu_s": time.process_time() - start_cpu}


def _child(which: str) -> dict[str, float]:
    """In a fresh interpreter with boto3 loaded and answering from a stub: import the handler (timed: what
    it costs beyond boto3), then call it REQUESTS times."""
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
        module = __import__(_module_name(which), fromlist=["x"])
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


def _task_root(root: Path, *, compiled: bool) -> Path:
    """What Lambda would run: functions/ as functions/Makefile packages it (with this interpreter standing in
    for the runtime's), and the bench beside it; or, not compiled, the sources alone."""
    no_bytecode = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "bench", root / "bench", ignore=no_bytecode)
    if compiled:
        build_code(root)
        compileall.compile_dir(root / "bench", quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    else:
        shutil.copytree(REPO / "functions", root, dirs_exist_ok=True, ignore=no_bytecode)
    return root


def _fresh(which: str, overrides: dict[str, str], task_root: Path) -> dict[str, float]:
    env = {**os.environ, **LAMBDA_ENV, **overrides, "PYTHONDONTWRITEBYTECODE": "1",
           "LAMBDA_TASK_ROOT": str(task_root),
           "PYTHONPATH": os.pathsep.join([str(task_root), str(REPO / "infra"), str(REPO)])}
    env.pop("AWS_ENDPOINT_URL", None)
    figures: dict[str, float] = {}
    # A cold import is a fraction of a second but its upper tail reaches +30 % on this VM: more samples of it.
    cold = [_run_child("cold", which, env) for _ in range(COLD_IMPORTS_PER_RUN)]
    for key in cold[0]:
        figures[key] = statistics.median(sample[key] for sample in cold)
    figures.update(_run_child("requests", which, env))
    return figures


def _run_child(mode: str, which: str, env: dict[str, str]) -> dict[str, float]:
    # From the task root: ``-m`` puts the working directory first on the path, so the minimal handler is the
    # packaged copy too, not the repository's.
    out = subprocess.run([sys.executable, "-m", "bench.bench_webhook", mode, which.split(":")[0]], env=env,
                         cwd=env["LAMBDA_TASK_ROOT"], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure() -> dict[str, dict[str, float]]:
    """Median over RUNS fresh interpreters per variant, interleaved so drift hits all of them: the minimal
    handler, the webhook as template.yaml deploys it, the same with call tracing switched on, and the same
    shipped as sources only."""
    deployed = _template_tracing()
    variants = {"minimal": ({"POWERTOOLS_TRACE_DISABLED": "true"}, True),
                "webhook": ({"POWERTOOLS_TRACE_DISABLED": deployed}, True),
                "webhook:traced": ({"POWERTOOLS_TRACE_DISABLED": "false"}, True),
                "webhook:sources": ({"POWERTOOLS_TRACE_DISABLED": deployed}, False)}
    runs: dict[str, list[dict[str, float]]] = {which: [] for which in variants}
    with tempfile.TemporaryDirectory(prefix="moderato-task-") as root:
        task_roots = {compiled: _task_root(Path(root) / str(compiled), compiled=compiled) for compiled in (True, False)}
        for _ in range(RUNS):
            for which, (overrides, compiled) in variants.items():
                runs[which].append(_fresh(which, overrides, task_roots[compiled]))
    return {which: {key: statistics.median(r[key] for r in results) for key in results[0]}
            for which, results in runs.items()}


def run() -> None:
    warnings.filterwarnings("ignore", message="No application metrics")
    figures = measure()
    base = figures["minimal"]
    print(f"Lambda-like environment (LAMBDA_TASK_ROOT set, tracer as in Lambda, package compiled as functions/Makefile "
          f"builds it), medians of {RUNS * COLD_IMPORTS_PER_RUN}\n  fresh interpreters per cold import, {RUNS} for the "
          f"rest; AWS answered by a botocore before-send hook; {REQUESTS} signed Meta comments")
    print(f"  {'handler':38s} {'cold import':>11s} {'ratio':>6s} {'beyond boto3':>12s} {'ratio':>6s} "
          f"{'1st request':>11s} {'CPU/request':>12s} {'ratio':>6s}")
    for which, label in (("minimal", "minimal (hmac + json + boto3 SQS)"),
                         ("webhook", "webhook as template.yaml deploys it"),
                         ("webhook:traced", "webhook, call tracing on"),
                         ("webhook:sources", "webhook shipped as sources (no .pyc)")):
        f = figures[which]
        cold_ratio = f["cold_import_cpu_s"] / base["cold_import_cpu_s"]
        print(f"  {label:38s} {f['cold_import_cpu_s'] * 1000:8.1f} ms {cold_ratio:5.2f}x "
              f"{f['import_cpu_s'] * 1000:9.1f} ms {f['import_cpu_s'] / base['import_cpu_s']:5.2f}x "
              f"{f['first_s'] * 1000:8.1f} ms {f['cpu_us']:8.0f} us {f['cpu_us'] / base['cpu_us']:5.2f}x")
    deployed = figures["webhook"]
    import_ratio = deployed["cold_import_cpu_s"] / base["cold_import_cpu_s"]
    cpu_ratio = deployed["cpu_us"] / base["cpu_us"]
    print("  cold import: CPU time of importing the handler in a fresh interpreter, boto3 included, as Lambda's "
          "init phase does\n  (CPU time: on a shared machine wall time swings with the neighbours' load); beyond "
          "boto3: the same with\n  boto3 already imported in both (stricter: their shared cost is left out); 1st "
          "request: wall time of the first call")
    print(f"  targets (webhook as deployed): cold import <= {IMPORT_TARGET:.2f}x: "
          f"{_verdict(import_ratio, IMPORT_TARGET)}; CPU per request <= {CPU_TARGET:.0f}x: "
          f"{_verdict(cpu_ratio, CPU_TARGET)}")


def _verdict(ratio: float, target: float) -> str:
    return f"{ratio:.2f}x, {'met' if ratio <= target else 'MISSED'}"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[2] in ("minimal", "webhook"):
        print(json.dumps(_cold_import(sys.argv[2]) if sys.argv[1] == "cold" else _child(sys.argv[2])))
    else:
        run()

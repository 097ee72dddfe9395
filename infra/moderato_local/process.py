"""A LocalStack in a child process, with the same reading API as LocalStack (for tests).

The child runs ``python -m moderato_local.serve``; the parent reads its description from a ready
file and computes ``wait_idle`` from the outside (queue depths through moto, in-flight invocations
through ``GET /health``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import requests

from moderato_local.resolver import REGION
from moderato_local.stack import DEFAULT_FUNCTIONS, DEFAULT_TEMPLATE, REPO_ROOT, queues_empty, wait_until_quiet
from moderato_local.wiring import Wired


class LocalStackProcess:
    def __init__(
        self,
        template_path: str | Path = DEFAULT_TEMPLATE,
        functions_dir: str | Path = DEFAULT_FUNCTIONS,
        log_dir: str | Path | None = None,
        env: dict[str, str] | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.template_path = Path(template_path)
        self.functions_dir = Path(functions_dir)
        self._tmp = tempfile.TemporaryDirectory(prefix="moderato-local-")
        self.log_dir = Path(log_dir) if log_dir else Path(self._tmp.name) / "logs"
        self.extra_env = env or {}
        self.start_timeout = start_timeout
        self.description: dict[str, Any] = {}
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalStackProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> LocalStackProcess:
        ready = Path(self._tmp.name) / "ready.json"
        env = dict(os.environ)
        # pytest's pythonpath setting does not reach a child process: give it the same paths.
        paths = [str(REPO_ROOT / "infra"), str(REPO_ROOT / "functions"), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
        env.update(self.extra_env)
        with open(Path(self._tmp.name) / "console.txt", "wb") as output:  # the child keeps its own copy
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moderato_local.serve", "--template", str(self.template_path),
                 "--functions", str(self.functions_dir), "--log-dir", str(self.log_dir),
                 "--ready-file", str(ready)],
                env=env, stdout=output, stderr=subprocess.STDOUT, cwd=str(REPO_ROOT),
            )
        deadline = time.monotonic() + self.start_timeout
        while not ready.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                console = (Path(self._tmp.name) / "console.txt").read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"local stack did not start:\n{console[-4000:]}")
            time.sleep(0.1)
        self.description = json.loads(ready.read_text(encoding="utf-8"))
        if "error" in self.description:
            self.stop()
            raise RuntimeError(f"local stack did not start: {self.description['error']}")
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        self._process = None

    @property
    def gateway_url(self) -> str:
        return str(self.description["gateway_url"])

    @property
    def aws_endpoint(self) -> str:
        return str(self.description["aws_endpoint"])

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.description["resources"])

    @property
    def polled_queues(self) -> list[str]:
        return list(self.description["polled_queues"])

    @property
    def environment(self) -> dict[str, str]:
        """What the handlers see in os.environ (AWS_ENDPOINT_URL, queue URLs, table names...)."""
        return dict(self.description["environment"])

    @property
    def log_file(self) -> Path:
        return Path(self.description["log_file"])

    def wired(self) -> list[Wired]:
        return [Wired(*item) for item in self.description["wired"]]

    def aws_settings(self) -> dict[str, str]:
        return {"endpoint_url": self.aws_endpoint, "region_name": REGION,
                "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

    def client(self, service: str) -> Any:
        return boto3.client(service, **self.aws_settings())

    def wait_idle(self, timeout: float, settle: float = 0.3) -> bool:
        sqs = self.client("sqs")

        def quiet() -> bool:
            try:
                health = requests.get(f"{self.gateway_url}/health", timeout=5).json()
            except requests.RequestException:
                return False  # too busy to answer within 5 s: certainly not idle (the timeout still bounds it)
            return health.get("inflight") == 0 and queues_empty(sqs, self.polled_queues)

        # Each check asks moto for every polled queue's depths (a pass over each queue) and /health for
        # its probes: a long wait under load asks twice a second, not ten times.
        return wait_until_quiet(quiet, timeout, settle, every=0.1 if settle < 1 else 0.5)

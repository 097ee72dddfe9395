"""End-to-end fixtures: the real local stack (template.yaml + functions/) in a child process.

One stack per session and per xdist worker. Mark every test that uses it with
``pytest.mark.xdist_group("e2e")`` so that ``pytest -n 2 --dist loadgroup`` keeps them on one worker
and the stack starts once.

It runs in a child process because moto keeps its state in module globals: an in-process stack would
be wiped by any ``mock_aws`` test that the same worker runs in between, and the handlers it imports
would stay cached with clients bound to its endpoint. While a test uses ``local_stack``, os.environ
holds the handlers' environment (AWS_ENDPOINT_URL, region, fake credentials, INGEST_QUEUE_URL...),
set per test and removed after it, so nothing leaks into tests that do not use the stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from moderato_cli.demo import AlertsInbox
from moderato_local.process import LocalStackProcess

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStackProcess]:
    """The whole system on free ports: ``.gateway_url``, ``.aws_endpoint``, ``.resources``, ``.environment``,
    ``.client(service)``, ``.aws_settings()``, ``.wired()``, ``.wait_idle(timeout)``, ``.log_file``."""
    missing = [path for path in ("template.yaml", "functions/webhook.py", "functions/triage.py")
               if not (REPO / path).exists()]
    if missing:
        pytest.skip(f"local stack needs {', '.join(missing)} (not written yet)")
    with LocalStackProcess(REPO / "template.yaml", REPO / "functions") as stack:
        yield stack


@pytest.fixture(autouse=True)
def _local_stack_environment(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that use the stack: the handlers' environment in os.environ, for this test only."""
    if "local_stack" not in request.fixturenames:
        return
    stack: LocalStackProcess = request.getfixturevalue("local_stack")
    for name, value in stack.environment.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def alerts_inbox(local_stack: LocalStackProcess) -> Iterator[AlertsInbox]:
    """A queue subscribed to AlertsTopic for one test module: ``take_new()`` is what the topic really published."""
    inbox = AlertsInbox(local_stack.client("sqs"), local_stack.client("sns")).open(local_stack.resources["AlertsTopic"])
    yield inbox
    inbox.close()

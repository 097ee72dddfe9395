"""End-to-end fixtures: the real local stack (template.yaml + functions/) in a child process.

One stack per session and per xdist worker. Mark every test that uses it with
``pytest.mark.xdist_group("e2e")`` so that ``pytest -n 2 --dist loadgroup`` keeps them on one worker
and the stack starts once. It runs in a child process so the handlers it imports, the os.environ it
sets (AWS_ENDPOINT_URL...) and moto's global state never leak into other tests of the worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moderato_local.process import LocalStackProcess

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStackProcess]:
    """The whole system on free ports: ``.gateway_url``, ``.aws_endpoint``, ``.resources``,
    ``.client(service)``, ``.aws_settings()``, ``.wired()``, ``.wait_idle(timeout)``, ``.log_file``."""
    missing = [path for path in ("template.yaml", "functions/webhook.py", "functions/triage.py")
               if not (REPO / path).exists()]
    if missing:
        pytest.skip(f"local stack needs {', '.join(missing)} (not written yet)")
    with LocalStackProcess(REPO / "template.yaml", REPO / "functions") as stack:
        yield stack

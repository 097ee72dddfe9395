"""Run a LocalStack as its own process: ``python -m moderato_local.serve --ready-file F``.

Tests use it (through process.py) so the stack's handlers, os.environ and moto state stay out of the
pytest worker that runs other tests. Once ready, the stack's description is written to the ready
file as JSON; SIGTERM or SIGINT stops it cleanly.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from moderato_local.stack import DEFAULT_FUNCTIONS, DEFAULT_LOG_DIR, DEFAULT_TEMPLATE, LocalStack


def describe(stack: LocalStack) -> dict[str, Any]:
    return {
        "gateway_url": stack.gateway_url,
        "aws_endpoint": stack.aws_endpoint,
        "resources": stack.resources,
        "wired": [list(item) for item in stack.wired()],
        "polled_queues": stack.polled_queues,
        "notes": stack.notes,
        "log_file": str(stack.log_file),
        "environment": stack.environment,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m moderato_local.serve")
    parser.add_argument("--template", default=str(DEFAULT_TEMPLATE))
    parser.add_argument("--functions", default=str(DEFAULT_FUNCTIONS))
    parser.add_argument("--gateway-port", type=int, default=0)
    parser.add_argument("--aws-port", type=int, default=0)
    parser.add_argument("--log-dir", default=str(DEFAULT_LOG_DIR))
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args(argv)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    original_stdout = sys.stdout
    stack = LocalStack(args.template, args.functions, gateway_port=args.gateway_port,
                       aws_port=args.aws_port, log_dir=args.log_dir)
    try:
        stack.start()
    except Exception as error:
        print(f"local stack failed to start: {error}", file=original_stdout, flush=True)
        Path(args.ready_file).write_text(json.dumps({"error": str(error)}), encoding="utf-8")
        return 1
    try:
        ready = Path(args.ready_file)
        ready.with_suffix(".tmp").write_text(json.dumps(describe(stack)), encoding="utf-8")
        ready.with_suffix(".tmp").replace(ready)  # atomic: the parent never reads half a file
        stopping.wait()
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

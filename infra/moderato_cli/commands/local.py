"""``moderato local``: the whole system on this machine (moto as AWS, real handlers, demo replay)."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "local",
        help="run the local stack: embedded AWS, HTTP API, pollers, real handlers",
        description="Start moto as the embedded AWS, create the resources of template.yaml, serve the HTTP "
                    "API and feed the queues to the handlers, like AWS would. Ctrl-C stops it.",
    )
    parser.add_argument("--demo", action="store_true", help="replay the bundled demo webhooks and print a summary")
    parser.add_argument("--exit-after-demo", action="store_true",
                        help="with --demo: stop after the demo and exit with its status")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MODERATO_PORT") or 8787),
                        help="HTTP API port (env MODERATO_PORT, default 8787; 0 picks a free one)")
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("MODERATO_AWS_PORT") or 5055),
                        help="embedded AWS (moto) port (env MODERATO_AWS_PORT, default 5055)")
    parser.add_argument("--template", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def _demo() -> Callable[..., int] | None:
    try:
        module = importlib.import_module("moderato_cli.demo")
    except ModuleNotFoundError as error:
        if error.name == "moderato_cli.demo":
            return None
        raise
    return getattr(module, "run_demo", None)


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    # Bound to the real stdout now: start() sends sys.stdout (handler logs) to the log file.
    console = Console(file=sys.stdout)
    from moderato_local.stack import DEFAULT_TEMPLATE, LocalStack, PortInUse
    from moderato_local.template import TemplateError

    stack = LocalStack(args.template or DEFAULT_TEMPLATE, gateway_port=args.port, aws_port=args.aws_port)
    console.print("starting the local stack ...")
    try:
        stack.start()
    except PortInUse as error:
        console.print(f"[red]{error}")
        return 2
    except (TemplateError, FileNotFoundError) as error:
        console.print(f"[red]cannot start the local stack: {error}")
        return 2
    signal.signal(signal.SIGTERM, _raise_interrupt)  # `kill` stops as cleanly as Ctrl-C
    try:
        from moderato_local.banner import print_banner

        print_banner(console, stack)
        if args.demo or args.exit_after_demo:
            run_demo = _demo()
            if run_demo is None:
                console.print("[yellow]the demo is not available in this checkout (moderato_cli.demo)")
                status = 1
            else:
                status = run_demo(stack.gateway_url, console, stack.wait_idle, stack.aws_settings())
            if args.exit_after_demo:
                return status
        console.print("\n[bold]Serving.[/] Ctrl-C to stop.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("\nstopping ...")
        return 0
    finally:
        stack.stop()

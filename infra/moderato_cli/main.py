"""Entry point of ``moderato``: one sub-command per module under ``moderato_cli.commands``.

Each command module exposes ``register(subparsers)`` which adds its parser and sets ``func``;
``func(args) -> int`` is the exit status. Adding a command is adding a module to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["local", "replay", "classify", "eval", "token", "review", "export_feedback", "reconcile", "dlq", "load",
            "index_people"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="moderato",
        description="Moderato operator CLI: run the local stack, replay posts, classify, review.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"moderato_cli.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"moderato_cli.commands.{name}":
                continue  # a command not built yet is simply not offered
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

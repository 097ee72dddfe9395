"""``moderato index-people``: once, after upgrading, put the cases written before person keys in the index.

Until then, an open complaint from before the upgrade protects only its own post: the guardrail finds
a person's other open cases through the ByPerson index of CasesTable (docs/REVIEW.md). Each case
indexed becomes a new version with a ``person_indexed`` history event; running it twice does nothing
more. Links come from the brands file (``MODERATO_BRANDS_FILE`` or ``--brands``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from moderato.adapters.case_store import CaseStore
from moderato.people import load_person_links
from moderato_cli.commands.export_feedback import DEFAULT_LOCAL_API, LOCAL_CREDENTIALS, LOCAL_TABLE, local_aws_endpoint


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("index-people", help="give cases from before person keys their key (once)")
    parser.add_argument("--table", default=os.environ.get("CASES_TABLE_NAME"),
                        help="CasesTable name (default CASES_TABLE_NAME, or the local stack's with --local)")
    parser.add_argument("--local", action="store_true", help="the running local stack (asked at --api)")
    parser.add_argument("--api", default=os.environ.get("MODERATO_API", DEFAULT_LOCAL_API),
                        help="with --local: the local stack's HTTP API (default MODERATO_API or %(default)s)")
    parser.add_argument("--aws-endpoint", "--endpoint-url", dest="aws_endpoint",
                        default=os.environ.get("MODERATO_AWS_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL"),
                        help="AWS endpoint (default MODERATO_AWS_ENDPOINT or AWS_ENDPOINT_URL)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--brands", default=None, help="brands file with linked_ids (default MODERATO_BRANDS_FILE "
                                                       "or the bundled one)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    table = args.table or (LOCAL_TABLE if args.local else None)
    if not table:
        print("no table: pass --table, set CASES_TABLE_NAME, or use --local", file=sys.stderr)
        return 2
    options: dict[str, Any] = {"region_name": args.region or "eu-west-1"}
    if args.local:
        options.update(endpoint_url=args.aws_endpoint or local_aws_endpoint(args.api), **LOCAL_CREDENTIALS)
    elif args.aws_endpoint:
        options["endpoint_url"] = args.aws_endpoint
    try:
        indexed = CaseStore(table, boto3.client("dynamodb", **options)).index_people(load_person_links(args.brands))
    except (BotoCoreError, ClientError, OSError, ValueError) as error:
        print(f"index-people: {error}", file=sys.stderr)
        return 1
    print(f"indexed {len(indexed)} case(s) by person")
    return 0

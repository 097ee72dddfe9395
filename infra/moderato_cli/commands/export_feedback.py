"""``moderato export-feedback``: reviewers' re-labels as training rows for the classifier.

Reads the feedback items the review function writes beside each re-label (CasesTable, pk FEEDBACK)
and writes one JSONL row per corrected post, the latest correction winning:
``{"id", "text", "label", "lang", "platform", "source": "feedback"}``. training/sources.py reads
training/data/feedback/*.jsonl.

With ``--local`` the embedded AWS of the running local stack is found by asking the stack itself
(``GET /health`` on its HTTP API answers ``aws_endpoint``), so a stack started on other ports
(``moderato local --port ... --aws-port ...``) works without guessing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from moderato_cli.paths import REPO_ROOT
from moderato_local.stack import DEFAULT_AWS_PORT, FAKE_CREDENTIALS

DEFAULT_LOCAL_API = "http://127.0.0.1:8787"
DEFAULT_LOCAL_AWS_PORT = DEFAULT_AWS_PORT
LOCAL_TABLE = "moderato-local-CasesTable"
LOCAL_CREDENTIALS = {name.lower(): value for name, value in FAKE_CREDENTIALS.items()}  # the emulator's


class ExportError(Exception):
    """Something to tell the operator in one sentence (no traceback)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("export-feedback", help="write reviewers' re-labels as training data (JSONL)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output file (default training/data/feedback/feedback-YYYYMMDD.jsonl)")
    parser.add_argument("--table", default=os.environ.get("CASES_TABLE_NAME"),
                        help="CasesTable name (default CASES_TABLE_NAME, or the local stack's with --local)")
    parser.add_argument("--local", action="store_true",
                        help="read the running local stack (its embedded AWS endpoint is asked from --api)")
    parser.add_argument("--aws-endpoint", "--endpoint-url", dest="aws_endpoint",
                        default=os.environ.get("MODERATO_AWS_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL"),
                        help="AWS endpoint to read from (default MODERATO_AWS_ENDPOINT or AWS_ENDPOINT_URL; with "
                             "--local: the one the running stack reports)")
    parser.add_argument("--api", default=os.environ.get("MODERATO_API", DEFAULT_LOCAL_API),
                        help="with --local: the local stack's HTTP API (default MODERATO_API or %(default)s)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.set_defaults(func=run)


def training_rows(feedback: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per case: the most recent correction wins (records come oldest first)."""
    latest: dict[str, dict[str, Any]] = {}
    for record in feedback:
        if not record.get("text"):
            continue  # nothing to learn from a post without text (e.g. an id-only mention)
        latest[record["case_id"]] = {"id": f"feedback-{record['case_id']}", "text": record["text"],
                                     "label": record["to_label"], "lang": record.get("language"),
                                     "platform": record.get("platform"), "source": "feedback"}
    return [latest[key] for key in sorted(latest)]


def read_feedback(table: str, dynamodb: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    paginator = dynamodb.get_paginator("query")
    for page in paginator.paginate(TableName=table, KeyConditionExpression="pk = :pk",
                                   ExpressionAttributeValues={":pk": {"S": "FEEDBACK"}}):
        records.extend(json.loads(item["doc"]["S"]) for item in page.get("Items", []))
    return records


def local_aws_endpoint(api: str, timeout: float = 3.0) -> str:
    """The running local stack's embedded AWS endpoint, as its /health reports it; else the default port."""
    try:
        health = requests.get(f"{api.rstrip('/')}/health", timeout=timeout).json()
    except (requests.RequestException, ValueError):
        health = {}
    endpoint = health.get("aws_endpoint") if isinstance(health, dict) else None
    if endpoint:
        return str(endpoint)
    port = os.environ.get("MODERATO_AWS_PORT") or DEFAULT_LOCAL_AWS_PORT
    return f"http://127.0.0.1:{port}"


def _client_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {"region_name": args.region or "eu-west-1"}
    if args.local:
        options.update(endpoint_url=args.aws_endpoint or local_aws_endpoint(args.api), **LOCAL_CREDENTIALS)
    elif args.aws_endpoint:
        options["endpoint_url"] = args.aws_endpoint
    return options


def _read(table: str, options: dict[str, Any]) -> list[dict[str, Any]]:
    where = options.get("endpoint_url") or f"AWS ({options['region_name']})"
    # Few retries and a short connect timeout: a stack that is not running should be said at once.
    config = Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})
    try:
        return read_feedback(table, boto3.client("dynamodb", config=config, **options))
    except EndpointConnectionError as error:
        hint = ("is the local stack running? start it with `moderato local`, or pass --aws-endpoint"
                if "127.0.0.1" in where or "localhost" in where else "check --aws-endpoint and --region")
        raise ExportError(f"nothing answers at {where}: {hint}") from error
    except NoCredentialsError as error:
        raise ExportError("no AWS credentials: configure a profile (aws configure) or use --local") from error
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise ExportError(f"no table {table} at {where}: pass --table (the stack's CasesTableName output)") \
                from error
        raise ExportError(f"{where} refused to read {table}: {code or error}") from error
    except BotoCoreError as error:
        raise ExportError(f"could not read {table} at {where}: {error}") from error


def run(args: argparse.Namespace) -> int:
    table = args.table or (LOCAL_TABLE if args.local else None)
    if not table:
        print("no table: pass --table, set CASES_TABLE_NAME, or use --local", file=sys.stderr)
        return 2
    try:
        rows = training_rows(_read(table, _client_options(args)))
    except ExportError as error:
        print(f"export-feedback: {error}", file=sys.stderr)
        return 1
    out = args.out or REPO_ROOT / "training" / "data" / "feedback" / f"feedback-{datetime.now(UTC):%Y%m%d}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} corrected posts to {out}")
    return 0

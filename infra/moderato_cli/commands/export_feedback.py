"""``moderato export-feedback``: reviewers' re-labels as training rows for the classifier.

Reads the feedback items the review function writes beside each re-label (CasesTable, pk FEEDBACK)
and writes one JSONL row per corrected post, the latest correction winning:
``{"id", "text", "label", "lang", "platform", "source": "feedback"}``. training/sources.py reads
training/data/feedback/*.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from moderato_cli.paths import REPO_ROOT

LOCAL_ENDPOINT = "http://127.0.0.1:5055"
LOCAL_TABLE = "moderato-local-CasesTable"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("export-feedback", help="write reviewers' re-labels as training data (JSONL)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output file (default training/data/feedback/feedback-YYYYMMDD.jsonl)")
    parser.add_argument("--table", default=os.environ.get("CASES_TABLE_NAME"),
                        help="CasesTable name (default CASES_TABLE_NAME, or the local stack's with --local)")
    parser.add_argument("--local", action="store_true", help=f"read the local stack ({LOCAL_ENDPOINT})")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
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


def run(args: argparse.Namespace) -> int:
    table = args.table or (LOCAL_TABLE if args.local else None)
    if not table:
        print("no table: pass --table, set CASES_TABLE_NAME, or use --local")
        return 2
    options: dict[str, Any] = {"region_name": args.region or "eu-west-1"}
    if args.local:
        options.update(endpoint_url=LOCAL_ENDPOINT, aws_access_key_id="testing", aws_secret_access_key="testing")
    elif args.endpoint_url:
        options["endpoint_url"] = args.endpoint_url
    rows = training_rows(read_feedback(table, boto3.client("dynamodb", **options)))
    out = args.out or REPO_ROOT / "training" / "data" / "feedback" / f"feedback-{datetime.now(UTC):%Y%m%d}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} corrected posts to {out}")
    return 0

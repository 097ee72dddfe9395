"""The review API's OpenAPI document, generated from the review handler's routes (Powertools).

    python -m moderato_cli.openapi_doc          # rewrite docs/openapi.json
    python -m moderato_cli.openapi_doc --check  # exit 1 if the committed file is out of date

tests/unit/test_openapi.py runs the check, so the committed document always matches the code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from moderato_cli.paths import FUNCTIONS_DIR, REPO_ROOT

OPENAPI_PATH = REPO_ROOT / "docs" / "openapi.json"
TITLE = "Moderato review API"
DESCRIPTION = (
    "Review cases, record decisions, propose and approve bans. Every route needs a Cognito ID token "
    "(locally: `moderato token`) as `Authorization: Bearer <token>`; without one API Gateway answers 401. "
    "Reviewers must be in the `moderators` or `approvers` group; bans need approval by a different approver. "
    "Mutating requests carry `expected_version`: a stale one gets 409. Every refusal by the review function is "
    "`{\"code\", \"message\"}` (validation errors add `detail`, one entry per field); API Gateway's own 401 is "
    "`{\"message\": \"Unauthorized\"}`."
)
# Import-time settings of the handler; placeholders are enough to read its routes.
_PLACEHOLDER_ENV = {"CASES_TABLE_NAME": "openapi", "ACTIONS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/q",
                    "ALERTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:1:openapi",
                    "AWS_DEFAULT_REGION": "eu-west-1", "POWERTOOLS_TRACE_DISABLED": "true"}


def render() -> str:
    saved = {key: os.environ.get(key) for key in _PLACEHOLDER_ENV}
    for key, value in _PLACEHOLDER_ENV.items():
        os.environ.setdefault(key, value)
    if str(FUNCTIONS_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTIONS_DIR))
    previous = sys.modules.pop("review", None)
    try:
        from moderato.review.settings import clear_caches

        clear_caches()
        review: Any = importlib.import_module("review")
        schema = review.app.get_openapi_json_schema(
            title=TITLE, version="1.0.0", description=DESCRIPTION,
            security_schemes={"cognitoJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            security=[{"cognitoJwt": []}],
        )
        clear_caches()
    finally:
        sys.modules.pop("review", None)
        if previous is not None:
            sys.modules["review"] = previous
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return json.dumps(_tidy(json.loads(schema)), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _tidy(document: dict[str, Any]) -> dict[str, Any]:
    """Responses in status order, and no component nothing refers to.

    Powertools always adds its own validation error schemas; the review API answers validation errors
    with ErrorAnswer instead, so leaving them would document bodies that never occur.
    """
    for item in document.get("paths", {}).values():
        for operation in item.values():
            operation["responses"] = dict(sorted(operation["responses"].items(), key=lambda kv: int(kv[0])))
    schemas = document.get("components", {}).get("schemas", {})
    todo = [ref.rsplit("/", 1)[-1] for ref in _refs({k: v for k, v in document.items() if k != "components"})]
    used: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in used and name in schemas:
            used.add(name)
            todo.extend(ref.rsplit("/", 1)[-1] for ref in _refs(schemas[name]))
    for name in [name for name in schemas if name not in used]:
        del schemas[name]
    return document


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [ref for inner in value.values() for ref in _refs(inner)]
    if isinstance(value, list):
        return [ref for inner in value for ref in _refs(inner)]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    document = render()
    if args.check:
        current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
        if current != document:
            print(f"{OPENAPI_PATH} is out of date: run python -m moderato_cli.openapi_doc")
            return 1
        return 0
    OPENAPI_PATH.parent.mkdir(parents=True, exist_ok=True)
    OPENAPI_PATH.write_text(document, encoding="utf-8")
    print(f"wrote {OPENAPI_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

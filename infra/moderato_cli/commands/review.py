"""``moderato review``: the review queue for reviewers without a browser, over the review API.

Every rule is enforced by the server (the same API the console uses); this command only sends what
the reviewer asked and prints the answer, refusals included, with their reason.

    export MODERATO_TOKEN=$(moderato token --user alice --group moderators)
    moderato review list --queue ComplaintQueue
    moderato review show facebook-1a2b...
    moderato review claim facebook-1a2b...
    moderato review decide facebook-1a2b... acknowledge --promise "we call you before 6 pm" --due 2026-11-25T18:00:00Z
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import requests
from rich.console import Console
from rich.table import Table

DEFAULT_API = "http://127.0.0.1:8787"
DECISIONS = ("hide", "dismiss", "acknowledge", "resolve", "escalate", "relabel", "reply", "close")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ReviewClient:
    def __init__(self, api: str, token: str, timeout: float = 10.0) -> None:
        self.api = api.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             query: dict[str, Any] | None = None) -> Any:
        try:
            response = self.session.request(method, f"{self.api}{path}", json=body, timeout=self.timeout,
                                             params={k: v for k, v in (query or {}).items() if v is not None})
        except requests.RequestException as error:
            raise ApiError(0, f"cannot reach {self.api}: {error}") from error
        try:
            payload = response.json()
        except ValueError:
            payload = {"message": response.text}
        if response.status_code >= 400:
            message = payload.get("message") if isinstance(payload, dict) else None
            if response.status_code == 422 and isinstance(payload, dict) and "detail" in payload:
                message = "invalid request: " + json.dumps(payload["detail"])
            raise ApiError(response.status_code, message or response.reason)
        return payload

    def version_of(self, case_id: str) -> int:
        return int(self.call("GET", f"/cases/{case_id}")["case"]["version"])


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("review", help="list cases and decide through the review API",
                                   description="Review cases over the review API with a token (same rules as the "
                                               "console, enforced by the server).")
    parser.add_argument("--api", default=os.environ.get("MODERATO_API", DEFAULT_API),
                        help="review API base URL (default: MODERATO_API or %(default)s)")
    parser.add_argument("--token", default=None, help="bearer token (default: MODERATO_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print the API's JSON answer")
    actions = parser.add_subparsers(dest="review_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="cases, most urgent first")
    for name in ("queue", "status", "label", "platform", "brand", "since", "until", "cursor"):
        listing.add_argument(f"--{name}")
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(func=_list)

    show = actions.add_parser("show", help="one case and its history")
    show.add_argument("case_id")
    show.set_defaults(func=_show)

    def with_version(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("case_id")
        sub.add_argument("--version", type=int,
                         help="the case version you reviewed (default: the current one; pass it to be safe "
                              "from a colleague's concurrent change)")

    claim = actions.add_parser("claim", help="claim a case")
    with_version(claim)
    claim.set_defaults(func=_simple("claim"))

    release = actions.add_parser("release", help="release a claimed case")
    with_version(release)
    release.add_argument("--reason")
    release.set_defaults(func=_simple("release"))

    decide = actions.add_parser("decide", help="take a decision: " + ", ".join(DECISIONS))
    with_version(decide)
    decide.add_argument("decision", choices=DECISIONS)
    decide.add_argument("--reason")
    decide.add_argument("--label", help="new label (relabel)")
    decide.add_argument("--promise", help="what the customer was told (acknowledge)")
    decide.add_argument("--due", dest="promise_due_at", help="when the promise is due, ISO 8601 with zone")
    decide.add_argument("--outcome", help="what was done (resolve)")
    decide.add_argument("--reply-text", help="public answer (reply)")
    decide.set_defaults(func=_decide)

    propose = actions.add_parser("propose-ban", help="propose banning the case's author")
    with_version(propose)
    propose.add_argument("--reason", required=True)
    propose.set_defaults(func=_simple("ban-proposals"))

    for verb in ("approve", "reject"):
        sub = actions.add_parser(f"{verb}-ban", help=f"{verb} a ban proposal (approvers)")
        with_version(sub)
        sub.add_argument("proposal_id")
        sub.add_argument("--reason")
        sub.set_defaults(func=_simple(verb))

    undo = actions.add_parser("undo-hide", help="put a hidden post back")
    with_version(undo)
    undo.add_argument("--reason", required=True)
    undo.set_defaults(func=_simple("undo-hide"))


def _client(args: argparse.Namespace) -> ReviewClient:
    token = args.token or os.environ.get("MODERATO_TOKEN")
    if not token:
        raise ApiError(0, "no token: pass --token or set MODERATO_TOKEN (locally: moderato token --user NAME "
                          "--group moderators)")
    return ReviewClient(args.api, token)


def _run(args: argparse.Namespace, work: Any) -> int:
    console = Console(stderr=True)
    try:
        result = work(_client(args))
    except ApiError as error:
        console.print(f"[red]refused ({error.status or 'no answer'}):[/red] {error}")
        return 1 if error.status else 2
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif result is not None:
        _print(result)
    return 0


def _print(result: Any) -> None:
    console = Console()
    case = result.get("case", result) if isinstance(result, dict) else result
    if isinstance(case, dict) and "case_id" in case:
        console.print(f"[bold]{case['case_id']}[/bold] {case['label']} {case['status']} version {case['version']}"
                      f"{' claimed by ' + case['claimed_by'] if case.get('claimed_by') else ''}")
    if isinstance(result, dict) and "proposal" in result:
        proposal = result["proposal"]
        console.print(f"ban proposal {proposal['proposal_id']}: {proposal['status']} "
                      f"(proposed by {proposal['proposed_by']})")


def _list(args: argparse.Namespace) -> int:
    query = {name: getattr(args, name) for name in ("queue", "status", "label", "platform", "brand", "since",
                                                    "until", "cursor", "limit")}

    def work(client: ReviewClient) -> Any:
        return client.call("GET", "/cases", query=query)

    if args.json:
        return _run(args, work)
    console = Console()
    try:
        page = work(_client(args))
    except ApiError as error:
        Console(stderr=True).print(f"[red]refused ({error.status or 'no answer'}):[/red] {error}")
        return 1 if error.status else 2
    table = Table("case", "label", "status", "p", "due", "platform", "author", "text", "claimed by")
    for item in page["items"]:
        author = item["author"].get("name") or item["author"].get("handle") or item["author"].get("id") or ""
        table.add_row(item["case_id"], item["label"], item["status"], str(item["priority"]),
                      (item["sla_due_at"] or "")[:16], item["platform"], author, item["text"][:60],
                      item["claimed_by"] or "")
    console.print(table)
    if page.get("next_cursor"):
        console.print(f"more: --cursor {page['next_cursor']}")
    return 0


def _show(args: argparse.Namespace) -> int:
    def work(client: ReviewClient) -> Any:
        return client.call("GET", f"/cases/{args.case_id}")

    if args.json:
        return _run(args, work)
    try:
        detail = work(_client(args))
    except ApiError as error:
        Console(stderr=True).print(f"[red]refused ({error.status or 'no answer'}):[/red] {error}")
        return 1 if error.status else 2
    console = Console()
    case = detail["case"]
    post = case["post"]
    console.print(f"[bold]{case['case_id']}[/bold] {case['label']} / {case['status']} / version {case['version']} / "
                  f"priority {case['priority']} / due {case['sla_due_at']}")
    console.print(f"{post['platform']} {post['kind']} by {post['author']}: {post['text']}")
    for reason in case["reasons"]:
        console.print(f"  reason {reason['code']}: {reason['message']}")
    for proposal in case.get("ban_proposals", []):
        console.print(f"  ban proposal {proposal['proposal_id']} {proposal['status']} by {proposal['proposed_by']}: "
                      f"{proposal['reason']}")
    for event in detail["history"]:
        console.print(f"  v{event['version']} {event['at']} {event['actor']} {event['action']}"
                      f"{': ' + event['reason'] if event.get('reason') else ''}")
    return 0


def _simple(step: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        def work(client: ReviewClient) -> Any:
            version = args.version or client.version_of(args.case_id)
            body: dict[str, Any] = {"expected_version": version}
            if getattr(args, "reason", None):
                body["reason"] = args.reason
            if step in ("approve", "reject"):
                path = f"/cases/{args.case_id}/ban-proposals/{args.proposal_id}/{step}"
            else:
                path = f"/cases/{args.case_id}/{step}"
            return client.call("POST", path, body)

        return _run(args, work)

    return run


def _decide(args: argparse.Namespace) -> int:
    def work(client: ReviewClient) -> Any:
        body: dict[str, Any] = {"expected_version": args.version or client.version_of(args.case_id),
                                "decision": args.decision}
        for name in ("reason", "label", "promise", "promise_due_at", "outcome", "reply_text"):
            if getattr(args, name):
                body[name] = getattr(args, name)
        return client.call("POST", f"/cases/{args.case_id}/decisions", body)

    return _run(args, work)


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
from datetime import UTC, datetime
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

    # People type `moderato review list --json` as often as `moderato review --json list`: accept both.
    for sub in actions.choices.values():
        sub.add_argument("--api", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.add_argument("--token", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the API's JSON answer")


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


def _due(due_at: str | None, now: datetime) -> str:
    """'in 12 min' or 'OVERDUE 5 min': what a reviewer needs from the SLA clock at a glance."""
    if not due_at:
        return "-"
    minutes = int((datetime.fromisoformat(due_at.replace("Z", "+00:00")) - now).total_seconds() // 60)
    if minutes < 0:
        return f"[red]OVERDUE {_span(-minutes)}[/]"
    return f"in {_span(minutes)}"


def _span(minutes: int) -> str:
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h" if minutes < 2880 else f"{minutes // 1440} d"


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
    if not console.is_terminal:
        console.width = max(console.width, 180)  # piped or logged: keep one case per line
    table = Table(header_style="bold")
    widest_id = max((len(item["case_id"]) for item in page["items"]), default=4)
    table.add_column("case", no_wrap=True, min_width=widest_id)  # the id reviewers type next: never cut
    table.add_column("label", no_wrap=True, min_width=9)
    table.add_column("status", no_wrap=True, min_width=8)
    table.add_column("p", no_wrap=True, min_width=1)
    table.add_column("SLA due", no_wrap=True, min_width=12)
    table.add_column("platform", no_wrap=True, min_width=9)
    table.add_column("author", no_wrap=True, max_width=18, overflow="ellipsis")
    table.add_column("text", no_wrap=True, max_width=44, overflow="ellipsis")
    table.add_column("claimed by", no_wrap=True)
    now = datetime.now(UTC)
    for item in page["items"]:
        author = item["author"].get("name") or item["author"].get("handle") or item["author"].get("id") or ""
        table.add_row(item["case_id"], item["label"], item["status"], str(item["priority"]),
                      _due(item["sla_due_at"], now), item["platform"], author, item["text"],
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
                  f"priority {case['priority']} / SLA {_due(case['sla_due_at'], datetime.now(UTC))}")
    author = post["author"]
    who = author.get("name") or author.get("handle") or author.get("id") or "unknown author"
    if author.get("handle") and author.get("handle") != who:
        who += f" (@{author['handle']})"
    if author.get("followers") is not None:
        who += f", {author['followers']} followers"
    console.print(f"{post['platform']} {post['kind']} by {who}:")
    console.print(f"  {post['text']}", highlight=False)
    if post.get("permalink"):
        console.print(f"  {post['permalink']}")
    for reason in case["reasons"]:
        specifics = f" ({reason['detail']})" if reason.get("detail") else ""
        console.print(f"  why: {reason['code']}: {reason['message']}{specifics}")
    for proposal in case.get("ban_proposals", []):
        console.print(f"  ban proposal {proposal['proposal_id']} {proposal['status']} by {proposal['proposed_by']}: "
                      f"{proposal['reason']}")
    console.print("history:")
    for event in detail["history"]:
        console.print(f"  v{event['version']} {event['at'][:19].replace('T', ' ')} {event['actor']} {event['action']}"
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


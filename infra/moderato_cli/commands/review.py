"""``moderato review``: the review queue for reviewers without a browser, over the review API.

Every rule is enforced by the server (the same API the console uses); this command only sends what
the reviewer asked and prints the answer, refusals included, with their reason.

Optimistic concurrency is kept honest: a change is sent with the version of the case the reviewer
last *saw* (``--version``, or the one remembered from their last ``show``, ``list`` or change of that
case), never with whatever is current, so a colleague's change in between is refused (409) instead of
silently overwritten.

    export MODERATO_TOKEN=$(moderato token --user alice --group moderators)
    moderato review list --queue ComplaintQueue
    moderato review show facebook-1a2b...
    moderato review claim facebook-1a2b...
    moderato review decide facebook-1a2b... acknowledge --promise "we call you before 6 pm" --due 2026-11-25T18:00:00Z
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from moderato.models import CaseStatus, Label, Platform, ReviewQueue
from moderato.review.requests import MIN_WRITTEN_REASON, Decision

DEFAULT_API = "http://127.0.0.1:8787"
# The server's own vocabulary, so the CLI's choices cannot drift from what the API accepts.
DECISIONS = tuple(d.value for d in Decision)
QUEUES = tuple(queue.value for queue in ReviewQueue)
STATUSES = tuple(s.value for s in CaseStatus)
LABELS = tuple(label.value for label in Label)
PLATFORMS = tuple(p.value for p in Platform)
MAX_REMEMBERED = 500  # versions kept in the state file; the oldest are forgotten first


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details or []


class NotSeen(Exception):
    """The reviewer has not looked at this case (no remembered version, no --version)."""


# ---------------------------------------------------------------- the versions a reviewer has seen


def cache_dir() -> Path:
    """The user's cache directory for Moderato (MODERATO_CACHE_DIR, XDG_CACHE_HOME, ~/.cache, %LOCALAPPDATA%)."""
    explicit = os.environ.get("MODERATO_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or (os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    return Path(base) / "moderato" if base else Path.home() / ".cache" / "moderato"


def token_user(token: str) -> str:
    """Who the token is for (read, not verified: the server verifies), to keep each reviewer's versions apart."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        user = claims.get("cognito:username") or claims.get("username") or claims.get("sub")
        if user:
            return str(user)
    except (IndexError, ValueError, AttributeError):
        pass
    return "token-" + hashlib.sha256(token.encode()).hexdigest()[:16]


class SeenVersions:
    """``{"<api>|<user>|<case id>": version}`` in a small JSON file; written atomically, forgiving if corrupt."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls) -> SeenVersions:
        return cls(cache_dir() / "review-versions.json")

    def _load(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): int(v) for k, v in data.items() if isinstance(v, int)} if isinstance(data, dict) else {}

    def seen(self, key: str) -> int | None:
        return self._load().get(key)

    def remember(self, versions: dict[str, int]) -> None:
        if not versions:
            return
        data = self._load()
        for key, version in versions.items():
            data.pop(key, None)  # re-inserted last: the most recent stay when the file is trimmed
            data[key] = version
        data = dict(list(data.items())[-MAX_REMEMBERED:])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, encoding="utf-8",
                                             suffix=".tmp") as handle:
                json.dump(data, handle)
            os.replace(handle.name, self.path)
        except OSError as error:  # a read-only home must not stop a review; --version still works
            Console(stderr=True).print(f"[yellow]could not remember case versions in {self.path}: {error}")


# ---------------------------------------------------------------- HTTP


def _error_details(payload: dict[str, Any]) -> list[str]:
    """One line per invalid field; the server words them, older answers only give location and type."""
    lines: list[str] = []
    for item in payload.get("detail") or []:
        if not isinstance(item, dict):
            continue
        if item.get("message"):
            lines.append(str(item["message"]))
        else:
            field = ".".join(str(part) for part in (item.get("loc") or [])[1:]) or "request"
            lines.append(f"{field}: {item.get('type', 'invalid')}")
    return lines


class ReviewClient:
    def __init__(self, api: str, token: str, timeout: float = 10.0) -> None:
        self.api = api.rstrip("/")
        self.user = token_user(token)
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
            answer = payload if isinstance(payload, dict) else {}
            raise ApiError(response.status_code, str(answer.get("message") or response.reason),
                           answer.get("code"), _error_details(answer))
        return payload

    def key(self, case_id: str) -> str:
        return f"{self.api}|{self.user}|{case_id}"

    def current_version(self, case_id: str) -> int | None:
        try:
            return int(self.call("GET", f"/cases/{case_id}")["case"]["version"])
        except (ApiError, KeyError, TypeError, ValueError):
            return None


# ---------------------------------------------------------------- arguments


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
    listing.add_argument("--queue", choices=QUEUES, help="one review queue (default: all three)")
    listing.add_argument("--status", choices=STATUSES,
                         help="one status (default: open, claimed and acknowledged: what still needs someone)")
    listing.add_argument("--label", choices=LABELS, help="one label (normal cases are only listed this way)")
    listing.add_argument("--platform", choices=PLATFORMS, help="one platform")
    listing.add_argument("--brand", help="one brand, as named in brands.json (e.g. Floralys)")
    listing.add_argument("--since", help="created at or after, ISO 8601 with a zone (e.g. 2026-11-25T08:00:00Z)")
    listing.add_argument("--until", help="created before, ISO 8601 with a zone (e.g. 2026-11-25T18:00:00Z)")
    listing.add_argument("--author", help="one person's cases on one brand, newest first, any status: the person key "
                                          "'show' prints (e.g. floralys/meta/24266381753005180) or a platform user id")
    listing.add_argument("--order", help="cases quoting this order number (e.g. FL-20931)")
    listing.add_argument("--search", dest="q", help="part of the text, an author's name or handle, an order number")
    listing.add_argument("--mine", dest="claimed", action="store_const", const="me", help="only the cases I hold")
    listing.add_argument("--proposals", choices=["awaiting-me"],
                         help="awaiting-me: cases with a ban proposal by someone else that I (an approver) may "
                              "approve or reject, in any status")
    listing.add_argument("--cursor", help="the value printed after 'more: --cursor' to get the next page")
    listing.add_argument("--limit", type=int, default=20, help="cases per page, 1 to 100 (default %(default)s)")
    listing.set_defaults(func=_list)

    show = actions.add_parser("show", help="one case: post, reasons, promise, actions and history")
    show.add_argument("case_id")
    show.set_defaults(func=_show)

    def with_version(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("case_id")
        sub.add_argument("--version", type=int,
                         help="the case version you reviewed (default: the one you last saw with show or list; "
                              "a colleague's change since then is refused, not overwritten)")

    claim = actions.add_parser("claim", help="claim a case")
    with_version(claim)
    claim.set_defaults(func=_simple("claim"))

    release = actions.add_parser("release", help="release a claimed case")
    with_version(release)
    release.add_argument("--reason", help="why you give it back (optional; kept in the history)")
    release.set_defaults(func=_simple("release"))

    decide = actions.add_parser("decide", help="take a decision: " + ", ".join(DECISIONS))
    with_version(decide)
    decide.add_argument("decision", choices=DECISIONS)
    decide.add_argument("--reason", help=f"why; required for relabel and escalate (at least {MIN_WRITTEN_REASON} "
                                         "characters), kept in the history")
    decide.add_argument("--label", choices=LABELS, help="new label (relabel)")
    decide.add_argument("--promise", help="what the customer was told will be done (acknowledge a complaint)")
    decide.add_argument("--due", dest="promise_due_at", help="when the promise is due, ISO 8601 with zone")
    decide.add_argument("--outcome", help="what was done (resolve a complaint)")
    decide.add_argument("--reply-text", help="public answer (reply)")
    decide.set_defaults(func=_decide)

    propose = actions.add_parser("propose-ban", help="propose banning the case's author")
    with_version(propose)
    propose.add_argument("--reason", required=True,
                         help=f"why this author should be banned (at least {MIN_WRITTEN_REASON} characters; "
                              "the approver reads it)")
    propose.set_defaults(func=_simple("ban-proposals"))

    for verb in ("approve", "reject"):
        sub = actions.add_parser(f"{verb}-ban", help=f"{verb} a ban proposal (approvers)")
        with_version(sub)
        sub.add_argument("proposal_id")
        sub.add_argument("--reason", help=f"why you {verb} it (optional; kept in the history)")
        sub.set_defaults(func=_simple(verb))

    undo = actions.add_parser("undo-hide", help="put a hidden post back")
    with_version(undo)
    undo.add_argument("--reason", required=True, help="why the post goes back (at least 3 characters)")
    undo.set_defaults(func=_simple("undo-hide"))

    # People type `moderato review list --json` as often as `moderato review --json list`: accept both.
    for sub in actions.choices.values():
        sub.add_argument("--api", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.add_argument("--token", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the API's JSON answer")


# ---------------------------------------------------------------- running a command


def _client(args: argparse.Namespace) -> ReviewClient:
    token = args.token or os.environ.get("MODERATO_TOKEN")
    if not token:
        raise ApiError(0, "no token: pass --token or set MODERATO_TOKEN (locally: moderato token --user NAME "
                          "--group moderators; in AWS: see docs/REVIEW.md)")
    return ReviewClient(args.api, token)


def _console(stderr: bool = False) -> Console:
    # soft_wrap: messages carry commands to copy (`moderato review show ID`); the terminal wraps, not rich.
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _refused(error: ApiError) -> int:
    console = _console(stderr=True)
    label = "invalid request" if error.status == 422 else "refused"
    if error.details:
        console.print(f"[red]{label} ({error.status}):[/red]")
        for line in error.details:
            console.print(f"  - {escape(line)}")
    else:
        console.print(f"[red]{label} ({error.status or 'no answer'}):[/red] {escape(str(error))}")
    return 1 if error.status else 2


def _run(args: argparse.Namespace, work: Any) -> int:
    try:
        result = work(_client(args))
    except ApiError as error:
        return _refused(error)
    except NotSeen as error:
        _console(stderr=True).print(f"[yellow]{escape(str(error))}")
        return 2
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif result is not None:
        _print(result)
    return 0


def _print(result: Any) -> None:
    console = _console()
    case = result.get("case", result) if isinstance(result, dict) else result
    if isinstance(case, dict) and "case_id" in case:
        console.print(f"[bold]{case['case_id']}[/bold] {case['label']} {case['status']} version {case['version']}"
                      f"{' claimed by ' + case['claimed_by'] if case.get('claimed_by') else ''}")
        for action in case.get("actions") or []:
            if action.get("status") == "requested" and action.get("requested_at") == case.get("updated_at"):
                console.print(f"{action['kind']} requested: the actions function will perform it")
    if isinstance(result, dict) and "proposal" in result:
        proposal = result["proposal"]
        console.print(f"ban proposal {proposal['proposal_id']}: {_proposal_text(proposal)}")


def _version_to_send(client: ReviewClient, args: argparse.Namespace, memory: SeenVersions) -> int:
    if args.version is not None:
        return int(args.version)
    seen = memory.seen(client.key(args.case_id))
    if seen is None:
        raise NotSeen(f"you have not looked at case {args.case_id} yet: run `moderato review show {args.case_id}` "
                      "first (or pass --version N, the version you reviewed)")
    return seen


def _mutate(args: argparse.Namespace, path: str, body: dict[str, Any]) -> int:
    """POST a change with the version the reviewer saw; remember the new version they are shown."""
    memory = SeenVersions.default()

    def work(client: ReviewClient) -> Any:
        sent = _version_to_send(client, args, memory)
        try:
            answer = client.call("POST", path, {"expected_version": sent, **body})
        except ApiError as error:
            if error.status == 409 and error.code == "stale_version":
                now = client.current_version(args.case_id)
                raise ApiError(409, f"the case changed since you looked at it (version {sent} -> "
                                    f"{now if now is not None else '?'}): run `moderato review show "
                                    f"{args.case_id}` again", error.code) from error
            raise
        case = answer.get("case", answer) if isinstance(answer, dict) else None
        if isinstance(case, dict) and "version" in case:
            memory.remember({client.key(args.case_id): int(case["version"])})
        return answer

    return _run(args, work)


def _simple(step: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        body: dict[str, Any] = {}
        if getattr(args, "reason", None):
            body["reason"] = args.reason
        if step in ("approve", "reject"):
            path = f"/cases/{args.case_id}/ban-proposals/{args.proposal_id}/{step}"
        else:
            path = f"/cases/{args.case_id}/{step}"
        return _mutate(args, path, body)

    return run


def _decide(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"decision": args.decision}
    for name in ("reason", "label", "promise", "promise_due_at", "outcome", "reply_text"):
        if getattr(args, name):
            body[name] = getattr(args, name)
    return _mutate(args, f"/cases/{args.case_id}/decisions", body)


# ---------------------------------------------------------------- list and show


def _zone() -> tzinfo | None:
    """The reviewer's zone: TZ when it names one (e.g. Europe/Paris), else the machine's."""
    name = os.environ.get("TZ", "").lstrip(":")
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _when(value: str | None) -> str:
    """A time in the reviewer's zone, with the zone's name (UTC when that is the reviewer's zone)."""
    if not value:
        return "-"
    local = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(_zone())
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or local.strftime("%z"))


_DECIDED = {"approved": "approved", "executed": "approved", "rejected": "rejected"}


def _proposal_text(proposal: dict[str, Any]) -> str:
    """Who proposed, and who decided: the approver is never the proposer, so both are named."""
    text = f"{proposal['status']}; proposed by {proposal['proposed_by']}"
    if proposal.get("proposed_at"):
        text += f" at {_when(proposal['proposed_at'])}"
    decided = proposal.get("decided_by")
    if decided:
        verb = _DECIDED.get(proposal["status"], "decided")
        by_proposer = proposal.get("decided_by_sub") is not None and (
            proposal.get("decided_by_sub") == proposal.get("proposed_by_sub"))
        if verb == "rejected" and by_proposer:
            verb = "withdrawn"
        text += f"; {verb} by {decided}"
        if proposal.get("decided_at"):
            text += f" at {_when(proposal['decided_at'])}"
    return text


def _due(due_at: str | None, now: datetime, compact: bool = False) -> str:
    """'in 12 min' or 'LATE 5 min': what a reviewer needs from the SLA clock at a glance."""
    if not due_at:
        return "-"
    minutes = int((datetime.fromisoformat(due_at.replace("Z", "+00:00")) - now).total_seconds() // 60)
    if minutes < 0:
        return f"[red]LATE {_span(-minutes, compact)}[/]"
    return f"in {_span(minutes, compact)}"


def _span(minutes: int, compact: bool = False) -> str:
    unit = {"min": "m", "h": "h", "d": "d"} if compact else {"min": " min", "h": " h", "d": " d"}
    if minutes < 120:
        return f"{minutes}{unit['min']}"
    return f"{minutes // 60}{unit['h']}" if minutes < 2880 else f"{minutes // 1440}{unit['d']}"


def _short_reasons(codes: list[str]) -> str:
    """``rule.complaint.delivery`` -> ``complaint.delivery``: the family is already in the label column."""
    return ", ".join(code.split(".", 1)[1] if code.count(".") >= 2 else code for code in codes)


def _list(args: argparse.Namespace) -> int:
    query = {name: getattr(args, name) for name in ("queue", "status", "label", "platform", "brand", "since",
                                                    "until", "author", "order", "q", "claimed", "cursor", "limit")}
    if args.proposals:
        query["proposals"] = args.proposals.replace("-", "_")
    page: dict[str, Any] = {}

    def work(client: ReviewClient) -> Any:
        page.update(client.call("GET", "/cases", query=query))
        SeenVersions.default().remember({client.key(item["case_id"]): int(item["version"])
                                         for item in page.get("items", [])})
        return page

    if args.json:
        return _run(args, work)
    try:
        work(_client(args))
    except ApiError as error:
        return _refused(error)
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, 200)  # piped or logged: keep one case per line
    console.print(_case_table(page["items"], console.width, datetime.now(UTC)))
    if page.get("next_cursor"):
        # Plain print: rich would wrap a long cursor at the terminal width and break copy-paste.
        print(f"more: --cursor {page['next_cursor']}", flush=True)
    return 0


# Short forms, so a row fits a 100-column terminal beside the full case id (which reviewers type next).
_STATUS_SHORT = {"acknowledged": "acked"}
_PLATFORM_SHORT = {"facebook": "fb", "instagram": "ig", "messenger": "msgr", "linkedin": "li", "tiktok": "tt",
                   "youtube": "yt"}
WIDE = 140  # from this width on, the reasons column fits too


def _case_table(items: list[dict[str, Any]], width: int, now: datetime) -> Table:
    """One case per line. A claimed case shows its holder in the status column."""
    table = Table(header_style="bold underline", box=None, pad_edge=False, padding=(0, 1))
    widest_id = max((len(item["case_id"]) for item in items), default=4)
    table.add_column("case", no_wrap=True, min_width=widest_id)  # never cut
    fixed = {"label": 9, "status": 9, "v": 3, "due": 9, "on": 4, "author": 12}
    if width >= WIDE:
        fixed["why"] = 28
    for name, size in fixed.items():
        table.add_column(name, no_wrap=True, width=size, overflow="ellipsis",
                         justify="right" if name == "v" else "left")
    # The text takes what is left: columns are two spaces apart.
    used = widest_id + sum(fixed.values()) + 2 * (len(fixed) + 1)
    table.add_column("text", no_wrap=True, width=max(8, width - used), overflow="ellipsis")
    for item in items:
        author = item["author"].get("name") or item["author"].get("handle") or item["author"].get("id") or ""
        status = f"@{item['claimed_by']}" if item.get("claimed_by") else _STATUS_SHORT.get(item["status"],
                                                                                            item["status"])
        row = [item["case_id"], item["label"], escape(status), str(item["version"]),
               _due(item["sla_due_at"], now, compact=True), _PLATFORM_SHORT.get(item["platform"], item["platform"]),
               escape(author)]
        if width >= WIDE:
            row.append(escape(_short_reasons(item.get("reasons") or [])))
        table.add_row(*row, escape(" ".join(item["text"].split())))
    return table


_VISIBILITY = {"hidden": "hidden", "visible": "visible", "hide_pending": "hide requested, not performed yet",
               "unhide_pending": "unhide requested, not performed yet (still hidden)"}


def _show(args: argparse.Namespace) -> int:
    def work(client: ReviewClient) -> Any:
        detail = client.call("GET", f"/cases/{args.case_id}")
        SeenVersions.default().remember({client.key(args.case_id): int(detail["case"]["version"])})
        return detail

    if args.json:
        return _run(args, work)
    try:
        detail = work(_client(args))
    except ApiError as error:
        return _refused(error)
    print_detail(detail, _console(), datetime.now(UTC))
    return 0


def print_detail(detail: dict[str, Any], console: Console, now: datetime) -> None:
    case = detail["case"]
    post = case["post"]
    console.print(f"[bold]{case['case_id']}[/bold] {case['label']} / {case['status']} / version {case['version']} / "
                  f"priority {case['priority']} / SLA {_due(case['sla_due_at'], now)}"
                  f"{' / claimed by ' + case['claimed_by'] if case.get('claimed_by') else ''}")
    author = post["author"]
    who = author.get("name") or author.get("handle") or author.get("id") or "unknown author"
    if author.get("handle") and author.get("handle") != who:
        who += f" (@{author['handle']})"
    if author.get("followers") is not None:
        who += f", {author['followers']} followers"
    console.print(f"{post['platform']} {post['kind']} by {escape(who)}:")
    console.print(f"  {escape(post['text'])}")
    if post.get("permalink"):
        console.print(f"  {post['permalink']}")
    if case.get("order_numbers"):
        console.print(f"order: {', '.join(case['order_numbers'])}")
    _print_related(case, detail.get("related") or [], console)
    if case.get("safety"):
        console.print(f"[bold red]safety: {', '.join(case['safety'])}[/bold red]")
    if case.get("suggested_reply"):
        console.print(f"suggested reply (send it yourself, nothing is sent automatically):\n  "
                      f"{escape(case['suggested_reply'])}")
    for reason in case["reasons"]:
        specifics = f" ({reason['detail']})" if reason.get("detail") else ""
        console.print(f"  why: {reason['code']}: {escape(reason['message'] + specifics)}")
    _print_promise(case, detail["history"], console, now)
    if case.get("actions") or detail.get("visibility") not in (None, "visible"):
        console.print(f"on the platform: {_VISIBILITY.get(detail.get('visibility') or '', 'visible')}")
    for action in case.get("actions") or []:
        console.print("  " + _action_line(action))
    for proposal in case.get("ban_proposals", []):
        console.print(f"  ban proposal {proposal['proposal_id']}: {escape(_proposal_text(proposal))}")
        console.print(f"    why: {escape(proposal['reason'])}")
        if proposal.get("decision_reason"):
            console.print(f"    decision: {escape(proposal['decision_reason'])}")
    console.print("history:")
    for event in detail["history"]:
        console.print(f"  v{event['version']} {_when(event['at'])} {event['actor']} {event['action']}"
                      f"{': ' + escape(event['reason']) if event.get('reason') else ''}")


def _print_related(case: dict[str, Any], related: list[dict[str, Any]], console: Console) -> None:
    """The same person's other cases on the brand: an open complaint elsewhere protects this post too."""
    if case.get("person_key"):
        console.print(f"person: {escape(case['person_key'])}")
    if not related:
        return
    console.print(f"same person, {len(related)} other case{'s' if len(related) > 1 else ''} on this brand:")
    for other in related:
        orders = f" (order {', '.join(other['order_numbers'])})" if other.get("order_numbers") else ""
        console.print(f"  {other['case_id']} {other['label']} / {other['status']} on {other['platform']}{orders}")


def _action_line(action: dict[str, Any]) -> str:
    status = action["status"].replace("_", " ")
    attempts = action.get("attempts") or 0
    line = f"{action['kind']}: {status}"
    if attempts:
        line += f" ({attempts} attempt{'s' if attempts > 1 else ''})"
    if action["status"] == "failed":
        final = action.get("completed_at") is not None
        line += f": {action.get('last_error') or 'platform error'}"
        line += " - not retried (the platform refused it)" if final else " - will be retried"
    elif action["status"] == "refused" and action.get("last_error"):
        line += f": {action['last_error']}"
    return escape(line)


def _print_promise(case: dict[str, Any], history: list[dict[str, Any]], console: Console, now: datetime) -> None:
    """Say what was promised, by when, and (once resolved) whether it was kept and the SLA met."""
    events = {event["action"]: event for event in history}  # the latest of each kind
    acked = events.get("acknowledged")
    if acked is not None:
        on_time = acked.get("data", {}).get("acknowledged_on_time")
        late = " (on time)" if on_time else " (LATE)" if on_time is False else ""
        console.print(f"acknowledged by {acked['actor']} at {_when(acked['at'])}{late}")
    promise = case.get("promise")
    if promise:
        console.print(f"promise: \"{escape(promise['text'])}\" ({promise['made_by']}, {_when(promise['made_at'])})")
        if promise.get("resolved_at") is None:
            console.print(f"  due {_when(promise['due_at'])} ({_due(promise['due_at'], now)})")
        else:
            console.print(f"  due {_when(promise['due_at'])}, resolved {_when(promise['resolved_at'])}: "
                          f"{'[green]kept[/]' if promise.get('kept') else '[red]NOT kept[/]'}")
    resolved = events.get("resolved")
    if resolved is not None:
        data = resolved.get("data", {})
        outcome = data.get("outcome") or (promise or {}).get("outcome")
        sla = data.get("resolved_within_sla")
        within = "within SLA" if sla else "after the SLA" if sla is False else "no resolution SLA"
        console.print(f"outcome: {escape(outcome) if outcome else '(none recorded)'} ({within})")

"""``moderato token``: a local JWT for the review API, signed with infra/local/secrets.json (fake)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from moderato_local.jwt_issuer import DEFAULT_SECRETS_PATH, JwtSettings, issue_token

# The Cognito groups of template.yaml; a token with any other group is refused by every review route.
REVIEW_GROUPS = ("moderators", "approvers")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "token",
        help="print a local JWT for a user and groups (local stack only)",
        description="Issue an HS256 token that the local gateway accepts like API Gateway would a Cognito "
                    "ID token. Use it as 'Authorization: Bearer <token>'.",
    )
    parser.add_argument("--user", required=True, help="user name, for display (claims username, cognito:username)")
    parser.add_argument("--sub", default=None,
                        help="the person's immutable id (claim sub), which the review API compares; default: a "
                             "UUID derived from the user name, the same for every token of that user")
    parser.add_argument("--group", action="append", default=[], choices=REVIEW_GROUPS,
                        help="moderators or approvers (repeatable; the review API knows no other group)")
    parser.add_argument("--scope", action="append", default=[], help="an OAuth scope for the scope claim")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until expiry (default 3600)")
    parser.add_argument("--secrets", default=str(DEFAULT_SECRETS_PATH), help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.ttl <= 0:
        print("--ttl must be positive", file=sys.stderr)
        return 2
    if args.sub is not None and not args.sub.strip():
        print("--sub must not be empty", file=sys.stderr)
        return 2
    settings = JwtSettings.load(args.secrets)
    print(issue_token(settings, args.user, args.group, ttl=args.ttl, scopes=args.scope, sub=args.sub))
    return 0

"""Property-based fuzzing of the review API handler against moto: no input makes it answer 5xx.

Arbitrary case and proposal ids, query strings, claims, content types and bodies (bytes, other
encodings, deep JSON, wrong types in every field). Prints how many requests it sent and their statuses.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderato.review.settings import clear_caches
from moderato_local.events import HttpRequest, http_api_event
from tests.integration.conftest import AwsEnv, FakeContext, aws, load_handler  # noqa: F401 - aws is a fixture
from tests.review_support import claims_of

EXAMPLES = max(20, int(os.environ.get("FUZZ_EXAMPLES", "60")) // 5)  # each request goes through moto
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ACTIONS = ["claim", "release", "decisions", "ban-proposals", "undo-hide"]
FIELDS = ["expected_version", "decision", "reason", "label", "note", "promise", "text", "due_at", "target",
          "hide", "reply", "author_id"]
JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
                              st.sampled_from(["\ud800", "9" * 400, "<!channel>"])),
                    lambda inner: st.one_of(st.lists(inner, max_size=3),
                                            st.dictionaries(st.sampled_from(FIELDS), inner, max_size=4)),
                    max_leaves=10)
BODIES = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda value: json.dumps(value).encode(), JSON),
    st.builds(lambda value: json.dumps(value).encode("utf-16"), JSON),
    st.builds(lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"), JSON),
    st.sampled_from([b"[" * 5000 + b"]" * 5000, b'{"a":' * 900 + b"1" + b"}" * 900, b"\xef\xbb\xbf{}", b""]),
)
IDS = st.one_of(st.sampled_from(["facebook-0123456789abcdef0123", "x-1", "", "..", "%00"]), st.text(max_size=40))
CLAIMS = st.one_of(st.just(claims_of("alice", "moderators")), st.just(claims_of("bob", "moderators", "approvers")),
                   st.dictionaries(st.sampled_from(["sub", "username", "cognito:groups", "token_use"]),
                                   st.text(max_size=20), max_size=4))


def event(method: str, path: str, route_key: str, params: dict[str, str], query: dict[str, str],
          content_type: str, body: bytes, claims: dict[str, Any]) -> dict[str, Any]:
    request = HttpRequest(method=method, raw_path=path, raw_query=urlencode(query),
                          headers=[("content-type", content_type)], body=body)
    return http_api_event(request, route_key, params, api_id="local", domain_name="127.0.0.1:8787",
                          authorizer={"jwt": {"claims": claims, "scopes": None}})


def test_review_api_never_answers_5xx(aws: AwsEnv, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    clear_caches()
    review = load_handler("review")
    counts: Counter[str] = Counter()

    @FUZZ
    @given(st.sampled_from(["list", "get", *ACTIONS, "approve", "reject"]), IDS, IDS,
           st.dictionaries(st.sampled_from(["limit", "cursor", "label", "status", "queue", "since", "until", "q",
                                            "order", "author", "claimed", "proposals", "platform"]),
                           st.one_of(st.text(max_size=30), st.sampled_from(["0", "-1", "1e9", "me", "spam"])),
                           max_size=4),
           st.sampled_from(["application/json", "application/json; charset=utf-16", "text/plain", ""]),
           BODIES, CLAIMS)
    def run(action: str, case_id: str, proposal_id: str, query: dict[str, str], content_type: str, body: bytes,
            claims: dict[str, Any]) -> None:
        case = quote(case_id, safe="") or "x"
        if action == "list":
            answer = review.lambda_handler(event("GET", "/cases", "GET /cases", {}, query, content_type, b"",
                                                 claims), FakeContext())
        elif action == "get":
            answer = review.lambda_handler(event("GET", f"/cases/{case}", "GET /cases/{case_id}",
                                                 {"case_id": case_id}, query, content_type, b"", claims),
                                           FakeContext())
        elif action in ("approve", "reject"):
            answer = review.lambda_handler(event(
                "POST", f"/cases/{case}/ban-proposals/{quote(proposal_id, safe='') or 'p'}/{action}",
                f"POST /cases/{{case_id}}/ban-proposals/{{proposal_id}}/{action}",
                {"case_id": case_id, "proposal_id": proposal_id}, {}, content_type, body, claims), FakeContext())
        else:
            answer = review.lambda_handler(event("POST", f"/cases/{case}/{action}",
                                                 f"POST /cases/{{case_id}}/{action}", {"case_id": case_id}, {},
                                                 content_type, body, claims), FakeContext())
        status = int(answer["statusCode"])
        assert status < 500, (status, answer.get("body"))
        counts[str(status)] += 1

    run()
    with capsys.disabled():
        print(f"\nfuzz review API: {sum(counts.values())} requests -> {dict(sorted(counts.items()))}")

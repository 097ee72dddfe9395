"""review function: the review API behind the HTTP API's JWT authorizer (Cognito; a local issuer locally).

Each route reads the reviewer from the verified claims, calls the review service and returns its
answer; the rules live in moderato.review.policy. Refusals are typed errors, turned into HTTP answers
in one place (the exception handlers at the bottom). The OpenAPI document (docs/openapi.json) is
generated from these routes: ``python -m moderato_cli.openapi_doc``.
"""

# No "from __future__ import annotations": the event handler reads the route signatures at run time
# to validate requests and build the OpenAPI document.
import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from moderato.adapters.actions_queue import ActionsQueue
from moderato.adapters.aws import AWS_RETRY_AFTER_SECONDS, client, is_aws_outage
from moderato.adapters.case_queues import AlertPublisher
from moderato.adapters.case_store import INDEXED_QUEUES, CaseFilter, CaseStore, InvalidCursor
from moderato.adapters.offender_memory import DynamoOffenderMemory
from moderato.case_errors import CaseNotFound, StaleCaseVersion
from moderato.console import asset, security_headers
from moderato.models import Case, CaseStatus, Label, Platform
from moderato.orders import normalize_order_number
from moderato.people import keys_for_query, load_person_links
from moderato.review import console_queries
from moderato.review.claims import lapsed
from moderato.review.errors import BadCursor, CaseMissing, InvalidRequest, ProposalMissing, ReviewError
from moderato.review.identity import Reviewer, reviewer_from_claims
from moderato.review.json_body import read_json_body
from moderato.review.requests import (
    MAX_ID_CHARS,
    BanDecisionRequest,
    BanProposalRequest,
    BulkAnswer,
    BulkHideRequest,
    BulkOutcome,
    CaseDetail,
    CaseList,
    CaseSummary,
    ClaimRequest,
    Decision,
    DecisionRequest,
    ErrorAnswer,
    FieldError,
    GatewayError,
    ProposalAnswer,
    ReleaseRequest,
    UndoHideRequest,
    is_plausible_id,
)
from moderato.review.service import ReviewService
from moderato.review.settings import review_settings
from moderato.review.validation import field_errors, summary
from moderato.settings import load_brand_accounts
from moderato.visibility import visibility

logger = Logger()
tracer = Tracer()
metrics = Metrics()
# Bodies are read within bounds (depth, number length, no lone surrogates): a hostile body is a 422, not a crash.
app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=read_json_body)

_settings = review_settings()
_store = CaseStore(_settings.cases_table_name, client("dynamodb"))
_offenders = (DynamoOffenderMemory(_settings.signals_table_name, client("dynamodb"))
              if _settings.signals_table_name else None)
_claim_lease = timedelta(minutes=_settings.claim_lease_minutes)
_service = ReviewService(cases=_store, actions=ActionsQueue(_settings.actions_queue_url, client("sqs")),
                         sla=_settings.sla, offenders=_offenders,
                         alerts=AlertPublisher(_settings.alerts_topic_arn, client("sns")),
                         claim_lease=_claim_lease)
# Who ?author= may name: a platform user id is looked up in every configured brand (or the one given).
_brands = sorted({account.brand for account in load_brand_accounts().values()})
_links = load_person_links()

# What each refusal means, per status. The bodies are ErrorAnswer, except the gateway's own 401.
_ERROR_TEXT = {
    400: "invalid_cursor: the cursor is not one this API returned for these filters",
    401: 'No valid token. API Gateway answers {"message": "Unauthorized"} before the function runs; a request '
         "reaching the function without identity gets not_authenticated",
    403: "forbidden: not in a review group, not an approver, or approving one's own ban proposal",
    404: "not_found (no such case) or proposal_not_found",
    409: "stale_version (the case changed since the reviewer looked), claimed_by_other, decision_not_allowed, "
         "complaint_open (the author has an open complaint or crisis case on any surface of the brand), "
         "proposal_not_pending",
    422: "invalid_request: the request does not validate (detail lists each field; a body that is not UTF-8 "
         "JSON, nests too deeply or holds an absurd number is one entry for the body) or breaks a rule of the "
         "decision (e.g. a re-label without a written reason)",
    503: "actions_unavailable: the decision was recorded but its platform action could not be queued; "
         "alert_unavailable: the case became a crisis but its crisis alert could not be published",
}


def _responses(success: int, description: str, *errors: int) -> dict[int, Any]:
    """The OpenAPI responses of one route: its success (schema from the return annotation) and its refusals.

    Passing ``responses`` makes Powertools document only these, so the success answer is listed here too.
    """
    documented: dict[int, Any] = {success: {"description": description}}
    for code in sorted({401, 403, 422, *errors}):
        model: Any = GatewayError | ErrorAnswer if code == 401 else ErrorAnswer
        documented[code] = {"description": _ERROR_TEXT[code], "content": {"application/json": {"model": model}}}
    return documented


def _reviewer() -> Reviewer:
    context = app.current_event.raw_event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims")
    reviewer = reviewer_from_claims(claims)
    reviewer.require_reviewer()
    # Every line carries the opaque sub; the name is personal data, logged at DEBUG only.
    logger.append_keys(reviewer_sub=reviewer.sub)
    logger.debug("reviewer identified", extra={"reviewer": reviewer.username})
    return reviewer


def _refuse_implausible_ids(resolver: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    """A path id no case or proposal can have is a 404 before any AWS call (DynamoDB refuses long keys)."""
    path = resolver.current_event.path_parameters or {}
    if not is_plausible_id(path.get("case_id", "x")):
        raise CaseMissing(f"no such case: case ids are 1 to {MAX_ID_CHARS} printable characters without spaces")
    if not is_plausible_id(path.get("proposal_id", "x")):
        raise ProposalMissing(f"no such ban proposal: ids are 1 to {MAX_ID_CHARS} printable characters without spaces")
    return next_middleware(resolver)


app.use(middlewares=[_refuse_implausible_ids])


def _decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The position a cursor encodes; its content is checked by the store (InvalidCursor, also 400)."""
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error) as error:
        raise BadCursor("the cursor is not one this API returned: start again without it") from error
    if not isinstance(value, dict):
        raise BadCursor("the cursor is not one this API returned: start again without it")
    return value


def _encode_cursor(position: dict[str, Any] | None) -> str | None:
    if position is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


@app.get("/cases", summary="List cases, most urgent first", tags=["cases"],
         responses=_responses(200, "One page of cases, most urgent first", 400))
@tracer.capture_method
def list_cases(
    queue: Annotated[str | None, Query(description="CrisisQueue, ComplaintQueue or SpamQueue")] = None,
    status: Annotated[CaseStatus | None, Query(description="Default: open, claimed and acknowledged")] = None,
    label: Annotated[Label | None, Query()] = None,
    platform: Annotated[str | None, Query()] = None,
    brand: Annotated[str | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="Created at or after (ISO 8601 with zone)")] = None,
    until: Annotated[datetime | None, Query(description="Created before (ISO 8601 with zone)")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    author: Annotated[str | None, Query(
        min_length=1, max_length=300,
        description="One person's cases on one brand, newest first, in any status unless status is given: "
                    "a person key (brand/identity family/user id, e.g. floralys/meta/24266381753005180, as "
                    "cases show it), or a platform user id, looked up in every configured brand (or brand=) and "
                    "identity family (or the family of platform=)")] = None,
    order: Annotated[str | None, Query(min_length=1, max_length=64,
                                       description="An order number quoted in the post, e.g. FL-20931")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description=(
        "Search: part of the text, the author's name, handle or id, an order number or the case id (case and "
        "accents ignored). Filtered pages may hold fewer items than limit; follow next_cursor"))] = None,
    claimed: Annotated[Literal["me"] | None, Query(description="me: only the cases I hold")] = None,
    proposals: Annotated[Literal["awaiting_me"] | None, Query(description=(
        "awaiting_me: cases with a ban proposal by someone else that I (an approver) may decide, in any queue "
        "and status unless given; one page, no cursor"))] = None,
) -> CaseList:
    reviewer = _reviewer()
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(f"{name} needs a time zone (e.g. 2026-11-25T08:00:00Z)")
    filters = CaseFilter(queue=queue, status=status.value if status else None, label=label.value if label else None,
                         platform=platform, brand=brand, since=since, until=until,
                         order=normalize_order_number(order) if order else None)
    now = datetime.now(UTC)
    keep = _console_filter(reviewer, q, claimed, proposals)
    if proposals and not author:
        return CaseList(items=[CaseSummary.of(lapsed(case, now, _claim_lease))
                               for case in _awaiting_approval(filters, keep, limit)])
    if author:
        keys = keys_for_query(author, [brand] if brand else _brands, _platform(platform), _links)
        # The brand is in the key: filtering on it again would miss cases of an unnamed account.
        person_filters = replace(filters, brand=None)

        def page(start: dict[str, Any] | None, size: int) -> tuple[list[Case], dict[str, Any] | None]:
            return _store.list_person_cases(keys, person_filters, size, start)
    else:
        def page(start: dict[str, Any] | None, size: int) -> tuple[list[Case], dict[str, Any] | None]:
            return _store.list_cases(filters, size, start)
    cases, position = _read_filtered(page, keep, limit, _decode_cursor(cursor), now)
    return CaseList(items=[CaseSummary.of(case) for case in cases], next_cursor=_encode_cursor(position))


# A console filter (search, my claims, bans awaiting me) reads at most this many pages of the listing per
# request, so one request stays bounded; the cursor it returns continues where it stopped.
_FILTERED_PAGES = 10


def _console_filter(reviewer: Reviewer, q: str | None, claimed: str | None,
                    proposals: str | None) -> Callable[[Case], bool] | None:
    if not (q or claimed or proposals):
        return None

    def keep(case: Case) -> bool:
        return ((not q or console_queries.matches_text(case, q))
                and (not claimed or console_queries.claimed_by(case, reviewer))
                and (not proposals or console_queries.awaiting_approval_by(case, reviewer)))
    return keep


def _read_filtered(page: Callable[[dict[str, Any] | None, int], tuple[list[Case], dict[str, Any] | None]],
                   keep: Callable[[Case], bool] | None, limit: int, start: dict[str, Any] | None,
                   now: datetime) -> tuple[list[Case], dict[str, Any] | None]:
    if keep is None:
        cases, position = page(start, limit)
        return [lapsed(case, now, _claim_lease) for case in cases], position
    found: list[Case] = []
    position = start
    for _ in range(_FILTERED_PAGES):
        cases, position = page(position, limit)
        found.extend(case for case in (lapsed(c, now, _claim_lease) for c in cases) if keep(case))
        if len(found) >= limit or position is None:
            break
    return found, position


def _awaiting_approval(filters: CaseFilter, keep: Callable[[Case], bool] | None, limit: int) -> list[Case]:
    """Ban proposals wait on cases in any queue and status (a hidden spam case is closed): read each stream."""
    queues = [filters.queue] if filters.queue else list(INDEXED_QUEUES)
    statuses = [filters.status] if filters.status else [status.value for status in CaseStatus]
    found: list[Case] = []
    for queue in queues:
        for status in statuses:
            stream = replace(filters, queue=queue, status=status)
            position: dict[str, Any] | None = None
            for _ in range(_FILTERED_PAGES):
                cases, position = _store.list_cases(stream, 100, position)
                found.extend(case for case in cases if keep is None or keep(case))
                if position is None:
                    break
    found.sort(key=lambda case: min((p.proposed_at for p in case.ban_proposals), default=case.created_at))
    return found[:limit]


def _platform(value: str | None) -> Platform | None:
    if value is None:
        return None
    try:
        return Platform(value)
    except ValueError as error:
        raise InvalidRequest(f"platform: one of {', '.join(p.value for p in Platform)}") from error


@app.get("/cases/<case_id>", summary="One case with its full history", tags=["cases"],
         responses=_responses(200, "The case, its history (oldest first) and where its post stands", 404))
@tracer.capture_method
def get_case(case_id: str) -> CaseDetail:
    reviewer = _reviewer()
    case, history = _service.detail(reviewer, case_id)
    related = _service.related(case)
    return CaseDetail(case=case, history=history, visibility=visibility(case), related=related,
                      available=console_queries.available(case, reviewer, related, _claim_lease))


_MUTATION = (404, 409)
_QUEUES_AN_ACTION = (404, 409, 503)


@app.post("/cases/<case_id>/claim", summary="Claim a case so no colleague works on it twice", tags=["cases"],
          responses=_responses(200, "The claimed case (its new version)", *_MUTATION))
@tracer.capture_method
def claim_case(case_id: str, body: Annotated[ClaimRequest, Body()]) -> Case:
    return _service.claim(_reviewer(), case_id, body.expected_version)


@app.post("/cases/<case_id>/release", summary="Give a claimed case back", tags=["cases"],
          responses=_responses(200, "The released case (its new version)", *_MUTATION))
@tracer.capture_method
def release_case(case_id: str, body: Annotated[ReleaseRequest, Body()]) -> Case:
    return _service.release(_reviewer(), case_id, body.expected_version, body.reason)


@app.post("/cases/<case_id>/decisions", summary="Decide: hide, dismiss, acknowledge, resolve, escalate, "
          "relabel, reply, close", tags=["decisions"],
          responses=_responses(200, "The case after the decision (hide and reply queue a platform action)",
                               *_QUEUES_AN_ACTION))
@tracer.capture_method
def decide(case_id: str, body: Annotated[DecisionRequest, Body()]) -> Case:
    case = _service.decide(_reviewer(), case_id, body)
    metrics.add_metric(name="ReviewDecisions", unit=MetricUnit.Count, value=1)
    return case


@app.post("/cases/<case_id>/ban-proposals", summary="Propose banning the post's author (needs a second person)",
          tags=["bans"], status_code=201,
          responses=_responses(201, "The proposal (pending) and the case holding it", *_MUTATION))
@tracer.capture_method
def propose_ban(case_id: str, body: Annotated[BanProposalRequest, Body()]) -> ProposalAnswer:
    case = _service.propose_ban(_reviewer(), case_id, body.expected_version, body.reason)
    return ProposalAnswer(case=case, proposal=case.ban_proposals[-1])


@app.post("/cases/<case_id>/ban-proposals/<proposal_id>/approve",
          summary="Approve a ban proposed by someone else (approvers only)", tags=["bans"],
          responses=_responses(200, "The approved proposal; the ban is queued for the actions function",
                               *_QUEUES_AN_ACTION))
@tracer.capture_method
def approve_ban(case_id: str, proposal_id: str, body: Annotated[BanDecisionRequest, Body()]) -> ProposalAnswer:
    case = _service.approve_ban(_reviewer(), case_id, proposal_id, body.expected_version, body.reason)
    metrics.add_metric(name="BansApproved", unit=MetricUnit.Count, value=1)
    return ProposalAnswer(case=case, proposal=_proposal(case, proposal_id))


@app.post("/cases/<case_id>/ban-proposals/<proposal_id>/reject",
          summary="Reject a ban proposal (approvers), or withdraw your own", tags=["bans"],
          responses=_responses(200, "The rejected proposal and the case holding it", *_MUTATION))
@tracer.capture_method
def reject_ban(case_id: str, proposal_id: str, body: Annotated[BanDecisionRequest, Body()]) -> ProposalAnswer:
    case = _service.reject_ban(_reviewer(), case_id, proposal_id, body.expected_version, body.reason)
    return ProposalAnswer(case=case, proposal=_proposal(case, proposal_id))


@app.post("/cases/<case_id>/undo-hide", summary="Put a hidden post back (unhide on the platform)",
          tags=["decisions"],
          responses=_responses(200, "The case with its unhide queued (hidden until the unhide is performed)",
                               *_QUEUES_AN_ACTION))
@tracer.capture_method
def undo_hide(case_id: str, body: Annotated[UndoHideRequest, Body()]) -> Case:
    return _service.undo_hide(_reviewer(), case_id, body.expected_version, body.reason)


@app.post("/cases/bulk-hide", summary="Hide a spam wave: several cases, one written reason", tags=["decisions"],
          responses=_responses(200, "One outcome per case: hidden (its new version) or refused (code, message)"))
@tracer.capture_method
def bulk_hide(body: Annotated[BulkHideRequest, Body()]) -> BulkAnswer:
    reviewer = _reviewer()
    results: list[BulkOutcome] = []
    # Each case is decided on its own (its version, its guardrails): one refusal does not stop the wave.
    for item in body.cases:
        request = DecisionRequest(expected_version=item.expected_version, decision=Decision.HIDE, reason=body.reason)
        try:
            case = _service.decide(reviewer, item.case_id, request)
        except ReviewError as error:
            results.append(BulkOutcome(case_id=item.case_id, ok=False, code=error.code, message=error.message))
            continue
        except StaleCaseVersion as error:
            results.append(BulkOutcome(case_id=item.case_id, ok=False, code="stale_version", message=str(error)))
            continue
        except CaseNotFound:
            results.append(BulkOutcome(case_id=item.case_id, ok=False, code="not_found",
                                       message=f"no case {item.case_id}"))
            continue
        metrics.add_metric(name="ReviewDecisions", unit=MetricUnit.Count, value=1)
        results.append(BulkOutcome(case_id=item.case_id, ok=True, version=case.version))
    return BulkAnswer(results=results)


# ---------------------------------------------------------------- the console: static, no authorizer
# The page and its scripts hold no case data; every case it shows comes from the routes above, with the
# reviewer's token. The sign-in settings are public (a Cognito domain and app client id).


def _console_config() -> dict[str, Any]:
    domain = _settings.console_auth_domain.rstrip("/")
    return {"auth": {"domain": domain, "client_id": _settings.console_client_id} if domain else None,
            "claim_lease_minutes": _settings.claim_lease_minutes}


def _static(name: str) -> Response[str]:
    domain = _settings.console_auth_domain.rstrip("/") or None
    headers = security_headers(domain)
    if name == "config.json":
        return Response(status_code=200, content_type="application/json", headers=headers,
                        body=json.dumps(_console_config()))
    found = asset(name)
    if found is None:
        return Response(status_code=404, content_type="application/json", body=json.dumps({"message": "Not Found"}))
    return Response(status_code=200, content_type=found.content_type, headers=headers, body=found.body)


@app.get("/console", include_in_schema=False)
def console_page() -> Response[str]:
    return _static("index.html")


@app.get("/console/<name>", include_in_schema=False)
def console_asset(name: str) -> Response[str]:
    return _static(name)


def _proposal(case: Case, proposal_id: str) -> Any:
    return next(p for p in case.ban_proposals if p.proposal_id == proposal_id)


# ---------------------------------------------------------------- errors: the one place they become HTTP


def _answer(status: int, code: str, message: str, detail: list[FieldError] | None = None) -> Response:
    answer = ErrorAnswer(code=code, message=message, detail=detail)
    return Response(status_code=status, content_type="application/json",
                    body=answer.model_dump_json(exclude_none=True))


@app.exception_handler([RequestValidationError, RequestUnsupportedContentType])
def invalid(error: RequestValidationError | RequestUnsupportedContentType) -> Response:
    # Same shape as every other refusal, with a readable sentence per field (never the rejected input).
    detail = field_errors(error.errors())
    logger.info("review request invalid", extra={"detail": [d.message for d in detail],
                                                 "route": app.current_event.path})
    return _answer(422, InvalidRequest.code, summary(detail), detail)


def _unreadable_body() -> str | None:
    """Why the request's body cannot be read at all (its content type or encoding), else None."""
    event = app.current_event
    if event.http_method != "POST":
        return None
    content_type = (event.headers.get("content-type") or "").strip().lower()
    if content_type and not content_type.startswith("application/json"):
        return "unsupported_content_type"
    try:
        event.decoded_body  # noqa: B018 - decoding it again tells whether the body was the problem
    except (UnicodeError, binascii.Error):
        return "body_not_utf8"
    return None


@app.exception_handler(ValueError)
def unreadable(error: ValueError) -> Response:
    # Powertools decodes the body (base64, UTF-8; multipart and form bodies too) before a route runs and
    # lets that step's ValueErrors through: those are the client's (422). Any other is a bug: still a 500.
    problem = _unreadable_body()
    if problem is None:
        raise error
    detail = field_errors([{"loc": ("body",), "type": problem}])
    logger.info("review request invalid", extra={"detail": [d.message for d in detail],
                                                 "route": app.current_event.path})
    return _answer(422, InvalidRequest.code, summary(detail), detail)


@app.exception_handler(ReviewError)
def refused(error: ReviewError) -> Response:
    logger.info("review request refused", extra={"status": error.status, "code": error.code,
                                                  "detail": error.message, "route": app.current_event.path})
    metrics.add_metric(name="ReviewRefusals", unit=MetricUnit.Count, value=1)
    return _answer(error.status, error.code, error.message)


@app.exception_handler(StaleCaseVersion)
def stale(error: StaleCaseVersion) -> Response:
    # Someone wrote the case between our read and our write: same answer as a stale expected_version.
    return _answer(409, "stale_version", f"{error}: reload it and decide again")


@app.exception_handler(CaseNotFound)
def missing(error: CaseNotFound) -> Response:
    return _answer(404, "not_found", f"no case {error}")


@app.exception_handler(InvalidCursor)
def bad_cursor(error: InvalidCursor) -> Response:
    return _answer(BadCursor.status, BadCursor.code, f"{error}: start again without it")


@app.exception_handler([BotoCoreError, ClientError])
def aws_unavailable(error: BotoCoreError | ClientError) -> Response:
    # AWS unreachable or throttling after the SDK's retries: the reviewer's request was fine, try again
    # later (503 + Retry-After). Any other AWS error is ours (a bug, a missing permission): still a 500.
    if not is_aws_outage(error):
        raise error
    logger.warning("AWS unavailable", extra={"error": type(error).__name__, "route": app.current_event.path})
    answer = _answer(503, "aws_unavailable", "the case store is unavailable right now; retry shortly")
    answer.headers["Retry-After"] = str(AWS_RETRY_AFTER_SECONDS)
    return answer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

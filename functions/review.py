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
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from moderato.adapters.actions_queue import ActionsQueue
from moderato.adapters.aws import client
from moderato.adapters.case_store import CaseFilter, CaseNotFound, CaseStore, InvalidCursor, StaleCaseVersion
from moderato.adapters.offender_memory import DynamoOffenderMemory
from moderato.models import Case, CaseStatus, Label
from moderato.review.errors import BadCursor, InvalidRequest, ReviewError
from moderato.review.identity import Reviewer, reviewer_from_claims
from moderato.review.requests import (
    BanDecisionRequest,
    BanProposalRequest,
    CaseDetail,
    CaseList,
    CaseSummary,
    ClaimRequest,
    DecisionRequest,
    ErrorAnswer,
    FieldError,
    GatewayError,
    ProposalAnswer,
    ReleaseRequest,
    UndoHideRequest,
)
from moderato.review.service import ReviewService
from moderato.review.settings import review_settings
from moderato.review.validation import field_errors, summary
from moderato.review.visibility import visibility

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)

_settings = review_settings()
_store = CaseStore(_settings.cases_table_name, client("dynamodb"))
_offenders = (DynamoOffenderMemory(_settings.signals_table_name, client("dynamodb"))
              if _settings.signals_table_name else None)
_service = ReviewService(cases=_store, actions=ActionsQueue(_settings.actions_queue_url, client("sqs")),
                         sla=_settings.sla, offenders=_offenders)

# What each refusal means, per status. The bodies are ErrorAnswer, except the gateway's own 401.
_ERROR_TEXT = {
    400: "invalid_cursor: the cursor is not one this API returned for these filters",
    401: 'No valid token. API Gateway answers {"message": "Unauthorized"} before the function runs; a request '
         "reaching the function without identity gets not_authenticated",
    403: "forbidden: not in a review group, not an approver, or approving one's own ban proposal",
    404: "not_found (no such case) or proposal_not_found",
    409: "stale_version (the case changed since the reviewer looked), claimed_by_other, decision_not_allowed, "
         "complaint_open (the author has an open complaint or crisis case), proposal_not_pending",
    422: "invalid_request: the request does not validate (detail lists each field) or breaks a rule of the "
         "decision (e.g. a re-label without a written reason)",
    503: "actions_unavailable: the decision was recorded but its platform action could not be queued",
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
    logger.append_keys(reviewer=reviewer.username)
    return reviewer


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
) -> CaseList:
    _reviewer()
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidRequest(f"{name} needs a time zone (e.g. 2026-11-25T08:00:00Z)")
    filters = CaseFilter(queue=queue, status=status.value if status else None, label=label.value if label else None,
                         platform=platform, brand=brand, since=since, until=until)
    cases, position = _store.list_cases(filters, limit, _decode_cursor(cursor))
    return CaseList(items=[CaseSummary.of(case) for case in cases], next_cursor=_encode_cursor(position))


@app.get("/cases/<case_id>", summary="One case with its full history", tags=["cases"],
         responses=_responses(200, "The case, its history (oldest first) and where its post stands", 404))
@tracer.capture_method
def get_case(case_id: str) -> CaseDetail:
    case, history = _service.detail(_reviewer(), case_id)
    return CaseDetail(case=case, history=history, visibility=visibility(case))


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


def _proposal(case: Case, proposal_id: str) -> Any:
    return next(p for p in case.ban_proposals if p.proposal_id == proposal_id)


# ---------------------------------------------------------------- errors: the one place they become HTTP


def _answer(status: int, code: str, message: str, detail: list[FieldError] | None = None) -> Response:
    answer = ErrorAnswer(code=code, message=message, detail=detail)
    return Response(status_code=status, content_type="application/json",
                    body=answer.model_dump_json(exclude_none=True))


@app.exception_handler(RequestValidationError)
def invalid(error: RequestValidationError) -> Response:
    # Same shape as every other refusal, with a readable sentence per field (never the rejected input).
    detail = field_errors(error.errors())
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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

"""docs/openapi.json is generated from the review handler and matches both the code and template.yaml."""

from __future__ import annotations

import json

from moderato_cli.openapi_doc import OPENAPI_PATH, render
from moderato_local.cfn_yaml import load_template
from tests.support import REPO


def test_the_committed_openapi_document_matches_the_code() -> None:
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is out of date: run python -m moderato_cli.openapi_doc"
    )


def test_every_documented_route_is_an_authorized_review_route_in_the_template() -> None:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    events = load_template(REPO / "template.yaml")["Resources"]["ReviewFunction"]["Properties"]["Events"]
    api = {name: e for name, e in events.items() if not e["Properties"]["Path"].startswith("/console")}
    declared = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in api.values()}
    assert documented == declared
    assert all(e["Properties"]["Auth"]["Authorizer"] == "CognitoJwt" for e in api.values())
    # The console's static files are the only routes without the authorizer, and are not API operations.
    static = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values()
              if "Auth" not in e["Properties"]}
    assert static == {("GET", "/console"), ("GET", "/console/{name}")}


SUCCESS = {
    ("get", "/cases"): ("200", "CaseList"),
    ("get", "/cases/{case_id}"): ("200", "CaseDetail"),
    ("post", "/cases/{case_id}/claim"): ("200", "Case"),
    ("post", "/cases/{case_id}/release"): ("200", "Case"),
    ("post", "/cases/{case_id}/decisions"): ("200", "Case"),
    ("post", "/cases/{case_id}/ban-proposals"): ("201", "ProposalAnswer"),
    ("post", "/cases/{case_id}/ban-proposals/{proposal_id}/approve"): ("200", "ProposalAnswer"),
    ("post", "/cases/{case_id}/ban-proposals/{proposal_id}/reject"): ("200", "ProposalAnswer"),
    ("post", "/cases/{case_id}/undo-hide"): ("200", "Case"),
    ("post", "/cases/bulk-hide"): ("200", "BulkAnswer"),
}


def _operations() -> dict[tuple[str, str], dict]:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return {(method, path): operation for path, item in document["paths"].items() for method, operation in item.items()}


def test_every_operation_documents_its_success_answer_with_its_model() -> None:
    operations = _operations()
    assert set(operations) == set(SUCCESS)
    for key, operation in operations.items():
        code, model = SUCCESS[key]
        successes = {status for status in operation["responses"] if status.startswith("2")}
        assert successes == {code}, f"{key}: documents {successes or 'no success'}"
        schema = operation["responses"][code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{model}"}, key


def test_refusals_are_documented_with_the_bodies_the_api_sends() -> None:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    assert schemas["ErrorAnswer"]["required"] == ["code", "message"]
    assert schemas["GatewayError"]["required"] == ["message"]
    assert "HTTPValidationError" not in schemas  # Powertools' shape: the API answers ErrorAnswer instead
    for key, operation in _operations().items():
        responses = operation["responses"]
        gateway = responses["401"]["content"]["application/json"]["schema"]
        assert {"$ref": "#/components/schemas/GatewayError"} in gateway["anyOf"], key
        for status in ("403", "422"):
            assert responses[status]["content"]["application/json"]["schema"] == \
                {"$ref": "#/components/schemas/ErrorAnswer"}, (key, status)
    assert "503" in _operations()[("post", "/cases/{case_id}/decisions")]["responses"]
    assert "400" in _operations()[("get", "/cases")]["responses"]

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
    declared = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events.values()}
    assert documented == declared
    assert all(e["Properties"]["Auth"]["Authorizer"] == "CognitoJwt" for e in events.values())

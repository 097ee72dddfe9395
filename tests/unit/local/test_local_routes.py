"""Route matching like API Gateway HTTP APIs, and routes read from a template."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderato_local.routes import Route, http_routes, select_route
from moderato_local.template import Template, TemplateError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "local"


def routes(*specs: tuple[str, str]) -> list[Route]:
    return [Route(f"Fn{index}", f"E{index}", "Api", method, path) for index, (method, path) in enumerate(specs)]


def chosen(table: list[Route], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    found = select_route(table, method, path)
    return (found[0].route_key, found[1]) if found else None


def test_most_specific_route_wins() -> None:
    table = routes(("ANY", "$default"), ("ANY", "/{proxy+}"), ("GET", "/webhooks/{platform}"),
                   ("GET", "/webhooks/meta"), ("ANY", "/webhooks/{platform}"))
    assert chosen(table, "GET", "/webhooks/meta") == ("GET /webhooks/meta", {})
    assert chosen(table, "GET", "/webhooks/x") == ("GET /webhooks/{platform}", {"platform": "x"})
    assert chosen(table, "POST", "/webhooks/x") == ("ANY /webhooks/{platform}", {"platform": "x"})
    assert chosen(table, "GET", "/a/b/c") == ("ANY /{proxy+}", {"proxy": "a/b/c"})
    assert chosen(routes(("ANY", "$default")), "DELETE", "/") == ("$default", {})


def test_no_route_means_none() -> None:
    table = routes(("POST", "/webhooks/{platform}"))
    assert chosen(table, "GET", "/webhooks/meta") is None
    assert chosen(table, "POST", "/webhooks") is None
    assert chosen(table, "POST", "/webhooks/meta/extra") is None


def test_path_parameters_are_url_decoded() -> None:
    assert chosen(routes(("GET", "/cases/{id}")), "GET", "/cases/a%20b") == ("GET /cases/{id}", {"id": "a b"})


def test_routes_come_from_the_template_with_their_authorizer() -> None:
    found = {route.route_key: route for route in http_routes(Template.load(FIXTURES / "template.yaml"))}
    assert set(found) == {"POST /echo/{name}", "ANY /files/{proxy+}", "GET /private"}
    assert found["POST /echo/{name}"].auth is None
    auth = found["GET /private"].auth
    assert auth is not None and auth.authorizer == "LocalJwt" and auth.header == "authorization"


def _template(auth: dict, event_auth: dict | None = None, version: str = "2.0") -> Template:
    props = {"ApiId": {"Ref": "Api"}, "Path": "/x", "Method": "GET", "PayloadFormatVersion": version}
    if event_auth is not None:
        props["Auth"] = event_auth
    return Template({"Resources": {
        "Api": {"Type": "AWS::Serverless::HttpApi", "Properties": {"Auth": auth}},
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {
            "Handler": "m.h", "Events": {"E": {"Type": "HttpApi", "Properties": props}}}},
    }})


def test_default_authorizer_applies_unless_the_route_says_none() -> None:
    auth = {"DefaultAuthorizer": "Jwt", "Authorizers": {"Jwt": {"JwtConfiguration": {"issuer": "i"}}}}
    (route,) = http_routes(_template(auth))
    assert route.auth is not None and route.auth.authorizer == "Jwt"
    (open_route,) = http_routes(_template(auth, {"Authorizer": "NONE"}))
    assert open_route.auth is None


def test_unverifiable_authorizers_and_payload_1_refuse_to_start() -> None:
    lambda_auth = {"Authorizers": {"L": {"FunctionArn": "arn"}}}
    with pytest.raises(TemplateError, match="not a JWT authorizer"):
        http_routes(_template(lambda_auth, {"Authorizer": "L"}))
    with pytest.raises(TemplateError, match=r"payload format 1\.0"):
        http_routes(_template({}, None, version="1.0"))

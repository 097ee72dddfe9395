"""HTTP API routes read from the functions' HttpApi events, and API Gateway's route selection.

Selection follows API Gateway: the most specific route wins (a literal segment beats {param},
which beats {proxy+}), a route's own method beats ANY, and ``$default`` catches the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from moderato_local.template import IMPLICIT_HTTP_API, Template, TemplateError

DEFAULT_ROUTE = "$default"


@dataclass(frozen=True)
class JwtAuth:
    authorizer: str
    header: str  # lower-cased header name from IdentitySource
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    function_id: str
    event_name: str
    api_id: str
    method: str  # upper case, or ANY
    path: str  # template form: /webhooks/{platform}, or $default
    auth: JwtAuth | None = None

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
        """(specificity, path parameters) when this route takes the request, else None."""
        if self.method not in ("ANY", method):
            return None
        method_rank = 1 if self.method == method else 0
        if self.path == DEFAULT_ROUTE:
            return (-1,), {}
        wanted = _segments(self.path)
        given = _segments(path)
        params: dict[str, str] = {}
        ranks: list[int] = []
        for index, segment in enumerate(wanted):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = given[index:]
                if not rest:
                    return None
                params[segment[1:-2]] = unquote("/".join(rest))
                ranks.append(0)
                return (*ranks, method_rank), params
            if index >= len(given):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                params[segment[1:-1]] = unquote(given[index])
                ranks.append(1)
            elif segment == given[index]:
                ranks.append(2)
            else:
                return None
        if len(given) != len(wanted):
            return None
        return (*ranks, 3, method_rank), params


def _segments(path: str) -> list[str]:
    return [part for part in path.strip("/").split("/") if part]


def select_route(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    best: tuple[tuple[int, ...], Route, dict[str, str]] | None = None
    for route in routes:
        found = route.match(method.upper(), path)
        if found and (best is None or found[0] > best[0]):
            best = (found[0], route, found[1])
    return (best[1], best[2]) if best else None


def _api_logical_id(properties: dict[str, Any]) -> str:
    api = properties.get("ApiId")
    if api is None:
        return IMPLICIT_HTTP_API
    if isinstance(api, dict) and isinstance(api.get("Ref"), str):
        return api["Ref"]
    raise TemplateError(f"HttpApi event ApiId must be a !Ref to an HttpApi, got {api!r}")


def _jwt_auth(template: Template, api_id: str, properties: dict[str, Any]) -> JwtAuth | None:
    api_auth = template.http_api(api_id).get("Auth") or {}
    event_auth = properties.get("Auth") or {}
    name = event_auth.get("Authorizer", api_auth.get("DefaultAuthorizer"))
    if not name or name == "NONE":
        return None
    authorizer = (api_auth.get("Authorizers") or {}).get(name)
    if authorizer is None:
        raise TemplateError(f"route uses authorizer {name!r}, which {api_id} does not declare")
    if "JwtConfiguration" not in authorizer:
        # Never serve a protected route unprotected: refuse what cannot be checked locally.
        raise TemplateError(f"authorizer {name!r} is not a JWT authorizer; the local stack cannot check it")
    source = authorizer.get("IdentitySource", "$request.header.Authorization")
    prefix = "$request.header."
    if not isinstance(source, str) or not source.startswith(prefix):
        raise TemplateError(f"authorizer {name!r}: IdentitySource {source!r} is not a request header")
    scopes = event_auth.get("AuthorizationScopes", authorizer.get("AuthorizationScopes")) or ()
    return JwtAuth(authorizer=name, header=source[len(prefix):].lower(), scopes=tuple(scopes))


def http_routes(template: Template) -> list[Route]:
    routes: list[Route] = []
    for function in template.functions():
        for event_name, event in function.events.items():
            if event.get("Type") != "HttpApi":
                continue
            properties = event.get("Properties") or {}
            version = str(properties.get("PayloadFormatVersion", "2.0"))
            if version != "2.0":
                raise TemplateError(f"{function.logical_id}.{event_name}: payload format {version} not emulated")
            api_id = _api_logical_id(properties)
            path = properties.get("Path", DEFAULT_ROUTE)
            method = str(properties.get("Method", "ANY")).upper()
            if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
                method = "ANY"
            routes.append(Route(function.logical_id, event_name, api_id, method, path,
                                _jwt_auth(template, api_id, properties)))
    return routes

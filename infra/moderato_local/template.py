"""A read-only view of template.yaml: parameters, resources, functions (Globals merged) and their events.

The local stack never keeps its own list of resources: everything it creates or wires comes from
here, so the template stays the single source of truth.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moderato_local.cfn_yaml import load_template

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
# SAM creates this HTTP API when a function's HttpApi event names no ApiId.
IMPLICIT_HTTP_API = "ServerlessHttpApi"


class TemplateError(Exception):
    """The template asks for something the local stack cannot honour (named in the message)."""


@dataclass
class FunctionSpec:
    """One function with SAM's Globals.Function already merged in (function values win)."""

    logical_id: str
    handler: str
    timeout: int
    memory: int
    environment: dict[str, Any]  # unresolved: values may still hold Ref / GetAtt / Sub
    events: dict[str, dict[str, Any]]
    function_name: Any = None
    properties: dict[str, Any] = field(default_factory=dict)


def _merge(base: Any, override: Any) -> Any:
    """SAM's Globals rule: maps merge key by key, everything else is replaced by the function's value."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return copy.deepcopy(override)


class Template:
    """Parsed template.yaml in CloudFormation's long form (see cfn_yaml)."""

    def __init__(self, document: dict[str, Any], path: Path | None = None) -> None:
        self.document = document
        self.path = path
        self.resources: dict[str, dict[str, Any]] = document.get("Resources") or {}
        self.parameters: dict[str, dict[str, Any]] = document.get("Parameters") or {}
        self.conditions: dict[str, Any] = document.get("Conditions") or {}
        self.mappings: dict[str, Any] = document.get("Mappings") or {}
        self.globals: dict[str, Any] = document.get("Globals") or {}

    @classmethod
    def load(cls, path: str | Path) -> Template:
        return cls(load_template(path), Path(path))

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res.get("Type") in types}

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties") or {}

    def parameter_defaults(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in self.parameters.items():
            default = spec.get("Default", "")
            if str(spec.get("Type", "")).startswith(("List<", "CommaDelimitedList")) and isinstance(
                default, str
            ):
                default = [item.strip() for item in default.split(",")] if default else []
            values[name] = default
        return values

    def functions(self) -> list[FunctionSpec]:
        function_globals = self.globals.get("Function") or {}
        specs: list[FunctionSpec] = []
        for logical_id, resource in self.of_type(*FUNCTION_TYPES).items():
            props = resource.get("Properties") or {}
            if resource["Type"] == "AWS::Serverless::Function":
                props = _merge(function_globals, props)
            handler = props.get("Handler")
            if not isinstance(handler, str) or "." not in handler:
                raise TemplateError(f"function {logical_id}: Handler must look like 'module.function'")
            environment = (props.get("Environment") or {}).get("Variables") or {}
            specs.append(
                FunctionSpec(
                    logical_id=logical_id,
                    handler=handler,
                    timeout=int(props.get("Timeout", 3)),
                    memory=int(props.get("MemorySize", 128)),
                    environment=environment,
                    events=props.get("Events") or {},
                    function_name=props.get("FunctionName"),
                    properties=props,
                )
            )
        return specs

    def http_api(self, api_logical_id: str) -> dict[str, Any]:
        """Properties of one HTTP API with Globals.HttpApi merged; the implicit API has Globals only."""
        api_globals = self.globals.get("HttpApi") or {}
        if api_logical_id == IMPLICIT_HTTP_API and api_logical_id not in self.resources:
            return copy.deepcopy(api_globals)
        resource = self.resources.get(api_logical_id)
        if not resource or resource.get("Type") != HTTP_API_TYPE:
            raise TemplateError(f"HttpApi event names ApiId {api_logical_id!r}, which is not an HttpApi")
        return _merge(api_globals, resource.get("Properties") or {})

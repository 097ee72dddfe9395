"""Resolve CloudFormation intrinsic functions against the locally provisioned resources.

Covers what function environments and resource properties use: Ref, Fn::GetAtt, Fn::Sub, Fn::Join,
Fn::Select, Fn::Split, Fn::If (with Conditions), Fn::FindInMap, Fn::Base64, pseudo parameters and
parameter defaults. Anything else raises TemplateError naming the function, so nothing is guessed.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from moderato_local.template import Template, TemplateError

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "moderato-local"

PSEUDO_PARAMETERS: dict[str, Any] = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
    "AWS::NotificationARNs": [],
}

_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@dataclass
class ResourceInfo:
    """What Ref and GetAtt return for one resource, once it exists locally."""

    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)


def placeholder(logical_id: str, resource_type: str) -> ResourceInfo:
    """Values for resources the local stack does not create (IAM, alarms, Cognito...): readable, fake."""
    service = resource_type.split("::")[1].lower() if "::" in resource_type else "local"
    name = f"{STACK_NAME}-{logical_id}"
    arn = f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{logical_id}/{name}"
    return ResourceInfo(ref=name, attributes={"Arn": arn, "Name": name, "Id": name})


def dependencies(value: Any) -> set[str]:
    """Logical ids a property value refers to (Ref, GetAtt, ${X} in Sub), to provision in order."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt" and isinstance(inner, list) and inner:
                found.add(str(inner[0]))
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                if isinstance(text, str):
                    found.update(m.split(".")[0] for m in _SUB_VARIABLE.findall(text))
            found |= dependencies(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= dependencies(inner)
    return found


class Resolver:
    """Turns template values into plain values; resources are looked up in ``self.resources``."""

    def __init__(self, template: Template, parameters: dict[str, Any] | None = None) -> None:
        self.template = template
        self.parameters = {**template.parameter_defaults(), **(parameters or {})}
        self.resources: dict[str, ResourceInfo] = {}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            method = _INTRINSICS.get(key)
            if method is not None:
                return method(self, argument)
            if key.startswith("Fn::"):
                raise TemplateError(f"{key} is not supported by the local stack")
        return {key: self.resolve(inner) for key, inner in value.items()}

    def ref(self, name: str) -> Any:
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name].ref
        raise TemplateError(f"Ref to unknown name {name!r}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        info = self.resources.get(logical_id)
        if info is None:
            raise TemplateError(f"GetAtt on unknown resource {logical_id!r}")
        if attribute not in info.attributes:
            raise TemplateError(f"GetAtt {logical_id}.{attribute}: attribute not emulated locally")
        return info.attributes[attribute]

    def condition(self, name: str) -> bool:
        if name not in self.template.conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return bool(self._condition_value(self.template.conditions[name]))

    def _condition_value(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"Condition"}:
            return self.condition(value["Condition"])
        return self.resolve(value)

    def sub(self, argument: Any) -> str:
        text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
        resolved_vars = {key: self.resolve(inner) for key, inner in (variables or {}).items()}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):  # ${!Literal} is an escaped, literal ${Literal}
                return "${" + expression[1:] + "}"
            if expression in resolved_vars:
                return str(resolved_vars[expression])
            if "." in expression and expression not in PSEUDO_PARAMETERS:
                logical_id, attribute = expression.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(expression))

        return _SUB_VARIABLE.sub(replace, str(text))


def _fn_join(resolver: Resolver, argument: list[Any]) -> str:
    delimiter, items = argument
    return str(delimiter).join(str(item) for item in _as_list(resolver.resolve(items)))


def _fn_select(resolver: Resolver, argument: list[Any]) -> Any:
    index, items = argument
    return _as_list(resolver.resolve(items))[int(resolver.resolve(index))]


def _fn_if(resolver: Resolver, argument: list[Any]) -> Any:
    name, when_true, when_false = argument
    return resolver.resolve(when_true if resolver.condition(name) else when_false)


def _fn_find_in_map(resolver: Resolver, argument: list[Any]) -> Any:
    name, first, second = (resolver.resolve(item) for item in argument[:3])
    return resolver.resolve(resolver.template.mappings[name][first][second])


def _as_list(value: Any) -> Iterable[Any]:
    if not isinstance(value, list):
        raise TemplateError(f"expected a list, got {value!r}")
    return value


_INTRINSICS: dict[str, Any] = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::GetAtt": lambda r, a: r.get_att(*(a.split(".", 1) if isinstance(a, str) else a)),
    "Fn::Sub": lambda r, a: r.sub(a),
    "Fn::Join": _fn_join,
    "Fn::Select": _fn_select,
    "Fn::Split": lambda r, a: str(r.resolve(a[1])).split(str(a[0])),
    "Fn::If": _fn_if,
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::Base64": lambda r, a: base64.b64encode(str(r.resolve(a)).encode()).decode(),
    "Fn::GetAZs": lambda r, a: [f"{REGION}a", f"{REGION}b", f"{REGION}c"],
    "Fn::Equals": lambda r, a: r.resolve(a[0]) == r.resolve(a[1]),
    "Fn::Not": lambda r, a: not r._condition_value(a[0]),
    "Fn::And": lambda r, a: all(r._condition_value(item) for item in a),
    "Fn::Or": lambda r, a: any(r._condition_value(item) for item in a),
    "Condition": lambda r, a: r.condition(a),
}

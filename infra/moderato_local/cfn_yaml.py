"""Read CloudFormation / AWS SAM YAML templates, short-form intrinsic tags included.

``yaml.safe_load`` rejects ``!Ref``, ``!GetAtt``, ``!Sub`` and the other short tags CloudFormation
accepts. ``load_template`` reads them into their long (JSON) form, the form CloudFormation itself
works with, so callers (the template tests, the local stack) handle one shape only:

    !Ref X                  -> {"Ref": "X"}
    !Condition C            -> {"Condition": "C"}
    !GetAtt A.B             -> {"Fn::GetAtt": ["A", "B"]}
    !GetAtt [A, B]          -> {"Fn::GetAtt": ["A", "B"]}
    !Sub "..." / !Sub [...] -> {"Fn::Sub": ...}
    !<Name> value           -> {"Fn::<Name>": value}   (If, Equals, Not, And, Or, Join, Select, ...)

Two more differences from plain YAML 1.1, both matching CloudFormation: unquoted dates stay
strings (``AWSTemplateFormatVersion: 2010-09-09``), and a key repeated in one mapping is an error
instead of silently keeping the last value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["CfnLoader", "load_template", "loads_template"]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class CfnLoader(yaml.SafeLoader):
    """A ``yaml.SafeLoader`` that understands CloudFormation's short intrinsic-function tags."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# CloudFormation keeps unquoted dates as strings; plain YAML 1.1 would turn them into datetime.date.
CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_node(loader: CfnLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(None, None, f"unexpected node {node!r}", node.start_mark)


def _construct_intrinsic(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value = _construct_node(loader, node)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, sep, attribute = value.partition(".")
        if not sep or not resource or not attribute:
            raise yaml.constructor.ConstructorError(
                None, None, f"!GetAtt expects 'Resource.Attribute', got {value!r}", node.start_mark
            )
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


# Every "!Name" tag: the short form of an intrinsic function (or a condition reference).
CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def loads_template(text: str) -> dict[str, Any]:
    """Parse a template from a string; returns the template as a plain dict in long form."""
    data = yaml.load(text, Loader=CfnLoader)  # nosec B506  # CfnLoader is a SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError("a CloudFormation template must be a YAML mapping at its top level")
    return data


def load_template(path: str | Path) -> dict[str, Any]:
    """Read the template at ``path`` (e.g. ``template.yaml``) into a plain dict in long form."""
    return loads_template(Path(path).read_text(encoding="utf-8"))

"""Review and actions are two flows that share rules, not each other: neither package imports the other.

The rules both enforce (who is protected, who approves, what an action did on the platform) live in
moderato/guardrails.py and moderato/visibility.py, which import neither flow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "moderato"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize(("flow", "other"), [("review", "actions"), ("actions", "review")])
def test_a_flow_never_imports_the_other(flow: str, other: str) -> None:
    def crosses(module: str) -> bool:
        return module == f"moderato.{other}" or module.startswith(f"moderato.{other}.")

    offenders = {str(path.relative_to(PACKAGE)): sorted(filter(crosses, imported_modules(path)))
                 for path in (PACKAGE / flow).rglob("*.py")}
    assert {path: modules for path, modules in offenders.items() if modules} == {}


@pytest.mark.parametrize("shared", ["guardrails.py", "visibility.py"])
def test_the_shared_rules_import_no_flow(shared: str) -> None:
    modules = imported_modules(PACKAGE / shared)
    assert not any(m.startswith(("moderato.review", "moderato.actions", "moderato.triage")) for m in modules)


@pytest.mark.parametrize("other", ["review", "actions", "enrich"])
def test_triage_imports_no_flow_that_builds_on_it(other: str) -> None:
    # Review reads triage's label table and enrich runs triage's steps: triage must never import them back.
    def crosses(module: str) -> bool:
        return module == f"moderato.{other}" or module.startswith(f"moderato.{other}.")

    offenders = {str(path.relative_to(PACKAGE)): sorted(filter(crosses, imported_modules(path)))
                 for path in (PACKAGE / "triage").rglob("*.py")}
    assert {path: modules for path, modules in offenders.items() if modules} == {}

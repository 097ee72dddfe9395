"""Each deployed function imports with what its own package holds, and nothing it does not need.

numpy ships only in ClassifierLayer (template.yaml), not in functions/requirements.txt: every function
without the layer must import its handler with numpy missing, as it will on Lambda, and every function
with it must really need it. Each handler is imported in a fresh interpreter where numpy cannot be
found, with the environment the template gives it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from moderato_local.template import Template
from tests.integration.conftest import AwsEnv
from tests.support import REPO

CLASSIFIER_LAYER = {"Ref": "ClassifierLayer"}
FUNCTIONS = {spec.logical_id: spec for spec in Template.load(REPO / "template.yaml").functions()}

# Prints whether the handler imported and whether numpy was loaded on the way; numpy is unfindable.
_IMPORT_WITHOUT_NUMPY = """
import importlib, sys

class NoNumpy:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "numpy":
            raise ModuleNotFoundError("No module named 'numpy' (not in this function's package)", name="numpy")

sys.meta_path.insert(0, NoNumpy())
try:
    importlib.import_module(sys.argv[1])
except ModuleNotFoundError as error:
    print("missing", error.name)
else:
    print("imported", "numpy" in sys.modules)
"""


def _import_without_numpy(module: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO / "functions"),
           # Nothing may call AWS at import; if something does, it fails fast instead of reaching AWS.
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    result = subprocess.run([sys.executable, "-c", _IMPORT_WITHOUT_NUMPY, module], cwd=REPO / "functions",
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"importing {module} failed:\n{result.stderr}"
    return result.stdout.strip().splitlines()[-1]


def _has_classifier_layer(properties: dict[str, Any]) -> bool:
    return CLASSIFIER_LAYER in (properties.get("Layers") or [])


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_each_function_imports_with_exactly_its_package(aws: AwsEnv, logical_id: str) -> None:
    spec = FUNCTIONS[logical_id]
    outcome = _import_without_numpy(spec.handler.rsplit(".", 1)[0])
    if _has_classifier_layer(spec.properties):
        assert outcome == "missing numpy", f"{logical_id} has ClassifierLayer but does not need numpy ({outcome})"
    else:
        assert outcome == "imported False", (
            f"{logical_id} needs numpy ({outcome}) but ships without it: give it ClassifierLayer in "
            "template.yaml if it classifies, else keep the classifier out of its imports")


def test_some_functions_ship_without_numpy() -> None:
    without = {lid for lid, spec in FUNCTIONS.items() if not _has_classifier_layer(spec.properties)}
    assert {"WebhookFunction", "ReviewFunction"} <= without

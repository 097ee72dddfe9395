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
from pathlib import Path
from typing import Any

import pytest

from moderato_local.template import Template
from tests.integration.conftest import AwsEnv
from tests.support import REPO

CLASSIFIER_LAYER = {"Ref": "ClassifierLayer"}
_WEBHOOK_ENV = {"INGEST_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/IngestQueue",
                "DELIVERY_BUCKET_NAME": "bucket", "WEBHOOK_SECRET_ID": "secret", "AWS_DEFAULT_REGION": "eu-west-1",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
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


# ---------------------------------------------------------------- what sam build packages
# functions/Makefile and layers/classifier/Makefile build every package (BuildMethod makefile): sources and
# wheels compiled for the runtime's Python, so no cold start compiles them. Here this interpreter stands in
# for the runtime's (python3.13 when `make test` runs the suite under it); the wheels' download is left to
# `sam build` itself.
_THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
_BUILDS = {"functions": REPO / "functions", "layer": REPO / "layers" / "classifier"}


def _make(folder: Path, *args: str, python: str = _THIS_PYTHON) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", "-C", str(folder), *args, f"PYTHON={sys.executable}",
                           f"RUNTIME_VERSION={python}"], capture_output=True, text=True, timeout=300)


def test_every_function_and_the_layer_are_built_by_their_makefile(tmp_path: Path) -> None:
    template = Template.load(REPO / "template.yaml")
    built = {**template.of_type("AWS::Serverless::Function"), **template.of_type("AWS::Serverless::LayerVersion")}
    for logical_id, resource in built.items():
        assert (resource.get("Metadata") or {}).get("BuildMethod") == "makefile", logical_id
        folder = _BUILDS["layer" if logical_id == "ClassifierLayer" else "functions"]
        dry_run = _make(folder, "-n", f"build-{logical_id}", f"ARTIFACTS_DIR={tmp_path}")
        assert dry_run.returncode == 0, f"sam build would find no target build-{logical_id}:\n{dry_run.stderr}"


def test_the_builds_fetch_wheels_for_the_template_architecture() -> None:
    architectures = Template.load(REPO / "template.yaml").globals["Function"]["Architectures"]
    assert architectures == ["arm64"]
    for folder in _BUILDS.values():
        makefile = (folder / "Makefile").read_text(encoding="utf-8")
        platforms = next(line for line in makefile.splitlines() if line.startswith("LAMBDA_PLATFORMS"))
        assert "aarch64" in platforms and "x86_64" not in platforms, folder


def test_the_package_ships_our_code_compiled_and_its_bytecode_is_what_runs(tmp_path: Path) -> None:
    package = tmp_path / "package"
    result = _make(_BUILDS["functions"], "code", f"ARTIFACTS_DIR={package}")
    assert result.returncode == 0, result.stderr
    shipped = {path.relative_to(package).as_posix() for path in package.rglob("*") if path.is_file()}
    assert {"webhook.py", "triage.py", "moderato/adapters/case_dictionary/v1.txt",
            "moderato/classify/model/weights.npz"} <= shipped
    assert not {"Makefile", "requirements.in", "requirements.txt"} & shipped
    assert not [path for path in shipped if any(part.startswith(".") for part in path.split("/"))]
    sources = sorted(package.rglob("*.py"))
    assert len(sources) > 50
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
        assert compiled.is_file(), f"{source.relative_to(package)} ships without bytecode"
        flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{compiled.name}: hash-based and never checked against the source (flags {flags})"
    # The bytecode, not the source, is what imports: a source changed after the build changes nothing.
    (package / "moderato" / "json_depth.py").write_text("raise ImportError('compiled from source')\n")
    imported = subprocess.run([sys.executable, "-c", "import webhook, moderato.json_depth; print('from bytecode')"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              env={**os.environ, **_WEBHOOK_ENV, "PYTHONPATH": str(package),
                                   "PYTHONDONTWRITEBYTECODE": "1"})
    assert imported.stdout.strip() == "from bytecode", imported.stderr


def test_the_builds_refuse_an_interpreter_that_is_not_the_runtime(tmp_path: Path) -> None:
    for folder, target in ((_BUILDS["functions"], "build-WebhookFunction"),
                           (_BUILDS["layer"], "build-ClassifierLayer")):
        wrong = _make(folder, target, f"ARTIFACTS_DIR={tmp_path}", python="3.99")
        assert wrong.returncode != 0
        assert "is not Python 3.99, the Lambda runtime" in wrong.stderr
        assert not any(tmp_path.iterdir()), "nothing is built with the wrong interpreter"
        unset = _make(folder, target)
        assert unset.returncode != 0 and "ARTIFACTS_DIR is not set" in unset.stderr

"""The lock files (*.txt, from `make lock`) must pin exactly what the *.in files ask for, and pin all of it.

A pin changed in a .in file without re-locking would otherwise install the old version silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {
    "functions/requirements.in": "functions/requirements.txt",
    "layers/classifier/requirements.in": "layers/classifier/requirements.txt",
    "requirements-dev.in": "requirements-dev.txt",
    "requirements-train.in": "requirements-train.txt",
}
# What Lambda ships: every function's package, and the layer only the functions that classify get.
FUNCTIONS_LOCK = "functions/requirements.txt"
CLASSIFIER_LAYER_LOCK = "layers/classifier/requirements.txt"
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(==|>=|<=|~=|>|<|!=)?\s*([^\s;#]*)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def requirements(path: Path, seen: set[Path] | None = None) -> dict[str, tuple[str | None, str]]:
    """``{name: (operator, version)}`` of a requirements file, following ``-r`` includes."""
    seen = seen or set()
    seen.add(path)
    found: dict[str, tuple[str | None, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith(("-c", "--hash")):
            continue
        if line.startswith("-r"):
            found.update(requirements(ROOT / line[2:].strip(), seen))
            continue
        match = _REQUIREMENT.match(line)
        assert match, f"{path.name}: cannot read {line!r}"
        found[_name(match.group(1))] = (match.group(2), match.group(3))
    return found


@pytest.mark.parametrize("source", sorted(LOCKS))
def test_every_lock_pins_every_package_exactly(source: str) -> None:
    locked = requirements(ROOT / LOCKS[source])
    loose = {name: spec for name, spec in locked.items() if spec[0] != "=="}
    assert locked and not loose, f"{LOCKS[source]} has unpinned packages: {loose}"


@pytest.mark.parametrize("source", sorted(LOCKS))
def test_every_lock_matches_what_its_source_asks_for(source: str) -> None:
    wanted = requirements(ROOT / source)
    locked = requirements(ROOT / LOCKS[source])
    missing = sorted(set(wanted) - set(locked))
    assert not missing, f"{LOCKS[source]} lacks {missing}: run `make lock`"
    stale = {name: (spec[1], locked[name][1]) for name, spec in wanted.items()
             if spec[0] == "==" and locked[name][1] != spec[1]}
    assert not stale, f"{LOCKS[source]} pins other versions than {source} asks for {stale}: run `make lock`"


@pytest.mark.parametrize("runtime_lock", [FUNCTIONS_LOCK, CLASSIFIER_LAYER_LOCK])
def test_shared_packages_have_one_version_everywhere(runtime_lock: str) -> None:
    runtime = requirements(ROOT / runtime_lock)
    for lock in ("requirements-dev.txt", "requirements-train.txt"):
        other = requirements(ROOT / lock)
        differ = {n: (v[1], other[n][1]) for n, v in runtime.items() if n in other and other[n][1] != v[1]}
        assert not differ, f"{lock} and {runtime_lock} disagree: {differ}"


def test_numpy_ships_only_in_the_classifier_layer() -> None:
    # About 70 MB unzipped that only the classifier needs: in functions/requirements.txt it would be in
    # every function's package again (template.yaml attaches the layer to the classifying ones only).
    for path in ("functions/requirements.in", FUNCTIONS_LOCK):
        assert "numpy" not in requirements(ROOT / path), f"numpy in {path}: it belongs in {CLASSIFIER_LAYER_LOCK}"
    assert requirements(ROOT / CLASSIFIER_LAYER_LOCK)["numpy"][0] == "=="


def test_the_layer_ships_nothing_the_functions_already_ship() -> None:
    # A package in both would ship twice, and the function's copy would shadow the layer's.
    shared = set(requirements(ROOT / FUNCTIONS_LOCK)) & set(requirements(ROOT / CLASSIFIER_LAYER_LOCK))
    assert not shared, f"{sorted(shared)} pinned both in {FUNCTIONS_LOCK} and in {CLASSIFIER_LAYER_LOCK}"


def test_the_dev_venv_installs_every_lambda_package() -> None:
    # The tests, the local stack and the benchmarks run the classifier in-process: the dev set asks
    # for the layer's packages too, and is constrained to its pins.
    dev_in = (ROOT / "requirements-dev.in").read_text(encoding="utf-8").splitlines()
    for line in ("-r functions/requirements.in", "-r layers/classifier/requirements.in",
                 "-c functions/requirements.txt", "-c layers/classifier/requirements.txt"):
        assert line in dev_in, f"requirements-dev.in lacks {line!r}"
    assert "numpy" in requirements(ROOT / "requirements-dev.txt")


@pytest.mark.parametrize("lock", sorted(LOCKS.values()))
def test_every_pin_carries_its_hashes(lock: str) -> None:
    # Given a lock compiled with --generate-hashes, pip installs it in --require-hashes mode: one pin
    # without a hash would turn that off for the whole file, so every pin must carry at least one.
    text = (ROOT / lock).read_text(encoding="utf-8")
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*==\S+)(.*)$", text, flags=re.MULTILINE)
    unhashed = [pin for pin, rest in pins if not rest.strip().endswith("\\")]
    assert pins and not unhashed, f"{lock}: pins without hashes {unhashed}: run `make lock`"
    assert text.count("--hash=sha256:") >= len(pins)


def test_the_lambda_package_pins_boto3_beside_botocore() -> None:
    # Lambda's runtime bundles its own boto3: without our pin it would run with our botocore, unmatched.
    runtime = requirements(ROOT / FUNCTIONS_LOCK)
    assert runtime["boto3"][0] == "==" and runtime["botocore"][0] == "=="

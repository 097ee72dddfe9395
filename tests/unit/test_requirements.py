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
    "requirements-dev.in": "requirements-dev.txt",
    "requirements-train.in": "requirements-train.txt",
}
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


def test_shared_packages_have_one_version_everywhere() -> None:
    runtime = requirements(ROOT / "functions/requirements.txt")
    for lock in ("requirements-dev.txt", "requirements-train.txt"):
        other = requirements(ROOT / lock)
        differ = {n: (v[1], other[n][1]) for n, v in runtime.items() if n in other and other[n][1] != v[1]}
        assert not differ, f"{lock} and functions/requirements.txt disagree: {differ}"


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
    runtime = requirements(ROOT / "functions/requirements.txt")
    assert runtime["boto3"][0] == "==" and runtime["botocore"][0] == "=="

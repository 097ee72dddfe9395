"""Our code as functions/Makefile packages it for ``sam build``, with this interpreter standing in for the
runtime's: what the benchmarks import and weigh, rather than the working tree (whose __pycache__ depends
on what ran before)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build_code(artifacts: Path) -> Path:
    """functions/ copied into ``artifacts`` and compiled as the deployed package is (`make -C functions code`)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run(["make", "--no-print-directory", "-s", "-C", str(REPO / "functions"), "code",
                    f"ARTIFACTS_DIR={artifacts}", f"PYTHON={sys.executable}", f"RUNTIME_VERSION={version}"],
                   check=True, stdout=subprocess.DEVNULL)
    return artifacts

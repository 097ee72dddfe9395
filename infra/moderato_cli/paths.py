"""Where the repository's files are, for commands run from anywhere inside a checkout."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
FUNCTIONS_DIR = REPO_ROOT / "functions"
LOCAL_SECRETS = REPO_ROOT / "infra" / "local" / "secrets.json"
DEMO_DIR = REPO_ROOT / "infra" / "demo"

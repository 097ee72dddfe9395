"""`make bench`: run every benchmark section (modules named bench/bench_*.py) and print figures.

Each section module exposes ``run() -> None`` and prints its own table. Figures are medians over
repeated runs, with a baseline measured in the same process so ratios survive a noisy machine.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    only = set(sys.argv[1:])
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    for name in names:
        if only and name.removeprefix("bench_") not in only:
            continue
        print(f"\n=== {name.removeprefix('bench_')} ===", flush=True)
        importlib.import_module(f"bench.{name}").run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

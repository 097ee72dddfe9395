"""DynamoSignalStore against moto, on the SignalsTable of template.yaml: shapes, atomicity, TTL on every item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from moderato.adapters.signal_store import DynamoSignalStore
from moderato.models import Author, Label, Post, Verdict
from moderato.settings import load_brand_accounts
from moderato.signals import SignalEngine, load_signals_config, record_confirmed_spam
from moderato.signals.fingerprint import fingerprint
from moderato.signals.store import FingerprintRecord, WavePost
from tests.integration.conftest import AwsEnv

NOW = datetime.now(UTC).replace(microsecond=0)


def store(aws: AwsEnv) -> DynamoSignalStore:
    return DynamoSignalStore(aws.env["SIGNALS_TABLE_NAME"], aws.client("dynamodb"))


def all_items(aws: AwsEnv) -> list[dict[str, Any]]:
    paginator = aws.client("dynamodb").get_paginator("scan")
    return [item for page in paginator.paginate(TableName=aws.env["SIGNALS_TABLE_NAME"]) for item in page["Items"]]


def test_counters_are_atomic_and_ranged(aws: AwsEnv) -> None:
    signals = store(aws)
    assert [signals.increment("RATE#x", "M#202605300900", 1, 99) for _ in range(3)] == [1, 2, 3]
    signals.increment("RATE#x", "M#202605300901", 5, 99)
    signals.increment("RATE#x", "M#202605300930", 7, 99)
    assert signals.counts("RATE#x", "M#202605300900", "M#202605300915") == {"M#202605300900": 3, "M#202605300901": 5}


def test_fingerprints_are_found_through_any_band(aws: AwsEnv) -> None:
    signals = store(aws)
    fp = fingerprint("Gagnez 500€ par semaine depuis chez vous, crypto sans risque")
    record = FingerprintRecord("case-1", fp.value, NOW, "facebook:1", "p:t", "spam")
    signals.add_fingerprint(record, fp.bands(), 99)
    flipped = fp.value ^ 0b111  # three bits off, all in band 0: the other three bands still match
    flipped_bands = [f"{i}:{(flipped >> 16 * i) & 0xFFFF:04x}" for i in range(4)]
    found = signals.similar(flipped_bands, NOW - timedelta(minutes=1), 50)
    assert [r.case_id for r in found] == ["case-1"] and found[0].simhash == fp.value and found[0].at == NOW
    assert signals.similar(fp.bands(), NOW + timedelta(seconds=1), 50) == []
    signals.mark_flagged(record, fp.bands())
    assert signals.similar(fp.bands(), NOW - timedelta(minutes=1), 50)[0].flagged


def test_one_post_claims_a_wave_alert_until_the_cooldown_ends(aws: AwsEnv) -> None:
    signals = store(aws)
    until = NOW + timedelta(hours=2)
    assert signals.claim_wave_alert("acct#delivery", "case-a", NOW, until, 99)
    assert signals.claim_wave_alert("acct#delivery", "case-a", NOW, until, 99)  # its own retry, unpublished
    signals.mark_wave_published("acct#delivery", "case-a", NOW)
    assert not signals.claim_wave_alert("acct#delivery", "case-a", NOW, until, 99)
    assert not signals.claim_wave_alert("acct#delivery", "case-b", NOW + timedelta(minutes=5), until, 99)
    assert signals.claim_wave_alert("acct#delivery", "case-c", until + timedelta(seconds=1), until, 99)


def test_every_item_the_engine_writes_expires(aws: AwsEnv) -> None:
    signals = store(aws)
    engine = SignalEngine(signals, load_signals_config(environ={}), load_brand_accounts())
    for n in range(12):
        post = Post(platform="facebook", kind="comment", post_id=f"c{n}", thread_id=f"t{n % 3}",
                    account_id="206070979425408", author=Author(id=f"a{n % 2}", name="Client", followers=0),
                    text="Ma commande n'est toujours pas livrée, où est mon colis ? https://bit.ly/x",
                    created_at=NOW, dedup_key=f"k{n}")
        verdict = Verdict(label=Label.COMPLAINT if n % 2 else Label.NORMAL, scores={}, reasons=[])
        assessment = engine.assess(post, verdict, f"case-{n}", NOW)
        for retro in assessment.retro:
            engine.settle(retro)
        if assessment.wave_alert:
            engine.wave_published(assessment.wave_alert, NOW)
    record_confirmed_spam(signals, "facebook", "a0", NOW)
    signals.add_wave_post("k", WavePost("c", NOW, ("x" * 100,) * 20, 5, "a" * 500), 99)
    items = all_items(aws)
    kinds = {item["pk"]["S"].split("#", 1)[0] for item in items}
    assert kinds == {"SEEN", "FP", "RATE", "WAVE", "WAVEPOST", "OFFENDER"}
    horizon = NOW + timedelta(days=200)
    for item in items:
        assert "expires_at" in item, item
        expires = int(item["expires_at"]["N"])
        assert item["pk"]["S"] == "WAVEPOST#k" or NOW.timestamp() < expires <= horizon.timestamp(), item
    # Bounded sizes: terms capped at 8 x 32 characters, strings at 200.
    capped = next(i for i in items if i["pk"]["S"] == "WAVEPOST#k")
    assert len(capped["terms"]["L"]) == 8 and len(capped["author"]["S"]) == 200
    assert max(len(str(item)) for item in items) < 1500


def test_the_signals_table_has_ttl_enabled(aws: AwsEnv) -> None:
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=aws.env["SIGNALS_TABLE_NAME"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"

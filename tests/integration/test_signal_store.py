"""DynamoSignalStore against moto, on the SignalsTable of template.yaml: shapes, atomicity, TTL on every item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from moderato.adapters.signal_store import DynamoSignalStore
from moderato.models import Author, Label, Post, Verdict
from moderato.settings import load_brand_accounts
from moderato.signals import SignalEngine, load_signals_config, record_confirmed_spam
from moderato.signals.fingerprint import BANDS, ROWS, bands_of, fingerprint
from moderato.signals.store import Baseline, FingerprintRecord, WavePost
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


def test_minute_counters_live_on_their_hour_and_are_read_without_a_query(aws: AwsEnv) -> None:
    dynamodb = aws.client("dynamodb")
    signals = DynamoSignalStore(aws.env["SIGNALS_TABLE_NAME"], dynamodb)
    signals.increment("WAVE#acct#delivery", "M#202605300958", 2, 99)
    signals.increment("WAVE#acct#delivery", "H#2026053009", 2, 99)
    signals.increment("WAVE#acct#delivery", "M#202605301001", 1, 99)
    operations: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: operations.append(model.name))
    # The current hour comes back with its increment; the hour before is read by key.
    assert signals.increment("WAVE#acct#delivery", "M#202605301001", 1, 99) == 2
    assert signals.counts("WAVE#acct#delivery", "M#202605300950", "M#202605301005") == {
        "M#202605300958": 2, "M#202605301001": 2}
    assert signals.counts("WAVE#acct#delivery", "H#2026053008", "H#2026053010") == {"H#2026053009": 2}
    assert "Query" not in operations and operations.count("BatchGetItem") == 2
    items = [item for item in all_items(aws) if item["pk"]["S"] == "WAVE#acct#delivery"]
    assert sorted(item["sk"]["S"] for item in items) == ["H#2026053009", "H#2026053010"]


def test_fingerprints_are_found_through_any_band(aws: AwsEnv) -> None:
    signals = store(aws)
    fp = fingerprint("Gagnez 500€ par semaine depuis chez vous, crypto sans risque")
    record = FingerprintRecord("case-1", fp.signature, NOW, "facebook:1", "p:t", "spam")
    signals.add_fingerprint(record, fp.bands(), 99)
    # Another text sharing only the last band's two values is still found, through that band alone.
    last = (BANDS - 1) * ROWS
    other = tuple(v if last <= i < last + ROWS else (v + 1) % 65536 for i, v in enumerate(fp.signature))
    assert len(set(bands_of(other)) & set(fp.bands())) == 1
    found = signals.similar(bands_of(other), NOW - timedelta(minutes=1), 50)
    assert [r.case_id for r in found] == ["case-1"] and found[0].signature == fp.signature and found[0].at == NOW
    assert signals.similar(fp.bands(), NOW + timedelta(seconds=1), 50) == []
    signals.mark_flagged(record, fp.bands())
    assert signals.similar(fp.bands(), NOW - timedelta(minutes=1), 50)[0].flagged


def test_buffered_writes_are_seen_at_once_and_written_in_one_call(aws: AwsEnv) -> None:
    dynamodb = aws.client("dynamodb")
    signals = DynamoSignalStore(aws.env["SIGNALS_TABLE_NAME"], dynamodb, buffer_writes=True)
    first = fingerprint("Gagnez 500€ par semaine depuis chez vous, crypto sans risque, écrivez-moi")
    second = fingerprint("Gagnez 900€ par semaine depuis chez vous, crypto sans risque, écrivez-moi")
    signals.add_fingerprint(FingerprintRecord("case-1", first.signature, NOW, "x:1", "p:t1", "spam"), first.bands(), 99)
    signals.add_fingerprint(FingerprintRecord("case-2", second.signature, NOW, "x:2", "p:t2", "spam"),
                            second.bands(), 99)
    signals.add_wave_post("acct#delivery", WavePost("case-3", NOW, ("colis",)), 99)
    assert all_items(aws) == []  # nothing written yet, but the batch's later posts find them
    assert {r.case_id for r in signals.similar(second.bands(), NOW - timedelta(minutes=1), 50)} == {"case-1", "case-2"}
    assert [p.case_id for p in signals.wave_posts("acct#delivery", NOW - timedelta(minutes=1), 10)] == ["case-3"]
    operations: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: operations.append(model.name))
    signals.flush()
    assert operations == ["BatchWriteItem"] and len(all_items(aws)) == 2 * BANDS + 1
    signals.flush()  # nothing left
    assert operations == ["BatchWriteItem"]


def test_one_post_claims_a_wave_and_only_a_new_wave_claims_again(aws: AwsEnv) -> None:
    signals, key, quiet = store(aws), "acct#delivery", timedelta(minutes=60)

    def claim(case_id: str, at: datetime) -> bool:
        return signals.claim_wave_alert(key, case_id, f"wave-{case_id}", at, at - quiet, 10**10)

    assert claim("case-a", NOW)
    assert claim("case-a", NOW)  # its own retry, unpublished
    signals.mark_wave_published(key, "case-a", NOW)
    assert not claim("case-a", NOW)
    assert not claim("case-b", NOW + timedelta(minutes=5))
    # The wave goes on for three hours (each post above threshold touches it): no second claim.
    for minutes in range(10, 180, 10):
        signals.touch_wave(key, NOW + timedelta(minutes=minutes), 10**10)
        assert not claim("case-b", NOW + timedelta(minutes=minutes + 5))
    last = NOW + timedelta(minutes=170)
    state = signals.wave_state(key)
    assert state is not None and (state.wave_id, state.starter, state.last_active_at) == ("wave-case-a", "case-a",
                                                                                          last)
    signals.touch_wave(key, last - timedelta(minutes=30), 10**10)  # a late post never moves it back
    assert signals.wave_state(key).last_active_at == last  # type: ignore[union-attr]
    assert claim("case-c", last + quiet + timedelta(seconds=1))  # quiet for an hour: a new wave
    signals.touch_wave("acct#never", NOW, 10**10)
    assert signals.wave_state("acct#never") is None  # touching creates nothing (it would lack a wave)


def test_one_escalation_per_wave_after_its_alert(aws: AwsEnv) -> None:
    signals, key = store(aws), "acct#delivery"
    assert signals.claim_escalation(key, "case-x", NOW) is None  # no wave
    signals.claim_wave_alert(key, "case-a", "wave-1", NOW, NOW - timedelta(hours=1), 10**10)
    assert signals.claim_escalation(key, "case-x", NOW) is None  # its alert is not out yet
    signals.mark_wave_published(key, "case-a", NOW)
    state = signals.claim_escalation(key, "case-x", NOW + timedelta(minutes=3))
    assert state is not None and (state.wave_id, state.starter, state.started_at) == ("wave-1", "case-a", NOW)
    assert signals.claim_escalation(key, "case-x", NOW) is not None  # its own retry, unpublished
    signals.mark_escalation_published(key, "case-x", NOW)
    assert signals.claim_escalation(key, "case-x", NOW) is None
    assert signals.claim_escalation(key, "case-y", NOW) is None


def test_the_baseline_is_saved_by_one_folder_per_hour(aws: AwsEnv) -> None:
    signals = store(aws)
    assert signals.baseline("acct#delivery") is None
    first = Baseline(2.5, "H#2026053008")
    assert signals.save_baseline("acct#delivery", first, None, 99)
    assert not signals.save_baseline("acct#delivery", Baseline(3.0, "H#2026053008"), None, 99)
    assert signals.baseline("acct#delivery") == first
    later = Baseline(2.6, "H#2026053009")
    assert signals.save_baseline("acct#delivery", later, first, 99)
    assert not signals.save_baseline("acct#delivery", Baseline(9.0, "H#2026053009"), first, 99)  # lost the race
    assert signals.baseline("acct#delivery") == later


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
    for n in range(12, 18):  # six more customers: the wave is on and alerted
        complaint = post.model_copy(update={"post_id": f"c{n}", "dedup_key": f"k{n}", "thread_id": "t9",
                                            "author": Author(id=f"c{n}", name="Client")})
        assessment = engine.assess(complaint, Verdict(label=Label.COMPLAINT, scores={}, reasons=[]), f"case-{n}", NOW)
        if assessment.wave_alert:
            engine.wave_published(assessment.wave_alert, NOW)
    # A large account joins the wave after its alert: the escalation writes to the wave item too.
    influencer = post.model_copy(update={"post_id": "big", "dedup_key": "big",
                                         "author": Author(id="big", name="Star", followers=500_000)})
    escalation = engine.assess(influencer, Verdict(label=Label.COMPLAINT, scores={}, reasons=[]), "case-big",
                               NOW + timedelta(minutes=1))
    assert escalation.wave_alert is not None and escalation.wave_alert.kind == "wave_escalated"
    engine.wave_published(escalation.wave_alert, NOW)
    record_confirmed_spam(signals, "facebook", "a0", NOW)
    signals.add_wave_post("k", WavePost("c", NOW, ("x" * 100,) * 20, 5, "a" * 500, "t" * 900), 99)
    items = all_items(aws)
    kinds = {item["pk"]["S"].split("#", 1)[0] for item in items}
    assert kinds == {"FP", "RATE", "WAVE", "WAVEPOST", "OFFENDER"}
    horizon = NOW + timedelta(days=200)
    for item in items:
        assert "expires_at" in item, item
        expires = int(item["expires_at"]["N"])
        assert item["pk"]["S"] == "WAVEPOST#k" or NOW.timestamp() < expires <= horizon.timestamp(), item
    # Bounded sizes: terms capped at 8 x 32 characters, strings at 200.
    capped = next(i for i in items if i["pk"]["S"] == "WAVEPOST#k")
    assert len(capped["terms"]["L"]) == 8 and len(capped["author"]["S"]) == 200 and len(capped["text"]["S"]) == 120
    wave = next(i for i in items if i["pk"]["S"].startswith("WAVE#") and i["sk"]["S"] == "ALERT")
    assert {"published_at", "escalated_by", "escalation_published_at", "last_active_at"} <= set(wave)
    assert any(i["sk"]["S"] == "BASELINE" for i in items)
    assert max(len(str(item)) for item in items) < 1500


def test_the_signals_table_has_ttl_enabled(aws: AwsEnv) -> None:
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=aws.env["SIGNALS_TABLE_NAME"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"

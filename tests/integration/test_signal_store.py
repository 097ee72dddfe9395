"""DynamoSignalStore against moto, on the SignalsTable of template.yaml: the journal (one item per batch,
read back by other invocations), calls per batch, atomicity of the rare writes, TTL on every item."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from moderato.adapters.signal_store import DynamoSignalStore, decode_journal
from moderato.models import Author, Label, Post, Verdict
from moderato.settings import load_brand_accounts
from moderato.signals import SignalEngine, load_signals_config, record_confirmed_spam
from moderato.signals.fingerprint import BANDS, ROWS, bands_of, fingerprint
from moderato.signals.store import Baseline, JournalEntry, WavePost
from tests.integration.conftest import AwsEnv

NOW = datetime.now(UTC).replace(microsecond=0)


def store(aws: AwsEnv) -> DynamoSignalStore:
    return DynamoSignalStore(aws.env["SIGNALS_TABLE_NAME"], aws.client("dynamodb"))


def all_items(aws: AwsEnv) -> list[dict[str, Any]]:
    paginator = aws.client("dynamodb").get_paginator("scan")
    return [item for page in paginator.paginate(TableName=aws.env["SIGNALS_TABLE_NAME"]) for item in page["Items"]]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def container(aws: AwsEnv, clock: Clock) -> tuple[DynamoSignalStore, list[str]]:
    """A triage execution environment's store (buffered), and the operations it calls."""
    dynamodb = aws.client("dynamodb")
    operations: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: operations.append(model.name))
    return DynamoSignalStore(aws.env["SIGNALS_TABLE_NAME"], dynamodb, buffer_writes=True, clock=clock), operations


def entry(case_id: str, at: datetime, text: str | None = None, author: str = "x:1", thread: str = "p:t1",
          wave: str | None = None) -> JournalEntry:
    return JournalEntry(case_id, at, author, thread, "spam", signature=fingerprint(text).signature if text else None,
                        wave_key=wave, wave_post=WavePost(case_id, at, ("colis",), 12, "Client", "Où est mon colis")
                        if wave else None)


PROMO = "Gagnez 500€ par semaine depuis chez vous, crypto sans risque, écrivez-moi"


def test_repeat_offender_counters_are_atomic(aws: AwsEnv) -> None:
    signals = store(aws)
    assert [signals.increment("OFFENDER#x:1", "TOTAL", 1, 99) for _ in range(3)] == [1, 2, 3]
    assert signals.counts("OFFENDER#x:1", "TOTAL", "TOTAL") == {"TOTAL": 3}
    assert signals.counts("OFFENDER#x:2", "TOTAL", "TOTAL") == {}


def test_a_batch_is_journaled_in_one_item_and_seen_at_once(aws: AwsEnv) -> None:
    clock = Clock(NOW)
    signals, operations = container(aws, clock)
    signals.refresh()
    operations.clear()
    signals.journal(entry("case-1", NOW, PROMO), 10**10)
    signals.journal(entry("case-2", NOW, PROMO.replace("500", "900"), author="x:2", thread="p:t2"), 10**10)
    signals.journal(entry("case-3", NOW, wave="acct#delivery"), 10**10)
    signals.journal(entry("case-1", NOW, PROMO), 10**10)  # journaled already: counts once
    assert all_items(aws) == [] and operations == []  # nothing written yet, but the batch's later posts find them
    since = NOW - timedelta(minutes=1)
    assert {r.case_id for r in signals.window.similar(fingerprint(PROMO).signature, since, 50)} == {"case-1", "case-2"}
    assert [p.case_id for p in signals.window.wave_posts("acct#delivery", since, 10)] == ["case-3"]
    signals.flush()
    assert operations == ["PutItem"]
    [item] = all_items(aws)
    assert item["pk"]["S"] == f"JOURNAL#{NOW:%Y%m%d}" and item["sk"]["S"].startswith(NOW.strftime("%Y-%m-%dT%H:%M"))
    assert len(item["s"]["B"]) == 2 * 128  # two signatures, 64 values of 16 bits each
    assert int(item["expires_at"]["N"]) == 10**10
    signals.flush()  # nothing left
    assert operations == ["PutItem"]


def test_another_invocation_reads_the_journal_once_per_batch(aws: AwsEnv) -> None:
    clock = Clock(NOW)
    writer, _ = container(aws, clock)
    reader, operations = container(aws, clock)
    reader.refresh()
    fp = fingerprint(PROMO)
    writer.journal(entry("case-1", NOW, PROMO, author="facebook:a"), 10**10)
    writer.journal(entry("case-2", NOW, wave="acct#delivery", author="facebook:b"), 10**10)
    writer.flush()
    clock.now = NOW + timedelta(seconds=2)
    operations.clear()
    reader.refresh()
    assert operations == ["Query"]
    # Another text sharing only the last band's value is still found, through that band alone.
    last = (BANDS - 1) * ROWS
    other = tuple(v if last <= i < last + ROWS else (v + 1) % 65536 for i, v in enumerate(fp.signature))
    assert len(set(bands_of(other)) & set(fp.bands())) == 1
    found = reader.window.similar(other, NOW - timedelta(minutes=1), 50)
    assert [r.case_id for r in found] == ["case-1"] and found[0].signature == fp.signature and found[0].at == NOW
    assert reader.window.similar(fp.signature, NOW + timedelta(seconds=1), 50) == []
    minute = f"M#{NOW:%Y%m%d%H%M}"
    assert reader.window.author_minutes("facebook:a", minute, minute) == {minute: 1}
    assert reader.window.wave_minutes("acct#delivery", minute, minute) == {minute: 1}
    [wave_post] = reader.window.wave_posts("acct#delivery", NOW, 10)
    assert wave_post == WavePost("case-2", NOW, ("colis",), 12, "Client", "Où est mon colis")
    # A flood flags case-1: the writer journals the flag with its next item, the reader sees it.
    writer.mark_flagged(found[0], bands_of(found[0].signature))
    assert writer.window.similar(fp.signature, NOW - timedelta(minutes=1), 50)[0].flagged
    writer.flush()
    reader.refresh()
    assert reader.window.similar(fp.signature, NOW - timedelta(minutes=1), 50)[0].flagged
    # Read again (the overlap): nothing counts twice.
    reader.refresh()
    assert len(reader.window) == 2 and reader.window.author_minutes("facebook:a", minute, minute) == {minute: 1}


def test_an_item_visible_late_is_still_read_and_midnight_costs_one_more_query(aws: AwsEnv) -> None:
    start = NOW.replace(hour=23, minute=59, second=50)
    clock = Clock(start)
    writer, _ = container(aws, clock)
    reader, operations = container(aws, clock)
    reader.refresh()
    clock.now = start + timedelta(seconds=5)
    reader.refresh()
    # Stamped before the reader's last read (its write landed later): the overlap still finds it.
    clock.now = start + timedelta(seconds=3)
    writer.journal(entry("late", clock.now, PROMO), 10**10)
    writer.flush()
    clock.now = start + timedelta(seconds=12)  # the next day
    operations.clear()
    reader.refresh()
    assert operations == ["Query", "Query"] and "late" in reader.window


def test_a_journal_write_that_returns_late_is_written_again_within_the_readers_overlap(aws: AwsEnv) -> None:
    clock = Clock(NOW)
    writer, writes = container(aws, clock)
    reader, _ = container(aws, clock)
    reader.refresh()
    slow = [True]

    def reader_reads_while_the_write_hangs(**_: Any) -> None:
        # The writer stamped its item at NOW + 1 s; its PutItem (SDK retries) returns at NOW + 8 s, and the
        # reader has read meanwhile: its next read starts 5 s before NOW + 8 s, past the first stamp.
        if slow:
            slow.clear()
            clock.now = NOW + timedelta(seconds=8)
            reader.refresh()

    writer._db.meta.events.register("before-call.dynamodb.PutItem", reader_reads_while_the_write_hangs)
    clock.now = NOW + timedelta(seconds=1)
    writer.journal(entry("late", clock.now, PROMO, author="x:late"), 10**10)
    writer.flush()
    assert writes.count("PutItem") == 2, "written again under a later stamp"
    assert "late" not in reader.window
    clock.now = NOW + timedelta(seconds=20)
    reader.refresh()
    assert "late" in reader.window
    # Both copies stay (same batch id): an environment that reads both counts the post once.
    journal = [item for item in all_items(aws) if item["pk"]["S"].startswith("JOURNAL#")]
    assert len({item["sk"]["S"].split("#", 1)[1] for item in journal}) == 1 and len(journal) == 2
    cold, _ = container(aws, clock)
    cold.refresh()
    minute = f"M#{NOW:%Y%m%d%H%M}"
    assert sum(cold.window.author_minutes("x:late", minute, f"M#{clock.now:%Y%m%d%H%M}").values()) == 1
    # A prompt write is written once.
    writes.clear()
    writer.journal(entry("prompt", clock.now, author="x:prompt"), 10**10)
    writer.flush()
    assert writes.count("PutItem") == 1


# Any hour, and just before 01:00 UTC, when the recent hour's first day holds two minutes of it: the
# next day's partition, not the first, is the one with more than a page.
@pytest.mark.parametrize("now", [NOW, NOW.replace(hour=0, minute=58)], ids=["now", "after-midnight"])
def test_a_cold_start_at_volume_reads_on_in_parallel_slices_and_keeps_every_post_once(aws: AwsEnv,
                                                                                       now: datetime) -> None:
    dice = random.Random(3)
    clock = Clock(now - timedelta(hours=4))
    writer, _ = container(aws, clock)
    written: list[JournalEntry] = []
    for minutes_ago in range(235, 0, -5):  # every 5 minutes for 4 hours: ~1.5 MB of journal in the last hour
        clock.now = now - timedelta(minutes=minutes_ago)
        for n in range(150 if minutes_ago > 60 else 700):
            post = JournalEntry(f"c-{minutes_ago}-{n}", clock.now, f"x:{n % 40}", "p:t1", "normal",
                                signature=tuple(dice.getrandbits(16) for _ in range(64)),
                                wave_key="acct#delivery" if n % 4 == 0 else None,
                                wave_post=WavePost(f"c-{minutes_ago}-{n}", clock.now, ("colis",), 12, "Client",
                                                   "Où est mon colis " * 6) if n % 4 == 0 else None)
            writer.journal(post, 10**10)
            written.append(post)
        writer.flush()
    clock.now = now
    cold, _ = container(aws, clock)
    threads: list[str] = []
    cold._db.meta.events.register("provide-client-params.dynamodb.Query",
                                  lambda **_: threads.append(threading.current_thread().name))
    cold.refresh()
    assert any(name.startswith("journal") for name in threads), "past a page, slices are read in parallel"
    recent = [post for post in written if post.at >= now - timedelta(hours=1)]
    waves = [post for post in written if post.wave_key]
    assert len(cold.window) == len({p.case_id for p in recent} | {p.case_id for p in waves})
    assert len(cold.window.wave_posts("acct#delivery", now - timedelta(hours=5), 10**6)) == len(waves)
    first, last = f"M#{now - timedelta(hours=1):%Y%m%d%H%M}", f"M#{now:%Y%m%d%H%M}"
    assert sum(cold.window.author_minutes("x:0", first, last).values()) == sum(p.author == "x:0" for p in recent)
    assert cold.window.similar(recent[-1].signature or (), now - timedelta(hours=1), 5)[0].case_id == recent[-1].case_id


def test_a_cold_start_reads_the_journal_back_over_its_retention(aws: AwsEnv) -> None:
    clock = Clock(NOW - timedelta(hours=5))
    writer, _ = container(aws, clock)
    for hours_ago in (5, 3, 2, 0):
        clock.now = NOW - timedelta(hours=hours_ago)
        writer.journal(entry(f"case-{hours_ago}", clock.now, PROMO, author=f"x:{hours_ago}", wave="acct#delivery"),
                       10**10)
        writer.journal(entry(f"plain-{hours_ago}", clock.now, author=f"x:{hours_ago}"), 10**10)
        writer.flush()
    cold, _ = container(aws, clock)
    queries: list[tuple[str, dict[str, Any]]] = []
    cold._db.meta.events.register("provide-client-params.dynamodb.Query", lambda params, **_: queries.append(
        (threading.current_thread().name, params)))
    cold.refresh()
    # A small journal: one Query a day for the hours before the recent one, without their signatures, and
    # one for the recent hour, whole; no thread of its own.
    older = [q for _, q in queries if "ProjectionExpression" in q]
    recent = [q for _, q in queries if "ProjectionExpression" not in q]
    assert len(older) == len({f"{NOW - timedelta(hours=h):%Y%m%d}" for h in (4, 1)})
    assert len(recent) == len({f"{NOW - timedelta(hours=h):%Y%m%d}" for h in (1, 0)})
    assert {name for name, _ in queries} == {threading.current_thread().name}
    for query in older:
        names = query.get("ExpressionAttributeNames", {})
        projected = {names.get(name.strip(), name.strip()) for name in query["ProjectionExpression"].split(",")}
        assert projected == {"pk", "sk", "d"}
    # Of the older hours only the wave posts are kept, for their wave (no fingerprint, no author's rate).
    assert sorted(p.case_id for p in cold.window.wave_posts("acct#delivery", NOW - timedelta(hours=6), 10)) == [
        "case-0", "case-2", "case-3"]
    assert "plain-3" not in cold.window and "plain-2" not in cold.window and "plain-0" in cold.window
    assert [r.case_id for r in cold.window.similar(fingerprint(PROMO).signature, NOW - timedelta(hours=6), 10)] == [
        "case-0"]
    hour = f"M#{NOW - timedelta(hours=2):%Y%m%d%H%M}"
    assert cold.window.author_minutes("x:2", hour, hour) == {}
    assert cold.window.known_since == NOW - timedelta(hours=4)


def test_a_cold_start_keeps_of_the_older_hours_only_the_posts_counted_in_a_wave(aws: AwsEnv) -> None:
    clock = Clock(NOW - timedelta(hours=3))
    writer, _ = container(aws, clock)
    for hours_ago, wave in ((3, None), (3, "acct#delivery"), (0, None)):
        clock.now = NOW - timedelta(hours=hours_ago)
        writer.journal(entry(f"case-{hours_ago}-{wave}", clock.now, wave=wave), 10**10)
        writer.flush()
    cold, _ = container(aws, clock)
    cold.refresh()
    # the 3-hour-old post in no wave is beyond the 60-minute horizon: never held, never "dropped early"
    assert {"case-3-acct#delivery", "case-0-None"} <= set(cold.window._by_case)
    assert "case-3-None" not in cold.window._by_case and cold.window.dropped == 0


def test_a_wave_is_read_claimed_and_touched_once_per_batch(aws: AwsEnv) -> None:
    clock = Clock(NOW)
    signals, operations = container(aws, clock)
    key, quiet = "acct#delivery", NOW - timedelta(hours=1)
    assert signals.wave_state(key) is None
    assert signals.claim_wave_alert(key, "case-a", "wave-1", NOW, quiet, 10**10)
    signals.mark_wave_published(key, "case-a", NOW)
    signals.flush()
    later = NOW + timedelta(minutes=5)
    operations.clear()
    for n in range(5):  # five posts of the same batch see the wave going on
        assert signals.wave_state(key) is not None
        assert not signals.claim_wave_alert(key, f"case-{n}", "wave-2", later, later - timedelta(hours=1), 10**10)
        signals.touch_wave(key, later, 10**10)
    signals.flush()
    assert operations == ["GetItem", "UpdateItem"]
    assert signals.wave_state(key).last_active_at == later  # type: ignore[union-attr]


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
    # The store's clock is the engine's: a journal item's expiry counts from when it is written, and this
    # module's NOW may be minutes old by the time the test runs.
    signals = DynamoSignalStore(aws.env["SIGNALS_TABLE_NAME"], aws.client("dynamodb"), clock=lambda: NOW)
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
    signals.journal(JournalEntry("c", NOW, "a" * 500, "t" * 500, "normal", wave_key="k" * 300,
                                 wave_post=WavePost("c", NOW, ("x" * 100,) * 20, 5, "a" * 500, "t" * 900)), 99)
    items = all_items(aws)
    kinds = {item["pk"]["S"].split("#", 1)[0] for item in items}
    assert kinds == {"JOURNAL", "WAVE", "OFFENDER"}
    horizon = NOW + timedelta(days=200)
    journal = [item for item in items if item["pk"]["S"].startswith("JOURNAL#")]
    [oversized] = [item for item in journal if item["expires_at"]["N"] == "99"]
    for item in items:
        assert "expires_at" in item, item
        expires = int(item["expires_at"]["N"])
        assert item is oversized or NOW.timestamp() < expires <= horizon.timestamp(), item
    # A journal item lives as long as it is read back (4 hours; TTL never deletes earlier).
    four_hours = int((NOW + timedelta(hours=4)).timestamp())
    assert all(four_hours <= int(i["expires_at"]["N"]) <= four_hours + 120 for i in journal if i is not oversized)
    # Bounded sizes: terms capped at 8 x 32 characters, strings at 200, the excerpt at 120.
    [capped], _ = decode_journal(oversized["d"]["B"], b"")
    assert capped.wave_post is not None and capped.wave_key == "k" * 200
    assert len(capped.wave_post.terms) == 8 and {len(t) for t in capped.wave_post.terms} == {32}
    assert (len(capped.author), len(capped.thread), len(capped.wave_post.author), len(capped.wave_post.text)) == (
        200, 200, 200, 120)
    wave = next(i for i in items if i["pk"]["S"].startswith("WAVE#") and i["sk"]["S"] == "ALERT")
    assert {"published_at", "escalated_by", "escalation_published_at", "last_active_at"} <= set(wave)
    assert any(i["sk"]["S"] == "BASELINE" for i in items)
    assert max(len(str(item)) for item in items) < 3000


def test_the_signals_table_has_ttl_enabled(aws: AwsEnv) -> None:
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=aws.env["SIGNALS_TABLE_NAME"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"

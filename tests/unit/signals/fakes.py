"""In-memory fakes of the signal and case ports: the same semantics as DynamoDB, none of the I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moderato.models import Case, CaseEvent
from moderato.signals.store import Baseline, FingerprintRecord, JournalEntry, WaveState
from moderato.signals.window import SignalWindow
from moderato.triage.cases import opening_event


class MemorySignalStore:
    """The journal is the window itself: every invocation shares it, as if each batch were read at once.
    It is pruned by the posts' own times (the tests' clock), as the adapter prunes by the wall clock."""

    def __init__(self) -> None:
        self.window = SignalWindow()
        self.journaled: list[JournalEntry] = []
        self.counters: dict[tuple[str, str], int] = {}
        self.claims: dict[str, dict[str, Any]] = {}
        self.baselines: dict[str, Baseline] = {}
        self.expiries: list[int] = []

    def refresh(self) -> None:
        """Every journaled post is in the window already."""

    def journal(self, entry: JournalEntry, expires_at: int) -> None:
        self.expiries.append(expires_at)
        if self.window.add(entry):
            self.journaled.append(entry)
        self.window.prune(entry.at)

    def mark_flagged(self, record: FingerprintRecord, bands: list[str]) -> None:
        self.window.flag([record.case_id])

    def increment(self, key: str, bucket: str, amount: int, expires_at: int, also: str | None = None) -> int:
        self.expiries.append(expires_at)
        if also is not None:
            self.counters[(key, also)] = self.counters.get((key, also), 0) + amount
        self.counters[(key, bucket)] = self.counters.get((key, bucket), 0) + amount
        return self.counters[(key, bucket)]

    def counts(self, key: str, first_bucket: str, last_bucket: str) -> dict[str, int]:
        return {b: n for (k, b), n in self.counters.items() if k == key and first_bucket <= b <= last_bucket}

    def baseline(self, key: str) -> Baseline | None:
        return self.baselines.get(key)

    def save_baseline(self, key: str, baseline: Baseline, previous: Baseline | None, expires_at: int) -> bool:
        if self.baselines.get(key) != previous:
            return False
        self.expiries.append(expires_at)
        self.baselines[key] = baseline
        return True

    def wave_state(self, wave_key: str) -> WaveState | None:
        claim = self.claims.get(wave_key)
        if claim is None:
            return None
        return WaveState(claim["wave_id"], claim["started"], claim["starter"], claim["last_active"])

    def claim_wave_alert(self, wave_key: str, case_id: str, wave_id: str, now: datetime, quiet_since: datetime,
                         expires_at: int) -> bool:
        claim = self.claims.get(wave_key)
        ended = claim is None or claim["last_active"] < quiet_since
        retry = claim is not None and claim["starter"] == case_id and not claim["published"]
        if not (ended or retry):
            return False
        self.expiries.append(expires_at)
        self.claims[wave_key] = {"starter": case_id, "wave_id": wave_id, "started": now, "last_active": now,
                                 "published": False, "escalated_by": None, "escalation_published": False}
        return True

    def touch_wave(self, wave_key: str, now: datetime, expires_at: int) -> None:
        claim = self.claims.get(wave_key)
        if claim is not None and claim["last_active"] < now:
            self.expiries.append(expires_at)
            claim["last_active"] = now

    def mark_wave_published(self, wave_key: str, case_id: str, at: datetime) -> None:
        claim = self.claims.get(wave_key)
        if claim and claim["starter"] == case_id:
            claim["published"] = True

    def claim_escalation(self, wave_key: str, case_id: str, now: datetime) -> WaveState | None:
        claim = self.claims.get(wave_key)
        if claim is None or not claim["published"]:
            return None
        if claim["escalated_by"] not in (None, case_id) or claim["escalation_published"]:
            return None
        claim["escalated_by"] = case_id
        return WaveState(claim["wave_id"], claim["started"], claim["starter"])

    def mark_escalation_published(self, wave_key: str, case_id: str, at: datetime) -> None:
        claim = self.claims.get(wave_key)
        if claim and claim["escalated_by"] == case_id:
            claim["escalation_published"] = True

    def prefetch(self, keys: list[tuple[str, str]]) -> None:
        """Every read above is already in memory."""

    def flush(self) -> None:
        """Nothing is buffered in memory: every write above is already visible."""


class MemoryCases:
    """The case store in memory: like CaseStore, a new case's history is its derived opening event."""

    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.events: list[CaseEvent] = []
        self.expiries: dict[str, datetime] = {}  # the retention a save gave a case (CaseStore's expires_at)

    def create(self, case: Case, expires_at: datetime | None = None) -> tuple[Case, bool]:
        if case.case_id in self.cases:
            return self.cases[case.case_id], False
        self.cases[case.case_id] = case
        self.events.append(opening_event(case))
        return case, True

    def existing(self, case_ids: list[str]) -> dict[str, Case]:
        return {case_id: self.cases[case_id] for case_id in case_ids if case_id in self.cases}

    def create_many(self, new: list[tuple[Case, datetime | None]]) -> set[str]:
        return {case.case_id for case, expires in new if self.create(case, expires)[1]}

    def get(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def save(self, case: Case, event: CaseEvent, expected_version: int, retain: bool = False,
             expires_at: datetime | None = None) -> Case:
        assert self.cases[case.case_id].version == expected_version
        self.cases[case.case_id] = case
        self.events.append(event)
        if expires_at is not None and not retain and case.queue is None:
            self.expiries[case.case_id] = expires_at
        return case


class Recorder:
    """Queues and alert topic: remembers what was sent."""

    def __init__(self) -> None:
        self.sent: list[Case] = []
        self.crises: list[Case] = []
        self.waves: list[Any] = []

    def send(self, case: Case) -> str:
        self.sent.append(case)
        return f"m-{len(self.sent)}"

    def send_many(self, cases: list[Case]) -> None:
        for case in cases:
            self.send(case)

    def publish_crisis(self, case: Case) -> str:
        self.crises.append(case)
        return "c"

    def publish_wave(self, alert: Any) -> str:
        self.waves.append(alert)
        return "w"

"""In-memory fakes of the signal and case ports: the same semantics as DynamoDB, none of the I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from moderato.models import Case, CaseEvent
from moderato.signals.store import Baseline, FingerprintRecord, WavePost, WaveState


class MemorySignalStore:
    def __init__(self) -> None:
        self.fingerprints: dict[str, dict[str, FingerprintRecord]] = {}
        self.counters: dict[tuple[str, str], int] = {}
        self.wave_items: dict[str, list[WavePost]] = {}
        self.claims: dict[str, dict[str, Any]] = {}
        self.baselines: dict[str, Baseline] = {}
        self.expiries: list[int] = []

    def add_fingerprint(self, record: FingerprintRecord, bands: list[str], expires_at: int) -> None:
        self.expiries.append(expires_at)
        for band in bands:
            self.fingerprints.setdefault(band, {})[record.case_id] = record

    def similar(self, bands: list[str], since: datetime, limit: int) -> list[FingerprintRecord]:
        found: dict[str, FingerprintRecord] = {}
        for band in bands:
            records = sorted(self.fingerprints.get(band, {}).values(), key=lambda r: r.at, reverse=True)
            for record in [r for r in records if r.at >= since][:limit]:
                found.setdefault(record.case_id, record)
        return sorted(found.values(), key=lambda r: r.at, reverse=True)

    def mark_flagged(self, record: FingerprintRecord, bands: list[str]) -> None:
        for band in bands:
            if record.case_id in self.fingerprints.get(band, {}):
                self.fingerprints[band][record.case_id] = replace(record, flagged=True)

    def increment(self, key: str, bucket: str, amount: int, expires_at: int, also: str | None = None) -> int:
        self.expiries.append(expires_at)
        if also is not None:
            self.counters[(key, also)] = self.counters.get((key, also), 0) + amount
        self.counters[(key, bucket)] = self.counters.get((key, bucket), 0) + amount
        return self.counters[(key, bucket)]

    def counts(self, key: str, first_bucket: str, last_bucket: str) -> dict[str, int]:
        return {b: n for (k, b), n in self.counters.items() if k == key and first_bucket <= b <= last_bucket}

    def add_wave_post(self, wave_key: str, post: WavePost, expires_at: int) -> None:
        self.expiries.append(expires_at)
        self.wave_items.setdefault(wave_key, []).append(post)

    def wave_posts(self, wave_key: str, since: datetime, limit: int) -> list[WavePost]:
        return sorted([p for p in self.wave_items.get(wave_key, []) if p.at >= since], key=lambda p: p.at)[:limit]

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
    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.routed: set[str] = set()
        self.events: list[CaseEvent] = []

    def create(self, case: Case, event: CaseEvent, expires_at: datetime | None = None) -> tuple[Case, bool, bool]:
        if case.case_id in self.cases:
            return self.cases[case.case_id], False, case.case_id in self.routed
        self.cases[case.case_id] = case
        self.events.append(event)
        return case, True, False

    def existing(self, case_ids: list[str]) -> dict[str, tuple[Case, bool]]:
        return {case_id: (self.cases[case_id], case_id in self.routed) for case_id in case_ids
                if case_id in self.cases}

    def create_many(self, new: list[tuple[Case, CaseEvent, datetime | None]]) -> set[str]:
        return {case.case_id for case, event, expires in new if self.create(case, event, expires)[1]}

    def mark_routed(self, case_id: str, at: datetime) -> None:
        self.routed.add(case_id)

    def get(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def save(self, case: Case, event: CaseEvent, expected_version: int) -> Case:
        assert self.cases[case.case_id].version == expected_version
        self.cases[case.case_id] = case
        self.events.append(event)
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

"""The alerts function against a local HTTP receiver: crisis cases, waves and alarms become chat messages."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from tests.integration.conftest import AwsEnv, FakeContext, load_handler


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"content_type": self.headers["Content-Type"], "body": json.loads(body)})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def sns_event(*messages: tuple[str, dict[str, Any] | str]) -> dict[str, Any]:
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:eu-west-1:123456789012:alerts:sub",
        "Sns": {"Type": "Notification", "MessageId": f"m{i}", "TopicArn": "arn:aws:sns:eu-west-1:123456789012:alerts",
                "Subject": subject, "Message": body if isinstance(body, str) else json.dumps(body),
                "Timestamp": "2026-05-30T09:00:00.000Z", "SignatureVersion": "1", "Signature": "x",
                "SigningCertUrl": "https://x", "UnsubscribeUrl": "https://x", "MessageAttributes": {}},
    } for i, (subject, body) in enumerate(messages)]}


WAVE = {"kind": "wave_alert", "priority": 2, "wave_id": "w1", "account_id": "206070979425408", "brand": "Floralys",
        "platform": "facebook", "subject": "delivery", "count": 12, "window_minutes": 15, "usual": 0.5,
        "top_terms": ["livree", "commande", "samedi"],
        "sample_case_ids": ["facebook-a", "facebook-b", "facebook-c", "facebook-d"],
        "samples": [{"case_id": "facebook-a", "text": "Ma commande n'est toujours pas livrée"},
                    {"case_id": "facebook-b", "text": "Colis en retard, c'était pour samedi…"},
                    {"case_id": "facebook-c", "text": "Toujours rien reçu"}],
        "list_path": "/cases?queue=ComplaintQueue&status=open&brand=Floralys", "started_at": "2026-05-30T09:00:00Z",
        "quiet_minutes": 60, "starter_case_id": "facebook-a", "max_followers": 210000, "amplifiers": 1}
ESCALATED = {**WAVE, "kind": "wave_escalated", "priority": 1, "count": 31, "window_minutes": 180,
             "escalation": {"case_id": "facebook-z", "followers": 250000, "author": "@star",
                            "text": "Toujours pas livrée, @Floralys c'est une honte"}}
CRISIS = {"kind": "crisis_case", "case_id": "x-1", "label": "crisis", "sla_due_at": "2026-05-30T09:15:00Z",
          "reasons": [{"code": "rule.crisis.health", "message": "Health hazard", "detail": "hopital"}],
          "post": {"platform": "x", "brand": "Floralys", "account_id": "2244994945", "text": "Mon fils est à l'hôpital",
                   "permalink": "https://x.com/i/status/1", "author": {"name": "Jeanne", "followers": 120}}}
ALARM = {"AlarmName": "moderato-IngestDLQAlarm", "AlarmDescription": "Deliveries wait in IngestDLQ",
         "NewStateValue": "ALARM", "NewStateReason": "Threshold Crossed: 1 datapoint [3.0] >= 1.0",
         "StateChangeTime": "2026-05-30T09:00:00.000+0000"}


def test_each_kind_of_alert_reaches_the_chat_as_a_readable_message(aws: AwsEnv, receiver: Receiver,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("ALERTS_LINK_BASE_URL", "https://api.example/prod")
    result = load_handler("alerts").lambda_handler(
        sns_event(("[Moderato] Wave", WAVE), ("[Moderato] Crisis", CRISIS), ("ALARM: dlq", ALARM),
                  ("Hello", "plain text from someone"), ("[Moderato] Wave escalated", ESCALATED)), FakeContext())
    assert result == {"alerts": 5, "posted": 5}
    assert all(r["content_type"] == "application/json" for r in receiver.received)
    wave, crisis, alarm, plain, escalated = (r["body"]["text"] for r in receiver.received)
    assert "Complaint wave* on Floralys (facebook): 12 complaints about *delivery* in 15 min" in wave
    # Escaped for Slack like every interpolated value: Slack shows (and links) the & again.
    assert "https://api.example/prod/cases?queue=ComplaintQueue&amp;status=open&amp;brand=Floralys" in wave
    assert "livree, commande, samedi" in wave and "210,000" in wave
    # Three quoted samples, each next to its case id; the other sample cases listed after them.
    assert "> Ma commande n'est toujours pas livrée (facebook-a)" in wave
    assert "> Toujours rien reçu (facebook-c)" in wave and "more cases: facebook-d" in wave
    assert "one alert per wave: the next one only after 60 min below threshold" in wave
    assert escalated.startswith(":rotating_light: *Wave escalated* on Floralys (facebook): @star (250,000 followers)"
                                " joined the *delivery* wave (31 complaints in 3 h, usually 0.5)")
    assert "> Toujours pas livrée, @Floralys c'est une honte (facebook-z)" in escalated and "wave w1" in escalated
    assert "*Crisis* on Floralys (x)" in crisis and "Mon fils est à l'hôpital" in crisis and "hopital" in crisis
    assert "moderato-IngestDLQAlarm* is ALARM" in alarm and "Threshold Crossed" in alarm
    assert plain == "*Hello*\nplain text from someone"


def test_without_a_webhook_url_alerts_are_only_logged(aws: AwsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_WEBHOOK_URL", "")
    result = load_handler("alerts").lambda_handler(sns_event(("w", WAVE)), FakeContext())
    assert result == {"alerts": 1, "posted": 0}


def test_a_chat_outage_fails_the_invocation_so_lambda_retries(aws: AwsEnv, receiver: Receiver,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    receiver.status = 500
    monkeypatch.setenv("CHAT_WEBHOOK_URL", receiver.url)
    alerts = load_handler("alerts")
    with pytest.raises(alerts.ChatWebhookFailed):
        alerts.lambda_handler(sns_event(("w", WAVE)), FakeContext())

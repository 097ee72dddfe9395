"""Chat alerts quote people's posts: those words must not become Slack markup, nor land in INFO logs."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from moderato.alerting.format import format_alert

ATTACK_TEXT = "<!channel> remboursement ici <https://evil.example|https://brand.fr/refund> & vite"
ATTACKER = "<@U024BE7LH> Floralys <!here>"


def crisis(text: str = ATTACK_TEXT, name: str = ATTACKER, permalink: str = "https://x.com/i/status/1") -> dict:
    return {"kind": "crisis_case", "case_id": "x-1", "label": "crisis", "sla_due_at": "2026-05-30T09:15:00Z",
            "reasons": [{"code": "rule.crisis.legal", "message": "Legal threat", "detail": "<!everyone> avocat"}],
            "post": {"platform": "x", "brand": "Floralys", "account_id": "2244994945", "text": text,
                     "permalink": permalink, "author": {"name": name, "handle": "<!channel>", "followers": 120}}}


def wave() -> dict:
    return {"kind": "wave_escalated", "wave_id": "w1", "account_id": "1", "brand": "Floralys",
            "platform": "facebook", "subject": "<!channel>", "count": 12, "window_minutes": 15, "usual": 0.5,
            "top_terms": ["<https://evil.example|x>"], "sample_case_ids": ["a"],
            "samples": [{"case_id": "a", "text": ATTACK_TEXT}], "list_path": "/cases", "started_at": "t",
            "quiet_minutes": 60, "starter_case_id": "a",
            "escalation": {"case_id": "a", "followers": 90000, "author": ATTACKER, "text": ATTACK_TEXT}}


def test_user_text_cannot_ping_the_channel_nor_disguise_a_link() -> None:
    for message in (crisis(), wave(), {**wave(), "kind": "wave_alert"}):
        text = format_alert("[Moderato] alert", json.dumps(message))["text"]
        assert "<!" not in text and "<@" not in text and "<https://evil" not in text
        assert "&lt;!channel&gt;" in text
    crisis_text = format_alert(None, json.dumps(crisis()))["text"]
    assert "&lt;https://evil.example|https://brand.fr/refund&gt; &amp; vite" in crisis_text
    assert "&lt;@U024BE7LH&gt; Floralys &lt;!here&gt;" in crisis_text  # the author name
    assert "&lt;!everyone&gt; avocat" in crisis_text  # a reason's detail quotes the post


def test_a_permalink_label_cannot_be_smuggled() -> None:
    text = format_alert(None, json.dumps(crisis(permalink="https://x.com/1|<!channel> click")))["text"]
    assert "<!channel>" not in text and "https://x.com/1|&lt;!channel&gt; click" in text


def test_unknown_messages_are_escaped_too() -> None:
    assert format_alert("s", "<!channel> hi")["text"] == "*s*\n&lt;!channel&gt; hi"
    assert format_alert("<!here> outage", "x")["text"] == "*&lt;!here&gt; outage*\nx"


PING = "<!channel>"


def test_every_field_of_every_alert_is_escaped() -> None:
    # Given alerts whose every field is a ping (a forged or corrupted SNS message can carry anything)
    hostile_crisis = crisis()
    hostile_crisis.update(case_id=PING, sla_due_at=PING, suggested_reply=PING)
    hostile_crisis["post"].update(brand=PING, platform=PING)
    hostile_crisis["post"]["author"]["followers"] = PING
    hostile_wave = {key: PING for key in ("wave_id", "brand", "platform", "subject", "count", "window_minutes",
                                          "usual", "list_path", "started_at", "quiet_minutes", "amplifiers",
                                          "max_followers")}
    hostile_wave.update(top_terms=[PING], sample_case_ids=[PING], samples=[{"case_id": PING, "text": PING}],
                        escalation={"case_id": PING, "followers": PING, "author": PING, "text": PING})
    alarm = {"AlarmName": PING, "NewStateValue": PING, "AlarmDescription": PING, "NewStateReason": PING}
    no_brand = {**hostile_crisis, "post": {"account_id": PING}}
    for message in (hostile_crisis, {**hostile_wave, "kind": "wave_alert"},
                    {**hostile_wave, "kind": "wave_escalated"}, alarm, no_brand):
        # When each is formatted (with and without a console URL)
        for base_url in ("", "https://api.example/prod"):
            text = format_alert(PING, json.dumps(message), base_url)["text"]
            # Then no markup survives anywhere
            assert "<" not in text and ">" not in text.replace("\n> ", "\n"), text
            assert "&lt;!channel&gt;" in text


def sns_event(message: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:x",
                         "Sns": {"Type": "Notification", "MessageId": "m1", "TopicArn": "arn:x", "Subject": "Crisis",
                                 "Message": json.dumps(message), "Timestamp": "2026-05-30T09:00:00.000Z",
                                 "SignatureVersion": "1", "Signature": "x", "SigningCertUrl": "https://x",
                                 "UnsubscribeUrl": "https://x", "MessageAttributes": {}}}]}


class Context:
    function_name = "alerts"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:alerts"
    aws_request_id = "r1"


def test_info_logs_of_the_alerts_function_hold_no_post_text_nor_author(monkeypatch: Any) -> None:
    monkeypatch.setenv("CHAT_WEBHOOK_URL", "")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Moderato")
    import alerts

    message = crisis(text="Mon fils est à l'hôpital après vos chocolats", name="Jeanne Martin-Duval")
    for level, expect_text in ((logging.INFO, False), (logging.DEBUG, True)):
        buffer = io.StringIO()
        handler = alerts.logger.registered_handler
        previous = handler.setStream(buffer)
        alerts.logger.setLevel(level)
        try:
            alerts.lambda_handler(sns_event(message), Context())
        finally:
            handler.setStream(previous)
            alerts.logger.setLevel(logging.INFO)
        logged = buffer.getvalue()
        assert '"alert"' in logged  # the alert is still logged at INFO, without its words
        assert ("hôpital" in logged or "h\\u00f4pital" in logged) is expect_text
        assert ("Martin-Duval" in logged) is expect_text

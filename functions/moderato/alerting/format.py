"""Turn what arrives on AlertsTopic into a short, readable chat message (Slack-compatible JSON).

Four kinds of SNS messages reach the topic: a crisis case (``kind: crisis_case``, the case message),
a complaint wave (``kind: wave_alert``), its one escalation when a large account joins it
(``kind: wave_escalated``) and CloudWatch alarm state changes (``AlarmName`` ...).
Anything else is shown as it came, so an unexpected message is still seen, never dropped.
"""

from __future__ import annotations

import json
from typing import Any

from moderato.safety_codes import SELF_HARM

MAX_TEXT = 300


def _link(base_url: str, path: str) -> str:
    if not path:
        return ""
    return f"{base_url.rstrip('/')}{path}" if base_url else path


def escape(value: Any) -> str:
    """Slack reads ``<...>`` as a link or a mention (``<!channel>`` pings everyone) and ``&`` as an entity:
    its mrkdwn rules ask to escape exactly these three in any text we did not write ourselves."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote(text: str) -> str:
    text = " ".join(str(text).split())
    return escape(text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…")


def _count(value: Any, spec: str = ",") -> str:
    """A number as people read it ("12,400"); anything else (the message is JSON from SNS) escaped as it is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, spec)
    return escape(value)


def _crisis(message: dict[str, Any], base_url: str) -> str:
    post = message.get("post", {})
    author = post.get("author") or {}
    who = escape(author.get("name") or author.get("handle") or author.get("id") or "someone")
    # A reason's detail quotes the post ("rembourse moi"): user text, escaped like the rest.
    reasons = escape(", ".join(r.get("detail") or r.get("message", "") for r in message.get("reasons", [])[:3]))
    # Self-harm is the most urgent crisis of all: the headline says so before anything else.
    head = ":sos: *URGENT: possible suicide or self-harm*" if SELF_HARM in (message.get("safety") or []) else (
        ":rotating_light: *Crisis*")
    case_id = escape(message.get("case_id"))
    lines = [
        f"{head} on {escape(post.get('brand') or post.get('account_id'))} ({escape(post.get('platform'))}): "
        f"a human must acknowledge by {escape(message.get('sla_due_at'))}",
        f"> {_quote(post.get('text', ''))}",
        f"by {who}" + (f" ({_count(author['followers'])} followers)" if author.get("followers") else ""),
        f"why: {reasons}" if reasons else "",
        # Our own configured text, quoted whole: cutting it could cut a helpline number.
        f"suggested reply (a human sends it, never automatic): {escape(message['suggested_reply'])}"
        if message.get("suggested_reply") else "",
        f"case {case_id}"
        + (f" · {escape(post['permalink'])}" if post.get("permalink") else "")
        + (f" · {escape(_link(base_url, '/cases/' + str(message.get('case_id'))))}" if base_url else ""),
    ]
    return "\n".join(line for line in lines if line)


def window_text(minutes: int) -> str:
    """A window as people say it: "15 min", "3 h" (shared with the signal reasons; this module stays light)."""
    return f"{minutes} min" if minutes < 60 or minutes % 60 else f"{minutes // 60} h"


def _window(minutes: Any) -> str:
    # The message is JSON from SNS: only a whole number of minutes goes through window_text.
    return window_text(minutes) if isinstance(minutes, int) else f"{escape(minutes)} min"


def _samples(message: dict[str, Any]) -> list[str]:
    """Up to three quoted posts next to their case ids, then the other sample case ids."""
    quoted = [s for s in message.get("samples", []) if isinstance(s, dict) and s.get("case_id")][:3]
    lines = [f"> {_quote(str(s.get('text', '')))} ({escape(s['case_id'])})" for s in quoted]
    rest = [i for i in message.get("sample_case_ids", []) if i not in {s["case_id"] for s in quoted}]
    if rest:
        lines.append(f"{'more' if quoted else 'sample'} cases: {escape(', '.join(map(str, rest)))}")
    return lines


def _wave(message: dict[str, Any], base_url: str) -> str:
    where = escape(message.get("brand") or message.get("account_id"))
    platform = escape(message.get("platform"))
    usual = _count(message.get("usual", 0), "g")
    listed = escape(_link(base_url, str(message.get("list_path") or "")))
    joined = message.get("escalation") or {}
    if message.get("kind") == "wave_escalated":
        head = (f":rotating_light: *Wave escalated* on {where} ({platform}): "
                f"{escape(joined.get('author', 'an account'))} ({_count(joined.get('followers', 0))} followers) "
                f"joined the *{escape(message.get('subject'))}* wave ({_count(message.get('count'))} complaints in "
                f"{_window(message.get('window_minutes'))}, usually {usual})")
        lines = [head, f"> {_quote(str(joined.get('text', '')))} ({escape(joined.get('case_id'))})",
                 f"wave {escape(message.get('wave_id'))} started {escape(message.get('started_at'))}",
                 f"list: {listed}"]
        return "\n".join(line for line in lines if line)
    lines = [
        f":ocean: *Complaint wave* on {where} ({platform}): {_count(message.get('count'))} complaints "
        f"about *{escape(message.get('subject'))}* in {_window(message.get('window_minutes'))} (usually {usual})",
        f"top terms: {escape(', '.join(map(str, message.get('top_terms', []))))}" if message.get("top_terms") else "",
        f"amplified: {_count(message['amplifiers'])} post(s) by large accounts, up to "
        f"{_count(message.get('max_followers', 0))} followers" if message.get("amplifiers") else "",
        *_samples(message),
        f"list: {listed}",
        f"one alert per wave: the next one only after {_count(message['quiet_minutes'])} min below threshold"
        if message.get("quiet_minutes") else "",
    ]
    return "\n".join(line for line in lines if line)


def _alarm(message: dict[str, Any]) -> str:
    state = message.get("NewStateValue", "?")
    icon = {"ALARM": ":red_circle:", "OK": ":large_green_circle:"}.get(state, ":white_circle:")
    lines = [
        f"{icon} *{escape(message.get('AlarmName'))}* is {escape(state)}",
        escape(message.get("AlarmDescription") or ""),
        _quote(message.get("NewStateReason") or ""),
    ]
    return "\n".join(line for line in lines if line)


def format_alert(subject: str | None, body: str, base_url: str = "") -> dict[str, Any]:
    """The chat payload for one SNS message: ``{"text": ...}`` (Slack, Mattermost, Teams workflows)."""
    try:
        message = json.loads(body)
    except ValueError:
        message = None
    if isinstance(message, dict) and message.get("kind") == "crisis_case":
        text = _crisis(message, base_url)
    elif isinstance(message, dict) and message.get("kind") in ("wave_alert", "wave_escalated"):
        text = _wave(message, base_url)
    elif isinstance(message, dict) and "AlarmName" in message:
        text = _alarm(message)
    else:
        text = f"*{escape(subject or 'Moderato alert')}*\n{_quote(body)}"
    return {"text": text, "unfurl_links": False}

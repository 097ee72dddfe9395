"""Turn what arrives on AlertsTopic into a short, readable chat message (Slack-compatible JSON).

Four kinds of SNS messages reach the topic: a crisis case (``kind: crisis_case``, the case message),
a complaint wave (``kind: wave_alert``), its one escalation when a large account joins it
(``kind: wave_escalated``) and CloudWatch alarm state changes (``AlarmName`` ...).
Anything else is shown as it came, so an unexpected message is still seen, never dropped.
"""

from __future__ import annotations

import json
from typing import Any

MAX_TEXT = 300


def _link(base_url: str, path: str) -> str:
    if not path:
        return ""
    return f"{base_url.rstrip('/')}{path}" if base_url else path


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _crisis(message: dict[str, Any], base_url: str) -> str:
    post = message.get("post", {})
    author = post.get("author") or {}
    who = author.get("name") or author.get("handle") or author.get("id") or "someone"
    reasons = ", ".join(r.get("detail") or r.get("message", "") for r in message.get("reasons", [])[:3])
    lines = [
        f":rotating_light: *Crisis* on {post.get('brand') or post.get('account_id')} ({post.get('platform')}): "
        f"a human must acknowledge by {message.get('sla_due_at')}",
        f"> {_quote(post.get('text', ''))}",
        f"by {who}" + (f" ({author['followers']:,} followers)" if author.get("followers") else ""),
        f"why: {reasons}" if reasons else "",
        f"case {message.get('case_id')}"
        + (f" · {post['permalink']}" if post.get("permalink") else "")
        + (f" · {_link(base_url, '/cases/' + str(message.get('case_id')))}" if base_url else ""),
    ]
    return "\n".join(line for line in lines if line)


def window_text(minutes: int) -> str:
    """A window as people say it: "15 min", "3 h" (shared with the signal reasons; this module stays light)."""
    return f"{minutes} min" if minutes < 60 or minutes % 60 else f"{minutes // 60} h"


def _window(minutes: Any) -> str:
    # The message is JSON from SNS: only a whole number of minutes goes through window_text.
    return window_text(minutes) if isinstance(minutes, int) else f"{minutes} min"


def _samples(message: dict[str, Any]) -> list[str]:
    """Up to three quoted posts next to their case ids, then the other sample case ids."""
    quoted = [s for s in message.get("samples", []) if isinstance(s, dict) and s.get("case_id")][:3]
    lines = [f"> {_quote(str(s.get('text', '')))} ({s['case_id']})" for s in quoted]
    rest = [i for i in message.get("sample_case_ids", []) if i not in {s["case_id"] for s in quoted}]
    if rest:
        lines.append(f"{'more' if quoted else 'sample'} cases: {', '.join(rest)}")
    return lines


def _wave(message: dict[str, Any], base_url: str) -> str:
    where = message.get("brand") or message.get("account_id")
    usual = message.get("usual", 0)
    joined = message.get("escalation") or {}
    if message.get("kind") == "wave_escalated":
        head = (f":rotating_light: *Wave escalated* on {where} ({message.get('platform')}): "
                f"{joined.get('author', 'an account')} ({joined.get('followers', 0):,} followers) joined the "
                f"*{message.get('subject')}* wave ({message.get('count')} complaints in "
                f"{_window(message.get('window_minutes'))}, usually {usual:g})")
        lines = [head, f"> {_quote(str(joined.get('text', '')))} ({joined.get('case_id')})",
                 f"wave {message.get('wave_id')} started {message.get('started_at')}",
                 f"list: {_link(base_url, message.get('list_path', ''))}"]
        return "\n".join(line for line in lines if line)
    lines = [
        f":ocean: *Complaint wave* on {where} ({message.get('platform')}): {message.get('count')} complaints "
        f"about *{message.get('subject')}* in {_window(message.get('window_minutes'))} (usually {usual:g})",
        f"top terms: {', '.join(message.get('top_terms', []))}" if message.get("top_terms") else "",
        f"amplified: {message['amplifiers']} post(s) by large accounts, up to {message.get('max_followers', 0):,} "
        "followers" if message.get("amplifiers") else "",
        *_samples(message),
        f"list: {_link(base_url, message.get('list_path', ''))}",
        f"one alert per wave: the next one only after {message['quiet_minutes']} min below threshold"
        if message.get("quiet_minutes") else "",
    ]
    return "\n".join(line for line in lines if line)


def _alarm(message: dict[str, Any]) -> str:
    state = message.get("NewStateValue", "?")
    icon = {"ALARM": ":red_circle:", "OK": ":large_green_circle:"}.get(state, ":white_circle:")
    lines = [
        f"{icon} *{message.get('AlarmName')}* is {state}",
        message.get("AlarmDescription") or "",
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
        text = f"*{subject or 'Moderato alert'}*\n{_quote(body)}"
    return {"text": text, "unfurl_links": False}

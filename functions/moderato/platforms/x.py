"""X (Twitter) webhooks on ``/webhooks/x``: the Account Activity API (AAA) and the X Activity API (XAA).

CRC and signature are in ``moderato.platforms.x_webhook`` (the webhook function imports only that).
Both APIs deliver through the V2 Webhooks API, with the same CRC and the same signature. AAA ends on
1 January 2027 (docs.x.com/x-api/account-activity/migrate/aaa-to-xaa-migration); until every account is
moved, both payloads arrive on the same URL, and each delivery is read by its own shape: an XAA event is
``{"data": {"event_type": ...}}``, an AAA delivery carries its event arrays at the top level.
"""

from __future__ import annotations

from typing import Any

from moderato.platforms.base import CHANGE_ERRORS, DeliveryContext, ParsedDelivery, PlatformEvent, items
from moderato.platforms.x_activity import parse_activity
from moderato.platforms.x_objects import direct_message, tweet_post
from moderato.platforms.x_webhook import CRC_TOKEN_SHAPE as CRC_TOKEN_SHAPE
from moderato.platforms.x_webhook import KNOWN_EVENT_ARRAYS, XWebhook, is_activity_event
from moderato.platforms.x_webhook import SIGNATURE_HEADER as SIGNATURE_HEADER
from moderato.platforms.x_webhook import crc_response_token as crc_response_token

_POST_ARRAYS = ("tweet_create_events", "direct_message_events")


class XPlatform(XWebhook):
    """X's gate (CRC, signature, shape) and the parsing of both APIs' deliveries into posts."""

    def parse(self, payload: Any, context: DeliveryContext) -> ParsedDelivery:
        """Every tweet and direct message on its own: a bad one is set aside, the others become posts.

        Events that are not posts (likes, follows, an app revoked...) are recorded, not triaged.
        """
        self.check_shape(payload)
        if is_activity_event(payload):
            return parse_activity(payload, context)
        parsed = ParsedDelivery()
        parsed.events.extend(PlatformEvent(kind=_event_kind(key, payload[key]), where=key)
                             for key in KNOWN_EVENT_ARRAYS if key in payload and key not in _POST_ARRAYS)
        if payload.get("for_user_id") is None:
            return parsed  # an account-less event (user_event) alone
        account_id = str(payload["for_user_id"])
        brand = context.brands.get(account_id)
        users = payload.get("users") if isinstance(payload.get("users"), dict) else {}  # descriptive only
        for key, parse_one in (("tweet_create_events", tweet_post), ("direct_message_events", direct_message)):
            try:
                events = items(payload.get(key), key)
            except CHANGE_ERRORS as error:
                parsed.set_aside(key, payload.get(key), error)
                continue
            for n, event in enumerate(events):
                parsed.read(f"{key}[{n}]", event, parse_one, users, account_id, brand, context)
        return parsed


def _event_kind(key: str, value: Any) -> str:
    """``user_event.revoke`` for ``{"user_event": {"revoke": ...}}``; the array's name otherwise."""
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value))
        if isinstance(inner, str) and inner.isidentifier() and len(inner) <= 40:
            return f"{key}.{inner}"
    return key

"""The webhook's side of the platforms (handshake, signature, shape) apart from parsing, and the two in step."""

from __future__ import annotations

import pytest

import moderato.platforms.base as base
from moderato.platforms import PLATFORMS, errors, get_platform, wire
from moderato.platforms.webhooks import WEBHOOKS, get_webhook


def test_the_webhook_accepts_exactly_the_platforms_triage_parses() -> None:
    assert sorted(WEBHOOKS) == sorted(PLATFORMS)
    for name, platform in PLATFORMS.items():
        # Each parsing platform is its gate plus parse: a signature checked by the webhook is checked the same way
        assert isinstance(platform, type(WEBHOOKS[name]))
        assert platform.name == WEBHOOKS[name].name == name


@pytest.mark.parametrize("name", ["myspace", "x" * 100, ""])
def test_an_unknown_platform_is_refused_with_the_same_404_on_both_sides(name: str) -> None:
    with pytest.raises(errors.UnknownPlatform) as gate:
        get_webhook(name)
    with pytest.raises(errors.UnknownPlatform) as parser:
        get_platform(name)
    assert gate.value.status == 404 and gate.value.message == parser.value.message
    assert "webhooks exist for meta, x" in gate.value.message


def test_the_parsing_side_re_exports_the_same_errors_and_readers() -> None:
    # One class per error: `except base.PayloadRejected` catches what the light modules raise
    for name in ("WebhookError", "PayloadRejected", "PayloadTooLarge", "SignatureMissing", "SignatureInvalid",
                 "HandshakeMalformed", "HandshakeRejected", "EnqueueFailed", "SecretsUnavailable", "UnknownPlatform"):
        assert getattr(base, name) is getattr(errors, name)
    for name in ("decode_json", "header", "hmac_sha256", "require_secret", "HandshakeAnswer", "MAX_JSON_DEPTH",
                 "MAX_ID_CHARS"):
        assert getattr(base, name) is getattr(wire, name)


@pytest.mark.parametrize("depth", [wire.MAX_JSON_DEPTH, wire.MAX_JSON_DEPTH + 1])
def test_the_bracket_count_shortcut_never_lets_a_deep_body_through(depth: int) -> None:
    body = b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
    if depth > wire.MAX_JSON_DEPTH:
        with pytest.raises(errors.PayloadRejected, match="nested too deeply"):
            wire.decode_json(body)
    else:
        assert wire.decode_json(body)["a"] is not None


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    body = b'{"text": "' + b"[" * 500 + b'"}'
    assert wire.decode_json(body) == {"text": "[" * 500}

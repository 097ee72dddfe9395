"""Noisy copies for training keep their source's label and cross-validation group, and look real."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "training"))

import augment
from sources import Example

from moderato.classify.normalize import MEDIA_TOKEN, MENTION_TOKEN, normalize

SOURCES = [Example(id=f"a-{i}", text=f"Ma commande n°{i} est arrivée cassée, c'est inadmissible.", label="complaint",
                   source="authored", lang="fr", group="authored_fr_01") for i in range(200)]


def test_copies_keep_label_and_group_and_change_the_surface() -> None:
    noisy = augment.augment(SOURCES, seed=1)
    assert 60 <= len(noisy) <= 140  # about half of the posts get one copy
    by_id = {e.id: e for e in SOURCES}
    for copy in noisy:
        source = by_id[copy.id.removesuffix("~noisy")]
        assert (copy.label, copy.group, copy.origin) == (source.label, source.group, source.text)
        assert copy.text != source.text
        assert copy.source == "augmented" and copy.weight < source.weight


def test_copies_carry_handles_and_photo_links_as_platforms_do() -> None:
    tokens = [normalize(e.text).tokens for e in augment.augment(SOURCES, seed=1)]
    assert sum(MENTION_TOKEN in t for t in tokens) > len(tokens) / 3
    assert sum(MEDIA_TOKEN in t for t in tokens) > len(tokens) / 4


def test_copies_are_deterministic_and_skip_public_data() -> None:
    public = [Example(id="sms-1", text="WIN a prize now", label="spam", source="sms")]
    assert augment.augment(SOURCES, seed=1) == augment.augment(SOURCES, seed=1)
    assert augment.augment(public, seed=1, share=1.0) == []

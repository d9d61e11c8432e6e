"""The assistant's card registers; a card that declares emotion or credibility scoring does not, wherever it says
so (techniques, purposes, or the settings of what runs); an entry whose gazetteers changed does not run."""

from __future__ import annotations

import copy

import pytest

from lawful.casefiles import service
from lawful.errors import InputError, LawfulError
from lawful.governance.card import check_card
from tests.casefiles.conftest import CARD


def test_the_shipped_card_is_valid_and_pins_what_runs():
    card = check_card(copy.deepcopy(CARD))
    assert card["tier"] == "medium" and card["output"] == "documents"
    assert card["rules"]["sha256"] == service.config_sha256(card["model"])


@pytest.mark.parametrize("change", [
    {"techniques": ["regular expressions", "witness credibility scoring"]},
    {"techniques": ["deception detection from statement wording"]},
    {"purposes": ["investigation", "emotion recognition of suspects"]},
    {"model": {**CARD["model"], "scores": "credibility"}},
    {"model": {**CARD["model"], "sentiment_analysis": True, "extra": ["voice stress"]}},
])
def test_a_card_declaring_emotion_or_credibility_scoring_is_refused(change):
    card = copy.deepcopy(CARD) | change
    with pytest.raises(InputError, match="cannot be registered") as e:
        check_card(card)
    assert "no scientific validity" in str(e.value)


def test_an_entry_whose_gazetteers_are_not_the_approved_ones_does_not_run():
    class Entry:
        kind, ref = "rule-set", "casefile-assistant:9"
        card = copy.deepcopy(CARD)

    Entry.card["model"]["lexicon_sha256"] = "0" * 64
    Entry.card["rules"]["sha256"] = service.config_sha256(Entry.card["model"])
    with pytest.raises(LawfulError, match="was approved for extractor"):
        service.assistant_config(Entry)
    Entry.card["rules"]["sha256"] = "1" * 64
    with pytest.raises(LawfulError, match="not the SHA-256 of its"):
        service.assistant_config(Entry)

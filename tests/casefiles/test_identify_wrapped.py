"""Identifiers as real statements write them: names with letters beyond A-Z, a name or a number wrapped over two
lines, a no-break or double space between first name and surname. None of them may reach the stored text."""

from __future__ import annotations

import pytest

from lawful.casefiles import identify

KEY = b"k" * 32


@pytest.mark.parametrize("text, secret", [
    ("I saw Renée Dubois run from the store.", ["Renée", "Dubois"]),
    ("The suspect is François Lefèvre, he pushed me.", ["François", "Lefèvre"]),
    ("My name is Łukasz Nowak and I live upstairs.", ["Łukasz", "Nowak"]),
    ("My neighbour Maria García called me.", ["Maria", "García"]),
    ("I spoke with Priya\u00a0Natarajan yesterday.", ["Priya", "Natarajan"]),
    ("I spoke with Priya  Natarajan yesterday.", ["Priya", "Natarajan"]),
    ("Later I spoke with a man, Daniel\nOkafor, who lives there.", ["Daniel", "Okafor"]),
    ("My driver's licence number is N4821 73650\n91208.", ["N4821", "73650", "91208"]),
    ("You can call me on 416-555-\n0187 any time.", ["416", "555", "0187"]),
])
def test_nothing_of_the_identifier_is_left(text, secret):
    stored, _ = identify.pseudonymise(text, identify.detect(text), KEY)
    assert not [s for s in secret if s in stored], stored


def test_a_wrapped_identifier_is_the_same_pseudonym_as_on_one_line():
    pseudonyms = []
    for text in ("licence number is N4821 73650 91208.", "licence number is N4821 73650\n91208."):
        _, pairs = identify.pseudonymise(text, identify.detect(text), KEY)
        pseudonyms.append([(span.kind, p) for span, p in pairs])
    assert pseudonyms[0] == pseudonyms[1] and pseudonyms[0][0][0] == "id"


def test_a_bare_surname_with_accents_is_linked_to_its_full_name():
    first, second = identify.detect_case(["Renée Dubois called at nine.", "Later Dubois said she left."])
    assert [s.text for s in first] == ["Renée Dubois"]
    assert [(s.text, s.canonical) for s in second] == [("Dubois", "Renée Dubois")]


def test_a_blank_line_still_separates_two_capitalised_lines():
    spans = identify.detect("The car was Red\n\nToronto Police attended.")
    assert not any("\n\n" in s.text for s in spans)


def test_folding_keeps_every_offset():
    text = "Łukasz\u00a0Nowak\nand Ærøskøbing\n\n"
    assert len(identify.fold(text)) == len(text)
    assert identify.fold(text) == "Lukasz Nowak and Aroskobing\n\n"

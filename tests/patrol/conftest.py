"""An accepted forecast over synthetic cells in four neighbourhoods (one holds most of the risk), the planner entry
registered and active, and incidents that give each cell its neighbourhood; all through the services."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lawful.governance import gate, registry, review
from lawful.governance.card import load_card
from tests.governance.conftest import EVALUATION, EXPOSURE, FRIA, Gov

ROOT = Path(__file__).resolve().parents[2]
PLANNER = load_card(ROOT / "examples" / "governance" / "patrol-planner.toml")
DAY = "2019-12-10"
CELL = 200.0
GX, GY = 609400.0, 4827000.0  # the public protocol's grid origin
# (col, row, score, area): area 077 holds the five riskiest cells, close together downtown
CELLS = ([(103 + i, 46, 10.0 - i, "077") for i in range(5)]
         + [(110 + i, 52, 2.0 - 0.2 * i, "078") for i in range(3)]
         + [(96 + i, 40, 1.8 - 0.2 * i, "079") for i in range(3)]
         + [(103 + i, 58, 1.6 - 0.2 * i, "080") for i in range(3)])
UNITS = [{"name": "unit-1", "lon": -79.38, "lat": 43.655}, {"name": "unit-2", "lon": -79.40, "lat": 43.65}]


def forecast_payload() -> tuple[dict, list]:
    cells, expl = [], []
    for rank, (ix, iy, score, _) in enumerate(sorted(CELLS, key=lambda c: -c[2]), start=1):
        x0, y0 = GX + ix * CELL, GY + iy * CELL
        label = f"cell {ix},{iy} (centre {x0 + 100:.0f} E, {y0 + 100:.0f} N)"
        cells.append({"rank": rank, "cell": label, "score": score, "x0": x0, "y0": y0, "x1": x0 + CELL,
                      "y1": y0 + CELL})
        expl.append({"cell": label, "sentence": f"3 break-ins within 200 m in the past week (score {score:g})",
                     "terms": []})
    payload = {"category": "Break and Enter", "day": DAY, "estimator": "features",
               "start": "2019-12-10T05:00:00+00:00", "end": "2019-12-11T05:00:00+00:00", "area_share": 0.05,
               "cells": cells}
    return payload, expl


class Patrol(Gov):
    """Gov plus an accepted forecast, the active planner and incidents for the cells' neighbourhoods."""

    def __init__(self, settings):
        super().__init__(settings)
        self.forecaster = self.active(tier="medium")
        self.planner = self.active_planner()
        self.add_incidents()
        self.forecast = self.issue_forecast()
        self.decide(self.forecast, "supervisor", "accepted")

    def active_planner(self, **changes) -> str:
        card = copy.deepcopy(PLANNER)
        card.update(owner="owner", **changes)
        with self.tx() as s:
            e = registry.register(s, actor=self.actor(s, "owner"), card=card)
            registry.attach(s, actor=self.actor(s, "owner"), entry=e, evaluation=EVALUATION, exposure=EXPOSURE,
                            fria=FRIA)
            ref = e.ref
        self.step(registry.submit, ref, "owner", thresholds=self.t)
        self.approve(ref, "ap1")
        self.approve(ref, "ap2")
        self.step(registry.activate, ref, "owner")
        return ref

    def add_incidents(self) -> None:
        from lawful.incidents.models import Incident, Load
        from lawful.incidents.validate import transformer

        now = datetime.now(timezone.utc)
        to_lonlat = transformer(self.settings.crs, "EPSG:4326")
        with self.tx() as s:
            load = Load(source="test", file_name="t.csv", file_sha256="0" * 64, mapping_name="m", actor="admin",
                        started_at=now, finished_at=now, rows_read=0, inserted=0, already_present=0, quarantined=0,
                        dropped_columns=[])
            s.add(load)
            s.flush()
            for n, (ix, iy, _, area) in enumerate(CELLS):
                x, y = GX + (ix + 0.5) * CELL, GY + (iy + 0.5) * CELL
                lon, lat = to_lonlat.transform(x, y)
                s.add(Incident(source="test", source_key=str(n), category="Break and Enter",
                               occurred_at=datetime(2019, 11, 1, tzinfo=timezone.utc) + timedelta(days=n), lat=lat,
                               lon=lon, x=x, y=y, area_code=area, classification="internal", ingested_at=now,
                               load_id=load.id))

    def issue_forecast(self) -> int:
        payload, expl = forecast_payload()
        with self.tx() as s:
            r = gate.issue(s, actor=self.actor(s, "analyst"), entry=registry.get(s, ref=self.forecaster),
                           purpose="patrol planning", kind="forecast", subject=f"Break and Enter {DAY}",
                           payload=payload, explanation=expl)
            assert r.allowed, r.refused
            return r.output.id

    def decide(self, output_id: int, who: str, decision: str) -> None:
        with self.tx() as s:
            review.decide(s, actor=self.actor(s, who), output_id=output_id, decision=decision, reason="checked")

    def plan(self, who: str = "analyst", **kw) -> dict:
        from lawful import db
        from lawful.patrol import flows

        store = db.Store(self.settings, self.engine)
        with self.tx() as s:
            actor = self.actor(s, who)
        kw.setdefault("units", UNITS)
        kw.setdefault("shift", "22:00-06:00")
        return flows.make_plan(store, actor=actor, forecast_id=kw.pop("forecast", self.forecast),
                               ref=kw.pop("ref", self.planner), **kw)


@pytest.fixture
def patrol(store):
    p = Patrol(store)
    yield p
    p.engine.dispose()

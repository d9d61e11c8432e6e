"""Regenerate bird-observations.jsonl: a small synthetic stream of patrol observations around Qingdao.

    python examples/rules/make_bird_stream.py > examples/rules/bird-observations.jsonl

Deterministic (seed 2026). In arrival order: one report in ten arrives up to 15 minutes late. Most observations are ordinary (hikers, birdwatchers in the day); a few carry mist nets
or decoy recorders at night inside the reserve, a few do so outside it or by day, so every condition is seen both
holding and not. The hole in the reserve polygon (a village) is outside the zone.
"""
import json
import random
from datetime import datetime, timedelta, timezone

rng = random.Random(2026)
cst = timezone(timedelta(hours=8))
places = {"reserve": (120.58, 120.68, 36.14, 36.22), "dazhushan": (119.98, 120.06, 35.78, 35.84),
          "city": (120.35, 120.45, 36.05, 36.10), "wetland": (120.20, 120.28, 36.15, 36.22)}
ordinary = [["binoculars"], ["camera"], ["walking poles"], [], ["binoculars", "camera"]]
suspicious = [["mist net"], ["mist net", "cage"], ["decoy recorder"], ["mist net", "decoy recorder", "torch"]]
start = datetime(2026, 5, 1, tzinfo=cst)
rows = []
for i in range(240):
    when = start + timedelta(minutes=rng.randint(0, 30 * 24 * 60))
    place = rng.choices(list(places), weights=[5, 2, 2, 1])[0]
    lo_lon, hi_lon, lo_lat, hi_lat = places[place]
    bad = rng.random() < 0.15
    if bad and rng.random() < 0.7:
        when = when.replace(hour=rng.choice([21, 22, 23, 0, 1, 2, 3, 4]))
    items = rng.choice(suspicious if bad else ordinary)
    rows.append({"time": when, "lon": round(rng.uniform(lo_lon, hi_lon), 5),
                 "lat": round(rng.uniform(lo_lat, hi_lat), 5), "items": items,
                 "group_size": rng.randint(1, 4), "vehicle": rng.choice(["", "motorbike", "van"])})
# Arrival order: by time, but one report in ten reaches the system up to 15 minutes late (--lateness 15m).
rows.sort(key=lambda r: r["time"] + timedelta(minutes=rng.randint(0, 15) if rng.random() < 0.1 else 0))
for i, r in enumerate(rows):
    print(json.dumps({"id": f"obs-{i:03d}", **r, "time": r["time"].isoformat()}))

"""Fairness of patrol plans: the exposure audit of forecasting (lawful.forecast.exposure) extended to plans.

Per neighbourhood, a plan's patrol minutes (visits x visit length) against the neighbourhood's share of the recorded
crime of the forecast's category over the year before the forecast, in every neighbourhood of the jurisdiction (so
a neighbourhood with crime and no patrol shows as under-exposed). Disparity = minutes share / crime share: above 1
a neighbourhood is patrolled more than its crime would justify (over-exposed), below 1 less. "Misplaced" is half the
sum of |minutes share - crime share|: the share of the patrol minutes that would have to move for minutes to follow
crime. Recorded crime carries its own reporting and enforcement biases (docs/patrol.md), so these figures show
where patrol goes against where crime was recorded, not a verdict on either.

`plan_fairness` builds the payload's "fairness" table and the explanation's sentence; `weekly_section` is the
patrol part of the governance weekly report (plans issued in the week, the accepted ones' minutes pooled).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

OVER, UNDER = 1.5, 0.5  # disparity beyond which a neighbourhood is named over- or under-exposed
MIN_CRIME_SHARE = 0.01  # ... under-exposed only where at least 1% of the crime was recorded
SHOWN = 5


def table(minutes: dict[str, float], crime: dict[str, float]) -> dict:
    """Rows per neighbourhood (minutes, minutes_share, crime, crime_share, disparity), the over- and under-exposed
    ones (most extreme first, at most SHOWN each) and the misplaced share."""
    tm, tc = sum(minutes.values()), sum(crime.values())
    rows = []
    for a in sorted(set(minutes) | set(crime)):
        m, c = float(minutes.get(a, 0.0)), float(crime.get(a, 0.0))
        ms, cs = (m / tm if tm else 0.0), (c / tc if tc else 0.0)
        disparity = ms / cs if cs else (None if ms == 0 else float("inf"))
        rows.append({"area": a, "minutes": round(m, 1), "minutes_share": round(ms, 6), "crime": round(c, 3),
                     "crime_share": round(cs, 6),
                     "disparity": None if disparity is None else (round(disparity, 3) if disparity != float("inf")
                                                                  else "inf")})

    def d(r) -> float:
        return float("inf") if r["disparity"] == "inf" else (r["disparity"] if r["disparity"] is not None else 1.0)

    over = sorted((r for r in rows if r["minutes"] > 0 and d(r) >= OVER), key=lambda r: (-d(r), -r["minutes"]))
    under = sorted((r for r in rows if r["crime_share"] >= MIN_CRIME_SHARE and d(r) <= UNDER),
                   key=lambda r: (d(r), -r["crime_share"]))
    misplaced = 0.5 * sum(abs(r["minutes_share"] - r["crime_share"]) for r in rows) if tm and tc else None
    return {"rows": rows, "over": [r["area"] for r in over[:SHOWN]], "under": [r["area"] for r in under[:SHOWN]],
            "misplaced": None if misplaced is None else round(misplaced, 6), "minutes": round(tm, 1),
            "crime": round(tc, 3), "thresholds": {"over": OVER, "under": UNDER, "min_crime_share": MIN_CRIME_SHARE}}


def _describe(rows: dict[str, dict], areas: list[str]) -> str:
    def one(a: str) -> str:
        r = rows[a]
        ratio = "no recorded crime" if r["disparity"] == "inf" else f"{r['disparity']:.1f}x"
        return f"{a} ({r['minutes_share']:.0%} of minutes, {r['crime_share']:.0%} of crime, {ratio})"

    return "; ".join(one(a) for a in areas)


def sentence(f: dict, category: str | None) -> str:
    """One sentence a supervisor reads: where the plan's minutes go against where crime was recorded."""
    if not f["minutes"]:
        return "Fairness: the plan has no patrol minutes."
    what = f"recorded {category or 'crime'}" if category else "recorded crime"
    if not f["crime"]:
        return f"Fairness: no {what} over the year before to compare the plan's {f['minutes']:.0f} patrol minutes with."
    rows = {r["area"]: r for r in f["rows"]}
    parts = [f"Fairness: {f['minutes']:.0f} patrol minutes against each neighbourhood's share of {what} over the "
             f"year before; {f['misplaced']:.0%} of the minutes would have to move for minutes to follow crime"]
    parts.append(f"Over-exposed (at least {OVER:g}x their share of crime): " + (_describe(rows, f["over"]) or "none"))
    parts.append(f"Under-exposed (at most {UNDER:g}x, among neighbourhoods with at least {MIN_CRIME_SHARE:.0%} of "
                 "the crime): " + (_describe(rows, f["under"]) or "none"))
    return ". ".join(parts) + "."


def plan_fairness(assignments: list[dict], crime: dict[str, float], category: str | None) -> tuple[dict, str]:
    minutes: dict[str, float] = {}
    for a in assignments:
        minutes[a["area"]] = minutes.get(a["area"], 0.0) + float(a["minutes"])
    f = table(minutes, crime)
    return f, sentence(f, category)


def weekly_section(session: Session, *, start: datetime, end: datetime, attention: list[str]) -> list[str]:
    """The weekly report's patrol section: plans issued in [start, end), and for the accepted or amended ones
    (what went to dispatch) the patrol minutes by neighbourhood pooled against the crime shares their plans
    recorded. Adds to `attention` a neighbourhood patrolled at least twice its share of crime with 10% of the
    minutes or more."""
    from lawful.governance.models import Output

    plans = list(session.scalars(select(Output).where(Output.kind == "plan", Output.issued_at >= start,
                                                      Output.issued_at < end).order_by(Output.id)))
    if not plans:
        return []
    lines = ["## Patrol plans", ""]
    by = {}
    for o in plans:
        by[o.status] = by.get(o.status, 0) + 1
    lines.append(f"- {len(plans)} plan(s) issued this week: "
                 + ", ".join(f"{n} {s}" for s, n in sorted(by.items())) + ".")
    done = [o for o in plans if o.status in ("accepted", "amended") and not o.sandbox]
    minutes: dict[str, float] = {}
    crime: dict[str, float] = {}
    for o in done:
        for a in o.payload.get("assignments") or []:
            minutes[a["area"]] = minutes.get(a["area"], 0.0) + float(a["minutes"])
        for r in (o.payload.get("fairness") or {}).get("rows") or []:
            crime[r["area"]] = crime.get(r["area"], 0.0) + float(r["crime_share"])
    if not done:
        lines += ["- None was accepted or amended, so no patrol minutes to weigh.", ""]
        return lines
    f = table(minutes, crime)
    lines.append(f"- Accepted or amended: {len(done)}, {f['minutes']:.0f} patrol minutes in "
                 f"{sum(1 for m in minutes.values() if m)} neighbourhood(s).")
    if f["crime"]:
        rows = {r["area"]: r for r in f["rows"]}
        lines.append(f"- Against each neighbourhood's share of recorded crime (as each plan recorded it): "
                     f"{f['misplaced']:.0%} of the minutes would have to move for minutes to follow crime.")
        lines.append("- Over-exposed: " + (_describe(rows, f["over"]) or "none") + ".")
        lines.append("- Under-exposed: " + (_describe(rows, f["under"]) or "none") + ".")
        for a in f["over"]:
            r = rows[a]
            if r["minutes_share"] >= 0.1 and (r["disparity"] == "inf" or r["disparity"] >= 2):
                attention.append(f"Patrol plans: neighbourhood {a} had {r['minutes_share']:.0%} of the week's patrol "
                                 f"minutes against {r['crime_share']:.0%} of recorded crime; consider a tighter "
                                 "neighbourhood share.")
    else:
        lines.append("- The plans recorded no crime shares to compare with (plans made before this was measured).")
    lines.append("")
    return lines

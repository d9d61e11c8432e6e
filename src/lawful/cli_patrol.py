"""`lawful patrol ...`: patrol plans over accepted forecasts, exports for dispatch, and dosage from visit logs.
A client of the server's /api/v1/patrol endpoints: parse, call the API, print (files are read and written here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from lawful.cli_common import out
from lawful.errors import InputError

patrol_app = typer.Typer(no_args_is_help=True, help=(
    "Patrol plans over an accepted forecast (a recommendation until a supervisor decides it in `lawful review`), "
    "CSV/GeoJSON exports for dispatch, and dosage from the visit log."))

PlanId = Annotated[int, typer.Argument(help="The plan's output id (see `lawful review list`).")]
Json = Annotated[bool, typer.Option("--json", help="Print the server's JSON, for scripts.")]


def _api():
    from lawful import client

    return client.connect()


def _point(text: str, option: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"{option} {text!r} is not lon,lat", f'write {option} "-79.38,43.65" (degrees)') from None
    return lon, lat


def _units(units: int, base: list[str], unit: list[str]) -> list[dict]:
    out_units = []
    for spec in unit:  # NAME@lon,lat
        name, _, where = spec.partition("@")
        if not name or not where:
            raise InputError(f"--unit {spec!r} is not NAME@lon,lat", 'write --unit "car-1@-79.38,43.65"')
        lon, lat = _point(where, "--unit")
        out_units.append({"name": name, "lon": lon, "lat": lat})
    if units:
        if not base:
            raise InputError("--units needs at least one --base start point", 'add --base "-79.38,43.65"')
        points = [_point(b, "--base") for b in base]
        out_units += [{"name": f"unit-{i + 1}", "lon": points[i % len(points)][0], "lat": points[i % len(points)][1]}
                      for i in range(units)]
    if not out_units:
        raise InputError("no units on shift", 'give --units N --base "lon,lat" or --unit NAME@lon,lat')
    return out_units


def _print_plan(p: dict) -> None:
    pay = p["payload"]
    c = pay["comparison"]
    best = c.get("optimiser") or c["milp"]  # plans made before the key was renamed
    out.print(f"Plan {p['id']} ({p['status']}): {pay['shift']['text']} on {pay['day']} over forecast "
              f"{pay['forecast']}, {len(pay['units'])} units, {best['visits']} visits", highlight=False)
    out.print(f"  covers {best['covered_share']:.1%} of the forecast risk, {best['minutes_driven']:.0f} min "
              f"driven ({best['status']}, {best['seconds']:.2f} s); greedy: "
              f"{c['greedy']['covered_share']:.1%}, {c['greedy']['minutes_driven']:.0f} min", highlight=False)
    if best.get("bound_share") is not None:
        out.print(f"  bound: no plan within these limits covers more than {best['bound_share']:.1%} "
                  f"(this plan is within {best['gap']:.1%} of it)", highlight=False)
    out.print(f"  largest neighbourhood share of visits: {best['largest_area_share']:.0%} (limit "
              f"{pay['config']['max_area_share']:.0%})", highlight=False)
    week = pay.get("week")
    if week:
        out.print(f"  weekly cap: {week['cap']} visits per place, {week['from']} to {week['to']}; counted plans: "
                  f"{', '.join(map(str, week['plans'])) or 'none'}"
                  + (f"; still open: {', '.join(map(str, week['open_plans']))}" if week["open_plans"] else ""),
                  highlight=False)
    for e in p["explanation"]:
        out.print(f"  - {e['sentence']}", highlight=False)


@patrol_app.command("plan")
def plan(forecast: Annotated[int, typer.Argument(help="An accepted forecast output's id.")],
         units: Annotated[int, typer.Option("--units", help="How many units on shift (named unit-1..N).")] = 0,
         base: Annotated[list[str], typer.Option("--base", help="Start point lon,lat; repeat to share the units "
                                                 "out in turn.")] = [],  # noqa: B006
         unit: Annotated[list[str], typer.Option("--unit", help="A named unit: NAME@lon,lat (repeat).")] = [],  # noqa: B006
         shift: Annotated[str, typer.Option(help="Local HH:MM-HH:MM; an end before the start is the next day.")]
         = "22:00-06:00",
         visit: Annotated[Optional[float], typer.Option(help="Minutes per visit (default: the card's).")] = None,
         speed: Annotated[Optional[float], typer.Option(help="Travel speed, km/h (default: the card's).")] = None,
         day: Annotated[Optional[str], typer.Option(help="The shift's local start day (default: the forecast's).")]
         = None,
         max_visits: Annotated[Optional[int], typer.Option("--max-visits", help="Tighter cap of visits per place.")]
         = None,
         max_visits_week: Annotated[Optional[int], typer.Option("--max-visits-week", help="Tighter cap of visits "
                                                                "per place per week (counting the week's accepted "
                                                                "plans).")] = None,
         max_area_share: Annotated[Optional[float], typer.Option("--max-area-share", help="Tighter share of "
                                                                  "visits in one neighbourhood.")] = None,
         planner: Annotated[str, typer.Option(help="The planner's registry entry.")] = "toronto-patrol-planner",
         as_json: Json = False) -> None:
    """Plan patrols over an accepted forecast; the plan waits for a supervisor in `lawful review`."""
    from lawful.cli_common import _date

    body = {"forecast": forecast, "planner": planner, "units": _units(units, base, unit), "shift": shift,
            "day": _date(day, "--day").isoformat() if day else None, "visit_min": visit, "speed_kmh": speed,
            "max_visits_per_place": max_visits, "max_visits_per_place_week": max_visits_week,
            "max_area_share": max_area_share}
    p = _api().post("/patrol/plans", {k: v for k, v in body.items() if v is not None})
    if as_json:
        out.print_json(json.dumps(p))
        return
    _print_plan(p)


@patrol_app.command("show")
def show(plan_id: PlanId, as_json: Json = False) -> None:
    """A plan with each assignment's reason."""
    p = _api().get(f"/patrol/plans/{plan_id}")
    if as_json:
        out.print_json(json.dumps(p))
        return
    _print_plan(p)


@patrol_app.command("export")
def export(plan_id: PlanId,
           to: Annotated[Path, typer.Option("--out", help="The file to write.")],
           format: Annotated[str, typer.Option(help="csv or geojson (lon/lat, EPSG:4326).")] = "csv") -> None:
    """Write an accepted plan for dispatch systems."""
    if format not in ("csv", "geojson"):
        raise InputError(f"--format {format!r} is not csv or geojson", "use --format csv or --format geojson")
    r = _api().get(f"/patrol/plans/{plan_id}/export", format=format)
    to.write_text(r["text"] if format == "csv" else json.dumps(r["geojson"], indent=1), encoding="utf-8")
    out.print(f"wrote {to} ({format})", highlight=False)


@patrol_app.command("briefing")
def briefing(plan_id: PlanId,
             to: Annotated[Path, typer.Option("-o", "--out", help="The HTML file to write (open it in a browser and "
                                              "print: one page per unit).")]) -> None:
    """Write an accepted plan's printable shift briefing: one page per unit with a map of its places, its stops
    with arrival times and the reason for each. Plain HTML: no script, no external files."""
    r = _api().request("GET", f"/patrol/plans/{plan_id}/briefing")
    to.write_text(r.text, encoding="utf-8")
    out.print(f"wrote {to} (briefing of plan {plan_id}, one page per unit)", highlight=False)


def _print_dosage(d: dict) -> None:
    comp = f"{d['compliance']:.0%}" if d["compliance"] is not None else "n/a"
    out.print(f"Plan {d['plan']}: {d['delivered_min']:.0f} of {d['planned_min']:.0f} planned minutes delivered "
              f"({comp}); {d['visits']} visits", highlight=False)
    for r in d["rows"]:
        out.print(f"  {r['unit']} cell {r['cell']}: {r['delivered_min']:.0f}/{r['planned_min']:.0f} min", highlight=False)
    out.print(f"  never visited: {', '.join(d['never_visited']) or 'none'}", highlight=False)
    for v in d["outside_plan"]:
        out.print(f"  outside the plan: {v['unit']} cell {v['cell']} at {v['arrive']} ({v['why']})", highlight=False)
    out.print("  visit lengths: " + ", ".join(f"{k}: {n}" for k, n in d["koper_bands"].items()), highlight=False)
    c = d.get("crime")
    if c:
        out.print(f"  crime recorded in the {c['patrolled_cells']} patrolled place(s), from the shift to "
                  f"{c['after_days']} days after: " + ", ".join(f"{k} {n}" for k, n in c["counts"].items())
                  + f"; found by a visit (reported during it, occurred before): {c['discovered']}; in as long a "
                  f"window just before: {c['before']}", highlight=False)
        for i in c["incidents"][:20]:
            out.print(f"    incident {i['incident']} ({i['category']}) cell {i['cell']} at {i['occurred_at']}: "
                      f"{i['mark']}" + (", discovered" if i["discovered"] else ""), highlight=False)


@patrol_app.command("visits")
def visits(plan_id: PlanId, file: Annotated[Path, typer.Argument(help="The visit log (CSV: unit, cell or lon and "
                                                                     "lat, arrive, depart) or GPS pings (unit, lon, "
                                                                     "lat, time; see docs/patrol.md).")],
           as_json: Json = False) -> None:
    """Import what was done against an accepted plan (a visit log, or GPS pings turned into visits by dwell time)
    and print the dosage report, with the crime recorded in the patrolled places during and after the shift."""
    from lawful.limits import read_bytes

    data = read_bytes(file, what="a visit log (CSV)", limit=16 * 2**20)
    r = _api().request("POST", f"/patrol/plans/{plan_id}/visits",
                       files={"file": (file.name, data, "text/csv")}).json()
    if as_json:
        out.print_json(json.dumps(r))
        return
    _print_dosage(r)


@patrol_app.command("dosage")
def dosage(plan_id: PlanId, as_json: Json = False) -> None:
    """Planned against delivered minutes per place and unit, places never visited, visits outside the plan."""
    d = _api().get(f"/patrol/plans/{plan_id}/dosage")
    if as_json:
        out.print_json(json.dumps(d))
        return
    _print_dosage(d)


@patrol_app.command("config-sha")
def config_sha(card: Annotated[Path, typer.Argument(help="A planner's card (TOML).")]) -> None:
    """The SHA-256 of a planner card's model table, to write as its rules sha256."""
    from lawful.limits import load_toml
    from lawful.patrol.plan import config_sha256

    raw = load_toml(card, what="a model card (TOML)", dates=False)
    out.print(config_sha256(dict(raw.get("model") or {})), highlight=False)


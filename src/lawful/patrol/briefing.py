"""The printable shift briefing of a plan: one page per unit, with a map of its places (inline SVG drawn from the
plan's projected coordinates, north up, with a scale bar), then its stops in order with arrival and departure times
and the reason for each. Pure: a plan's payload and explanation in, one HTML document out.

No script, no external asset, no `style` attribute: the one inline <style> block is allowed by its SHA-256 in the
document's own Content-Security-Policy (sent as the response's header by the server, and repeated in a <meta> tag so
a saved copy keeps it), which allows nothing else (default-src 'none'). SVG presentation attributes (fill, stroke,
font-size) are markup, not CSS, so the map needs no more.
"""

from __future__ import annotations

import base64
import hashlib
import math
from html import escape

CSS = """@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font: 10pt/1.35 system-ui, "Segoe UI", Arial, sans-serif; color: #000; background: #fff; margin: 0 auto;
  max-width: 190mm; padding: 4mm; }
h1 { font-size: 14pt; margin: 0 0 2mm; }
h2 { font-size: 11pt; margin: 3mm 0 1mm; }
p { margin: 1mm 0; }
.page { break-after: page; page-break-after: always; }
.page:last-of-type { break-after: auto; page-break-after: auto; }
.banner { border: 2px solid #000; padding: 1.5mm 3mm; font-weight: bold; margin: 2mm 0; }
.meta { color: #333; }
svg { display: block; width: 100%; height: auto; max-height: 80mm; border: 1px solid #777; margin: 2mm 0; }
table { width: 100%; border-collapse: collapse; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #999; padding: 0.6mm 1.2mm; text-align: left; vertical-align: top; }
th { border-bottom: 2px solid #000; }
tr { break-inside: avoid; page-break-inside: avoid; }
td.n { text-align: right; white-space: nowrap; }
.note { font-size: 8pt; color: #333; margin-top: 2mm; }
@media screen { .page { border-bottom: 1px dashed #777; padding-bottom: 6mm; margin-bottom: 6mm; } }
"""

STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CSP = (f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
META_CSP = f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'"
W, H = 1000, 560  # the map's viewBox
PALETTE = ("#1f5fa8", "#b5470b", "#2e7d32", "#6a1b9a", "#00838f", "#8d6e00")


def _t(text) -> str:
    return escape(str(text), quote=True)


def _hhmm(iso: str) -> str:
    return iso[11:16] if len(iso) >= 16 else iso


def _why(sentence: str) -> str:
    """The reason without what the row already says: 'cell 103,46: 4% of tonight's forecast risk; 2 visits of 15 min
    by unit-1 (22:33, 02:10) in 077; forecast: 3 break-ins ...' -> '4% of tonight's forecast risk; forecast: 3 ...'
    (the whole sentence is in the plan and its exports)."""
    head, _, forecast = sentence.partition("; forecast: ")
    share = head.split(": ", 1)[-1].split("; ")[0]
    return f"{share}; forecast: {forecast}" if forecast else share


def _nice(metres: float) -> float:
    """A round scale-bar length not above `metres`."""
    if metres <= 0:
        return 100.0
    e = 10 ** math.floor(math.log10(metres))
    return max(m * e for m in (1, 2, 5) if m * e <= metres)


def map_svg(unit: dict, mine: list[dict], others: list[dict], number: dict[str, int], colour: str) -> str:
    """The unit's places (its cells, numbered by first visit), its start point and its route in order, over the
    plan's other places in grey, north up, with a scale bar. Coordinates are the plan's projected metres."""
    xs = [a["x0"] for a in mine] + [a["x1"] for a in mine] + [unit["x"]]
    ys = [a["y0"] for a in mine] + [a["y1"] for a in mine] + [unit["y"]]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, (y1 - y0) * W / H, 800.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    scale = W / (span * 1.15)
    left, top = cx - W / 2 / scale, cy + H / 2 / scale

    def px(x: float) -> float:
        return round((x - left) * scale, 1)

    def py(y: float) -> float:
        return round((top - y) * scale, 1)

    def rect(a: dict, fill: str, stroke: str, width: float, opacity: float = 1.0) -> str:
        return (f'<rect x="{px(a["x0"])}" y="{py(a["y1"])}" width="{round((a["x1"] - a["x0"]) * scale, 1)}" '
                f'height="{round((a["y1"] - a["y0"]) * scale, 1)}" fill="{fill}" fill-opacity="{opacity}" '
                f'stroke="{stroke}" stroke-width="{width}"/>')

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
             f'aria-label="Map of the places of {_t(unit["name"])}">',
             f'<title>Places of {_t(unit["name"])}: start point, cells numbered in order of first visit</title>',
             f'<rect x="0" y="0" width="{W}" height="{H}" fill="#ffffff"/>']
    for a in others:  # the rest of the plan, for orientation
        if left - 400 <= a["x0"] <= left + W / scale + 400 and top - H / scale - 400 <= a["y0"] <= top + 400:
            parts.append(rect(a, "#e6e6e6", "#bbbbbb", 1))
    centre = {a["cell"]: ((a["x0"] + a["x1"]) / 2, (a["y0"] + a["y1"]) / 2) for a in mine}
    # the route in rounds (each round visits distinct places and returns to the start point: a place seen again
    # begins the next round), drawn as straight lines
    base = (unit["x"], unit["y"])
    rounds, seen = [[base]], set()
    for s in unit["stops"]:
        if s["cell"] not in centre:
            continue
        if s["cell"] in seen:
            rounds[-1].append(base)
            rounds.append([base])
            seen = set()
        seen.add(s["cell"])
        rounds[-1].append(centre[s["cell"]])
    rounds[-1].append(base)
    for r in rounds:
        if len(r) > 2:
            points = " ".join(f"{px(a)},{py(b)}" for a, b in r)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2" '
                         f'stroke-dasharray="6 4" stroke-opacity="0.8"/>')
    for a in mine:
        parts.append(rect(a, colour, "#000000", 1.5, 0.35))
        x, y = centre[a["cell"]]
        parts.append(f'<circle cx="{px(x)}" cy="{py(y)}" r="13" fill="#ffffff" stroke="#000000" stroke-width="1.5"/>'
                     f'<text x="{px(x)}" y="{py(y) + 5}" font-size="15" font-weight="bold" text-anchor="middle" '
                     f'font-family="Arial, sans-serif">{number[a["cell"]]}</text>')
    sx, sy = px(unit["x"]), py(unit["y"])
    parts.append(f'<rect x="{sx - 9}" y="{sy - 9}" width="18" height="18" fill="#000000"/>'
                 f'<text x="{sx + 14}" y="{sy + 5}" font-size="15" font-family="Arial, sans-serif">start</text>')
    bar = _nice(W * 0.25 / scale)
    bl = bar * scale
    label = f"{bar / 1000:g} km" if bar >= 1000 else f"{bar:g} m"
    parts.append(f'<g font-family="Arial, sans-serif" font-size="14"><rect x="20" y="{H - 34}" width="{bl:.1f}" '
                 f'height="6" fill="#000000"/><text x="20" y="{H - 40}">{label}</text>'
                 f'<text x="{W - 30}" y="34" font-size="20" font-weight="bold" text-anchor="middle">N</text>'
                 f'<path d="M {W - 30} 40 l -8 18 l 8 -5 l 8 5 z" fill="#000000"/></g>')
    parts.append("</svg>")
    return "".join(parts)


def render(out_id: int, status: str, payload: dict, explanation: list[dict], *, decided: str | None = None) -> str:
    """The briefing as one HTML document: a page per unit (map, then its stops with times and reasons)."""
    p = payload
    reasons = {(e.get("cell"), e.get("unit")): e["sentence"] for e in explanation}
    general = [e["sentence"] for e in explanation if e.get("cell") is None]
    where = {(a["cell"], a["unit"]): a for a in p["assignments"]}
    best = p["comparison"].get("optimiser") or p["comparison"].get("milp") or {}
    title = f"Patrol briefing: plan {out_id}, {p['day']} {p['shift']['text']}"
    head = [f"Plan {out_id} over forecast {p['forecast']} ({_t(p.get('category') or 'all categories')}), planner "
            f"{_t(p['planner'])}; status {_t(status)}" + (f" ({_t(decided)})" if decided else "") + ".",
            f"Shift {_t(p['shift']['text'])} starting {_t(p['day'])}; {len(p['units'])} unit(s), "
            f"{best.get('visits', len(p['assignments']))} visit(s) of {p['config']['visit_min']:g} min; the plan "
            f"covers "
            f"{p['covered_share']:.1%} of the forecast risk"
            + (f" (no plan within the same limits covers more than {p['bound_share']:.1%})"
               if p.get("bound_share") is not None else "") + "."]
    pages = []
    for n, unit in enumerate(p["units"]):
        colour = PALETTE[n % len(PALETTE)]
        cells_in_order: list[str] = []
        for s in unit["stops"]:
            if s["cell"] not in cells_in_order:
                cells_in_order.append(s["cell"])
        number = {c: i + 1 for i, c in enumerate(cells_in_order)}
        mine = [where[(c, unit["name"])] for c in cells_in_order if (c, unit["name"]) in where]
        others = [a for a in p["assignments"] if a["unit"] != unit["name"]]
        body = [f'<section class="page"><h1>{_t(title)}</h1>',
                f'<p class="banner">Unit {_t(unit["name"])}: {len(unit["stops"])} stop(s) at {len(mine)} place(s); '
                f'start point {unit["lon"]:.5f}, {unit["lat"]:.5f} (lon, lat)</p>']
        body += [f'<p class="meta">{h}</p>' for h in head]
        if status not in ("accepted", "amended"):
            body.append('<p class="banner">NOT FOR DISPATCH: a supervisor has not accepted this plan.</p>')
        if "x" in unit and mine:
            body.append(map_svg(unit, mine, others, number, colour))
        elif not mine:
            body.append("<p>No visit was assigned to this unit: directed patrol time is free.</p>")
        if unit["stops"]:
            body.append("<h2>Stops in order</h2><table><thead><tr><th>#</th><th>Place</th><th>Arrive</th>"
                        "<th>Leave</th><th>Cell</th><th>Neighbourhood</th><th>Where (lon, lat)</th><th>Why</th>"
                        "</tr></thead><tbody>")
            for s in unit["stops"]:
                a = where.get((s["cell"], unit["name"]), {})
                why = _why(reasons.get((s["cell"], unit["name"]), ""))
                body.append(f'<tr><td class="n">{s["order"]}</td><td class="n">{number.get(s["cell"], "")}</td>'
                            f'<td class="n">{_t(_hhmm(s["arrive"]))}</td><td class="n">{_t(_hhmm(s["depart"]))}</td>'
                            f'<td>{_t(s["cell"])}</td><td>{_t(a.get("area", ""))}</td>'
                            f'<td class="n">{a.get("lon", 0):.5f}, {a.get("lat", 0):.5f}</td><td>{_t(why)}</td></tr>')
            body.append("</tbody></table>")
        body.append('<p class="note">Places, never people: a visit is presence in a 200 m cell. The plan is a '
                    "recommendation decided by a supervisor; use judgement on the street. "
                    + " ".join(_t(g) for g in general) + "</p></section>")
        pages.append("".join(body))
    return ("<!doctype html>\n"
            f'<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{META_CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_t(title)}</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(pages) + "\n</body></html>\n")

"""Presentation only: turn what the services return into what a template draws (explanation items with their term
bars, a forecast's cells placed on an SVG map, a model card's Markdown as sections). Nothing here decides or
reads anything."""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from datetime import datetime, timezone

DETAIL_CHARS = 240  # a trail entry's detail value shown in the table, cut with an ellipsis beyond
MAP_WIDTH = 640  # the SVG's user units across; its height follows the cells' extent
SURFACE_WIDTH = 760  # a day's whole surface (the Forecasts page)


def when(iso: str | None) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM UTC' (the trail and outputs store UTC)."""
    if not iso:
        return "—"
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if t.tzinfo:
        t = t.astimezone(timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M UTC")


def when_us(at_us: int | None) -> str:
    if at_us is None:
        return "—"
    return datetime.fromtimestamp(at_us / 1e6, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def clock(deadline_iso: str, now: datetime) -> dict:
    """Time left to a deadline as a person reads it: {'overdue': bool, 'text': 'in 3 days 4 h' | 'overdue by 5 h'}
    (days and hours from four days on, hours and minutes under that: a breach's 72-hour clock reads in hours)."""
    left = datetime.fromisoformat(deadline_iso) - now
    seconds = abs(left.total_seconds())
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    if seconds >= 4 * 86400:
        span = f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    elif seconds >= 3600:
        span = f"{days * 24 + hours} h {rest // 60} min"
    else:
        span = f"{rest // 60} min"
    overdue = left.total_seconds() < 0
    return {"overdue": overdue, "text": f"overdue by {span}" if overdue else f"{span} left"}


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def explanation(items) -> list[dict]:
    """Each item of an output's explanation as {title, sentence, terms: [{label, share, percent, events}]}: a
    forecast place has a cell, a sentence and its terms; an alert has a sentence and the conditions that fired."""
    out = []
    for item in items or []:
        if isinstance(item, str):
            out.append({"title": None, "sentence": item, "terms": []})
            continue
        if not isinstance(item, dict):
            out.append({"title": None, "sentence": str(item), "terms": []})
            continue
        sentence = item.get("sentence") or item.get("text") or item.get("condition") or \
            "; ".join(f"{k}: {v}" for k, v in item.items() if k not in ("cell", "terms"))
        terms = []
        for t in item.get("terms") or []:
            share = _num(t.get("share")) if isinstance(t, dict) else None
            if share is None:
                continue
            share = min(max(share, 0.0), 1.0)
            terms.append({"label": str(t.get("label", "term")), "share": share, "percent": round(share * 100),
                          "events": t.get("events")})
        out.append({"title": item.get("cell"), "sentence": str(sentence), "terms": terms})
    return out


def _boxes(cells) -> list[tuple[dict, list[float]]]:
    out = []
    for c in cells or []:
        box = [_num(c.get(k)) for k in ("x0", "y0", "x1", "y1")]
        if None in box or box[2] <= box[0] or box[3] <= box[1]:
            continue
        out.append((c, box))
    return out


class _Frame:
    """Projected metres -> SVG user units, north up, with a margin; the scale bar's length; score quintiles."""

    def __init__(self, boxes: list[tuple[dict, list[float]]], width: float):
        minx = min(b[0] for _, b in boxes)
        miny = min(b[1] for _, b in boxes)
        maxx = max(b[2] for _, b in boxes)
        maxy = max(b[3] for _, b in boxes)
        span_x, span_y = maxx - minx, maxy - miny
        pad = 0.06 * max(span_x, span_y)
        self.minx, self.maxy = minx - pad, maxy + pad
        self.scale = width / (maxx - minx + 2 * pad)
        self.width = width
        self.height = round(max(160.0, (maxy - miny + 2 * pad) * self.scale), 2)
        km = max(span_x, span_y) / 1000
        self.bar_m = next((m for m in (100, 200, 500, 1000, 2000, 5000, 10000, 20000) if m >= km * 1000 / 5), 50000)
        self.scores = sorted(_num(c.get("score")) or 0.0 for c, _ in boxes)

    def level(self, score: float) -> int:
        """Quintile of the score among the cells drawn (ties share the higher class)."""
        return 1 + min(4, int(5 * bisect_left(self.scores, score) / len(self.scores)))

    def px(self, x: float) -> float:
        return round((x - self.minx) * self.scale, 2)

    def py(self, y: float) -> float:
        return round((self.maxy - y) * self.scale, 2)

    def common(self) -> dict:
        return {"width": self.width, "height": self.height, "scale_px": round(self.bar_m * self.scale, 2),
                "scale_label": f"{self.bar_m / 1000:g} km" if self.bar_m >= 1000 else f"{self.bar_m} m"}


def _rect(frame: _Frame, c: dict, box: list[float]) -> dict:
    x0, y0, x1, y1 = box
    score = _num(c.get("score")) or 0.0
    return {"x": frame.px(x0), "y": frame.py(y1), "w": round((x1 - x0) * frame.scale, 2),
            "h": round((y1 - y0) * frame.scale, 2), "level": frame.level(score), "rank": c.get("rank"),
            "cell": c.get("cell"), "score": score, "cx": frame.px((x0 + x1) / 2), "cy": frame.py((y0 + y1) / 2)}


def forecast_map(payload: dict | None) -> dict | None:
    """A forecast's flagged cells (boxes in projected metres) as SVG rectangles, north up, shaded in five classes by
    score; None when the payload has no cells with coordinates."""
    boxes = _boxes((payload or {}).get("cells"))
    if not boxes:
        return None
    frame = _Frame(boxes, MAP_WIDTH)
    return {**frame.common(), "cells": [_rect(frame, c, b) for c, b in boxes]}


def surface_map(result: dict | None, *, labelled: int = 10) -> dict | None:
    """A day's whole risk surface (`forecast.flows.forecast_surface`): every valid cell shaded by its score's
    quintile, with neighbouring cells of one class in a row drawn as one rectangle (a city's 10,000 cells become a
    few thousand shapes); the top places outlined and the first `labelled` numbered; the recent incidents as dots."""
    boxes = _boxes((result or {}).get("surface"))
    if not boxes:
        return None
    frame = _Frame(boxes, SURFACE_WIDTH)
    rows: dict[float, list] = {}
    for c, b in boxes:
        rows.setdefault(b[1], []).append((b[0], b[2], b[3], frame.level(_num(c.get("score")) or 0.0)))
    runs = []
    for y0, row in rows.items():
        row.sort()
        start, end, top, lvl = row[0]
        for x0, x1, y1, level in row[1:]:
            if level == lvl and abs(x0 - end) < 1e-6:
                end = x1
                continue
            runs.append((start, y0, end, top, lvl))
            start, end, top, lvl = x0, x1, y1, level
        runs.append((start, y0, end, top, lvl))
    bands = [{"x": frame.px(x0), "y": frame.py(y1), "w": round((x1 - x0) * frame.scale, 2),
              "h": round((y1 - y0) * frame.scale, 2), "level": lvl} for x0, y0, x1, y1, lvl in runs]
    places = [_rect(frame, c, b) for c, b in _boxes(result.get("places"))]
    for p in places:  # a number beside its cell, kept inside the frame
        p["lx"] = min(max(p["cx"] + 9, 8), frame.width - 8)
        p["ly"] = min(max(p["cy"] - 9, 10), frame.height - 6)
    events = [{"x": frame.px(e["x"]), "y": frame.py(e["y"])} for e in result.get("recent") or []
              if _num(e.get("x")) is not None and _num(e.get("y")) is not None]
    return {**frame.common(), "bands": bands, "places": places, "labelled": labelled, "events": events,
            "outlines": outlines(frame, boxes)}


def outlines(frame: _Frame, boxes: list[tuple[dict, list[float]]]) -> str:
    """Neighbourhood outlines as one SVG path: the edges between adjacent cells whose neighbourhoods differ (not
    around cells with no neighbour: on sparse data every lone cell would be boxed). The bundled data carries no boundary shapes, so a neighbourhood is where its
    incidents are (each cell's neighbourhood is the one most of its incidents name); collinear edges are merged,
    so a city's outlines are a few thousand segments. Empty when no cell names a neighbourhood."""
    if not boxes:
        return ""
    size = boxes[0][1][2] - boxes[0][1][0]
    if not size > 0:
        return ""
    ox, oy = boxes[0][1][0], boxes[0][1][1]
    hood: dict[tuple[int, int], str] = {}
    for c, b in boxes:
        hood[(round((b[0] - ox) / size), round((b[1] - oy) / size))] = str(c.get("neighbourhood") or "unknown")
    if set(hood.values()) <= {"unknown"}:
        return ""
    vertical: dict[int, list[int]] = {}  # x index of the line -> y indices of the unit edges on it
    horizontal: dict[int, list[int]] = {}
    for (i, j), h in hood.items():
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            other = hood.get((i + di, j + dj))
            if other is None or other == h or "unknown" in (h, other) or (i + di, j + dj) < (i, j):
                continue  # no neighbour, the same neighbourhood, or the pair's edge is drawn from the other side
            if di:
                vertical.setdefault(i + (di > 0), []).append(j)
            else:
                horizontal.setdefault(j + (dj > 0), []).append(i)
    parts = []

    def runs(cells: list[int]):
        cells.sort()
        start = prev = cells[0]
        for k in cells[1:]:
            if k != prev + 1:
                yield start, prev + 1
                start = k
            prev = k
        yield start, prev + 1

    for i, js in sorted(vertical.items()):
        x = frame.px(ox + i * size)
        for a, b in runs(js):
            parts.append(f"M{x} {frame.py(oy + a * size)}V{frame.py(oy + b * size)}")
    for j, is_ in sorted(horizontal.items()):
        y = frame.py(oy + j * size)
        for a, b in runs(is_):
            parts.append(f"M{frame.px(ox + a * size)} {y}H{frame.px(ox + b * size)}")
    return "".join(parts)


def card_sections(markdown: str) -> tuple[str, list[dict]]:
    """A model card's Markdown (as `card.markdown` writes it: '# title', '## section', '- item' or a paragraph)
    as (title, [{heading, items, text}])."""
    title, sections = "", []
    for line in markdown.splitlines():
        if line.startswith("# "):
            title = line[2:].strip()
        elif line.startswith("## "):
            sections.append({"heading": line[3:].strip(), "items": [], "text": []})
        elif sections and line.startswith("- "):
            sections[-1]["items"].append(line[2:])
        elif sections and line.strip():
            sections[-1]["text"].append(line.strip())
    return title, sections


def details(value) -> dict:
    """A trail entry's details (canonical JSON text, as stored and hashed) as a dict for display."""
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if value else {}
    except (TypeError, ValueError):
        return {"details": value}
    if not isinstance(parsed, dict):
        parsed = {"details": parsed}
    shown = {}
    for k, v in parsed.items():
        if v is None or v == [] or v == {}:
            continue
        text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else str(v)
        shown[k] = text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS] + "…"
    return shown


def sentence(message: str, fix: str | None = None) -> str:
    """An error's message and fix as sentences a person reads ("Sign-in failed: …. Check them; …."); a fix that
    names a command-line flag or command is left out."""
    def one(t: str) -> str:
        t = t.strip().rstrip(".")
        return t[:1].upper() + t[1:] + "." if t else ""
    if fix and ("--" in fix or "`lawful " in fix):  # a hint written for the command line means nothing here
        fix = ""
    return " ".join(x for x in (one(message), one(fix or "")) if x)


CHART_COLOURS = ("#1f5fa8", "#b3411a", "#1e6b3a", "#6a3d9a", "#8a5a00", "#0f6e7a")  # 3:1 or more on white


def pai_chart(summaries: list[dict], *, width: float = 720, height: float = 340) -> dict | None:
    """A backtest's PAI by coverage, one line per model with each point's 95% interval as a whisker, as SVG
    geometry: {width, height, plot box, x ticks (coverage %), y ticks, series: [{model, colour, path, points}]}.
    Coverage on a log scale (1% to 20% are the protocol's levels); None without any finite PAI."""
    rows = [s for s in summaries or [] if _num(s.get("pai")) is not None and (_num(s.get("coverage")) or 0) > 0]
    if not rows:
        return None
    left, right, top, bottom = 56.0, 16.0, 16.0, 44.0
    pw, ph = width - left - right, height - top - bottom
    covs = sorted({float(s["coverage"]) for s in rows})
    lo_c, hi_c = math.log(covs[0]), math.log(covs[-1])
    highs = [_num(s.get("pai_high")) or _num(s["pai"]) for s in rows]
    y_max = max(max(highs), 1.0)
    step = next(m for m in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1e9) if y_max / m <= 6)
    y_max = math.ceil(y_max / step) * step

    def x(c: float) -> float:
        return round(left + (pw / 2 if hi_c == lo_c else (math.log(c) - lo_c) / (hi_c - lo_c) * pw), 2)

    def y(v: float) -> float:
        return round(top + ph - max(0.0, min(v, y_max)) / y_max * ph, 2)

    series = []
    names = list(dict.fromkeys(s["model"] for s in rows))
    for i, model in enumerate(names):
        pts = []
        dodge = (i - (len(names) - 1) / 2) * 5  # models side by side at each coverage, so equal ones both show
        for s in sorted((s for s in rows if s["model"] == model), key=lambda s: s["coverage"]):
            pai, low, high = _num(s["pai"]), _num(s.get("pai_low")), _num(s.get("pai_high"))
            pts.append({"x": round(x(float(s["coverage"])) + dodge, 2), "y": y(pai), "pai": pai, "coverage": float(s["coverage"]),
                        "low": low, "high": high, "y_low": y(low) if low is not None else None,
                        "y_high": y(high) if high is not None else None})
        path = "M" + " L".join(f"{p['x']} {p['y']}" for p in pts)
        series.append({"model": model, "colour": i % len(CHART_COLOURS), "path": path, "points": pts,
                       "dash": i >= len(CHART_COLOURS)})
    y_ticks = [{"v": f"{k * step:g}", "y": y(k * step)} for k in range(int(y_max / step) + 1)]
    return {"width": width, "height": height, "left": left, "top": top, "pw": pw, "ph": ph, "bottom": top + ph,
            "x_ticks": [{"v": f"{c * 100:g}%", "x": x(c)} for c in covs], "y_ticks": y_ticks, "series": series,
            "one": y(1.0)}


def alert_conditions(items) -> dict | None:
    """An alert's explanation (as `rules.service.issue_alerts` stores it: the engine's sentence, then each condition
    {when, weight, held, value}) for a person: the conditions that fired as one sentence ("It fired because local
    time after 21:00 (22:40), items contains 'mist net' (mist net, torch) and ..."), and every condition with whether
    it held and its weight. None when the items are not an alert's."""
    conditions = [i for i in items or [] if isinstance(i, dict) and "when" in i and "held" in i]
    if not conditions:
        return None
    rows = [{"text": str(c["when"]), "value": "" if c.get("value") in (None, "") else str(c["value"]),
             "held": bool(c["held"]), "weight": _num(c.get("weight"))} for c in conditions]

    def said(r: dict) -> str:
        return r["text"] + (f" ({r['value']})" if r["value"] else "")

    held = [said(r) for r in rows if r["held"]]
    if not held:
        because = "None of its conditions held."
    else:
        listed = held[0] if len(held) == 1 else ", ".join(held[:-1]) + " and " + held[-1]
        because = f"It fired because {listed}."
    missed = [said(r) for r in rows if not r["held"]]
    if missed:
        because += " Not met: " + "; ".join(missed) + "."
    engine = next((i.get("sentence") for i in items if isinstance(i, dict) and i.get("sentence")), None)
    return {"because": because, "conditions": rows, "detail": engine}


def exposure_chart(over: list[dict], under: list[dict], *, width: float = 720, bar: float = 9.0) -> dict | None:
    """An exposure audit's most over- and under-exposed areas as a horizontal bar chart: per area two bars, its share
    of the flagged cell-days and its share of the period's incidents, on one 0..max share scale, as SVG geometry:
    {width, height, plot box, x ticks (%), rows: [{area, y, label_y, flagged: {w, share}, incidents: {w, share},
    group}]}. Over-exposed areas first (most first), then the under-exposed; None without any area."""
    seen, rows = set(), []
    for group, found in (("over", over), ("under", under)):
        for r in found or []:
            if r.get("area") in seen:
                continue
            seen.add(r.get("area"))
            rows.append((group, r))
    if not rows:
        return None
    left, right, top, bottom = 150.0, 16.0, 8.0, 40.0
    pw = width - left - right
    step = 2 * bar + 12  # the two bars of an area and the gap after them
    ph = step * len(rows)
    top_share = max(max(_num(r.get("flagged_share")) or 0.0, _num(r.get("incident_share")) or 0.0) for _, r in rows)
    tick = next(m for m in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0) if top_share / m <= 5) if top_share else 0.1
    x_max = max(tick, math.ceil(top_share / tick) * tick)

    def w(v) -> float:
        return round(max(0.0, min(_num(v) or 0.0, x_max)) / x_max * pw, 2)

    out = []
    for i, (group, r) in enumerate(rows):
        y = top + i * step
        area = str(r.get("area"))
        out.append({"area": area, "label": area if len(area) <= 22 else area[:21] + "…", "group": group, "y": y,
                    "label_y": round(y + bar, 2), "flagged": {"w": w(r.get("flagged_share")),
                                                              "share": _num(r.get("flagged_share")) or 0.0},
                    "incidents": {"y": y + bar, "w": w(r.get("incident_share")),
                                  "share": _num(r.get("incident_share")) or 0.0}})
    ticks = [{"v": f"{k * tick * 100:g}%", "x": round(left + k * tick / x_max * pw, 2)}
             for k in range(int(round(x_max / tick)) + 1)]
    return {"width": width, "height": top + ph + bottom, "left": left, "top": top, "pw": pw, "ph": ph,
            "bottom": top + ph, "bar": bar, "x_ticks": ticks, "rows": out,
            "split": top + sum(1 for g, _ in rows if g == "over") * step - 6}

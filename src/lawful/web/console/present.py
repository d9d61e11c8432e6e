"""Presentation only: turn what the services return into what a template draws (explanation items with their term
bars, a forecast's cells placed on an SVG map, a model card's Markdown as sections). Nothing here decides or
reads anything."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

DETAIL_CHARS = 240  # a trail entry's detail value shown in the table, cut with an ellipsis beyond
MAP_WIDTH = 640  # the SVG's user units across; its height follows the cells' extent


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


def forecast_map(payload: dict | None) -> dict | None:
    """A forecast's flagged cells (boxes in projected metres) as SVG rectangles, north up, shaded in five classes by
    score; None when the payload has no cells with coordinates."""
    cells = []
    for c in (payload or {}).get("cells") or []:
        box = [_num(c.get(k)) for k in ("x0", "y0", "x1", "y1")]
        if None in box or box[2] <= box[0] or box[3] <= box[1]:
            continue
        cells.append((c, box))
    if not cells:
        return None
    minx = min(b[0] for _, b in cells)
    miny = min(b[1] for _, b in cells)
    maxx = max(b[2] for _, b in cells)
    maxy = max(b[3] for _, b in cells)
    span_x, span_y = maxx - minx, maxy - miny
    pad = 0.06 * max(span_x, span_y)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    scale = MAP_WIDTH / (maxx - minx)
    height = max(160.0, (maxy - miny) * scale)
    scores = sorted(_num(c.get("score")) or 0.0 for c, _ in cells)

    def level(s: float) -> int:  # quintile of the score among the flagged cells (ties share the higher class)
        below = sum(1 for v in scores if v < s)
        return 1 + min(4, int(5 * below / len(scores)))

    rects = []
    for c, (x0, y0, x1, y1) in cells:
        score = _num(c.get("score")) or 0.0
        rects.append({"x": round((x0 - minx) * scale, 2), "y": round((maxy - y1) * scale, 2),
                      "w": round((x1 - x0) * scale, 2), "h": round((y1 - y0) * scale, 2),
                      "level": level(score), "rank": c.get("rank"), "cell": c.get("cell"), "score": score,
                      "cx": round((x0 + x1 - 2 * minx) / 2 * scale, 2),
                      "cy": round((2 * maxy - y0 - y1) / 2 * scale, 2)})
    km = max(span_x, span_y) / 1000
    bar_m = next((m for m in (100, 200, 500, 1000, 2000, 5000, 10000, 20000) if m >= km * 1000 / 5), 50000)
    return {"width": MAP_WIDTH, "height": round(height, 2), "cells": rects,
            "scale_px": round(bar_m * scale, 2), "scale_label": f"{bar_m / 1000:g} km" if bar_m >= 1000 else f"{bar_m} m"}


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

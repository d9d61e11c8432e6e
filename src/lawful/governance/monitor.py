"""Monitored figures per model, and the breaker that trips by itself when one crosses its threshold.

- misjudgment rate: the share of decided outputs that reviewers rejected (forecasts) or called false alarms (alerts);
  'unclear' verdicts are left out;
- realised accuracy (forecasts): of the incidents that happened in a forecast's period, the share inside its
  flagged cells, as a PAI (hit rate / share of cells flagged; 1 is chance);
- exposure: the attached exposure audit's misplaced attention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.governance.models import Entry, Output, Review
from lawful.governance.policy import Thresholds
from lawful.governance.registry import suspend
from lawful.governance.review import MISJUDGED, UNDECIDED
from lawful.incidents.service import fetch_events


@dataclass
class Figures:
    entry: str
    decided: int = 0
    rejected: int = 0
    realised_incidents: int = 0
    realised_hits: int = 0
    realised_area_share: float = 0.0
    misplaced: float | None = None
    breaches: list[str] = field(default_factory=list)

    @property
    def misjudgment(self) -> float | None:
        return self.rejected / self.decided if self.decided else None

    @property
    def realised_pai(self) -> float | None:
        if not self.realised_incidents or not self.realised_area_share:
            return None
        return (self.realised_hits / self.realised_incidents) / self.realised_area_share


def realised(session: Session, out: Output) -> tuple[int, int, float] | None:
    """(incidents in the forecast's period, of them inside flagged cells, share of cells flagged); None if the
    period has not ended."""
    p = out.payload
    if not {"end", "start", "category", "cells", "area_share"} <= p.keys():
        return None  # not a place forecast this can be checked against
    end = datetime.fromisoformat(p["end"])
    if end > datetime.now(timezone.utc):
        return None
    ev = fetch_events(session, category=p["category"], start=datetime.fromisoformat(p["start"]), end=end)
    boxes = np.array([[c["x0"], c["y0"], c["x1"], c["y1"]] for c in p["cells"]], dtype=float).reshape(-1, 4)
    x, y = ev.x[:, None], ev.y[:, None]
    inside = (x >= boxes[:, 0]) & (x < boxes[:, 2]) & (y >= boxes[:, 1]) & (y < boxes[:, 3])
    return len(ev.x), int(inside.any(axis=1).sum()), float(p["area_share"])


def figures(session: Session, *, entry: Entry, thresholds: Thresholds, days: int = 28,
            now: datetime | None = None) -> Figures:
    now = now or datetime.now(timezone.utc)
    f = Figures(entry.ref)
    window = now - timedelta(days=days)
    outs = list(session.scalars(select(Output).where(Output.entry_id == entry.id, Output.sandbox.is_(False),
                                                     Output.issued_at >= window)))
    # judged by when they were decided, not issued: a month of old outputs rejected today is today's verdict
    decided = [o for o in session.scalars(select(Output).join(Review, Review.output_id == Output.id).where(
        Output.entry_id == entry.id, Output.sandbox.is_(False), Review.decided_at >= window))
        if o.status != "open" and o.status not in UNDECIDED]
    f.decided, f.rejected = len(decided), sum(o.status in MISJUDGED for o in decided)
    shares = []
    for o in outs:
        if o.kind == "forecast":
            r = realised(session, o)
            if r:
                f.realised_incidents += r[0]
                f.realised_hits += r[1]
                shares.append(r[2])
    f.realised_area_share = float(np.mean(shares)) if shares else 0.0
    if entry.exposure:
        f.misplaced = entry.exposure.get("misplaced")
    t = thresholds
    if f.decided >= t.min_decisions and f.misjudgment > t.max_misjudgment:
        f.breaches.append(f"misjudgment rate {f.misjudgment:.0%} over the last {days} days ({f.rejected} of "
                          f"{f.decided} decided outputs judged wrong) is above {t.max_misjudgment:.0%}")
    if f.realised_incidents >= 2 * t.min_decisions and f.realised_pai is not None and f.realised_pai < t.min_realised_pai:
        f.breaches.append(f"realised PAI {f.realised_pai:.2f} over the last {days} days ({f.realised_hits} of "
                          f"{f.realised_incidents} incidents in flagged cells) is below {t.min_realised_pai:g}")
    if f.misplaced is not None and f.misplaced > t.max_misplaced:
        f.breaches.append(f"exposure audit: {f.misplaced:.0%} of the attention is misplaced, above {t.max_misplaced:.0%}")
    return f


def enforce(session: Session, *, entries: list[Entry], thresholds: Thresholds) -> list[Figures]:
    """Compute every entry's figures; suspend the ones in use whose figures cross a threshold."""
    out = []
    for entry in entries:
        f = figures(session, entry=entry, thresholds=thresholds)
        if f.breaches and entry.state in ("active", "sandbox", "approved"):
            suspend(session, actor=None, entry=entry, reason="automatic: " + "; ".join(f.breaches))
        out.append(f)
    return out

"""Incidents: what is stored (stats), loads (ingest) and the rows a load refused (quarantine)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from lawful.incidents import service
from lawful.web.deps import CallDep, Call

router = APIRouter(prefix="/incidents", tags=["incidents"])

Purpose = Query("crime analysis", min_length=1, max_length=200, description="why you are reading (the policy checks it)")


def stats_json(stats) -> dict:
    return {
        "total": stats.total,
        "by_year_category": {str(y): c for y, c in sorted(stats.by_year_category.items())},
        "categories": stats.categories,
        "first_occurred_at": stats.first.isoformat() if stats.first else None,
        "last_occurred_at": stats.last.isoformat() if stats.last else None,
        "bounds_lonlat": stats.bounds_lonlat,
        "bounds_xy": stats.bounds_xy,
        "sources": stats.sources,
        "year_time_zone": stats.timezone,
    }


@router.get("/stats")
def stats(purpose: str = Purpose, c: Call = CallDep) -> dict:
    """Counts by local year and category, the date range and the bounds of what is stored."""
    return c.run(lambda session, *, actor: stats_json(
        service.stats_for(session, actor=actor, settings=c.store.settings, purpose=purpose)))

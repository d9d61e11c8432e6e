"""One Settings object, read from LAWFUL_* environment variables.

The jurisdiction (time zone, projected CRS, bounds) defaults to Toronto, whose open data ships with Lawful.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lawful.errors import ConfigError

TORONTO_BOUNDS = (-79.70, 43.55, -79.05, 43.90)  # lon/lat box around the City of Toronto, with a margin


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lawful"


def _parse_bounds(text: str) -> tuple[float, float, float, float]:
    try:
        parts = tuple(float(p) for p in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4 or not (parts[0] < parts[2] and parts[1] < parts[3]):
        raise ConfigError(
            f"LAWFUL_BOUNDS={text!r} is not a box.",
            "give min_lon,min_lat,max_lon,max_lat in degrees, e.g. -79.70,43.55,-79.05,43.90.",
        )
    return parts  # type: ignore[return-value]


def _psycopg(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]  # we ship psycopg 3, not psycopg2
    return url


MIN_TRAIL_RETENTION_DAYS = 183  # six months: the floor the decision trail may be kept for


def _parse_retention(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = -1
    if days < MIN_TRAIL_RETENTION_DAYS:
        raise ConfigError(f"LAWFUL_AUDIT_RETENTION_DAYS={text!r} is below the minimum of {MIN_TRAIL_RETENTION_DAYS} days.",
                          f"give a whole number of days, at least {MIN_TRAIL_RETENTION_DAYS} (six months).")
    return days


DEFAULT_FORECAST_MAX_STALE_DAYS = 14


def _parse_stale_days(text: str) -> int:
    """LAWFUL_FORECAST_MAX_STALE_DAYS: how many days a forecast's day may lie after its last stored incident."""
    days = int(text) if text.strip().isdigit() else -1
    if not 1 <= days <= 3650:
        raise ConfigError(f"LAWFUL_FORECAST_MAX_STALE_DAYS={text!r} is not a number of days from 1 to 3650.",
                          f"give a whole number of days, e.g. {DEFAULT_FORECAST_MAX_STALE_DAYS}: a forecast is "
                          "refused when its category's stored incidents end more days than this before its day.")
    return days


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    timezone: str
    crs: str
    bounds: tuple[float, float, float, float]
    audit_key_path: Path
    audit_retention_days: int
    pseudonym_key_path: Path | None = None
    secrets_key_path: Path | None = None  # seals one-time-code seeds at rest (lawful.access.sealing)
    migrate_url: str | None = None  # the schema owner's URL for migrations (PostgreSQL); None: database_url
    # a forecast is refused when its category's stored incidents end more than this many days before its day
    forecast_max_stale_days: int = DEFAULT_FORECAST_MAX_STALE_DAYS

    @classmethod
    def from_env(cls) -> "Settings":
        data_dir = Path(os.environ.get("LAWFUL_DATA_DIR") or _default_data_dir()).expanduser()
        url = _psycopg(os.environ.get("LAWFUL_DATABASE_URL") or f"sqlite:///{data_dir / 'lawful.db'}")
        return cls(
            data_dir=data_dir,
            database_url=url,
            timezone=os.environ.get("LAWFUL_TIMEZONE", "America/Toronto"),
            crs=os.environ.get("LAWFUL_CRS", "EPSG:32617"),
            bounds=_parse_bounds(os.environ["LAWFUL_BOUNDS"]) if os.environ.get("LAWFUL_BOUNDS") else TORONTO_BOUNDS,
            audit_key_path=Path(os.environ.get("LAWFUL_AUDIT_KEY") or data_dir / "keys" / "trail-ed25519.pem").expanduser(),
            audit_retention_days=_parse_retention(os.environ.get("LAWFUL_AUDIT_RETENTION_DAYS", "183")),
            pseudonym_key_path=Path(os.environ.get("LAWFUL_PSEUDONYM_KEY") or data_dir / "keys" / "pseudonyms.key"
                                    ).expanduser(),
            secrets_key_path=Path(os.environ.get("LAWFUL_SECRETS_KEY") or data_dir / "keys" / "secrets.key").expanduser(),
            migrate_url=_psycopg(os.environ["LAWFUL_MIGRATE_URL"]) if os.environ.get("LAWFUL_MIGRATE_URL") else None,
            forecast_max_stale_days=_parse_stale_days(os.environ.get("LAWFUL_FORECAST_MAX_STALE_DAYS",
                                                                     str(DEFAULT_FORECAST_MAX_STALE_DAYS))),
        )

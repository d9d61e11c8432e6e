"""A window of point events as arrays: the only input estimators see."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY = np.timedelta64(86_400_000_000, "us")


@dataclass(frozen=True)
class Events:
    t: np.ndarray  # datetime64[us], UTC, sorted ascending
    x: np.ndarray  # metres in a projected CRS
    y: np.ndarray

    @classmethod
    def of(cls, source) -> "Events":
        """Events from anything with t, x, y (e.g. the store's EventArrays), sorted by time."""
        return cls.sorted(source.t, source.x, source.y)

    @classmethod
    def sorted(cls, t, x, y) -> "Events":
        """Events from three arrays, sorted by time."""
        t = np.asarray(t, dtype="datetime64[us]")
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if not (len(t) == len(x) == len(y)):
            raise ValueError("t, x and y must have the same length")
        if len(t) and not np.all(t[1:] >= t[:-1]):
            order = np.argsort(t, kind="stable")
            t, x, y = t[order], x[order], y[order]
        return cls(t, x, y)

    def __len__(self) -> int:
        return len(self.t)

    def before(self, at: np.datetime64, days: float | None = None) -> "Events":
        """Events with at - days <= t < at (all before `at` when days is None). Uses the sort: O(log n)."""
        hi = np.searchsorted(self.t, at, side="left")
        lo = 0 if days is None else np.searchsorted(self.t, at - _days(days), side="left")
        return Events(self.t[lo:hi], self.x[lo:hi], self.y[lo:hi])

    def between(self, start: np.datetime64, end: np.datetime64) -> "Events":
        lo, hi = np.searchsorted(self.t, [start, end], side="left")
        return Events(self.t[lo:hi], self.x[lo:hi], self.y[lo:hi])

    def age_days(self, at: np.datetime64) -> np.ndarray:
        """How long before `at` each event happened, in (fractional) days."""
        return (at - self.t) / DAY

    def xy(self) -> np.ndarray:
        return np.column_stack([self.x, self.y])


def _days(days: float) -> np.timedelta64:
    return np.timedelta64(int(round(days * 86_400_000_000)), "us")

"""Place-based forecasting: pure numerics (numpy/scipy/pandas/scikit-learn), no database, no web.

Events in, a `RiskSurface` out. Every estimator follows one contract, in the scikit-learn style::

    est = NaiveCounts(window_days=365).fit(events)        # events: anything with t (datetime64, UTC), x, y
    surface = est.predict(grid, at)                         # risk per valid cell at instant `at`
    surface.explain(cell)                                   # additive terms that sum to the cell's score

`lawful.forecast.service` (one transaction) and `lawful.forecast.flows` (several: check -> compute read-only ->
issue, with the access decisions and trail entries) are the only modules here that touch the store; nothing else
in this package imports them.
"""

from lawful.forecast.events import Events
from lawful.forecast.grid import Grid
from lawful.forecast.surface import RiskSurface, Term

__all__ = ["Events", "Grid", "RiskSurface", "Term"]

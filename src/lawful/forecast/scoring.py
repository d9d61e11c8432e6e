"""Hit rate, PAI and PEI at coverage levels, with ties at the threshold shared exactly.

Coverage k% takes the top floor(n_valid * k / 100) valid cells. Cells whose risk equals the k-th cell's share the
places left after the strictly higher cells uniformly, so they contribute their hits times (places left / tied
cells): the expected hits of a random tie-break, computed exactly. A flat surface therefore scores as random
(PAI = 1), whatever the cell order. PAI (Chainey, Tompson and Uhlig 2008) = hit rate / area share. PEI (NIJ
Real-Time Crime Forecasting Challenge) = hits / the most hits any choice of the same number of cells could get.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COVERAGES = (0.01, 0.02, 0.05, 0.10, 0.20)


@dataclass(frozen=True)
class Score:
    coverage: float  # fraction of valid cells, e.g. 0.05
    cells: int  # cells taken
    hits: float  # expected hits (fractional when ties are shared)
    events: int
    hit_rate: float
    pai: float
    pei: float


def cells_for(n_valid: int, coverage: float) -> int:
    return int(np.floor(n_valid * coverage + 1e-9))  # epsilon: products like 100 * 0.07 land just below integers


def expected_hits(risk: np.ndarray, counts: np.ndarray, k: int) -> float:
    """Hits in the top k cells by risk, ties at the threshold shared uniformly."""
    risk = np.asarray(risk, float)
    counts = np.asarray(counts, float)
    n = len(risk)
    if k <= 0:
        return 0.0
    if k >= n:
        return float(counts.sum())
    threshold = -np.partition(-risk, k - 1)[k - 1]  # the k-th highest risk
    above = risk > threshold
    tied = risk == threshold
    places_left = k - int(above.sum())
    return float(counts[above].sum() + counts[tied].sum() * places_left / int(tied.sum()))


def score(risk: np.ndarray, counts: np.ndarray, coverages=COVERAGES) -> list[Score]:
    """Scores of one day's surface against that day's events per valid cell."""
    risk = np.asarray(risk, float)
    counts = np.asarray(counts, float)
    n = len(risk)
    total = float(counts.sum())
    best = np.sort(counts)[::-1].cumsum()
    out = []
    for coverage in coverages:
        k = cells_for(n, coverage)
        hits = expected_hits(risk, counts, k)
        hit_rate = hits / total if total else float("nan")
        pai = hit_rate / (k / n) if total and k else float("nan")
        max_hits = float(best[k - 1]) if k else 0.0
        pei = hits / max_hits if max_hits else float("nan")
        out.append(Score(coverage, k, hits, int(total), hit_rate, pai, pei))
    return out

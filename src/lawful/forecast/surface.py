"""A risk surface over a grid's valid cells, with the additive terms that explain every cell's score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lawful.forecast.grid import Grid


@dataclass(frozen=True)
class Term:
    label: str  # e.g. "burglaries within 200 m in the last 7 days"
    value: float  # contribution to the score, in the score's units
    share: float  # value / score (0 when the score is 0)
    events: int | None = None  # how many events feed this term, where that is meaningful

    def sentence(self) -> str:
        n = "" if self.events is None else f"{self.events} "
        return f"{n}{self.label} {self.share:.0%}"


@dataclass(frozen=True)
class RiskSurface:
    """values[i] = terms[i].sum(): risk of valid cell i at `at`, made of named parts."""

    grid: Grid
    at: np.datetime64
    model: str
    values: np.ndarray  # (n_valid,)
    term_labels: tuple[str, ...]
    terms: np.ndarray  # (n_valid, n_terms)
    term_events: np.ndarray | None = None  # (n_valid, n_terms) event counts behind each term; -1: not a count

    @classmethod
    def from_terms(cls, grid, at, model, labels, terms, term_events=None) -> "RiskSurface":
        terms = np.asarray(terms, float).reshape(grid.n_valid, len(labels))
        return cls(grid, at, model, terms.sum(axis=1), tuple(labels), terms,
                   None if term_events is None else np.asarray(term_events, np.int64))

    def ranking(self) -> np.ndarray:
        """Valid cells from highest to lowest risk (ties in cell order; scoring handles ties exactly)."""
        return np.argsort(-self.values, kind="stable")

    def top(self, k: int) -> np.ndarray:
        return self.ranking()[:k]

    def explain(self, cell: int) -> list[Term]:
        """The terms of one cell's score, largest first; their values add up to the score."""
        score = float(self.values[cell])
        out = []
        for j, label in enumerate(self.term_labels):
            v = float(self.terms[cell, j])
            if v == 0.0:
                continue
            n = None if self.term_events is None or self.term_events[cell, j] < 0 else int(self.term_events[cell, j])
            out.append(Term(label, v, v / score if score else 0.0, n))
        return sorted(out, key=lambda term: -abs(term.value))

    def sentence(self, cell: int, most: int = 5) -> str:
        """E.g. 'long-term rate in the cell 41%, 3 incidents within 200 m in the last 7 days 32%': the `most`
        largest terms; the rest are summed so the shares still add up to 100%."""
        terms = self.explain(cell)
        if not terms:
            return "no recorded incidents nearby"
        shown, rest = terms[:most], terms[most:]
        text = ", ".join(t.sentence() for t in shown)
        if rest:
            text += f", {len(rest)} smaller terms {sum(t.share for t in rest):.0%}"
        return text

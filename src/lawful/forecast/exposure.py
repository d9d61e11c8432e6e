"""Exposure audit: for a policy "attend the top k% of cells", which areas get the attention, against their crime.

Per area (neighbourhood): share of the flagged cells (summed over the audited days) against the share of the
period's actual incidents. Disparity = flagged share / incident share: above 1 an area is watched more than its
crime would justify (over-exposed), below 1 less. Areas with no incidents in the period but flagged cells get an
infinite ratio and are listed as over-exposed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lawful.forecast.grid import Grid


def cell_areas(grid: Grid, x: np.ndarray, y: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Each valid cell's area: the most common area code among the incidents in it ('unknown' if none)."""
    cells = grid.cell_of(x, y)
    keep = (cells >= 0) & pd.notna(area)
    frame = pd.DataFrame({"cell": cells[keep], "area": np.asarray(area, object)[keep]})
    top = frame.groupby(["cell", "area"]).size().reset_index(name="n").sort_values(["cell", "n", "area"],
                                                                                 ascending=[True, False, True])
    top = top.drop_duplicates("cell")
    out = np.full(grid.n_valid, "unknown", dtype=object)
    out[top["cell"].to_numpy()] = top["area"].to_numpy()
    return out


@dataclass(frozen=True)
class ExposureAudit:
    model: str
    coverage: float
    days: int
    table: pd.DataFrame  # area, flagged_cell_days, flagged_share, incidents, incident_share, disparity
    misplaced: float  # 0.5 * sum |flagged share - incident share|: the share of attention that is misplaced

    def most_over(self, n: int = 5) -> pd.DataFrame:
        t = self.table[self.table["flagged_cell_days"] > 0]
        return t.sort_values(["disparity", "flagged_share"], ascending=[False, False]).head(n)

    def most_under(self, n: int = 5) -> pd.DataFrame:
        t = self.table[self.table["incidents"] > 0]
        return t.sort_values(["disparity", "incident_share"], ascending=[True, False]).head(n)


def audit(model: str, coverage: float, flagged: list[np.ndarray], incident_cells: np.ndarray,
          areas: np.ndarray) -> ExposureAudit:
    """flagged: per day, the valid-cell positions flagged; incident_cells: valid-cell position of every incident
    of the period (-1 outside the mask); areas: each valid cell's area."""
    flagged_all = np.concatenate(flagged) if flagged else np.array([], dtype=np.int64)
    f = pd.Series(areas[flagged_all]).value_counts()
    inc = incident_cells[incident_cells >= 0]
    c = pd.Series(areas[inc]).value_counts()
    table = pd.DataFrame({"flagged_cell_days": f, "incidents": c}).fillna(0)
    table.index.name = "area"
    table = table.reset_index()
    table["flagged_share"] = table["flagged_cell_days"] / max(table["flagged_cell_days"].sum(), 1)
    table["incident_share"] = table["incidents"] / max(table["incidents"].sum(), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["disparity"] = np.where(table["incident_share"] > 0, table["flagged_share"] / table["incident_share"],
                                      np.where(table["flagged_share"] > 0, np.inf, np.nan))
    table = table[["area", "flagged_cell_days", "flagged_share", "incidents", "incident_share", "disparity"]]
    misplaced = 0.5 * float(np.abs(table["flagged_share"] - table["incident_share"]).sum())
    return ExposureAudit(model, coverage, len(flagged), table.sort_values("area").reset_index(drop=True), misplaced)

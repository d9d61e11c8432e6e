"""Backtest outputs for people and scripts: the per-day CSV, the summary CSV, a Markdown report and a map."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from lawful.forecast.models import build
from lawful.forecast.scoring import cells_for

MAP_COVERAGE = 0.05


def write_days_csv(path: Path, results, coverages) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["model", "day", "events", "coverage", "hits", "hit_rate", "pai", "pei", "fit_seconds",
                    "predict_seconds"])
        for r in results:
            for i, c in enumerate(coverages):
                w.writerow([r.model, r.day, r.events, c, f"{r.hits[i]:.4f}", f"{r.hit_rate[i]:.6f}",
                            f"{r.pai[i]:.4f}", f"{r.pei[i]:.4f}", f"{r.fit_seconds:.4f}", f"{r.predict_seconds:.4f}"])


def write_summary_csv(path: Path, summaries) -> None:
    records = [s.record() for s in summaries]
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(records[0]))
        w.writeheader()
        w.writerows(records)


def markdown(report) -> str:
    """The summary as a Markdown report: what was run and the table a reviewer reads first."""
    d = report.days
    base = getattr(report, "baseline", None)
    paired_head = f" PAI - {base} | diff 95% |" if base else ""
    lines = [
        f"# Backtest: {report.category}",
        "",
        f"- Days: {len(d)} ({d[0][0]} to {d[-1][0]}), forecast at local midnight, scored on that day's incidents.",
        f"- Training window: {report.window_days:g} days (naive-all and features use all history).",
        f"- Grid: {report.data.grid.cell:g} m cells, {report.data.grid.n_valid:,} valid.",
        f"- Incidents scored: {report.events_scored:,}.",
        f"- Executor: {report.executor}.",
        "",
        "Hit rate is pooled (all hits / all incidents); PAI is the mean over days with its 95% interval;",
        "ties at the coverage threshold share the remaining cells (expected hits).",
        "",
        "| model | coverage | hit rate | PAI | PAI 95% | PEI | fit s/day | predict s/day |" + paired_head,
        "|---|---|---|---|---|---|---|---|" + ("---|---|" if base else ""),
    ]
    for s in report.summaries:
        paired = "" if not base else (" | |" if s.model == base else
                                      f" {s.pai_diff:+.2f} | {s.pai_diff_low:+.2f} to {s.pai_diff_high:+.2f} |")
        lines.append(f"| {s.model} | {s.coverage:.0%} | {s.hit_rate_pooled:.3f} | {s.pai:.2f} | "
                     f"{s.pai_low:.2f}-{s.pai_high:.2f} | {s.pei:.3f} | {s.fit_seconds:.2f} | {s.predict_seconds:.3f} |"
                     + paired)
    if base:
        lines += ["", f"PAI - {base}: the mean over days of each day's PAI minus {base}'s on the same day, with a 95% "
                  "t-interval over the per-day differences; an interval wholly above 0 means better on these days."]
    return "\n".join(lines) + "\n"


def plot_day(path: Path, report, day_index: int = 0, coverage: float = MAP_COVERAGE) -> str:
    """A PNG with one panel per model: that day's top cells (coverage) and the day's actual incidents."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    data = report.data
    grid = data.grid
    day, at, end = report.days[day_index]
    actual = data.events.between(at, end)
    k = cells_for(grid.n_valid, coverage)
    n = len(report.models)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    extent = (grid.x0, grid.x0 + grid.nx * grid.cell, grid.y0, grid.y0 + grid.ny * grid.cell)
    for ax, name in zip(axes.flat, report.models):
        est = build(name, report.window_days).fit(data.events.before(at), grid=grid, at=at)
        surface = est.predict(grid, at)
        image = np.full(grid.nx * grid.ny, np.nan)
        image[grid.valid] = 0
        image[grid.valid[surface.top(k)]] = 1
        ax.imshow(image.reshape(grid.ny, grid.nx), origin="lower", extent=extent, interpolation="nearest",
                  cmap=ListedColormap(["#e8e8e8", "#d7301f"]), vmin=0, vmax=1)
        hits = np.isin(grid.cell_of(actual.x, actual.y), surface.top(k))
        ax.scatter(actual.x[~hits], actual.y[~hits], s=12, c="#2c7fb8", marker="o", label="incident, missed")
        ax.scatter(actual.x[hits], actual.y[hits], s=22, c="black", marker="x", label="incident, in a flagged cell")
        ax.set_title(f"{name}: {hits.sum()} of {len(actual)} in top {coverage:.0%}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(loc="lower right", fontsize=7)
    fig.suptitle(f"{report.category}, {day}: top {coverage:.0%} of cells (red) and the day's incidents", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return day

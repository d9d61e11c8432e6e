"""The named model configurations the CLI and the backtest offer, each with the public protocol's defaults."""

from __future__ import annotations

from lawful.forecast.estimators import (EnsembleModel, Estimator, FeatureModel, NaiveCounts, ProspectiveHotspot,
                                        RetrospectiveHotspot, SelfExcitingPointProcess)

# name -> (what it is, how to build it for a training window in days)
MODELS = {
    "naive": ("counts in each cell over the window", lambda w: NaiveCounts(window_days=w)),
    "naive-all": ("counts in each cell over all history", lambda w: NaiveCounts(window_days=None)),
    "kde": ("retrospective hotspot: quartic kernel, 200 m, over the window", lambda w: RetrospectiveHotspot(window_days=w)),
    "prospective": ("prospective hotspot (Bowers et al. 2004): 400 m, 8 weeks", lambda w: ProspectiveHotspot()),
    "sepp": ("self-exciting point process (Mohler et al. 2011), EM over the window",
             lambda w: SelfExcitingPointProcess(window_days=w)),
    "features": ("gradient boosting on per-cell features over all history", lambda w: FeatureModel()),
    "ensemble": ("Poisson-fitted blend of long-memory, recent and neighbourhood counts, its weights chosen per "
                 "category on the year before the day", lambda w: EnsembleModel()),
}


def build(name: str, window_days: float | None = 365) -> Estimator:
    try:
        return MODELS[name][1](window_days)
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)} or 'all'") from None


def parse_models(text: str) -> list[str]:
    """'all' or a comma-separated list of names, in the order given."""
    names = list(MODELS) if text.strip() == "all" else [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in MODELS:
            raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)} or 'all'")
    if not names:
        raise ValueError("no model given; choose from " + ", ".join(MODELS) + " or 'all'")
    return names

"""The five estimators, one contract: `fit(events) -> self`, `predict(grid, at) -> RiskSurface`, `explain(cell)`."""

from lawful.forecast.estimators.base import Estimator
from lawful.forecast.estimators.features import FeatureModel
from lawful.forecast.estimators.kde import RetrospectiveHotspot
from lawful.forecast.estimators.naive import NaiveCounts
from lawful.forecast.estimators.prospective import ProspectiveHotspot
from lawful.forecast.estimators.sepp import SelfExcitingPointProcess

# Names used by the CLI and the backtest, with the defaults of the public protocol (../shared/BENCHMARKS.md).
REGISTRY: dict[str, type[Estimator]] = {
    "naive": NaiveCounts,
    "kde": RetrospectiveHotspot,
    "prospective": ProspectiveHotspot,
    "sepp": SelfExcitingPointProcess,
    "features": FeatureModel,
}


def make(name: str, **params) -> Estimator:
    """An estimator by name; unknown names list the known ones."""
    try:
        cls = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(REGISTRY)}") from None
    return cls(**params)


__all__ = ["Estimator", "FeatureModel", "NaiveCounts", "ProspectiveHotspot", "REGISTRY", "RetrospectiveHotspot",
           "SelfExcitingPointProcess", "make"]

"""The estimators, one contract: `fit(events) -> self`, `predict(grid, at) -> RiskSurface`, `explain(cell)`."""

from lawful.forecast.estimators.base import Estimator
from lawful.forecast.estimators.ensemble import EnsembleModel
from lawful.forecast.estimators.features import FeatureModel
from lawful.forecast.estimators.kde import RetrospectiveHotspot
from lawful.forecast.estimators.naive import NaiveCounts
from lawful.forecast.estimators.prospective import ProspectiveHotspot
from lawful.forecast.estimators.sepp import SelfExcitingPointProcess

# The named configurations the CLI and the backtest offer are in lawful.forecast.models.
__all__ = ["EnsembleModel", "Estimator", "FeatureModel", "NaiveCounts", "ProspectiveHotspot", "RetrospectiveHotspot",
           "SelfExcitingPointProcess"]

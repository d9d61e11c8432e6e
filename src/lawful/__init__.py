"""Lawful: place-based crime forecasting and explainable early-warning rules, governed by the rule of law."""

__version__ = "0.1.0"

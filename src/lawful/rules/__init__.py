"""Explainable early-warning rules: the language, the batch and stream engines, and learning from verdicts.
Pure: numpy, pandas, SciPy, pyproj and matplotlib's polygon test; never the database or the web."""

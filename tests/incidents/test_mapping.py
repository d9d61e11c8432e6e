"""Mapping files: mistakes are named with the key and the fix; the shipped Toronto mapping is the bundled one."""

from __future__ import annotations

from pathlib import Path

import pytest

from lawful.errors import ConfigError
from lawful.incidents.datasets import toronto_mapping
from lawful.incidents.mapping import load_mapping, parse_mapping
from tests.conftest import TEST_MAPPING

ROOT = Path(__file__).resolve().parents[2]


def test_example_toronto_mapping_is_the_one_the_bundled_loader_uses():
    shipped = ROOT / "examples" / "mappings" / "toronto-mci.toml"
    packaged = ROOT / "src" / "lawful" / "incidents" / "datasets" / "toronto-mci.toml"
    assert shipped.read_bytes() == packaged.read_bytes()
    assert load_mapping(shipped).key_hash == toronto_mapping().key_hash


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('lat = "lat"', 'latitude = "lat"'), "[fields] latitude: unknown key"),
    (lambda t: t.replace('timezone = "America/Toronto"', 'timezone = "Toronto"'), "'Toronto' is not a time zone"),
    (lambda t: t.replace('classification = "internal"', 'classification = "top"'), "'top' is not a level"),
    (lambda t: t.replace('column = "id"', ''), "give exactly one of column or hash"),
    (lambda t: t.replace('lon = "lon"', ''), "coordinates need exactly one of lat + lon or x + y"),
    (lambda t: t.replace('crs = "EPSG:4326"', 'crs = "EPSG:999999"'), "is not a coordinate reference system"),
    (lambda t: t + "\n[sources]\n", "[sources]: unknown section"),
    (lambda t: t.replace('name = "test-rms"', 'name = "test\\u0000rms"'),
     "[source] name: 'test\\x00rms' holds a control"),
])
def test_mapping_mistakes_are_named(tmp_path, edit, message):
    path = tmp_path / "m.toml"
    path.write_text(edit(TEST_MAPPING))
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    assert message in str(info.value) and str(path) in str(info.value) and info.value.fix


def test_broken_toml_names_the_line(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[source]\nname = "x\n')
    with pytest.raises(ConfigError, match="line 2"):
        load_mapping(path)


def test_missing_mapping_file():
    with pytest.raises(ConfigError, match="does not exist"):
        load_mapping("/no/such/mapping.toml")


def test_required_columns_cover_everything_read():
    m = parse_mapping(__import__("tomllib").loads(TEST_MAPPING))
    assert set(m.required_columns()) == {"id", "offence", "when", "lat", "lon", "hood", "premises", "weapon"}


def test_hash_key_follows_its_documented_definition():
    """file name : blake2b-80 of the declared columns joined by 0x1F : order among identical rows. If this changes,
    every re-load of a hash-keyed file would add its rows a second time."""
    import hashlib

    import numpy as np
    import pandas as pd

    from lawful.incidents.readers import RawTable
    from lawful.incidents.validate import prepare
    from lawful.settings import Settings

    m = toronto_mapping()
    row = {"occurrencedate": "2014/03/02 05:00:00+00", "occurrencehour": "8", "MCI": "Assault", "premises_type": "House",
           "Neighbourhood": "West Humber-Clairville", "Lat": "43.73401277", "Long": "-79.59033164"}
    frame = pd.DataFrame([row, row]).astype("str")[m.required_columns()]
    raw = RawTable(frame=frame, row_numbers=np.array([2, 3]), columns=list(frame.columns), sha256="x")
    out = prepare(raw, m, Settings.from_env(), "train.csv")
    digest = hashlib.blake2b("\x1f".join(row[c] for c in m.key_hash).encode(), digest_size=10).hexdigest()
    assert out.records["source_key"].tolist() == [f"train.csv:{digest}:0", f"train.csv:{digest}:1"]
    assert str(out.records["occurred_at"][0]) == "2014-03-02 13:00:00+00:00"  # 08:00 EST

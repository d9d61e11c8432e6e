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

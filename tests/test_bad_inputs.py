"""Every bad input is refused in one located line, exit 2, with nothing changed.

A table of cases over every file Lawful reads: incident files and their mappings (through `lawful ingest`), rule,
zone, event and verdict files (through `lawful rules`), model cards and impact assessments, the access policy and
evaluation/exposure attachments (through the services the server calls). Each case asserts: refused (exit 2 or a
LawfulError), one line, no traceback, the file (and the row or field) named, and the store unchanged. Static cases
live in tests/bad_inputs/; huge, binary, nested and special files are made here at run time.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path

import pytest

from lawful import limits
from lawful.errors import LawfulError
from tests.conftest import GOOD_ROWS, TEST_MAPPING, run_cli, store_fingerprint, write_csv

CORPUS = Path(__file__).with_name("bad_inputs")

RULES = """[ruleset]
name = "t"
fields = { speed = "number", items = "set" }

[[rule]]
id = "r1"
version = 1
legal_basis = "act s.1"
purpose = "testing"
threshold = 0.5
action = "warn"
conditions = [ { when = "speed > 3", weight = 1.0 } ]
"""
EVENT = '{"id": "1", "time": "2026-06-01T21:40:00+08:00", "lon": 120.6, "lat": 36.1, "speed": 5}'
VERDICTS = "rule,version,alert_time,verdict,held\nr1,1,2026-06-01T22:10:00+08:00,confirmed,1\n"
ZONED = RULES.replace('name = "t"', 'name = "t"\nzones = "z.geojson"').replace("speed > 3", "inside zone 'X'")


def deep(n: int, open_: str = "[", close: str = "]") -> str:
    return open_ * n + close * n


def _w(path: Path, content: str | bytes) -> Path:
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


# ---- the cases: name -> (build(tmp) -> (args, file named), what the line must say) --------------------------------
def ingest(data: str | bytes | None = None, mapping: str | bytes | None = None, suffix: str = ".csv", *,
           data_path=None, mapping_path=None):
    """A load of DATA through MAPPING (what the server does with `lawful ingest`), with the bad one named."""
    def build(tmp: Path):
        d = data_path(tmp) if data_path else _w(tmp / f"data{suffix}", data) if data is not None else \
            write_csv(tmp / "data.csv", GOOD_ROWS)
        m = mapping_path(tmp) if mapping_path else _w(tmp / "m.toml", mapping if mapping is not None else TEST_MAPPING)
        named = m if (mapping is not None or mapping_path) else d
        return d, m, named
    return build


def rules(text: str | bytes | None = None, *, path=None, extra: list[str] = (), events=None, verdicts=None,
          zones=None, cmd: str = "check"):
    def build(tmp: Path):
        f = path(tmp) if path else _w(tmp / "r.toml", text if text is not None else RULES)
        named = f
        args = ["rules", cmd, str(f), *extra]
        if zones is not None:
            named = zones(tmp) if callable(zones) else _w(tmp / "z.geojson", zones)
        if events is not None:
            named = events(tmp) if callable(events) else _w(tmp / "ev.jsonl", events)
            args = ["rules", "run", str(f), "--events", str(named)]
        if verdicts is not None:
            named = verdicts(tmp) if callable(verdicts) else _w(tmp / "v.csv", verdicts)
            args = ["rules", "report", str(f), "--rule", "r1", "--verdicts", str(named)]
        return args, named
    return build


def mapping_edit(old: str, new: str) -> str:
    assert old in TEST_MAPPING
    return TEST_MAPPING.replace(old, new)


def fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe.csv")
    return tmp / "pipe.csv"


def big(size: int, name: str):
    def make(tmp: Path) -> Path:
        path = tmp / name
        with open(path, "wb") as f:
            f.truncate(size)  # sparse: no disk is used, the size is what the limit sees
        return path
    return make


def corpus(name: str):
    return lambda tmp: CORPUS / name


INGEST_CASES = {
    # incident data files
    "data: a directory": (ingest(data_path=lambda t: t), "is a directory"),
    "data: /dev/zero": (ingest(data_path=lambda t: Path("/dev/zero")), "character device"),
    "data: a FIFO": (ingest(data_path=fifo), "FIFO"),
    "data: over the size limit": (ingest(data_path=big(limits.DATA_BYTES + 1, "huge.csv")), "above the limit"),
    "data: a link to /dev/zero": (ingest(data_path=lambda t: (t / "z.csv").symlink_to("/dev/zero") or t / "z.csv"),
                                  "character device"),
    "data: missing": (ingest(data_path=lambda t: t / "nope.csv"), "does not exist"),
    "data: empty": (ingest(b""), "is empty"),
    "data: binary": (ingest(b"\x00\x01\x02PK\x03\x04" * 100), "binary"),
    "data: not UTF-8": (ingest(("id,offence\n" + "A1,Caf\xe9\n").encode("latin-1")), "not valid utf-8"),
    "data: missing columns": (ingest("a,b\n1,2\n"), "lacks the column"),
    "data: duplicate header": (ingest("id,id,offence\n1,2,3\n"), "repeats column"),
    "data: unknown extension": (ingest("x", suffix=".xlsx"), "cannot tell the format"),
    "data: parquet garbage": (ingest(b"PAR1 this is not parquet PAR1", suffix=".parquet"), "not a readable Parquet"),
    "data: geojson truncated": (ingest('{"type": "FeatureCollection", "features": [', suffix=".geojson"),
                                "not valid JSON"),
    "data: geojson nested deep": (ingest('{"a": ' + deep(5000) + "}", suffix=".geojson"), "nested deeper"),
    "data: geojson huge integer": (ingest('{"type": "FeatureCollection", "features": [], "n": 1' + "0" * 5000 + "}",
                                          suffix=".geojson"), "too large"),
    "data: geojson NaN": (ingest('{"type": "FeatureCollection", "features": [], "n": NaN}', suffix=".geojson"),
                          "NaN is not a JSON number"),
    "data: geojson not a collection": (ingest('[1, 2, 3]', suffix=".geojson"), "not a GeoJSON FeatureCollection"),
    "data: header only": (ingest("id,offence,when,lat,lon,hood,premises,weapon,victim_name\n"), "no rows"),
    # mappings
    "mapping: directory": (ingest(mapping_path=lambda t: t), "is a directory"),
    "mapping: /dev/zero": (ingest(mapping_path=lambda t: Path("/dev/zero")), "character device"),
    "mapping: over 1 MB": (ingest(mapping_path=big(limits.CONFIG_BYTES + 1, "big.toml")), "above the limit"),
    "mapping: not UTF-8": (ingest(mapping=b'[source]\nname = "caf\xe9"\n'), "not valid utf-8"),
    "mapping: not TOML": (ingest(mapping="[source\n"), "not valid TOML"),
    "mapping: nested deep": (ingest(mapping="x = " + deep(3000) + "\n"), "nested deeper"),
    "mapping: huge integer": (ingest(mapping=mapping_edit("retention_days = 3650", "retention_days = 1" + "0" * 30)),
                              "too large"),
    "mapping: date as name": (ingest(mapping=mapping_edit('name = "test-rms"', "name = 2019-01-01")), "date"),
    "mapping: number as time zone": (ingest(mapping=mapping_edit('timezone = "America/Toronto"', "timezone = 5")),
                                     "[source] timezone"),
    "mapping: list as crs": (ingest(mapping=mapping_edit('crs = "EPSG:4326"', 'crs = ["EPSG:4326"]')), "[source] crs"),
    "mapping: bad encoding": (ingest(mapping=mapping_edit('crs = "EPSG:4326"', 'crs = "EPSG:4326"\nencoding = "klingon"')),
                              "not a text encoding"),
    "mapping: string where list": (ingest(mapping=mapping_edit('keep = ["weapon"]', 'keep = "weapon"')),
                                   "[extra] keep"),
    "mapping: keep and pseudonymise": (ingest(mapping=mapping_edit('keep = ["weapon"]',
                                                                   'keep = ["weapon"]\npseudonymise = ["weapon"]')),
                                       "also kept in clear"),
    "mapping: pseudonymised key": (ingest(mapping=mapping_edit('keep = ["weapon"]', 'pseudonymise = ["id"]')),
                                   "[key] column"),
    "mapping: retention as bool": (ingest(mapping=mapping_edit("retention_days = 3650", "retention_days = true")),
                                   "retention_days"),
    "mapping: inf bound": (ingest(mapping=mapping_edit('crs = "EPSG:4326"', 'crs = "EPSG:4326"\nbounds = [0, 0, inf, 1]')),
                           "not a finite number"),
    "mapping: format not text": (ingest(mapping=mapping_edit('format = "%Y-%m-%d %H:%M"', "format = 3")),
                                 "format"),
}
CLI_CASES = {
    # rule files
    "rules: directory": (rules(path=lambda t: t), "is a directory"),
    "rules: /dev/zero": (rules(path=lambda t: Path("/dev/zero")), "character device"),
    "rules: FIFO": (rules(path=fifo), "FIFO"),
    "rules: huge": (rules(path=big(limits.CONFIG_BYTES + 1, "big.toml")), "above the limit"),
    "rules: not UTF-8": (rules(RULES.encode().replace(b'"t"', b'"\xff"')), "not valid utf-8"),
    "rules: nested deep": (rules("x = " + deep(5000) + "\n"), "nested too deeply"),
    "rules: huge integer": (rules(RULES.replace("version = 1", "version = 1" + "0" * 5000)), "too large"),
    "rules: inf weight": (rules(path=corpus("rules-inf-weight.toml")), "weight inf"),
    "rules: nan threshold": (rules(path=corpus("rules-nan-threshold.toml")), "not a finite number"),
    "rules: negative threshold": (rules(path=corpus("rules-negative-threshold.toml")), "above 0"),
    "rules: date as purpose": (rules(path=corpus("rules-date-purpose.toml")), "has no purpose"),
    "rules: fields not a table": (rules(RULES.replace('fields = { speed = "number", items = "set" }', 'fields = "x"')),
                                  "fields is not a table"),
    "rules: unknown rule key": (rules(RULES.replace('action = "warn"', 'action = "warn"\nweigth = 2')),
                                "unknown key 'weigth'"),
    "rules: unknown section": (rules(RULES + "\n[extra]\nx = 1\n"), "unknown section"),
    "rules: bool version": (rules(RULES.replace("version = 1", "version = true")), "version must be"),
    "rules: distance with 400 digits": (rules(RULES.replace("speed > 3", "within " + "9" * 400 + " m of (1, 2)")),
                                        "too large"),
    "rules: zero distance": (rules(RULES.replace("speed > 3", "within 0 m of (1, 2)")), "not a distance"),
    "rules: zone file missing": (rules(ZONED, zones=lambda t: t / "z.geojson"), "no such file"),
    "rules: zone file is a directory": (rules(ZONED, zones=lambda t: (t / "z.geojson").mkdir() or t / "z.geojson"),
                                        "is a directory"),
    "rules: zone ring too short": (rules(ZONED, zones=lambda t: _w(t / "z.geojson",
                                                                   (CORPUS / "zones-short-ring.geojson").read_text())),
                                   "at least three"),
    "rules: zone file NaN": (rules(ZONED, zones='{"type": "FeatureCollection", "features": [], "x": NaN}'),
                             "NaN is not a JSON number"),
    "rules: zone file a list": (rules(ZONED, zones="[]"), "not a GeoJSON FeatureCollection"),
    # event files
    "events: a link to /dev/zero": (rules(events=lambda t: (t / "ev.jsonl").symlink_to("/dev/zero") or t / "ev.jsonl"),
                                    "character device"),
    "events: directory": (rules(events=lambda t: (t / "d.jsonl").mkdir() or t / "d.jsonl"), "is a directory"),
    "events: not JSON": (rules(events=EVENT + "\n{oops\n"), "row 2"),
    "events: NaN": (rules(events=lambda t: corpus("events-nan.jsonl")(t)), "NaN is not a JSON number"),
    "events: nested value": (rules(events=EVENT.replace('"speed": 5', '"speed": {"a": 1}') + "\n"), "field speed"),
    "events: array row": (rules(events="[1, 2]\n"), "not a JSON object"),
    "events: inf number": (rules(events=EVENT.replace('"speed": 5', '"speed": "inf"') + "\n"), "not a number"),
    "events: not UTF-8": (rules(events=lambda t: _w(t / "ev.jsonl", EVENT.encode() + b"\n\xff\n")), "not valid utf-8"),
    "events: CSV extra field": (rules(events=lambda t: corpus("events-extra-field.csv")(t)), "row 2: has 6 fields"),
    "events: huge": (rules(events=big(limits.EVENT_BYTES + 1, "huge.jsonl")), "above the limit"),
    # verdict files
    "verdicts: superscript version": (rules(verdicts=corpus("verdicts-superscript-version.csv")), "not a version"),
    "verdicts: FIFO": (rules(verdicts=fifo), "FIFO"),
    "verdicts: empty": (rules(verdicts=""), "empty"),
    "verdicts: long held": (rules(verdicts=VERDICTS.replace(",1\n", "," + "1" * 500 + "\n")), "held"),
}


@pytest.fixture
def refused(store, capsys):
    """Run a CLI case; assert exit 2, one line naming the file, no traceback, the store unchanged."""
    def check(args: list[str], named: Path, says: str) -> str:
        before = store_fingerprint(store)
        code, out, err = run_cli(args, capsys)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2, (code, out, err)
        assert "Traceback" not in err + out and len(lines) == 1, err
        assert named.name in lines[0] and says.lower() in lines[0].lower(), lines[0]
        assert "Fix:" in lines[0] or "fix" in lines[0].lower() or "give" in lines[0].lower(), lines[0]
        assert store_fingerprint(store) == before
        return lines[0]
    return check


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_a_bad_file_is_refused_in_one_located_line(case, refused, tmp_path):
    build, says = CLI_CASES[case]
    args, named = build(tmp_path)
    refused(args, named, says)


@pytest.mark.parametrize("case", list(INGEST_CASES))
def test_a_bad_incident_file_or_mapping_is_refused(case, store, tmp_path):
    from lawful import db
    from lawful.incidents.mapping import load_mapping
    from lawful.incidents.service import ingest_file

    build, says = INGEST_CASES[case]
    data, mapping, named = build(tmp_path)
    before = store_fingerprint(store)
    engine = db.open_store(store)
    try:
        with pytest.raises(LawfulError) as info:
            m = load_mapping(mapping)
            with db.transaction(engine, settings=store) as s:
                ingest_file(s, path=data, mapping=m, settings=store)
    finally:
        engine.dispose()
    _one_line(info.value, named.name, says)
    assert store_fingerprint(store) == before


def test_a_row_with_the_wrong_field_count_is_quarantined_without_its_text(store, tmp_path):
    """The row's text may hold what the mapping drops (a victim's name, an undeclared id number): only its number
    and its field count are kept."""
    from lawful import db
    from lawful.incidents.models import QuarantinedRow

    from lawful.incidents.mapping import load_mapping
    from lawful.incidents.service import ingest_file

    m = load_mapping(_w(tmp_path / "m.toml", TEST_MAPPING))
    csv = write_csv(tmp_path / "export.csv", GOOD_ROWS + ["A9,Robbery,2019-03-01 10:00,43.6,-79.4,X,House,none,"
                                                          "Jane Roe,ID 123-456-789"])
    engine = db.open_store(store)
    with db.transaction(engine, settings=store) as s:
        assert ingest_file(s, path=csv, mapping=m, settings=store).quarantined_rows == 1
    with db.transaction(engine, settings=store) as s:
        rows = s.query(QuarantinedRow).all()
        assert [(r.row_number, r.field, r.value) for r in rows] == [(5, "(row)", "10 fields")]
        assert "has 10 fields, the header has 9" in rows[0].reason
        assert not any("Jane" in str(v) or "123-456" in str(v) for r in rows for v in vars(r).values())
    engine.dispose()


# ---- the services' own files: cards, impact assessments, the access policy ----------------------------------------
def _one_line(exc: LawfulError, named: str, says: str) -> None:
    text = str(exc)
    assert "\n" not in text and named in text and says.lower() in text.lower(), text
    assert exc.fix


CARD = (CORPUS / "card-string-techniques.toml").read_text().replace('techniques = "facial recognition"',
                                                                     'techniques = ["trees"]')


def card_edit(old: str, new: str) -> str:
    assert old in CARD
    return CARD.replace(old, new)


CARD_CASES = {
    "string techniques": ("card-string-techniques.toml", "identifies people biometrically"),
    "face recognition matching": ("card-face-recognition-matching.toml", "identifies people biometrically"),
    "person_scores": ("card-person-scores.toml", "ranks individual people"),
    "emotion recognition in capitals": ("card-emotion.toml", "scores emotions"),
    "protest monitoring as a purpose": ("card-protest-purpose.toml", "political opinion"),
    "a date as the name": ("card-date-as-name.toml", "field name"),
    "nan cell size": ("card-nan-cell.toml", "not a finite number"),
    "a date in training data": ("card-date-in-training-data.toml", "training_data"),
    "techniques a number": (card_edit('techniques = ["trees"]', "techniques = 3"), "expected a list"),
    "hyphenated person-scoring": (card_edit('techniques = ["trees"]', 'techniques = ["person-scoring"]'),
                                  "ranks individual people"),
    "facialrecognition run together": (card_edit('techniques = ["trees"]', 'techniques = ["FacialRecognition"]'),
                                       "biometrically"),
    "output about suspects": (card_edit('output = "places"', 'output = "Suspects"'), "individual people"),
    "unknown field": (card_edit('tier = "high"', 'tier = "high"\ntiers = "low"'), "not a model-card field"),
    "forecast model below high": (card_edit('tier = "high"', 'tier = "medium"'), "a forecast model is tier high"),
    "bool version": (card_edit('tier = "high"', 'tier = "high"\nversion = true'), "not a version"),
    "huge version": (card_edit('tier = "high"', "tier = \"high\"\nversion = 1" + "0" * 30), "too large"),
    "name with a colon": (card_edit('name = "x"', 'name = "x:2"'), "not a name"),
    "100 KB owner": (card_edit('owner = "owner"', f'owner = "{"o" * 100_000}"'), "owner"),
    "unknown estimator": (card_edit('estimator = "features"', 'estimator = "oracle"'), "not an estimator"),
    "inf window": (card_edit("window_days = 365", "window_days = inf"), "not a finite number"),
    "next review not a date": (card_edit('next_review = "2027-05-01"', 'next_review = "soon"'), "next_review"),
    "deeply nested": (card_edit('tier = "high"', 'tier = "high"\nx = ' + deep(3000)), "nested deeper"),
    "not UTF-8": (CARD.encode().replace(b'purpose = "p"', b'purpose = "\xff"'), "not valid utf-8"),
}


@pytest.mark.parametrize("case", list(CARD_CASES))
def test_a_bad_model_card_is_refused(case, tmp_path):
    from lawful.governance.card import load_card

    source, says = CARD_CASES[case]
    path = CORPUS / source if isinstance(source, str) and source.startswith("card-") else \
        _w(tmp_path / "card.toml", source)
    with pytest.raises(LawfulError) as info:
        load_card(path)
    _one_line(info.value, path.name, says)


@pytest.mark.parametrize("make, says", [
    (lambda t: t, "is a directory"),
    (lambda t: Path("/dev/zero"), "character device"),
    (fifo, "FIFO"),
    (lambda t: _w(t / "f.toml", "risks = 2026-01-01\n"), "date"),
    (lambda t: _w(t / "f.toml", "risks = 3\n"), "section risks: expected text"),
    (lambda t: _w(t / "f.toml", "risk = 'typo'\n"), "unknown impact-assessment section"),
    (lambda t: _w(t / "f.toml", "[risks]\na = 1\n"), "expected text"),
])
def test_a_bad_impact_assessment_is_refused(make, says, tmp_path):
    from lawful.governance.card import load_fria

    path = make(tmp_path)
    with pytest.raises(LawfulError) as info:
        load_fria(path)
    _one_line(info.value, path.name, says)


POLICY_CASES = {
    "string where a list belongs": ("policy-string-actions.toml", "expected a list of strings"),
    "unknown action": ("policy-unknown-action.toml", "unknown action 'incidents.delete-all'"),
    "unknown role": ("policy-unknown-role.toml", "unknown role 'superuser'"),
    "wildcard": ("policy-wildcard.toml", "wildcards are not allowed"),
    "unknown key in a role": ('[roles.analyst]\nactions = ["incidents.read"]\nclearance = "secret"\n', "unknown key"),
    "role not a table": ('roles = ["analyst"]\n', "expected a table"),
    "unknown section": ('[superusers]\nall = true\n', "unknown section"),
    "restricted unknown action": ('[actions."everything"]\npurposes = ["x"]\n', "unknown action"),
    "sub-purpose not narrowing": ('[purposes."patrol planning"]\nsub = ["protest organisers"]\n', "does not begin with"),
    "reference not a bool": ('[purposes.investigation]\nreference = "yes"\n', "not true or false"),
    "not UTF-8": (b'[roles.analyst]\npurposes = ["\xff"]\n', "not valid utf-8"),
    "deeply nested": ("x = " + deep(3000) + "\n", "nested deeper"),
    "a date": ('[roles.analyst]\npurposes = [2026-01-01]\n', "date"),
    "a number as a purpose": ('[roles.analyst]\npurposes = [1]\n', "not a non-empty name"),
}


@pytest.mark.parametrize("case", list(POLICY_CASES))
def test_a_bad_policy_file_is_refused(case, tmp_path):
    from lawful.access.decide import load_policy

    source, says = POLICY_CASES[case]
    path = CORPUS / source if isinstance(source, str) and source.startswith("policy-") else \
        _w(tmp_path / "policy.toml", source)
    with pytest.raises(LawfulError) as info:
        load_policy(path)
    _one_line(info.value, path.name, says)


@pytest.mark.parametrize("make", [lambda t: t, lambda t: Path("/dev/zero"), fifo, big(limits.CONFIG_BYTES + 1, "p.toml")])
def test_a_policy_path_that_is_not_a_small_regular_file_is_refused(make, tmp_path):
    from lawful.access.decide import load_policy

    path = make(tmp_path)
    with pytest.raises(LawfulError) as info:
        load_policy(path)
    _one_line(info.value, path.name, "")


def test_the_policy_knows_the_roles_users_can_have():
    from lawful.access.decide import ROLES
    from lawful.access.models import ROLES as USER_ROLES

    assert tuple(ROLES) == tuple(USER_ROLES)


# ---- attachments: refused by the registry whatever the client ------------------------------------------------------
GOOD_EVAL = {"source": "t", "records": [{"model": "ensemble", "coverage": 0.05, "hit_rate": 0.3, "pai": 6.0,
                                         "days": 52}]}
GOOD_EXPOSURE = {"source": "t", "model": "ensemble", "coverage": 0.05, "days": 52, "misplaced": 0.2}


def _rec(**change):
    ev = copy.deepcopy(GOOD_EVAL)
    ev["records"][0].update(change)
    return ev


ATTACHMENT_CASES = {
    "pai NaN": ({"evaluation": _rec(pai=math.nan)}, "record 1, pai"),
    "pai inf": ({"evaluation": _rec(pai=math.inf)}, "record 1, pai"),
    "pai text": ({"evaluation": _rec(pai="6")}, "record 1, pai"),
    "negative hit rate": ({"evaluation": _rec(hit_rate=-0.1)}, "hit_rate"),
    "coverage zero": ({"evaluation": _rec(coverage=0)}, "coverage"),
    "days a float": ({"evaluation": _rec(days=1.5)}, "days"),
    "missing pai": ({"evaluation": {"source": "t", "records": [{"model": "ensemble", "coverage": 0.05}]}}, "missing"),
    "no records": ({"evaluation": {"source": "t", "records": []}}, "records"),
    "records not a list": ({"evaluation": {"source": "t", "records": "all good"}}, "records"),
    "evaluation a list": ({"evaluation": [1, 2]}, "expected an object"),
    "misjudgment NaN": ({"evaluation": {"source": "t", "misjudgment_rate": math.nan}}, "misjudgment_rate"),
    "empty exposure": ({"exposure": {}}, "missing model, coverage, days, misplaced"),
    "exposure misplaced NaN": ({"exposure": dict(GOOD_EXPOSURE, misplaced=math.nan)}, "misplaced"),
    "exposure misplaced 2": ({"exposure": dict(GOOD_EXPOSURE, misplaced=2)}, "misplaced"),
    "exposure a list": ({"exposure": [GOOD_EXPOSURE]}, "expected an object"),
    "fria not text": ({"fria": {"risks": ["a", "b"]}}, "expected text"),
}


@pytest.mark.parametrize("case", list(ATTACHMENT_CASES))
def test_a_bad_attachment_is_refused_and_nothing_changes(case, gov):
    from lawful.governance import registry

    kw, says = ATTACHMENT_CASES[case]
    with gov.tx() as s:
        e = registry.register(s, actor=gov.actor(s, "owner"), card=dict(gov_card(), owner="owner"))
        ref = e.ref
    before = store_fingerprint(gov.settings)
    with pytest.raises(LawfulError) as info:
        gov.step(registry.attach, ref, "owner", **kw)
    _one_line(info.value, "", says)
    assert store_fingerprint(gov.settings) == before


def gov_card():
    from tests.governance.conftest import CARD as GOV_CARD

    return copy.deepcopy(GOV_CARD)


@pytest.fixture
def gov(store):
    from tests.governance.conftest import Gov

    g = Gov(store)
    yield g
    g.engine.dispose()


# ---- limits themselves ---------------------------------------------------------------------------------------------
def test_reading_stops_at_the_limit_even_when_the_file_reports_no_size(tmp_path):
    """/proc files say they are empty; the read is bounded all the same."""
    path = Path("/proc/self/maps")
    if not path.exists():
        pytest.skip("no /proc")
    with pytest.raises(LawfulError, match="over the limit"):
        limits.read_bytes(path, what="a test file", limit=10)


def test_the_data_limit_is_a_setting(monkeypatch):
    monkeypatch.setenv("LAWFUL_MAX_INPUT_MB", "3")
    assert limits.data_limit() == 3 << 20
    monkeypatch.setenv("LAWFUL_MAX_INPUT_MB", "lots")
    with pytest.raises(LawfulError, match="LAWFUL_MAX_INPUT_MB"):
        limits.data_limit()

"""`lawful complaints ...`, `lawful register ...` and `lawful audit pack` as clients of the server."""

from __future__ import annotations

import zipfile
from datetime import datetime, timezone

from lawful.transparency import complaints
from tests.conftest import run_cli


def test_the_dpo_works_the_queue_from_the_command_line(gov, store, capsys, tmp_path):
    ref = gov.active()
    with gov.tx() as s:
        filed = complaints.file(s, kind="appeal", system="toronto-bne-forecaster", what="Stopped after a flag, twice.",
                                decision="stop on 2 November, 22:10, Queen St W", settings=store)
    code, text, err = run_cli(["complaints", "list", "--as", "dpo"], capsys)
    assert code == 0 and filed["reference"] in text and "appeal" in text, err
    code, text, err = run_cli(["complaints", "assign", filed["reference"], "--to", "dpo", "--as", "dpo"], capsys)
    assert code == 0 and "assigned to dpo" in text, err
    code, text, err = run_cli(["complaints", "resolve", filed["reference"], "--outcome", "upheld", "--reasons",
                               "The stop followed a flag the supervisor had rejected.", "--suspend", ref,
                               "--as", "dpo"], capsys)
    assert code == 0 and "outcome: upheld" in text and f"action: suspend {ref}" in text, err
    code, text, err = run_cli(["register", "show"], capsys)
    assert code == 0 and "suspended" in text, err
    code, text, err = run_cli(["complaints", "list", "--as", "analyst"], capsys)
    assert code == 2 and "denied" in err
    year = datetime.now(timezone.utc).year
    out = tmp_path / "pack.zip"
    code, text, err = run_cli(["audit", "pack", "--year", str(year), "-o", str(out), "--as", "dpo"], capsys)
    assert code == 0 and out.exists(), err
    with zipfile.ZipFile(out) as z:
        assert f"lawful-audit-pack-{year}/MANIFEST.sig.json" in z.namelist()
    code, text, err = run_cli(["audit", "pack", "--year", str(year), "-o", str(out), "--as", "dpo"], capsys)
    assert code == 2 and "exists already" in err

"""`lawful casefiles ...` through an in-process server: import, analyse, decide, disclose, re-identify."""

from __future__ import annotations

import json

import pytest

from tests.casefiles.conftest import EXAMPLES, ROOT
from tests.conftest import run_cli


def test_the_cli_takes_a_case_from_import_to_disclosure(store, cases, capsys, tmp_path):
    code, out, err = run_cli(["casefiles", "import", str(EXAMPLES / "statements.jsonl"),
                              str(EXAMPLES / "CF-2026-0420-S1.txt"), "--as", "pc"], capsys)
    assert code == 0, err
    assert "imported 6 statements" in out and "CF-2026-0412 (confidential): 3 new" in out
    code, out, err = run_cli(["casefiles", "list", "--as", "det"], capsys)
    assert code == 0 and "CF-2026-0412  confidential  3 statements" in out
    code, out, err = run_cli(["casefiles", "analyse", "CF-2026-0412", "--as", "det"], capsys)
    assert code == 0, err
    assert "new suggestions for CF-2026-0412" in out and "The vehicle's colour differs: dark blue against black" in out
    assert "[open] inconsistency" in out  # each suggestion's status, not swallowed as a Rich tag
    rows = json.loads(run_cli(["casefiles", "suggestions", "CF-2026-0412", "--json", "--as", "pc"], capsys)[1])
    count = next(s for s in rows if s["payload"].get("difference") == "people_count")
    code, out, err = run_cli(["casefiles", "decide", str(count["id"]), "--accept", "--reason",
                              "ask both how many they saw", "--as", "pc"], capsys)
    assert code == 0 and "it is in the case file" in out, err
    code, out, err = run_cli(["casefiles", "decide", str(count["id"]), "--reject", "--reason", "x", "--as", "pc2"],
                             capsys)
    assert code == 2 and "already accepted" in err
    code, out, err = run_cli(["casefiles", "show", "CF-2026-0412", "--as", "pc"], capsys)
    assert code == 0 and f"#{count['id']} inconsistency accepted by pc" in out and "Priya" not in out
    code, out, err = run_cli(["casefiles", "disclose", "CF-2026-0412", "--out", str(tmp_path / "d.json"),
                              "--as", "det"], capsys)
    assert code == 0, err
    d = json.loads((tmp_path / "d.json").read_text())
    assert "Person A" in d["statements"][0]["text"] and "Priya" not in json.dumps(d)
    psn = d["statements"] and next(e for e in json.loads(
        run_cli(["casefiles", "show", "CF-2026-0412", "--json", "--as", "pc"], capsys)[1])["statements"])["text"]
    p = psn.split("[NAME ", 1)[1].split("]", 1)[0]
    code, out, err = run_cli(["casefiles", "reidentify", "CF-2026-0412", p, "--as", "pc"], capsys)
    assert code == 2 and "casefiles.reidentify" in err
    code, out, err = run_cli(["casefiles", "reidentify", "CF-2026-0412", p, "--as", "sup"], capsys)
    assert code == 0 and "Priya Natarajan" in out


def test_cli_bad_input_and_offline_helpers(store, cases, capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("case,statement,role,date,text\nCF-1,S1,juror,2026-04-01,hello\n")
    code, out, err = run_cli(["casefiles", "import", str(bad), "--as", "pc"], capsys)
    assert code == 2 and "bad.csv row 2, field role" in err and "Nothing was written" in err
    code, out, err = run_cli(["casefiles", "decide", "1", "--reason", "x", "--as", "pc"], capsys)
    assert code == 2 and "--accept, --reject or --amend" in err
    code, out, err = run_cli(["casefiles", "config-sha", str(ROOT / "examples/governance/casefile-assistant.toml")],
                             capsys)
    assert code == 0 and out.strip() in (ROOT / "examples/governance/casefile-assistant.toml").read_text()
    code, out, err = run_cli(["casefiles", "corpus", "--cases", "3", "--out", str(tmp_path / "c.jsonl")], capsys)
    assert code == 0 and len((tmp_path / "c.jsonl").read_text().splitlines()) >= 6


@pytest.mark.parametrize("written", [
    "I saw it [/b] happen. See [link=https://evil.example]the register[/link] for more.",  # made `show` fail
    "See [bold link=https://evil.example]the register[/] and [conceal]this[/] for more.",  # a link, words hidden
])
def test_markup_in_a_statement_is_printed_as_written(store, cases, capsys, tmp_path, written):
    """Text from the server is printed inside the commands' own Rich markup: a statement holding `[/b]` made
    `lawful casefiles show` fail (MarkupError), and a link tag (`[link=...]`, `[bold link=...]`) showed other words
    as a hidden hyperlink, `[conceal]` hid them."""
    f = tmp_path / "s.csv"
    f.write_text(f"case,statement,role,date,text\nCF-2026-0999,S1,witness,2026-04-01,{written}\n")
    code, _, err = run_cli(["casefiles", "import", str(f), "--as", "pc"], capsys)
    assert code == 0, err
    code, out, err = run_cli(["casefiles", "show", "CF-2026-0999", "--as", "pc"], capsys)
    assert code == 0, err
    assert written in out
    assert "\x1b]8;" not in out  # no terminal hyperlink

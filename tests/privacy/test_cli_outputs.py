"""What the CLI tells the DPO: a request that matched nothing, entries withheld from an access export, and a trail
export in the breach register."""

from __future__ import annotations

from datetime import datetime, timezone

from lawful.privacy import retention
from lawful.privacy.service import reidentify
from lawful.trail import audit
from tests.conftest import admin, run_cli
from tests.privacy.common import DORA, SUE, ingest, tx


def people(capsys):
    admin("root", capsys)
    for name, role in (("dora", "dpo"), ("aud", "auditor")):
        code, _, err = run_cli(["users", "add", name, "--role", role, "--as", "root"], capsys)
        assert code == 0, err


def test_a_deletion_that_matched_nothing_is_printed_and_listed_as_such(store, tmp_path, capsys):
    ingest(store, tmp_path)
    people(capsys)
    code, _, err = run_cli(["requests", "open", "--kind", "deletion", "--field", "plate", "--value", "QQQ 111",
                            "--as", "dora"], capsys)
    assert code == 0, err
    code, out, err = run_cli(["requests", "delete", "1", "--as", "dora"], capsys)
    assert code == 0, err
    assert "No records matched" in out and "closed as 'no records matched'" in out and "Removed" not in out
    code, out, _ = run_cli(["requests", "list", "--as", "dora"], capsys)
    assert "Closed with no records matched: request(s) 1." in out


def test_an_export_says_what_it_withheld_and_a_breach_counts_a_trail_export(store, tmp_path, capsys):
    ingest(store, tmp_path)
    people(capsys)
    with tx(store) as s:
        reidentify(s, actor=SUE, field="victim_name", value="Jane Roe", purpose="investigation 2026-0412",
                   settings=store)
        retention.add_hold(s, actor=DORA, reason="investigation 2026-0412", occurred_from=datetime(
            2024, 1, 1, tzinfo=timezone.utc), occurred_to=datetime(2025, 1, 1, tzinfo=timezone.utc))
        audit.append(s, actor="aud", action="audit.export", obj="trail", purpose="external audit", details={})
    run_cli(["requests", "open", "--kind", "access", "--field", "victim_name", "--value", "jane roe", "--as", "dora"],
            capsys)
    code, out, err = run_cli(["requests", "export", "1", str(tmp_path / "sar"), "--as", "dora"], capsys)
    assert code == 0, err
    assert "Wrote 2 record(s)" in out and "Withheld 1 trail entry of an ongoing investigation" in out
    code, out, err = run_cli(["breaches", "record", "--description", "auditor token leaked", "--from", "2020-01-01",
                              "--to", "2100-01-01", "--suspect", "aud", "--as", "dora"], capsys)
    assert code == 0, err
    assert "1 data action(s) and disclosure(s) (audit.export 1) by aud" in out
    assert "1 pseudonymised person(s) involved" in out

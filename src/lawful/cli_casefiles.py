"""`lawful casefiles ...`: import statements (pseudonymised by the server), run the case-file assistant, decide its
suggestions one by one, export a case redacted for disclosure, and re-identify under the policy. A client of the
server's /api/v1/casefiles endpoints: parse, call the API, print (files are read and written here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from lawful.cli_common import out
from lawful.errors import InputError

casefiles_app = typer.Typer(no_args_is_help=True, help=(
    "Case files: import statements (names, phone numbers, ID numbers and plates are replaced by pseudonyms at "
    "import), run the registered assistant (suggested fields, differences between statements, similar cases), "
    "accept or reject each suggestion, and export a case redacted for disclosure. See docs/casefiles.md."))

Case = Annotated[str, typer.Argument(help="The case's reference, e.g. CF-2026-0412.")]
Json = Annotated[bool, typer.Option("--json", help="Print the server's JSON, for scripts.")]
Purpose = Annotated[str, typer.Option(help="Why: investigation, or `investigation CASE-REF`.")]


def _api():
    from lawful import client

    return client.connect()


def _print(obj) -> None:
    out.print_json(json.dumps(obj))


@casefiles_app.command("import")
def import_(files: Annotated[list[Path], typer.Argument(help="JSONL or CSV (case, statement, role, date, text) or "
                                                           "plain-text statements (one per file).")],
            classification: Annotated[str, typer.Option(help="public, internal, confidential or secret.")]
            = "confidential",
            case: Annotated[Optional[str], typer.Option(help="Plain text: the case (else a `Case:` line).")] = None,
            statement: Annotated[Optional[str], typer.Option(help="Plain text: the statement's id.")] = None,
            role: Annotated[Optional[str], typer.Option(help="Plain text: victim, witness, officer or suspect.")]
            = None,
            date: Annotated[Optional[str], typer.Option("--date", help="Plain text: the statement's date "
                                                        "(YYYY-MM-DD).")] = None,
            purpose: Purpose = "investigation", as_json: Json = False) -> None:
    """Import statements, all or nothing; the server pseudonymises them and seals the originals."""
    from lawful.limits import read_bytes

    parts = [("files", (f.name, read_bytes(f, what="a statement file", limit=16 * 2**20), "application/octet-stream"))
             for f in files]
    form = {k: v for k, v in {"classification": classification, "purpose": purpose, "case": case,
                              "statement": statement, "role": role, "stated": date}.items() if v}
    r = _api().request("POST", "/casefiles/imports", files=parts, data=form).json()
    if as_json:
        _print(r)
        return
    out.print(f"imported {r['statements']} statements ({r['skipped']} already there) into "
              f"{len(r['cases'])} case(s)", highlight=False)
    for c in r["cases"]:
        out.print(f"  {c['case']} ({c['classification']}): {c['statements']} new", highlight=False)
    out.print("  pseudonymised: " + ", ".join(f"{k} {n}" for k, n in r["pseudonymised"].items()), highlight=False)


@casefiles_app.command("list")
def list_(purpose: Purpose = "investigation", as_json: Json = False) -> None:
    """The cases you may read."""
    rows = _api().get("/casefiles/cases", purpose=purpose)
    if as_json:
        _print(rows)
        return
    for c in rows:
        out.print(f"{c['case']}  {c['classification']}  {c['statements']} statements", highlight=False)
    if not rows:
        out.print("no cases you may read", highlight=False)


@casefiles_app.command("show")
def show(case: Case, purpose: Purpose = "investigation", as_json: Json = False) -> None:
    """A case's statements (pseudonymised) and its case file (what people accepted)."""
    c = _api().get(f"/casefiles/cases/{case}", purpose=purpose)
    if as_json:
        _print(c)
        return
    out.print(f"{c['case']} ({c['classification']}); suggestions: "
              + (", ".join(f"{k} {n}" for k, n in c["suggestions"].items()) or "none yet"), highlight=False)
    for s in c["statements"]:
        out.print(f"\n{s['statement']} ({s['role']}, {s['date']}):\n{s['text']}", highlight=False)
    out.print("\ncase file:", highlight=False)
    for e in c["case_file"]:
        out.print(f"  #{e['suggestion']} {e['type']} {e['status']} by {e['decided_by']}: {e['reason']}",
                  highlight=False)
    if not c["case_file"]:
        out.print("  nothing decided yet", highlight=False)


def _line(s: dict) -> str:
    p = s["payload"]
    return f"#{s['id']} \\[{s['status']}] {p['type']}: {s['explanation'][0]['sentence']}"  # \\[: not a Rich tag


@casefiles_app.command("analyse")
def analyse(case: Case, assistant: Annotated[str, typer.Option(help="The assistant's registry entry.")]
            = "casefile-assistant", purpose: Purpose = "investigation", as_json: Json = False) -> None:
    """Run the registered assistant over a case; each suggestion waits for a person (`lawful casefiles decide`)."""
    r = _api().post(f"/casefiles/cases/{case}/analysis", {"assistant": assistant, "purpose": purpose})
    if as_json:
        _print(r)
        return
    out.print(f"{len(r['issued'])} new suggestions for {r['case']} ({r['already_issued']} issued before)",
              highlight=False)
    for s in r["issued"]:
        out.print("  " + _line(s), highlight=False)


@casefiles_app.command("suggestions")
def suggestions(case: Case, status: Annotated[Optional[str], typer.Option(help="open, accepted, rejected or "
                                                                          "amended.")] = None,
                purpose: Purpose = "investigation", as_json: Json = False) -> None:
    """The assistant's suggestions for a case, with their explanations."""
    rows = _api().get(f"/casefiles/cases/{case}/suggestions", status=status, purpose=purpose)
    if as_json:
        _print(rows)
        return
    for s in rows:
        out.print(_line(s), highlight=False)
    if not rows:
        out.print("no suggestions", highlight=False)


@casefiles_app.command("decide")
def decide(suggestion: Annotated[int, typer.Argument(help="The suggestion's id (see `lawful casefiles "
                                                          "suggestions CASE`).")],
           reason: Annotated[str, typer.Option(help="Why (required).")],
           accept: Annotated[bool, typer.Option("--accept", help="Accept it into the case file.")] = False,
           reject: Annotated[bool, typer.Option("--reject", help="Reject it.")] = False,
           amend: Annotated[Optional[str], typer.Option(help="Amend it: the corrected content as JSON.")] = None,
           as_json: Json = False) -> None:
    """Accept, amend or reject one suggestion; only accepted or amended ones enter the case file."""
    if sum([accept, reject, amend is not None]) != 1:
        raise InputError("say one of --accept, --reject or --amend JSON", "e.g. --accept --reason \"matches S2\"")
    body = {"decision": "accepted" if accept else "rejected" if reject else "amended", "reason": reason}
    if amend is not None:
        try:
            body["amendment"] = json.loads(amend)
        except ValueError:
            raise InputError("--amend is not JSON", "give the corrected content as a JSON object") from None
        if not isinstance(body["amendment"], dict):
            raise InputError("--amend is not a JSON object", "e.g. --amend '{\"colour\": \"black\"}'")
    r = _api().post(f"/casefiles/suggestions/{suggestion}/decision", body)
    if as_json:
        _print(r)
        return
    out.print(f"suggestion {r['suggestion']} {r['status']} by {r['decided_by']}"
              + ("; it is in the case file" if r["in_case_file"] else "; not in the case file"), highlight=False)


@casefiles_app.command("disclose")
def disclose(case: Case, to: Annotated[Path, typer.Option("--out", help="The file to write (JSON).")],
             purpose: Purpose = "investigation") -> None:
    """Write the case redacted for disclosure (the same person "Person A" throughout); the log is on the trail."""
    r = _api().post(f"/casefiles/cases/{case}/disclosure", {"purpose": purpose})
    to.write_text(json.dumps(r, indent=1, ensure_ascii=False), encoding="utf-8")
    n = sum(e["occurrences"] for e in r["redaction_log"])
    out.print(f"wrote {to}: {len(r['statements'])} statements, {n} redactions "
              f"({', '.join(sorted({e['label'] for e in r['redaction_log'] if e['kind'] == 'name'}))})",
              highlight=False)


@casefiles_app.command("reidentify")
def reidentify(case: Case, pseudonym: Annotated[str, typer.Argument(help="psn:... as it stands in the text.")],
               purpose: Purpose = "investigation", as_json: Json = False) -> None:
    """The original forms of one pseudonym: its own permission, for an investigation, on the trail."""
    r = _api().post(f"/casefiles/cases/{case}/reidentify", {"pseudonym": pseudonym, "purpose": purpose})
    if as_json:
        _print(r)
        return
    out.print(f"{r['pseudonym']} ({r['kind']}): {', '.join(r['originals'])}", highlight=False)


@casefiles_app.command("config-sha")
def config_sha(card: Annotated[Path, typer.Argument(help="An assistant's card (TOML).")]) -> None:
    """The SHA-256 of an assistant card's model table, to write as the sha256 of its rules table."""
    from lawful.casefiles.lexicon import config_sha256
    from lawful.limits import load_toml

    raw = load_toml(card, what="a model card (TOML)", dates=False)
    out.print(config_sha256(dict(raw.get("model") or {})), highlight=False)


@casefiles_app.command("corpus")
def corpus(to: Annotated[Path, typer.Option("--out", help="The JSONL file to write.")],
           cases: Annotated[int, typer.Option(help="How many cases.")] = 40,
           seed: Annotated[int, typer.Option(help="The generator's seed.")] = 0,
           style: Annotated[str, typer.Option(help="a (tuned on) or b (held out).")] = "a",
           labels: Annotated[bool, typer.Option("--labels", help="Write the labelled corpus (JSON) instead.")]
           = False) -> None:
    """Write a synthetic labelled corpus of statements (made up; for trying and measuring the assistant)."""
    from lawful.casefiles import corpus as gen

    if style not in ("a", "b"):
        raise InputError(f"--style {style!r} is not a or b", "use --style a or --style b")
    if not 1 <= cases <= 10_000:
        raise InputError(f"--cases {cases} is out of range", "give 1 to 10000")
    data = gen.generate(cases, seed=seed, style=style)
    to.write_text(json.dumps(data, indent=1) if labels else gen.to_jsonl(data), encoding="utf-8")
    out.print(f"wrote {to}: {len(data)} cases, {sum(len(c['stmts']) for c in data)} statements", highlight=False)

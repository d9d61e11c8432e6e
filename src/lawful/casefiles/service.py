"""Case files as people reach them through the server. One-transaction operations, `(session, *, actor, ...)`,
keyword-only; each decides access through `access.require` and writes its own trail entries.

Import reads statements (JSONL, CSV or plain text), replaces names, phone numbers, ID numbers, plates and e-mail
addresses by keyed pseudonyms (`privacy.pseudonyms`, the same key as incidents) and seals the originals under the
server's secrets key: they come back only through `reidentify` (casefiles.reidentify, for an investigation, on
the trail). Suggestions (fields, inconsistencies, similar cases) are outputs of kind "casefile" issued through the
gate by the registered assistant (`flows.analyse`); the case file holds only what a person accepted or amended.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import re
from datetime import date, datetime, timezone
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from lawful.access.decide import LEVELS, Resource, decide, load_policy, require
from lawful.access.service import Actor
from lawful.casefiles import analysis, extract, identify, lexicon
from lawful.casefiles.lexicon import config_sha256
from lawful.casefiles.models import Case, Identifier, Statement
from lawful.errors import Conflict, InputError, LawfulError, NotFound
from lawful.governance.models import Entry, Output
from lawful.settings import Settings
from lawful.trail import audit

PURPOSE = "investigation"
KIND = "casefile"  # the outputs' kind
ROLES = ("victim", "witness", "officer", "suspect")
MAX_FILE = 16 * 2**20
MAX_STATEMENTS = 20_000
MAX_TEXT = 200_000  # characters in one statement
REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
HEADER = re.compile(r"(?im)^(case|statement|role|date)\s*:\s*(.*)$")
FIELDS = ("case", "statement", "role", "date", "text")


# ---- reading statement files ----------------------------------------------------------------------------------------
def _check(row: dict, *, source: str, where: str) -> dict:
    def bad(field, value, why, fix):
        raise InputError(f"{source} {where}, field {field} ({str(value)[:60]!r}): {why}. Nothing was written.", fix)

    out = {}
    for f in ("case", "statement"):
        v = str(row.get(f) or "").strip()
        if not REF.fullmatch(v):
            bad(f, v, "missing or not a reference", f"give {f} as up to 100 letters, digits, '.', '_' or '-'")
        out[f] = v
    role = str(row.get("role") or "").strip().lower()
    if role not in ROLES:
        bad("role", role, "not a role", f"use one of {', '.join(ROLES)} (the speaker's role)")
    out["role"] = role
    d = str(row.get("date") or "").strip()
    try:
        out["date"] = date.fromisoformat(d[:10])
        if len(d) > 10 and d[10] not in "T ":
            raise ValueError
    except ValueError:
        bad("date", d, "not a date", "write the day the statement was given as YYYY-MM-DD")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        bad("text", text, "missing or empty", "give the statement's text")
    if len(text) > MAX_TEXT:
        bad("text", text[:40], f"{len(text):,} characters, above {MAX_TEXT:,}", "split the statement")
    out["text"] = text.replace("\r\n", "\n").strip()
    return out


def parse_file(name: str, data: bytes, *, defaults: dict | None = None) -> list[dict]:
    """Statements in one uploaded file. JSONL (one object a line) and CSV (a header naming case, statement, role,
    date, text) by extension or content; anything else is one plain-text statement whose case, statement, role and
    date come from header lines ("Case: CF-1") at its top or from `defaults`. Every problem names the file, the row
    (or line) and the field."""
    if len(data) > MAX_FILE:
        raise InputError(f"{name} is larger than {MAX_FILE >> 20} MB", "split it into several files")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start})", "save the file as UTF-8") from None
    if "\x00" in text:
        raise InputError(f"{name}: holds NUL characters, so it is not text", "send a text file (UTF-8)")
    if not text.strip():
        raise InputError(f"{name} is empty", "send a file with at least one statement")
    lower = name.lower()
    rows: list[dict] = []
    if lower.endswith((".jsonl", ".ndjson")) or (not lower.endswith((".csv", ".txt")) and text.lstrip()[:1] == "{"):
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                json.dumps(obj, ensure_ascii=False).encode()  # a lone surrogate ("\ud800") parses but is not text
            except (ValueError, RecursionError) as exc:
                why = getattr(exc, "msg", None) or ("nested too deeply" if isinstance(exc, RecursionError) else
                                                    "a lone surrogate escape is not a character")
                raise InputError(f"{name} line {n}: not JSON text ({why}). Nothing was written.",
                                 "write one JSON object per line with case, statement, role, date, text") from None
            if not isinstance(obj, dict):
                raise InputError(f"{name} line {n}: a JSON {type(obj).__name__}, not an object. Nothing was written.",
                                 "write one JSON object per line with case, statement, role, date, text")
            unknown = sorted(set(obj) - set(FIELDS))
            if unknown:
                raise InputError(f"{name} line {n}, field {unknown[0]}: not a statement field. Nothing was written.",
                                 f"use only {', '.join(FIELDS)}")
            rows.append(_check(obj, source=name, where=f"line {n}"))
            if len(rows) > MAX_STATEMENTS:
                raise InputError(f"{name}: more than {MAX_STATEMENTS:,} statements", "split the file")
    elif lower.endswith(".csv") or text.split("\n", 1)[0].replace(" ", "").lower().startswith("case,"):
        reader = csv.DictReader(io.StringIO(text))
        cols = [c.strip().lower() for c in (reader.fieldnames or [])]
        missing = [f for f in FIELDS if f not in cols]
        if missing:
            raise InputError(f"{name} row 1 (header), field {missing[0]}: missing. Nothing was written.",
                             f"the header must name {', '.join(FIELDS)}")
        try:
            for n, r in enumerate(reader, start=2):
                row = {(k or "").strip().lower(): v for k, v in r.items()}
                if None in r:
                    raise InputError(f"{name} row {n}: more values than the header names. Nothing was written.",
                                     "quote a text that holds commas: \"...\"")
                rows.append(_check(row, source=name, where=f"row {n}"))
                if len(rows) > MAX_STATEMENTS:
                    raise InputError(f"{name}: more than {MAX_STATEMENTS:,} statements", "split the file")
        except csv.Error as exc:
            raise InputError(f"{name}: not readable as CSV ({exc})", "save it as CSV with a header row") from None
    else:
        head = dict(defaults or {})
        body_start = 0
        for m in HEADER.finditer(text):
            if text[body_start:m.start()].strip():
                break
            head[m.group(1).lower()] = m.group(2).strip()
            body_start = m.end()
        head["text"] = text[body_start:]
        rows.append(_check(head, source=name, where="(plain text; header lines Case:, Statement:, Role:, Date:)"))
    if not rows:
        raise InputError(f"{name}: no statements", "send a file with at least one statement")
    return rows


# ---- import -----------------------------------------------------------------------------------------------------
def _seal(settings: Settings, forms: list[str]) -> str:
    from lawful.access.sealing import seal

    return seal(settings, json.dumps(sorted(set(forms)), ensure_ascii=False))


def _unseal(settings: Settings, sealed: str) -> list[str]:
    from lawful.access.sealing import unseal

    return json.loads(unseal(settings, sealed))


def _case(session: Session, ref: str) -> Case | None:
    return session.scalar(select(Case).where(Case.ref == ref))


def import_statements(session: Session, *, actor: Actor, files: list[tuple[str, bytes]], settings: Settings,
                      classification: str = "confidential", purpose: str = PURPOSE,
                      defaults: dict | None = None) -> dict:
    """Import statement files as one all-or-nothing step: parse and check every file first, then pseudonymise and
    store. A statement already imported with the same text is skipped; with another text it is refused."""
    from lawful.privacy.service import pseudonym_key

    if classification not in LEVELS:
        raise InputError(f"classification {classification!r} is not a level", f"use one of {', '.join(LEVELS)}")
    rows = []
    for name, data in files:
        rows += [(name, r) for r in parse_file(name, data, defaults=defaults)]
    by_case: dict[str, list[tuple[str, dict]]] = {}
    for name, r in rows:
        by_case.setdefault(r["case"], []).append((name, r))
    for ref in by_case:
        existing = _case(session, ref)
        require(actor, "casefiles.import", Resource("casefile", ref, existing.classification if existing else
                                                      classification), purpose)
    key = pseudonym_key(session, actor=actor, settings=settings)
    now = datetime.now(timezone.utc)
    # file names are stored and on the (append-only) trail: "statement of Jane Roe 416-555-0187.txt" is pseudonymised
    # like the text, or it could never be erased
    shown = {n: identify.pseudonymise(n, identify.detect(n), key)[0] for n in {n for n, _ in rows}}
    summary = {"cases": [], "statements": 0, "skipped": 0, "pseudonymised": {k: 0 for k in identify.KINDS}}
    for ref, items in by_case.items():
        case = _case(session, ref)
        if case is None:
            case = Case(ref=ref, classification=classification, created_by=actor.name, created_at=now)
            session.add(case)
            session.flush()
        seen = {s.ref: s for s in session.scalars(select(Statement).where(Statement.case_id == case.id))}
        fresh = []
        refs_here: set[str] = set()
        for name, r in items:
            sha = hashlib.sha256(r["text"].encode()).hexdigest()
            if r["statement"] in refs_here:
                raise Conflict(f"{name}: case {ref} statement {r['statement']} appears twice. Nothing was written.",
                               "give each statement of a case its own id")
            refs_here.add(r["statement"])
            old = seen.get(r["statement"])
            if old is not None:
                if old.sha256 != sha:
                    raise Conflict(f"{name}: case {ref} statement {r['statement']} was imported before with another "
                                   "text. Nothing was written.", "give the new statement its own id (e.g. S2a)")
                summary["skipped"] += 1
                continue
            fresh.append((name, r, sha))
        ids = {i.pseudonym: i for i in session.scalars(select(Identifier).where(Identifier.case_id == case.id))}
        known = [f for i in ids.values() if i.kind == "name" for f in _unseal(settings, i.sealed)]
        spans_all = identify.detect_case([r["text"] for _, r, _ in fresh], extra_names=known)
        forms: dict[str, tuple[str, list[str]]] = {}
        counts = {k: 0 for k in identify.KINDS}
        for (name, r, sha), spans in zip(fresh, spans_all):
            text, pairs = identify.pseudonymise(r["text"], spans, key)
            for sp, p in pairs:
                forms.setdefault(p, (sp.kind, []))[1].append(sp.text)
                counts[sp.kind] += 1
                summary["pseudonymised"][sp.kind] += 1
            session.add(Statement(case_id=case.id, ref=r["statement"], role=r["role"], stated_on=r["date"],
                                  text=text, sha256=sha, source=shown[name][:300], imported_by=actor.name,
                                  imported_at=now))
        for p, (kind, surface) in forms.items():
            if p in ids:
                ids[p].sealed = _seal(settings, _unseal(settings, ids[p].sealed) + surface)
            else:
                session.add(Identifier(case_id=case.id, kind=kind, pseudonym=p, sealed=_seal(settings, surface)))
        session.flush()
        summary["cases"].append({"case": ref, "classification": case.classification, "statements": len(fresh)})
        summary["statements"] += len(fresh)
        audit.append(session, actor=actor.name, action="collection", obj=f"casefile:{ref}", purpose=purpose,
                     details={"files": sorted({shown[n] for n, _ in items})[:20], "statements": len(fresh),
                              "sha256": [sha for _, _, sha in fresh][:200], "classification": case.classification,
                              "pseudonymised": counts})
    return summary


# ---- reading -------------------------------------------------------------------------------------------------------
def get_case(session: Session, *, actor: Actor, ref: str, action: str = "casefiles.read",
             purpose: str = PURPOSE) -> Case:
    case = _case(session, ref)
    if case is None:
        require(actor, action, Resource("casefile", ref), purpose)  # a refusal says nothing about existence
        raise NotFound(f"there is no case {ref}", "see `lawful casefiles list`")
    require(actor, action, Resource("casefile", ref, case.classification), purpose)
    return case


def statements_of(session: Session, case: Case) -> list[Statement]:
    return list(session.scalars(select(Statement).where(Statement.case_id == case.id)
                                .order_by(Statement.stated_on, Statement.id)))


def list_cases(session: Session, *, actor: Actor, purpose: str = PURPOSE) -> list[dict]:
    """The cases this person may read (clearance), with their statement counts."""
    require(actor, "casefiles.read", Resource("casefile", "all"), purpose)
    policy = load_policy()
    out = []
    for case in session.scalars(select(Case).order_by(Case.id)):
        if not decide(actor, "casefiles.read", Resource("casefile", case.ref, case.classification), purpose,
                      policy).allowed:
            continue
        n = len(statements_of(session, case))
        out.append({"case": case.ref, "classification": case.classification, "statements": n,
                    "created_by": case.created_by, "created_at": case.created_at.isoformat()})
    audit.append(session, actor=actor.name, action="consultation", obj="casefile:all", purpose=purpose,
                 details={"cases": len(out)})
    return out


def _outputs(session: Session, case: Case, status: str | None = None) -> list[tuple[Output, Entry]]:
    q = (select(Output, Entry).join(Entry, Output.entry_id == Entry.id)
         .where(Output.kind == KIND, Output.subject == f"case {case.ref}").order_by(Output.id))
    if status:
        q = q.where(Output.status == status)
    return list(session.execute(q).all())


def suggestion_view(out: Output, entry: Entry) -> dict:
    return {"id": out.id, "status": out.status, "model": entry.ref, "purpose": out.purpose,
            "issued_by": out.issued_by, "issued_at": out.issued_at.isoformat(), "sandbox": out.sandbox,
            "payload": out.payload, "explanation": out.explanation}


def show_case(session: Session, *, actor: Actor, ref: str, purpose: str = PURPOSE) -> dict:
    """The case: its statements (pseudonymised) and its case file, i.e. the suggestions a person accepted or
    amended (amended ones as amended), each with who decided and why."""
    from lawful.governance.models import Review

    case = get_case(session, actor=actor, ref=ref, purpose=purpose)
    stmts = statements_of(session, case)
    decided = []
    counts: dict[str, int] = {}
    for out, entry in _outputs(session, case):
        counts[out.status] = counts.get(out.status, 0) + 1
        if out.status in ("accepted", "amended"):
            rev = session.scalar(select(Review).where(Review.output_id == out.id))
            decided.append({"suggestion": out.id, "type": out.payload.get("type"), "status": out.status,
                            "content": rev.amendment if out.status == "amended" and rev else out.payload,
                            "decided_by": rev.reviewer if rev else None, "reason": rev.reason if rev else None,
                            "decided_at": rev.decided_at.isoformat() if rev else None})
    audit.append(session, actor=actor.name, action="consultation", obj=f"casefile:{case.ref}", purpose=purpose,
                 details={"statements": len(stmts)})
    return {"case": case.ref, "classification": case.classification,
            "statements": [{"statement": s.ref, "role": s.role, "date": s.stated_on.isoformat(), "text": s.text,
                            "source": s.source} for s in stmts],
            "case_file": decided, "suggestions": counts}


def suggestions(session: Session, *, actor: Actor, ref: str, status: str | None = None,
                purpose: str = PURPOSE) -> list[dict]:
    from lawful.governance.review import read_output

    case = get_case(session, actor=actor, ref=ref, purpose=purpose)
    out = []
    for o, e in _outputs(session, case, status):
        if o.sandbox:
            continue
        read_output(session, actor=actor, output_id=o.id)  # outputs.read for the output's purpose
        out.append(suggestion_view(o, e))
    audit.append(session, actor=actor.name, action="consultation", obj=f"casefile:{case.ref}", purpose=purpose,
                 details={"suggestions": len(out), "status": status})
    return out


# ---- the assistant and its suggestions -----------------------------------------------------------------------------
def assistant_config(entry: Entry) -> dict:
    """The approved settings of a case-file assistant entry: its card's [model] table, pinned by [rules] sha256, and
    naming the extractor version and gazetteers that run now (a changed gazetteer is a new registry version)."""
    table = dict(entry.card.get("model") or {})
    fix = "register the card in examples/governance/casefile-assistant.toml (`lawful casefiles config-sha CARD`)"
    if entry.kind != "rule-set" or table.get("assistant") != "casefile":
        raise LawfulError(f"{entry.ref} is not a case-file assistant", fix)
    if config_sha256(table) != (entry.card.get("rules") or {}).get("sha256", ""):
        raise LawfulError(f"{entry.ref}: its card's [rules] sha256 is not the SHA-256 of its [model] settings", fix)
    if table.get("extractor") != extract.VERSION or table.get("lexicon_sha256") != lexicon.lexicon_sha256():
        raise LawfulError(f"{entry.ref} was approved for extractor {table.get('extractor')} with gazetteers "
                          f"{str(table.get('lexicon_sha256'))[:12]}, but this server runs {extract.VERSION} with "
                          f"{lexicon.lexicon_sha256()[:12]}", "register and approve a new version of the card")
    w = table.get("text_weight", 0.3)
    if not isinstance(w, (int, float)) or not 0 <= w <= 1:
        raise LawfulError(f"{entry.ref}: text_weight {w!r} is not from 0 to 1", fix)
    return table


def check_analysis(session: Session, *, actor: Actor, ref: str, assistant: str, purpose: str) -> dict:
    """Before computing: the actor may analyse this case, the entry is an assistant the gate would let out."""
    from lawful.governance import gate
    from lawful.governance.registry import get

    case = get_case(session, actor=actor, ref=ref, action="casefiles.analyse", purpose=purpose)
    entry = get(session, ref=assistant)
    table = assistant_config(entry)
    why = gate.precheck(session, actor=actor, entry=entry, purpose=purpose, kind=KIND)
    audit.append(session, actor=actor.name, action="consultation", obj=f"casefile:{case.ref}", purpose=purpose,
                 details={"for": "case-file analysis", "assistant": entry.ref})
    return {"case": case.ref, "ref": entry.ref, "config": table, "refused": why}


def build_suggestions(session: Session, *, actor: Actor, context: dict, purpose: str) -> list[tuple[dict, list]]:
    """(payload, explanation) of every suggestion for a case (read-only): each statement's fields, the
    inconsistencies between its statements, and the most similar other cases this person may read."""
    cfg = context["config"]
    case = _case(session, context["case"])
    stmts = [{"statement": s.ref, "role": s.role, "text": s.text, "date": s.stated_on,
              "fields": fields_of(s.text, s.stated_on)} for s in statements_of(session, case)]
    out: list[tuple[dict, list]] = []
    for s in stmts:
        for f in s["fields"]:
            sentence = (f"{f['field']} from statement {s['statement']} ({s['role']}): \u201c{f['text']}\u201d, read "
                        f"as {_show_value(f)} (pattern confidence {f['confidence']:.2f})")
            if f["note"]:
                sentence += f"; {f['note']}"
            out.append(({"case": case.ref, "type": "field", "statement": s["statement"], "role": s["role"],
                         "field": f}, [{"sentence": sentence, "extractor": extract.VERSION}]))
    for finding in analysis.inconsistencies(stmts):
        out.append(({**{k: v for k, v in finding.items() if k != "type"}, "case": case.ref, "type": "inconsistency",
                     "difference": finding["type"]},
                    [{"sentence": finding["question"], "extractor": extract.VERSION}]))
    policy = load_policy()
    # Only cases classified no higher than this one: a link suggestion is read by everyone who may read this case,
    # so a link to a more closed case would show its reference and shared features to people cleared below it.
    others = {c.ref: c for c in session.scalars(select(Case).where(Case.id != case.id))
              if LEVELS.index(c.classification) <= LEVELS.index(case.classification)
              and decide(actor, "casefiles.read", Resource("casefile", c.ref, c.classification), purpose,
                         policy).allowed}
    latest = max((s["date"] for s in stmts), default=None)
    cases = {case.ref: {"statements": stmts}}
    for ref, c in others.items():
        ss = statements_of(session, c)
        if latest is not None and ss and min(s.stated_on for s in ss) > latest:
            continue  # only earlier cases
        cases[ref] = {"statements": [{"statement": s.ref, "role": s.role, "text": s.text,
                                      "fields": fields_of(s.text, s.stated_on)} for s in ss]}
    if len(cases) > 1:
        linker = analysis.Linker(text_weight=float(cfg.get("text_weight", 0.3))).fit(cases)
        for hit in linker.similar(case.ref, k=int(cfg.get("k", 5))):
            if hit["score"] < float(cfg.get("min_score", 0.15)):
                continue
            shared = ", ".join(hit["shared"][:8]) or "nothing structured; similar wording only"
            out.append(({**{k: v for k, v in hit.items() if k != "case"}, "case": case.ref, "type": "link",
                         "similar_case": hit["case"]},
                        [{"sentence": f"Case {hit['case']} is similar (score {hit['score']:.2f}: wording "
                                      f"{hit['text_similarity']:.2f}, features {hit['feature_similarity']:.2f}); "
                                      f"shared: {shared}.", "extractor": extract.VERSION}]))
    for payload, _ in out:
        payload.pop("date", None)
    return out


@lru_cache(maxsize=50_000)
def _extracted(text: str, stated: date) -> tuple[dict, ...]:
    """A statement's fields (pure, so cached by text and date: linkage reads every earlier case at each analysis)."""
    return tuple(f.as_dict() for f in extract.extract(text, stated))


def fields_of(text: str, stated: date) -> list[dict]:
    return copy.deepcopy(list(_extracted(text, stated)))


def _show_value(f: dict) -> str:
    v = f["value"]
    if f["field"] == "time":
        return f"{v['at']} (between {v['earliest']} and {v['latest']})"
    if f["field"] == "vehicle":
        return " ".join(str(v[k]) for k in ("colour", "make", "model", "type") if v.get(k)) + \
            (" with a plate (pseudonymised)" if v.get("plate") else "")
    if f["field"] == "place":
        return v.get("name") or " and ".join(v["streets"])
    if f["field"] == "item":
        return f"{v['item']} ({v['category']})"
    if f["field"] == "people":
        return f"{v['count']} people"
    return str(next(iter(v.values())))


def issue_suggestions(session: Session, *, actor: Actor, context: dict, suggestions_: list[tuple[dict, list]],
                      purpose: str) -> dict:
    """Issue through the gate every suggestion not already issued for this case (same content); each is a
    recommendation until a person decides it."""
    from lawful.governance import gate
    from lawful.governance.registry import get

    entry = get(session, ref=context["ref"])
    case = _case(session, context["case"])
    have = {gate.digest(o.payload, []) for o, _ in _outputs(session, case)}
    issued, refused = [], None
    for payload, explanation in suggestions_:
        if gate.digest(payload, []) in have:
            continue
        r = gate.issue(session, actor=actor, entry=entry, purpose=purpose, kind=KIND, subject=f"case {case.ref}",
                       payload=payload, explanation=explanation, classification=case.classification)
        if not r.allowed:
            refused = r.refused
            break
        issued.append(suggestion_view(r.output, entry))
    return {"case": case.ref, "issued": issued, "already_issued": len(suggestions_) - len(issued),
            "refused": refused}


def decide_suggestion(session: Session, *, actor: Actor, output_id: int, decision: str, reason: str,
                      amendment: dict | None = None) -> dict:
    """A person's decision on one suggestion (accepted, rejected or amended, with a reason): only accepted or
    amended ones enter the case file."""
    from lawful.governance import review

    out = session.get(Output, output_id)
    if out is None or out.kind != KIND:
        raise NotFound(f"there is no case-file suggestion {output_id}", "see `lawful casefiles suggestions CASE`")
    get_case(session, actor=actor, ref=out.payload["case"], purpose=out.purpose)
    rev = review.decide(session, actor=actor, output_id=output_id, decision=decision, reason=reason,
                        amendment=amendment)
    return {"suggestion": out.id, "case": out.payload["case"], "type": out.payload.get("type"),
            "status": out.status, "decided_by": rev.reviewer, "reason": rev.reason,
            "in_case_file": out.status in ("accepted", "amended")}


# ---- disclosure and re-identification ------------------------------------------------------------------------------
def disclosure(session: Session, *, actor: Actor, ref: str, purpose: str = PURPOSE) -> dict:
    """The case for disclosure: every statement with its personal data redacted, the same person "Person A"
    throughout, and the case file's accepted entries redacted the same way. The redaction log is on the trail."""
    case = get_case(session, actor=actor, ref=ref, action="casefiles.disclose", purpose=purpose)
    stmts = [{"statement": s.ref, "role": s.role, "date": s.stated_on.isoformat(), "text": s.text}
             for s in statements_of(session, case)]
    from lawful.governance.models import Review

    entries = [o for o, _ in _outputs(session, case) if o.status in ("accepted", "amended")]
    contents = []
    for o in entries:  # as the case file holds them: an amended entry as amended (what show_case shows)
        rev = session.scalar(select(Review).where(Review.output_id == o.id)) if o.status == "amended" else None
        contents.append(_withheld(rev.amendment) if rev is not None and rev.amendment is not None else o.payload)
    carried = [{"statement": f"case-file:{o.id}", "role": "", "text": json.dumps(c, ensure_ascii=False)}
               for o, c in zip(entries, contents)]
    redacted, log = analysis.redact(stmts + carried)
    counts: dict[str, int] = {}
    for e in log:
        counts[e["kind"]] = counts.get(e["kind"], 0) + e["occurrences"]
    audit.append(session, actor=actor.name, action="disclosure", obj=f"casefile:{case.ref}", purpose=purpose,
                 details={"what": "redacted case file", "statements": len(stmts), "redactions": counts,
                          "log": [{k: e[k] for k in ("label", "kind", "pseudonym", "occurrences", "statements")}
                                  for e in log]})
    return {"case": case.ref, "classification": case.classification,
            "statements": redacted[:len(stmts)],
            "case_file": [{"suggestion": o.id, "status": o.status, "content": json.loads(r["text"])}
                          for o, r in zip(entries, redacted[len(stmts):])],
            "redaction_log": [{k: e[k] for k in ("label", "kind", "occurrences", "statements")} for e in log]}


def _withheld(value):
    """An officer's amendment for disclosure: free text never pseudonymised at import, so every identifier found in
    it is withheld ("[name withheld]"); pseudonyms it quotes are labelled like the statements' (analysis.redact)."""
    if isinstance(value, str):
        out, last = [], 0
        for sp in identify.detect(value):
            out += [value[last:sp.start], f"[{sp.kind} withheld]"]
            last = sp.end
        return "".join(out) + value[last:]
    if isinstance(value, dict):
        return {k: _withheld(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_withheld(v) for v in value]
    return value


def reidentify(session: Session, *, actor: Actor, ref: str, pseudonym_: str, purpose: str,
               settings: Settings) -> dict:
    """The original forms of one pseudonym in a case: its own permission (casefiles.reidentify, for an
    investigation only), and on the trail each time (the pseudonym, never the original)."""
    case = get_case(session, actor=actor, ref=ref, action="casefiles.reidentify", purpose=purpose)
    ident = session.scalar(select(Identifier).where(Identifier.case_id == case.id,
                                                    Identifier.pseudonym == pseudonym_))
    audit.append(session, actor=actor.name, action="combination", obj=f"casefile:{case.ref}", purpose=purpose,
                 details={"what": "re-identification", "pseudonym": pseudonym_, "found": ident is not None})
    if ident is None:
        raise NotFound(f"case {case.ref} holds no pseudonym {pseudonym_}", "copy it from the statement's text, "
                       "e.g. psn:0123... inside [NAME psn:...]")
    return {"case": case.ref, "pseudonym": pseudonym_, "kind": ident.kind,
            "originals": _unseal(settings, ident.sealed)}

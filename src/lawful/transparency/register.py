"""The public register, generated from the registry on request, never written by hand.

For every registry entry that is, or has been, in use (active, sandbox, suspended or retired; never a draft that
never went further), one record with the fields of the UK Algorithmic Transparency Recording Standard: tier 1 (name,
description, purpose, contact, phase) and tier 2 (owner and responsible role, legal basis, how humans decide and
review, how to complain and appeal, data categories and sources, measured accuracy with its protocol, exposure by
area, impact assessment, risks and mitigations, suspension history), plus complaint counts and outcomes.

What is withheld is decided by the rules in WITHHELD, never by a person editing a page: the field is present with
the text "withheld: REASON", and the record's `withheld` list names each field and its reason. Staff names are
withheld everywhere (the responsible role is shown), and any registered person's name in published free text (a
suspension reason, an approval's reason) is replaced by "[staff]".

`build(session)` reads everything in the caller's (read-only) transaction; `public_register(store)` adds a small
cache keyed by what can change the register (the newest lifecycle move, the newest entry update, the complaints),
so suspending a model changes its public record on the very next request, while a burst of anonymous readers does
not recompute the monitoring figures each time.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lawful.csvsafe import cell
from lawful.governance import registry
from lawful.governance.card import FRIA_FIELDS
from lawful.governance.models import Entry, Output, StateChange
from lawful.governance.policy import Thresholds

PUBLIC_STATES = ("active", "sandbox", "suspended", "retired")
PHASES = {
    "active": "production: in use",
    "sandbox": "pilot: sandbox (shadow) mode, outputs are never shown to operations",
    "suspended": "suspended: produces nothing until approved again",
    "retired": "retired: no longer used",
    "approved": "approved, not yet in use",
    "submitted": "awaiting approval again (after a suspension); produces nothing meanwhile",
    "draft": "returned to its owner; produces nothing",
}
SCHEMA_PATH = Path(__file__).with_name("register.schema.json")
FORMAT = "lawful-register-v1"

# The withholding rules: (field, applies to, reason). Each is applied to every record; nothing else is withheld.
STAFF = "personal data: staff are not named in public; the responsible role is shown instead"
WITHHELD = (
    ("tier2.owner.name", "all", STAFF),
    ("tier2.approvals.approvers", "all", STAFF),
    ("tier2.outputs.places", "all", "operational security: which places or events a system flags now is not "
                                    "published, only how many outputs it issued and how people decided on them"),
    ("tier2.rules.conditions", "rule-set", "operational security: a rule's exact conditions would tell anyone how "
                                           "to avoid it; the SHA-256 of the approved rule file is published instead, "
                                           "so an oversight body shown the file can check it is the one in use"),
)


def withheld_text(reason: str) -> str:
    return f"withheld: {reason.split(':', 1)[0]}"


def agency() -> dict:
    """Who runs the systems and how to reach them (tier 1 contact): LAWFUL_AGENCY and LAWFUL_PUBLIC_CONTACT."""
    return {"organisation": os.environ.get("LAWFUL_AGENCY", "The agency running this Lawful server"),
            "contact": os.environ.get("LAWFUL_PUBLIC_CONTACT",
                                      "The data-protection officer, through the complaint form of this register "
                                      "(/public/complaints)")}


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


class Scrubber:
    """Replaces any registered person's name in published free text with "[staff]" (whole words only, in any case:
    user `dora` written as "Dora" is still a name)."""

    def __init__(self, names: list[str]):
        names = sorted({n for n in names if n}, key=len, reverse=True)
        self.pattern = re.compile(r"(?<![A-Za-z0-9._-])(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z0-9_-])",
                                  re.IGNORECASE) \
            if names else None

    def __call__(self, text: str | None) -> str:
        text = text or ""
        return self.pattern.sub("[staff]", text) if self.pattern else text


def staff_names(session: Session) -> list[str]:
    from lawful.access.service import get_all

    return [u.name for u in get_all(session)]


def is_public(entry: Entry, moves: list[StateChange]) -> bool:
    return entry.state in PUBLIC_STATES or any(m.to_state in PUBLIC_STATES for m in moves)


def _accuracy(entry: Entry, figures) -> dict:
    ev = entry.evaluation or {}
    m = entry.card.get("model") or {}
    records = [{"model": r["model"], "coverage": r["coverage"], "hit_rate": r["hit_rate"], "pai": r["pai"],
                "days": r["days"]} for r in ev.get("records", [])]
    if entry.kind == "forecast-model":
        protocol = (f"Rolling backtest before approval: each day, the model is fitted on the {m.get('window_days')} days "
                    f"before it and the top {float(m.get('top_share', 0.05)):.0%} of {m.get('cell_m')} m cells are "
                    f"flagged for {m.get('category')}; the hit rate is the share of that day's incidents inside "
                    "flagged cells, and PAI is the hit rate divided by the share of the area flagged (1 is chance).")
    else:
        protocol = ("Rule sets: the misjudgment rate is the share of alerts officers judged false alarms, from the "
                    "rule report attached before approval.")
    out = {"protocol": protocol, "records": records,
           "misjudgment_rate": ev.get("misjudgment_rate"),
           "monitored": {"window_days": 28, "decided_outputs": figures.decided if figures else 0,
                         "judged_wrong_share": figures.misjudgment if figures else None,
                         "realised_pai": figures.realised_pai if figures else None,
                         "realised_incidents": figures.realised_incidents if figures else 0,
                         "realised_hits": figures.realised_hits if figures else 0,
                         "explanation": "In use, over the last 28 days: the share of decided outputs that reviewers "
                                        "rejected, and (forecasts) of the incidents that happened, the share inside "
                                        "flagged places divided by the share of the area flagged."}}
    primary = next((r for r in records if r["model"] == m.get("estimator")
                    and abs(r["coverage"] - float(m.get("top_share", 0.05))) < 1e-9), None)
    out["headline"] = primary
    return out


def _exposure(entry: Entry) -> dict | None:
    ex = entry.exposure
    if not ex:
        return None
    areas = []
    for a in ex.get("areas") or []:
        if not isinstance(a, dict) or "area" not in a:
            continue
        areas.append({"area": str(a.get("area"))[:200],
                      "flagged_share": _num(a.get("flagged_share")), "incident_share": _num(a.get("incident_share")),
                      "disparity": _num(a.get("disparity"))})
    return {"model": ex.get("model"), "coverage": ex.get("coverage"), "days": ex.get("days"),
            "misplaced": ex.get("misplaced"), "areas": areas,
            "explanation": "For the policy 'attend the flagged cells', each area's share of the attention against its "
                           "share of the incidents; misplaced is half the sum of the differences (0: attention "
                           "follows crime exactly). Disparity above 1: an area gets more attention than its crime."}


def _num(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf") \
        else None


def record(entry: Entry, *, approvals: list, moves: list[StateChange], figures, outputs: dict, complaints: dict,
           scrub: Scrubber) -> dict:
    """One public record (pure: everything it needs is passed in)."""
    c = entry.card
    td = c.get("training_data") or {}
    fria = entry.fria or {}
    kind = entry.kind
    rules = None
    if kind == "rule-set":
        rules = {"sha256": (c.get("rules") or {}).get("sha256"), "conditions": withheld_text(WITHHELD[3][2])}
    model = {k: v for k, v in (c.get("model") or {}).items() if k in ("estimator", "category", "window_days",
                                                                       "cell_m", "top_share")}
    history = [{"from": m.from_state, "to": m.to_state, "at": _iso(m.at),
                "by": "the automatic circuit breaker" if m.automatic else "a member of staff",
                "reason": scrub(m.reason)} for m in moves]
    tier2 = {
        "owner": {"role": "model owner", "name": withheld_text(STAFF)},
        "responsible_role": "the review board approves; any approver or the data-protection officer can suspend",
        "kind": kind, "risk_tier": entry.tier, "output_about": c.get("output"),
        "legal_basis": list(c.get("legal_basis") or []),
        "purposes": list(c.get("purposes") or []),
        "intended_users": list(c.get("intended_users") or []),
        "scenarios": list(c.get("scenarios") or []),
        "human_decision": list(c.get("oversight") or []),
        "how_to_complain": ("Anyone can complain about this system, or appeal a decision that followed one of its "
                            "outputs, with the form at /public/complaints (no account needed); you get a reference "
                            "and a secret code to follow it. " + str(fria.get("complaints", ""))).strip(),
        "data_categories": list(c.get("data_categories") or []),
        "data_sources": {"source": str(td.get("source", "")), "window": str(td.get("window", "")),
                         "size": str(td.get("size", ""))},
        "techniques": list(c.get("techniques") or []),
        "model": model or None,
        "rules": rules,
        "accuracy": _accuracy(entry, figures),
        "exposure": _exposure(entry),
        "impact_assessment": [{"section": label, "text": str(fria.get(k, "")).strip() or "not given"}
                              for k, label in FRIA_FIELDS.items()],
        "risks_and_mitigations": {"limitations": list(c.get("limitations") or []),
                                  "risks": str(fria.get("risks", "")).strip() or None,
                                  "mitigations": [s for s in (str(fria.get("oversight_measures", "")).strip(),
                                                              str(fria.get("materialisation_response", "")).strip())
                                                  if s]},
        "approvals": {"required": registry.required_approvals(entry),
                      "approvers": withheld_text(STAFF),
                      "given": [{"role": "approver", "mode": a.mode, "at": _iso(a.created_at),
                                 "purposes": list(a.purposes), "areas": list(a.areas) or ["the whole jurisdiction"],
                                 "expires": _iso(a.expires_at), "reason": scrub(a.reason), "round": a.round}
                                for a in approvals]},
        "outputs": {**outputs, "places": withheld_text(WITHHELD[2][2])},
        "suspension_history": [h for h in history if h["to"] == "suspended" or h["from"] == "suspended"],
        "lifecycle": history,
        "next_review": c.get("next_review"),
        "complaints": complaints,
    }
    withheld = [{"field": f, "reason": f"withheld: {why}"} for f, applies, why in WITHHELD
                if applies == "all" or applies == kind]
    return {
        "id": entry.ref, "name": entry.name, "version": entry.version, "state": entry.state,
        "updated_at": _iso(entry.updated_at),
        "tier1": {"name": entry.name, "description": str(c.get("description") or c.get("purpose")),
                  "purpose": c.get("purpose"), "contact": agency()["contact"], "organisation": agency()["organisation"],
                  "phase": PHASES.get(entry.state, entry.state)},
        "tier2": tier2,
        "withheld": withheld,
    }


def complaint_counts(session: Session, *, as_of: datetime | None = None) -> dict[str, dict]:
    """Per system name: complaints and appeals received, open, overdue, and their outcomes (as they stood at
    `as_of`, default now)."""
    from lawful.transparency.models import Complaint

    now = as_of or datetime.now(timezone.utc)
    out: dict[str, dict] = {}
    for system, status, outcome, deadline, kind, received, resolved in session.execute(
            select(Complaint.system, Complaint.status, Complaint.outcome, Complaint.deadline, Complaint.kind,
                   Complaint.received_at, Complaint.resolved_at)):
        if not system or received >= now:
            continue
        if resolved is not None and resolved >= now:
            status = "open then"
        d = out.setdefault(system, empty_counts())
        d["received"] += 1
        d["appeals"] += kind == "appeal"
        if status != "resolved":
            d["open"] += 1
            d["overdue"] += deadline < now
        elif outcome in d["outcomes"]:
            d["outcomes"][outcome] += 1
    return out


def empty_counts() -> dict:
    return {"received": 0, "appeals": 0, "open": 0, "overdue": 0,
            "outcomes": {"upheld": 0, "partly-upheld": 0, "not-upheld": 0}}


def _output_counts(session: Session, entry: Entry, as_of: datetime | None = None) -> dict:
    q = select(Output.sandbox, Output.status, func.count()).where(Output.entry_id == entry.id)
    if as_of is not None:
        q = q.where(Output.issued_at < as_of)
    rows = session.execute(q.group_by(Output.sandbox, Output.status)).all()
    issued = sum(n for sandbox, _, n in rows if not sandbox)
    decided = {s: n for sandbox, s, n in rows if not sandbox and s != "open"}
    return {"issued": issued, "sandbox": sum(n for sandbox, _, n in rows if sandbox),
            "decided": {k: decided.get(k, 0) for k in sorted(decided)}, "waiting": sum(
                n for sandbox, s, n in rows if not sandbox and s == "open")}


class AsOf:
    """An entry as it stood at a past moment: its state and last change then (everything else is as registered:
    a card and its attachments change only while a draft)."""

    def __init__(self, entry: Entry, moves: list[StateChange]):
        self._entry = entry
        self.state = moves[-1].to_state if moves else "draft"
        self.updated_at = moves[-1].at if moves else entry.created_at

    def __getattr__(self, name):
        return getattr(self._entry, name)


def build(session: Session, *, thresholds: Thresholds | None = None, with_figures: bool = True,
          as_of: datetime | None = None) -> dict:
    """The whole register as the public sees it now, or (as_of) as it stood at that moment, without the
    monitoring figures, which are computed only for now."""
    from lawful.governance.monitor import figures as monitor_figures

    thresholds = thresholds or Thresholds.from_env()
    moves_by: dict[int, list[StateChange]] = {}
    for m in registry.get_state_changes(session):
        if as_of is None or m.at < as_of:
            moves_by.setdefault(m.entry_id, []).append(m)
    scrub = Scrubber(staff_names(session))
    counts = complaint_counts(session, as_of=as_of)
    records = []
    for entry in registry.get_all(session):
        moves = moves_by.get(entry.id, [])
        if as_of is not None:
            if entry.created_at >= as_of:
                continue
            entry = AsOf(entry, moves)
        if not is_public(entry, moves):
            continue
        figs = None
        if with_figures and as_of is None and entry.state != "retired":
            figs = monitor_figures(session, entry=entry, thresholds=thresholds)
        approvals = [a for a in registry.get_approvals(session, entry=entry, current_round=False)
                     if as_of is None or a.created_at < as_of]
        records.append(record(entry, approvals=approvals, moves=moves, figures=figs,
                              outputs=_output_counts(session, entry, as_of),
                              complaints=counts.get(entry.name, empty_counts()), scrub=scrub))
    return {"format": FORMAT, "generated_at": (as_of or datetime.now(timezone.utc)).isoformat(), **agency(),
            "standard": "UK Algorithmic Transparency Recording Standard, tiers 1 and 2",
            "withholding_rules": [{"field": f, "applies_to": a, "reason": f"withheld: {why}"} for f, a, why in WITHHELD],
            "records": records}


def changes(session: Session) -> list[dict]:
    """The register's changes, newest first: every lifecycle move of an entry in the register (reasons scrubbed)."""
    scrub = Scrubber(staff_names(session))
    moves_by: dict[int, list[StateChange]] = {}
    for m in registry.get_state_changes(session):
        moves_by.setdefault(m.entry_id, []).append(m)
    out = []
    for entry in registry.get_all(session):
        moves = moves_by.get(entry.id, [])
        if not is_public(entry, moves):
            continue
        for m in moves:
            out.append({"id": m.id, "ref": entry.ref, "name": entry.name, "from": m.from_state, "to": m.to_state,
                        "at": m.at, "automatic": m.automatic, "reason": scrub(m.reason)})
    return sorted(out, key=lambda c: c["id"], reverse=True)


# ---- what changes the register, and the cache keyed by it -------------------------------------------------------
def version_key(session: Session) -> tuple:
    from lawful.transparency.models import Complaint

    return (session.scalar(select(func.max(StateChange.id))), session.scalar(select(func.max(Entry.updated_at))),
            session.scalar(select(func.count(Entry.id))), session.scalar(select(func.count(Output.id))),
            session.scalar(select(func.max(Complaint.updated_at))), session.scalar(select(func.count(Complaint.id))))


CACHE_SECONDS = 300.0  # the monitoring figures move with time, too: recomputed at least this often
_cache: dict[str, tuple[tuple, float, dict]] = {}
_lock = threading.Lock()


def public_register(store) -> dict:
    """build(), cached per store while nothing that changes it has changed (and for at most CACHE_SECONDS)."""
    with store.transaction(readonly=True) as session:
        key = version_key(session)
        url = str(store.engine.url)
        with _lock:
            hit = _cache.get(url)
        if hit and hit[0] == key and time.monotonic() - hit[1] < CACHE_SECONDS:
            return hit[2]
        result = build(session)
    with _lock:
        _cache[url] = (key, time.monotonic(), result)
    return result


def public_changes(store) -> list[dict]:
    with store.transaction(readonly=True) as session:
        return changes(session)


# ---- downloads --------------------------------------------------------------------------------------------------
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


CSV_COLUMNS = ("id", "name", "version", "state", "phase", "purpose", "organisation", "contact", "risk_tier", "kind",
               "legal_basis", "data_categories", "data_source", "headline_coverage", "headline_hit_rate",
               "headline_pai", "realised_pai_28d", "judged_wrong_share_28d", "exposure_misplaced",
               "outputs_issued", "complaints_received", "complaints_open", "complaints_upheld", "suspensions",
               "withheld_fields")


def to_csv(register: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in register["records"]:
        t1, t2 = r["tier1"], r["tier2"]
        head = t2["accuracy"]["headline"] or {}
        mon = t2["accuracy"]["monitored"]
        ex = t2["exposure"] or {}
        w.writerow([cell(v) for v in (
            r["id"], r["name"], r["version"], r["state"], t1["phase"], t1["purpose"], t1["organisation"],
            t1["contact"], t2["risk_tier"], t2["kind"], "; ".join(t2["legal_basis"]),
            "; ".join(t2["data_categories"]), t2["data_sources"]["source"], head.get("coverage"),
            head.get("hit_rate"), head.get("pai"), mon["realised_pai"], mon["judged_wrong_share"], ex.get("misplaced"),
            t2["outputs"]["issued"], t2["complaints"]["received"], t2["complaints"]["open"],
            t2["complaints"]["outcomes"]["upheld"], sum(h["to"] == "suspended" for h in t2["suspension_history"]),
            "; ".join(w_["field"] for w_ in r["withheld"]))])
    return buf.getvalue()


def atom(changes_: list[dict], *, base: str, updated: datetime | None = None) -> str:
    """An Atom 1.0 feed of the register's changes (RFC 4287)."""
    updated = updated or (changes_[0]["at"] if changes_ else datetime.now(timezone.utc))
    org = agency()["organisation"]
    parts = ['<?xml version="1.0" encoding="utf-8"?>', '<feed xmlns="http://www.w3.org/2005/Atom">',
             f"<title>{escape(org)}: changes to the algorithmic transparency register</title>",
             f'<id>{escape(base)}/public/feed.atom</id>', f"<updated>{updated.isoformat()}</updated>",
             f'<link rel="self" href="{escape(base)}/public/feed.atom"/>',
             f'<link rel="alternate" href="{escape(base)}/public/"/>', f"<author><name>{escape(org)}</name></author>"]
    for ch in changes_[:200]:
        who = "the automatic circuit breaker" if ch["automatic"] else "a member of staff"
        title = f"{ch['ref']}: {ch['from']} -> {ch['to']}"
        summary = f"{title}, by {who}: {ch['reason']}"
        parts += ["<entry>", f"<title>{escape(title)}</title>",
                  f"<id>{escape(base)}/public/changes/{ch['id']}</id>", f"<updated>{ch['at'].isoformat()}</updated>",
                  f'<link href="{escape(base)}/public/systems/{escape(ch["name"])}"/>',
                  f"<summary>{escape(summary)}</summary>", "</entry>"]
    parts.append("</feed>")
    return "\n".join(parts) + "\n"

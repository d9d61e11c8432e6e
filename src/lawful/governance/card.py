"""Model cards: read from TOML, checked field by field, refused when they describe what Lawful does not do,
rendered as Markdown and HTML. Pure: no database."""

from __future__ import annotations

import html
import re
import tomllib
from datetime import date
from pathlib import Path

from lawful.errors import InputError

KINDS = ("forecast-model", "rule-set")
TIERS = ("low", "medium", "high")
OUTPUTS = ("places", "events", "documents")  # what an output is about; never individual people
FRIA_FIELDS = {
    "process_and_frequency": "the process the system is used in, and how often it runs",
    "affected_groups": "the people and groups likely to be affected",
    "risks": "the specific risks of harm to them",
    "oversight_measures": "the human oversight measures",
    "materialisation_response": "what is done when a risk materialises",
    "complaints": "how complaints are handled",
}
# BRIEF.md, "Not built, on purpose": declared techniques that make an entry unregistrable.
PROHIBITED = {
    "biometric identification": "identifies people biometrically (facial recognition matching)",
    "facial recognition": "identifies people biometrically (facial recognition matching)",
    "person scoring": "scores or ranks individual people by predicted criminality",
    "emotion recognition": "scores emotions, which has no scientific validity for this use",
    "credibility scoring": "scores the credibility of statements, which has no scientific validity",
    "political opinion monitoring": "monitors or filters political opinion",
}
REFUSAL_WHY = ("Lawful does not build this, on purpose: these are the practices the research behind Lawful names as "
               "the source of rights violations, and most are prohibited for law enforcement under the EU AI Act "
               "(Art. 5).")

REQUIRED_TEXT = ("name", "owner", "purpose")
REQUIRED_LISTS = ("purposes", "legal_basis", "intended_users", "scenarios", "data_categories", "limitations",
                  "oversight")


def load_card(path: Path) -> dict:
    """Read and check a card file; every problem names the field and the fix."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file", "give the path to a model card TOML file "
                         "(see examples/governance/demo-forecaster.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})", "fix the syntax at that line and column") from None
    return check_card(raw, str(path))


def check_card(raw: dict, where: str = "card") -> dict:
    def bad(field: str, problem: str, fix: str):
        raise InputError(f"{where}, field {field}: {problem}", fix)

    output = raw.get("output")
    if output in ("people", "persons", "individuals"):
        refuse(f"its output is about individual people ({output!r}): it would score or list people")
    for t in raw.get("techniques", []):
        why = PROHIBITED.get(str(t).strip().lower())
        if why:
            refuse(f"it {why} (techniques: {t!r})")
    for f in REQUIRED_TEXT:
        if not isinstance(raw.get(f), str) or not raw[f].strip():
            bad(f, "missing or empty", f"give {f} as a non-empty string")
    for f in REQUIRED_LISTS:
        v = raw.get(f)
        if not isinstance(v, list) or not v or not all(isinstance(x, str) and x.strip() for x in v):
            bad(f, "missing or empty", f"give {f} as a list of one or more non-empty strings")
    if raw.get("kind") not in KINDS:
        bad("kind", f"{raw.get('kind')!r} is not a kind", f"use one of {', '.join(KINDS)}")
    if raw.get("tier") not in TIERS:
        bad("tier", f"{raw.get('tier')!r} is not a risk tier",
            "use low (drafting, documents), medium (video, text analytics) or high (incident analysis, crime prediction)")
    if output not in OUTPUTS:
        bad("output", f"{output!r} is not an output type", f"use one of {', '.join(OUTPUTS)}")
    try:
        date.fromisoformat(str(raw.get("next_review")))
    except ValueError:
        bad("next_review", f"{raw.get('next_review')!r} is not a date", "give the next review date as YYYY-MM-DD")
    td = raw.get("training_data")
    if not isinstance(td, dict) or not all(str(td.get(k, "")).strip() for k in ("source", "window", "size")):
        bad("training_data", "source, window and size are required", "add a [training_data] table with all three")
    if raw["kind"] == "forecast-model":
        m = raw.get("model")
        if not isinstance(m, dict) or not all(k in m for k in ("estimator", "category", "window_days", "cell_m")):
            bad("model", "estimator, category, window_days and cell_m are required for a forecast model",
                "add a [model] table naming what the gate runs, e.g. estimator = \"features\"")
    if raw["kind"] == "rule-set":
        r = raw.get("rules")
        if not isinstance(r, dict) or not re.fullmatch(r"[0-9a-f]{64}", str(r.get("sha256", ""))):
            bad("rules", "a rule set's card needs [rules] sha256 = the SHA-256 of the approved rule file",
                "run `lawful rules check FILE`, which prints it, and add [rules] sha256 = \"...\"")
    card = dict(raw)
    card["next_review"] = str(raw["next_review"])
    if "version" in card and (not isinstance(card["version"], int) or card["version"] < 1):
        bad("version", f"{card['version']!r} is not a version", "give a whole number from 1, or leave it out")
    return card


def refuse(why: str):
    raise InputError(f"This entry cannot be registered: {why}. {REFUSAL_WHY}",
                     "Lawful forecasts places and times and explains rules; it will not take this entry")


def fria_missing(fria: dict | None) -> list[str]:
    """The impact-assessment sections still empty."""
    fria = fria or {}
    return [f for f in FRIA_FIELDS if not str(fria.get(f, "")).strip()]


# ---- rendering ---------------------------------------------------------------------------------------------------
def sections(entry) -> list[tuple[str, list[str] | str]]:
    c = entry.card
    td = c["training_data"]
    out: list[tuple[str, list[str] | str]] = [
        ("Purpose", c["purpose"]),
        ("Purposes it may be approved for", c["purposes"]),
        ("Legal basis", c["legal_basis"]),
        ("Risk tier", f"{entry.tier} ({c['kind']}); output about {c['output']}"),
        ("Owner", entry.owner),
        ("Intended users", c["intended_users"]),
        ("Scenarios", c["scenarios"]),
        ("Data categories used", c["data_categories"]),
        ("Training data", [f"source: {td['source']}", f"window: {td['window']}", f"size: {td['size']}"]),
    ]
    if c.get("model"):
        out.append(("What runs", [f"{k}: {v}" for k, v in c["model"].items()]))
    out.append(("Evaluation results", _evaluation_lines(entry.evaluation)))
    out.append(("Exposure audit", _exposure_lines(entry.exposure)))
    out += [("Limitations", c["limitations"]), ("Human oversight", c["oversight"])]
    missing = fria_missing(entry.fria)
    out.append(("Fundamental-rights impact assessment",
                [f"{FRIA_FIELDS[k]}: {entry.fria[k]}" for k in FRIA_FIELDS if k not in missing]
                + [f"MISSING: {FRIA_FIELDS[k]}" for k in missing]))
    out += [("Lifecycle", f"{entry.state}" + (f" ({entry.state_reason})" if entry.state_reason else "")),
            ("Next review", c["next_review"])]
    return out


def _evaluation_lines(ev: dict | None) -> list[str]:
    if not ev:
        return ["none attached"]
    lines = [f"from {ev.get('source', '?')}"]
    for r in ev.get("records", []):
        lines.append(f"{r['model']} at {r['coverage']:.0%} of cells: hit rate {r['hit_rate']:.1%}, PAI {r['pai']:.2f}"
                     f" over {r['days']} days")
    return lines


def _exposure_lines(ex: dict | None) -> list[str]:
    if not ex:
        return ["none attached"]
    return [f"from {ex.get('source', '?')}",
            f"misplaced attention {ex['misplaced']:.1%} (policy: top {ex['coverage']:.0%} of cells by {ex['model']}, "
            f"{ex['days']} days)"]


def markdown(entry) -> str:
    lines = [f"# Model card: {entry.name}, version {entry.version}", ""]
    for title, body in sections(entry):
        lines.append(f"## {title}")
        lines += [f"- {b}" for b in body] if isinstance(body, list) else [body]
        lines.append("")
    return "\n".join(lines)


def html_page(entry) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Model card: {e(entry.name)} "
             f"v{entry.version}</title><style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;"
             f"line-height:1.5;padding:0 1rem}}h2{{border-bottom:1px solid #ccc;font-size:1.1rem}}</style></head><body>",
             f"<h1>Model card: {e(entry.name)}, version {entry.version}</h1>"]
    for title, body in sections(entry):
        parts.append(f"<h2>{e(title)}</h2>")
        if isinstance(body, list):
            parts.append("<ul>" + "".join(f"<li>{e(b)}</li>" for b in body) + "</ul>")
        else:
            parts.append(f"<p>{e(body)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)

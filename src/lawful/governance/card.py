"""Model cards: read from TOML, checked field by field, refused when they describe what Lawful does not do,
rendered as Markdown and HTML. Pure: no database."""

from __future__ import annotations

import html
import math
import re
import unicodedata
from datetime import date, datetime
from pathlib import Path

from lawful.errors import InputError
from lawful.limits import check_tree, load_toml

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
# BRIEF.md, "Not built, on purpose": declared techniques (or purposes) that make an entry unregistrable, however they
# are spelled. Each phrase is compared after normalising (case, accents, hyphens/underscores/punctuation, plurals) as
# a run of whole words inside the declared text, so "Face-Recognition matching" and "person_scores" are caught.
_BIOMETRIC = "identifies people biometrically (facial recognition matching)"
_SCORING = "scores or ranks individual people by predicted criminality"
_EMOTION = "scores emotions, which has no scientific validity for this use"
_CREDIBILITY = "scores the credibility of statements, which has no scientific validity"
_POLITICAL = "monitors or filters political opinion"
PROHIBITED = {
    **dict.fromkeys([
        "biometric identification", "biometric recognition", "biometric matching", "biometric categorisation",
        "biometric categorization", "facial recognition", "face recognition", "facial matching", "face matching",
        "facial identification", "face identification", "face search", "facial search", "faceprint",
        "gait recognition", "gait identification", "iris recognition", "voice identification", "voiceprint",
        "voice recognition", "remote biometric"], _BIOMETRIC),
    **dict.fromkeys([
        "person scoring", "person score", "people scoring", "people score", "individual scoring", "individual score",
        "individual risk scoring", "individual risk score", "offender scoring", "offender score", "suspect scoring",
        "suspect score", "citizen scoring", "social scoring", "person ranking", "people ranking", "suspect ranking",
        "offender ranking", "criminality prediction", "predicted criminality", "predict criminality",
        "recidivism prediction", "recidivism score", "heat list", "strategic subject list", "risk of offending",
        "person based prediction", "person based predictive"], _SCORING),
    **dict.fromkeys([
        "emotion recognition", "emotion detection", "emotion analysis", "emotion scoring", "affect recognition",
        "affect detection", "micro expression", "microexpression", "emotion", "emotional state",
        "sentiment analysis", "sentiment scoring", "voice stress"], _EMOTION),
    **dict.fromkeys([
        "credibility scoring", "credibility score", "credibility assessment", "lie detection", "deception detection",
        "truthfulness scoring", "truthfulness score", "veracity assessment", "veracity scoring", "credibility",
        "deception", "truthfulness", "veracity", "lie detector", "polygraph"], _CREDIBILITY),
    **dict.fromkeys([
        "political opinion monitoring", "political opinion", "political monitoring", "political profiling",
        "protest monitoring", "protester monitoring", "activist monitoring", "activist tracking",
        "opinion monitoring", "opinion filtering"], _POLITICAL),
}
REFUSAL_WHY = ("Lawful does not build this, on purpose: these are the practices the research behind Lawful names as "
               "the source of rights violations, and most are prohibited for law enforcement under the EU AI Act "
               "(Art. 5).")

REQUIRED_TEXT = ("name", "owner", "purpose")
REQUIRED_LISTS = ("purposes", "legal_basis", "intended_users", "scenarios", "data_categories", "limitations",
                  "oversight")
CARD_KEYS = {*REQUIRED_TEXT, *REQUIRED_LISTS, "kind", "tier", "output", "techniques", "next_review", "training_data",
             "model", "rules", "version", "fria", "description"}
MAX_TEXT = 4000  # characters in one card field
MAX_ITEMS = 200  # entries in one card list
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalise(text: str) -> str:
    """Lower case, no accents, words only, singular: 'Face-Recognition_Systems' -> 'face recognition system'."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return " ".join(_singular(w) for w in re.split(r"[^a-z0-9]+", text) if w)


_PHRASES = {normalise(k): v for k, v in PROHIBITED.items()}


def prohibited(text: str) -> str | None:
    """Why a declared technique or purpose is something Lawful does not build (None: it is not)."""
    padded = f" {normalise(text)} "
    squashed = padded.replace(" ", "")
    for phrase, why in _PHRASES.items():
        if f" {phrase} " in padded or phrase.replace(" ", "") in squashed and len(phrase) > 10:
            return why
    return None


def load_card(path: Path) -> dict:
    """Read and check a card file; every problem names the field and the fix."""
    raw = load_toml(path, what="a model card (TOML)", dates=False,
                    fix="give the path to a model card TOML file (see examples/governance/demo-forecaster.toml)")
    return check_card(raw, str(path))


def _finite(v, low: float | None = None, high: float | None = None, *, above: float | None = None) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            and (low is None or v >= low) and (high is None or v <= high) and (above is None or v > above))


def check_card(raw: dict, where: str = "card") -> dict:
    def bad(field: str, problem: str, fix: str):
        raise InputError(f"{where}, field {field}: {problem}", fix)

    if not isinstance(raw, dict):
        raise InputError(f"{where}: a model card is a TOML table of fields", "see examples/governance/")
    output = raw.get("output")
    if normalise(str(output)) in ("people", "person", "individual", "suspect", "offender", "citizen"):
        refuse(f"its output is about individual people ({output!r}): it would score or list people", where)
    techniques = raw.get("techniques", [])
    for field in ("techniques", "purposes"):  # refuse what is prohibited before complaining about its spelling
        value = raw.get(field, [])
        for t in ([value] if isinstance(value, str) else value if isinstance(value, list) else []):
            why = prohibited(str(t))
            if why:
                refuse(f"it {why} ({field}: {t!r})", where)
    model = raw.get("model")  # what runs: its settings may not switch a prohibited technique on either
    for k, v in (model.items() if isinstance(model, dict) else ()):
        for t in ([v] if isinstance(v, str) else v if isinstance(v, list) else []):
            why = prohibited(f"{k}: {t}") or prohibited(str(k))
            if why:
                refuse(f"it {why} (model.{k}: {t!r})", where)
    if not isinstance(techniques, list) or not all(isinstance(t, str) and t.strip() for t in techniques):
        bad("techniques", f"expected a list of strings, got {_show(techniques)}",
            'write techniques = ["gradient-boosted trees", "..."]')
    unknown = sorted(set(map(str, raw)) - CARD_KEYS)
    if unknown:
        bad(unknown[0], "not a model-card field", f"use only {', '.join(sorted(CARD_KEYS))}")
    for f in REQUIRED_TEXT:
        if not isinstance(raw.get(f), str) or not raw[f].strip():
            bad(f, "missing or empty" if f not in raw else f"expected text, got {_show(raw[f])}",
                f"give {f} as a non-empty string")
        if len(raw[f]) > MAX_TEXT:
            bad(f, f"{len(raw[f]):,} characters, above the limit of {MAX_TEXT:,}", "shorten it")
    for f in ("name", "owner"):
        if not NAME.fullmatch(raw[f]):
            bad(f, f"{_show(raw[f])} is not a name", "use up to 100 letters, digits, '.', '_' or '-', no spaces")
    for f in REQUIRED_LISTS + ("techniques",):
        v = raw.get(f, [] if f == "techniques" else None)
        if not isinstance(v, list) or (not v and f != "techniques") \
                or not all(isinstance(x, str) and x.strip() for x in v):
            bad(f, "missing or empty" if v is None or v == [] else f"expected a list of non-empty strings, got "
                f"{_show(v)}", f"give {f} as a list of one or more non-empty strings, e.g. {f} = [\"...\"]")
        if len(v) > MAX_ITEMS or any(len(x) > MAX_TEXT for x in v):
            bad(f, f"too long (at most {MAX_ITEMS} entries of {MAX_TEXT:,} characters)", "shorten it")
    if raw.get("kind") not in KINDS:
        bad("kind", f"{_show(raw.get('kind'))} is not a kind", f"use one of {', '.join(KINDS)}")
    if raw.get("tier") not in TIERS:
        bad("tier", f"{_show(raw.get('tier'))} is not a risk tier",
            "use low (drafting, documents), medium (video, text analytics) or high (incident analysis, crime prediction)")
    elif raw.get("kind") == "forecast-model" and raw.get("tier") != "high":
        # crime prediction is high risk whoever fills in the card (the tier decides evaluation, impact assessment and
        # two approvers): a forecast model declared medium or low skipped them
        bad("tier", f"a forecast model is tier high (crime prediction), not {_show(raw.get('tier'))}",
            'write tier = "high"')
    if output not in OUTPUTS:
        bad("output", f"{_show(output)} is not an output type", f"use one of {', '.join(OUTPUTS)}")
    review = raw.get("next_review")
    if isinstance(review, date) and not isinstance(review, datetime):
        review = review.isoformat()
    try:
        if not isinstance(review, str):
            raise ValueError
        date.fromisoformat(review)
    except ValueError:
        bad("next_review", f"{_show(raw.get('next_review'))} is not a date", "give the next review date as YYYY-MM-DD")
    rest = {k: v for k, v in raw.items() if k != "next_review"}
    check_tree(rest, where)  # no other dates, no huge or non-finite numbers anywhere
    td = raw.get("training_data")
    if not isinstance(td, dict) or not all(isinstance(td.get(k), (str, int)) and not isinstance(td.get(k), bool)
                                           and str(td.get(k)).strip() for k in ("source", "window", "size")):
        bad("training_data", "source, window and size are required (as text)",
            "add a [training_data] table with all three")
    if set(td) - {"source", "window", "size", "notes"}:
        bad(f"training_data.{sorted(set(td) - {'source', 'window', 'size', 'notes'})[0]}", "not a training_data field",
            "use source, window, size (and notes)")
    if raw["kind"] == "forecast-model":
        m = raw.get("model")
        if not isinstance(m, dict) or not all(k in m for k in ("estimator", "category", "window_days", "cell_m")):
            bad("model", "estimator, category, window_days and cell_m are required for a forecast model",
                "add a [model] table naming what the gate runs, e.g. estimator = \"features\"")
        from lawful.forecast.models import MODELS

        if m["estimator"] not in MODELS:
            bad("model.estimator", f"{_show(m['estimator'])} is not an estimator", f"use one of {', '.join(MODELS)}")
        if not isinstance(m["category"], str) or not m["category"].strip():
            bad("model.category", f"expected the incident category as text, got {_show(m['category'])}",
                'write category = "Break and Enter"')
        for k, lo, hi in (("window_days", 1, 36500), ("cell_m", 10, 100_000)):
            if not _finite(m[k], lo, hi):
                bad(f"model.{k}", f"{_show(m[k])} is not a number from {lo} to {hi:,}", f"give {k} as a number")
        if "top_share" in m and not _finite(m["top_share"], high=1, above=0):
            bad("model.top_share", f"{_show(m['top_share'])} is not a share above 0 and at most 1", "e.g. 0.05")
    if raw["kind"] == "rule-set":
        r = raw.get("rules")
        if not isinstance(r, dict) or not isinstance(r.get("sha256"), str) \
                or not re.fullmatch(r"[0-9a-f]{64}", r["sha256"]):
            bad("rules", "a rule set's card needs [rules] sha256 = the SHA-256 of the approved rule file",
                "run `lawful rules check FILE`, which prints it, and add [rules] sha256 = \"...\"")
    if "fria" in raw:
        check_fria(raw["fria"], f"{where}, field fria")
    card = dict(raw)
    card["next_review"] = review
    if "version" in card and (not isinstance(card["version"], int) or isinstance(card["version"], bool)
                              or not 1 <= card["version"] <= 1_000_000):
        bad("version", f"{_show(card['version'])} is not a version", "give a whole number from 1, or leave it out")
    return card


def _show(value) -> str:
    """A value as a user wrote it, shortened, with its type when that is the problem."""
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return text if isinstance(value, str) else f"{text} ({type(value).__name__})"


def check_fria(fria, where: str = "impact assessment") -> dict:
    """An impact assessment: a table of the FRIA sections, each text."""
    if not isinstance(fria, dict):
        raise InputError(f"{where}: expected a table of sections, got {_show(fria)}",
                         f"write the sections {', '.join(FRIA_FIELDS)} as text")
    unknown = sorted(set(fria) - set(FRIA_FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown impact-assessment section(s): {', '.join(unknown)}",
                         f"use {', '.join(FRIA_FIELDS)}")
    for k, v in fria.items():
        if not isinstance(v, str):
            raise InputError(f"{where}, section {k}: expected text, got {_show(v)}", f'write {k} = "..."')
        if len(v) > 4 * MAX_TEXT:
            raise InputError(f"{where}, section {k}: {len(v):,} characters, above the limit of {4 * MAX_TEXT:,}",
                             "shorten it")
    return fria


RECORD_NUMBERS = {"coverage": (0.0, 1.0), "hit_rate": (0.0, 1.0), "pai": (0.0, None)}


def _number(value, where: str, low: float | None, high: float | None, *, required: bool = True):
    if value is None and not required:
        return None
    if not _finite(value, low, high):
        span = f"from {low:g}" + (f" to {high:g}" if high is not None else "")
        raise InputError(f"{where}: {_show(value)} is not a finite number {span}",
                         "attach the JSON as Lawful wrote it (`lawful forecast backtest --json` or "
                         "`lawful forecast audit --json`)")
    return float(value)


def check_evaluation(ev, where: str = "evaluation") -> dict:
    """Evaluation results: {"source", "records": [backtest records]} and/or {"misjudgment_rate"} for a rule set.
    Every figure the gate or the card uses must be a finite number; optional figures that are not are dropped."""
    if not isinstance(ev, dict):
        raise InputError(f"{where}: expected an object, got {_show(ev)}", "attach backtest or rule-report JSON")
    if "records" not in ev and "misjudgment_rate" not in ev:
        raise InputError(f"{where}: no results (neither records nor misjudgment_rate)",
                         "attach the JSON of `lawful forecast backtest --json`, or a rule report with "
                         "misjudgment_rate")
    out = {"source": str(ev.get("source", ""))[:500]}
    if "misjudgment_rate" in ev:
        out["misjudgment_rate"] = _number(ev["misjudgment_rate"], f"{where}, misjudgment_rate", 0.0, 1.0)
    if "records" in ev:
        records = ev["records"]
        if not isinstance(records, list) or not records or len(records) > 10_000:
            raise InputError(f"{where}, records: expected a list of 1 to 10,000 backtest records, got "
                             f"{_show(records)}", "attach the JSON of `lawful forecast backtest --json`")
        out["records"] = []
        for i, r in enumerate(records):
            at = f"{where}, record {i + 1}"
            if not isinstance(r, dict):
                raise InputError(f"{at}: expected an object, got {_show(r)}", "each record is one model at one coverage")
            missing = [k for k in ("model", "coverage", "hit_rate", "pai", "days") if k not in r]
            if missing:
                raise InputError(f"{at}: missing {', '.join(missing)}",
                                 "each record needs model, coverage, hit_rate, pai and days")
            if not isinstance(r["model"], str) or not r["model"].strip():
                raise InputError(f"{at}, model: expected the model's name, got {_show(r['model'])}", "e.g. \"features\"")
            rec = {"model": r["model"][:100]}
            for k, (lo, hi) in RECORD_NUMBERS.items():
                rec[k] = _number(r[k], f"{at}, {k}", lo, hi)
            if rec["coverage"] == 0:
                raise InputError(f"{at}, coverage: 0 is not a coverage", "a coverage is a share above 0")
            if not isinstance(r["days"], int) or isinstance(r["days"], bool) or not 1 <= r["days"] <= 100_000:
                raise InputError(f"{at}, days: {_show(r['days'])} is not a whole number of days from 1",
                                 "attach the JSON as Lawful wrote it")
            rec["days"] = r["days"]
            for k, v in r.items():  # other figures: kept when finite, dropped (not stored as NaN) otherwise
                if k not in rec and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    rec[str(k)[:50]] = v
            out["records"].append(rec)
    return out


def check_exposure(ex, where: str = "exposure audit") -> dict:
    """An exposure audit: model, coverage, days and misplaced (the share of attention in the wrong areas)."""
    if not isinstance(ex, dict):
        raise InputError(f"{where}: expected an object, got {_show(ex)}", "attach `lawful forecast audit --json`")
    missing = [k for k in ("model", "coverage", "days", "misplaced") if k not in ex]
    if missing:
        raise InputError(f"{where}: missing {', '.join(missing)}",
                         "attach the JSON of `lawful forecast audit --json` (model, coverage, days, misplaced)")
    if not isinstance(ex["model"], str) or not ex["model"].strip():
        raise InputError(f"{where}, model: expected the model's name, got {_show(ex['model'])}", "e.g. \"features\"")
    out = {"source": str(ex.get("source", ""))[:500], "model": ex["model"][:100],
           "coverage": _number(ex["coverage"], f"{where}, coverage", 0.0, 1.0),
           "misplaced": _number(ex["misplaced"], f"{where}, misplaced", 0.0, 1.0)}
    if out["coverage"] == 0:
        raise InputError(f"{where}, coverage: 0 is not a coverage", "a coverage is a share above 0")
    if not isinstance(ex["days"], int) or isinstance(ex["days"], bool) or not 1 <= ex["days"] <= 100_000:
        raise InputError(f"{where}, days: {_show(ex['days'])} is not a whole number of days from 1",
                         "attach the JSON as Lawful wrote it")
    out["days"] = ex["days"]
    if isinstance(ex.get("areas"), list):
        out["areas"] = ex["areas"][:10_000]
    return out


def load_fria(path: Path) -> dict:
    fria = load_toml(path, what="an impact assessment (TOML)",
                     fix="give the path to an impact assessment TOML (see examples/governance/demo-forecaster-fria.toml)")
    return check_fria(fria, str(path))


def refuse(why: str, where: str | None = None):
    raise InputError(f"{where + ': this' if where else 'This'} entry cannot be registered: {why}. {REFUSAL_WHY}",
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

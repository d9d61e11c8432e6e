"""What the assistant suggests over structured statements: inconsistencies between statements of one case,
similar earlier cases by modus operandi, and the redaction of a case for disclosure. Pure: dictionaries and numpy
(scikit-learn's TF-IDF, already a dependency of the forecasts), no database.

A finding says what two passages say and how sure the extraction was; it never says who is right, and never says
that anyone lies: it is a question for the officer."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from lawful.casefiles import lexicon as lx
from lawful.casefiles.identify import MARKER

TYPES = ("time", "place", "vehicle_colour", "vehicle_make", "people_count", "weapon")
TIME_TOLERANCE_MIN = 30  # two intervals closer than this are not called inconsistent


def _first(fields: list[dict], kind: str, pred=lambda f: True) -> dict | None:
    return next((f for f in fields if f["field"] == kind and pred(f)), None)


def summary(fields: list[dict]) -> dict:
    """The facts of one statement the comparisons use: the first stated time of the event, the first place, the
    first described vehicle, the first count of people and the weapons named."""
    return {
        "time": _first(fields, "time", lambda f: f["value"]["uncertainty_min"] <= 240
                       and f["value"].get("event", True)),
        "place": _first(fields, "place", lambda f: f["value"]["type"] in ("address", "intersection", "street")),
        "landmark": _first(fields, "place", lambda f: f["value"]["type"] == "landmark"),
        "vehicle": _first(fields, "vehicle", lambda f: bool(f["value"]["colour"] or f["value"]["make"])),
        "people": _first(fields, "people"),
        "weapons": [f for f in fields if f["field"] == "item" and f["value"]["category"] == "weapon"],
    }


def _base(street: str) -> str:
    words = street.split()
    return " ".join(words[:-1]) if len(words) > 1 and words[-1] in set(lx.STREET_SUFFIX.values()) else street


def _family(colour: str) -> str:
    return lx.COLOUR_FAMILY.get(colour, colour)


def _finding(kind: str, a: dict, b: dict, fa: dict, fb: dict, differs: str, confidence: float) -> dict:
    def who(s):
        return f"statement {s['statement']} ({s['role']})"

    return {
        "type": kind, "statements": [a["statement"], b["statement"]],
        "passages": [{"statement": a["statement"], "role": a["role"], "quote": fa["text"], "start": fa["start"],
                      "end": fa["end"]},
                     {"statement": b["statement"], "role": b["role"], "quote": fb["text"], "start": fb["start"],
                      "end": fb["end"]}],
        "differs": differs, "confidence": round(confidence, 2),
        "question": f"{who(a)} says \u201c{fa['text']}\u201d; {who(b)} says \u201c{fb['text']}\u201d. {differs} "
                    "Worth clarifying with both; this is a difference between accounts, not a finding about anyone.",
    }


def compare(a: dict, b: dict) -> list[dict]:
    """Findings between two statements (each {statement, role, fields})."""
    sa, sb = summary(a["fields"]), summary(b["fields"])
    out = []
    ta, tb = sa["time"], sb["time"]
    if ta and tb:
        ea, la = (datetime.fromisoformat(ta["value"][k]) for k in ("earliest", "latest"))
        eb, lb = (datetime.fromisoformat(tb["value"][k]) for k in ("earliest", "latest"))
        if not (ta["value"].get("date_stated", True) and tb["value"].get("date_stated", True)):
            # one account gives no day: compare the clock only, the day it was taken to be may be wrong
            shift = round(((ea - eb).total_seconds() / 86400))
            eb, lb = eb + timedelta(days=shift), lb + timedelta(days=shift)
        gap = max((eb - la).total_seconds(), (ea - lb).total_seconds()) / 60
        if gap > TIME_TOLERANCE_MIN:
            conf = min(ta["confidence"], tb["confidence"]) * (0.6 + 0.4 * min(1.0, gap / 180))
            out.append(_finding("time", a, b, ta, tb, f"The two times cannot both hold: they are at least "
                                f"{gap / 60:.1f} h apart, beyond what either account leaves open.", conf))
    pa, pb = sa["place"], sb["place"]
    if pa and pb:
        streets_a, streets_b = set(pa["value"]["streets"]), set(pb["value"]["streets"])
        base_a, base_b = {_base(x) for x in streets_a}, {_base(x) for x in streets_b}  # "Dundas" is Dundas Street
        la_, lb_ = sa["landmark"], sb["landmark"]
        same_landmark = la_ and lb_ and la_["value"]["name"] == lb_["value"]["name"]
        if streets_a and streets_b and not base_a & base_b and not same_landmark:
            out.append(_finding("place", a, b, pa, pb, f"Different places for the event: "
                                f"{', '.join(sorted(streets_a))} against {', '.join(sorted(streets_b))}.",
                                min(pa["confidence"], pb["confidence"]) * 0.85))
    va, vb = sa["vehicle"], sb["vehicle"]
    if va and vb:
        ca, cb = va["value"]["colour"], vb["value"]["colour"]
        if ca and cb and _family(ca) != _family(cb):
            out.append(_finding("vehicle_colour", a, b, va, vb, f"The vehicle's colour differs: {ca} against {cb}.",
                                min(va["confidence"], vb["confidence"]) * 0.9))
        ma, mb = va["value"]["make"], vb["value"]["make"]
        if ma and mb and ma != mb:
            out.append(_finding("vehicle_make", a, b, va, vb, f"The vehicle's make differs: {ma} against {mb}.",
                                min(va["confidence"], vb["confidence"]) * 0.9))
    na, nb = sa["people"], sb["people"]
    if na and nb and na["value"]["count"] != nb["value"]["count"]:
        out.append(_finding("people_count", a, b, na, nb, f"A different number of people: {na['value']['count']} "
                            f"against {nb['value']['count']}.", min(na["confidence"], nb["confidence"]) * 0.85))
    wa = {w["value"]["item"] for w in sa["weapons"]}
    wb = {w["value"]["item"] for w in sb["weapons"]}
    if wa and wb and not wa & wb:
        out.append(_finding("weapon", a, b, sa["weapons"][0], sb["weapons"][0], f"A different weapon: "
                            f"{', '.join(sorted(wa))} against {', '.join(sorted(wb))}.",
                            min(sa["weapons"][0]["confidence"], sb["weapons"][0]["confidence"]) * 0.8))
    return out


def inconsistencies(statements: list[dict]) -> list[dict]:
    """Findings between every pair of statements of one case, most certain first."""
    out = []
    for i, a in enumerate(statements):
        for b in statements[i + 1:]:
            out += compare(a, b)
    return sorted(out, key=lambda f: (-f["confidence"], f["type"], f["statements"]))


# ---- similar cases -------------------------------------------------------------------------------------------------
def _band(hour: int) -> str:
    return "night" if hour >= 22 or hour < 6 else "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"


def features(statements: list[dict]) -> set[str]:
    """A case's modus-operandi features from all its statements' fields."""
    f: set[str] = set()
    for s in statements:
        for x in s["fields"]:
            v = x["value"]
            if x["field"] == "premises":
                f.add(f"premises:{v['premises']}")
            elif x["field"] == "entry":
                f.add(f"entry:{v['method']}")
            elif x["field"] == "item":
                f.add(f"{v['category']}:{v['item']}")
            elif x["field"] == "vehicle":
                for k in ("colour", "make", "type"):
                    if v.get(k):
                        f.add(f"vehicle {k}:{v[k].lower()}")
                if v.get("plate"):
                    f.add(f"plate:{v['plate']}")
            elif x["field"] == "place":
                for st in v["streets"]:
                    f.add(f"street:{st}")
                if v["type"] == "landmark":
                    f.add(f"landmark:{v['name']}")
            elif x["field"] == "people":
                f.add(f"people:{min(v['count'], 4)}")
            elif x["field"] == "time" and x["value"]["uncertainty_min"] <= 240:
                f.add(f"time of day:{_band(datetime.fromisoformat(v['at']).hour)}")
    return f


def case_text(statements: list[dict]) -> str:
    """The statements' text without pseudonyms (they would make every case look like itself only)."""
    return " ".join(MARKER.sub(" ", s["text"]) for s in statements)


class Linker:
    """Similar cases by modus operandi: TF-IDF cosine over the narratives plus an IDF-weighted Jaccard over the
    structured features; the shared features are the explanation. `text_weight` 0 is the structured features
    alone, 1 the text alone."""

    def __init__(self, text_weight: float = 0.3):
        self.text_weight = text_weight

    def fit(self, cases: dict[str, dict]) -> "Linker":
        """cases: id -> {"statements": [...]} (each statement with text and fields)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.ids = list(cases)
        self.features = {c: features(cases[c]["statements"]) for c in self.ids}
        n = len(self.ids)
        df: dict[str, int] = {}
        for fs in self.features.values():
            for x in fs:
                df[x] = df.get(x, 0) + 1
        self.weight = {x: math.log((n + 1) / (d + 0.5)) for x, d in df.items()}
        texts = [re.sub(r"\d+", " ", case_text(cases[c]["statements"])) for c in self.ids]
        self.vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2), min_df=1)
        self.tfidf = self.vec.fit_transform(texts) if n else None
        return self

    def similar(self, case: str, k: int = 5, among: set[str] | None = None) -> list[dict]:
        i = self.ids.index(case)
        cos = (self.tfidf @ self.tfidf[i].T).toarray().ravel() if self.tfidf is not None else None
        fa = self.features[case]
        out = []
        for j, other in enumerate(self.ids):
            if other == case or (among is not None and other not in among):
                continue
            fb = self.features[other]
            shared = fa & fb
            union = fa | fb
            jac = sum(self.weight.get(x, 0) for x in shared) / (sum(self.weight.get(x, 0) for x in union) or 1)
            score = self.text_weight * float(cos[j]) + (1 - self.text_weight) * jac
            out.append({"case": other, "score": round(score, 4), "text_similarity": round(float(cos[j]), 4),
                        "feature_similarity": round(jac, 4),
                        "shared": sorted(shared, key=lambda x: (-self.weight.get(x, 0), x))})
        return sorted(out, key=lambda r: (-r["score"], r["case"]))[:k]


# ---- redaction -----------------------------------------------------------------------------------------------------
LABELS = {"name": "Person", "phone": "phone", "id": "ID number", "plate": "plate", "email": "e-mail",
          "identifier": "identifier"}
_BARE = re.compile(r"psn:[0-9a-f]{32}")  # a pseudonym outside a [KIND psn:...] marker: a plate field, a link


def _letters(n: int) -> str:
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def case_label(kind: str, n: int) -> str:
    """The n-th (from 0) label of a kind in a disclosure: "Person A", "[phone 1]"."""
    return f"Person {_letters(n)}" if kind == "name" else f"[{LABELS[kind]} {n + 1}]"


class Labeller:
    """Replaces every pseudonym in the texts it is given by a label of this one document, the same for the same
    pseudonym throughout: markers first (they name the kind), then any pseudonym left bare (kind "identifier"). A
    pseudonym is the same in every case and every export, so it would link people across them. `keep`: pseudonyms
    left as they are (a requester's own); `label(kind, n)`: the label of the n-th (from 0) of a kind. `entries`: the
    log, per pseudonym (label, kind, occurrences, the statements it was in)."""

    def __init__(self, label=case_label, keep: frozenset[str] | set[str] = frozenset()):
        self.label, self.keep = label, keep
        self.entries: dict[str, dict] = {}
        self._counters: dict[str, int] = {}

    def __call__(self, text: str, statement: str | None = None) -> str:
        def repl(m):
            kind, p = (m.group(1).lower(), m.group(2)) if m.lastindex else ("identifier", m.group())
            if p in self.keep:
                return m.group()
            e = self.entries.get(p)
            if e is None:
                n = self._counters.get(kind, 0)
                self._counters[kind] = n + 1
                e = self.entries[p] = {"label": self.label(kind, n), "kind": kind, "pseudonym": p, "occurrences": 0,
                                       "statements": []}
            e["occurrences"] += 1
            if statement is not None and statement not in e["statements"]:
                e["statements"].append(statement)
            return e["label"]

        return _BARE.sub(repl, MARKER.sub(repl, text))


def redact(statements: list[dict]) -> tuple[list[dict], list[dict]]:
    """Statements ({statement, role, text}) with every pseudonym replaced by a label that is the same for the same
    person or number across the whole case ("Person A", "[phone 1]"), and the redaction log."""
    labeller = Labeller()
    out = [{**s, "text": labeller(s["text"], s["statement"])} for s in statements]
    return out, list(labeller.entries.values())

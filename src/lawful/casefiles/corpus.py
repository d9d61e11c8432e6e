"""A labelled evaluation corpus of synthetic statements: realistic narratives with their true fields, the true spans
of every personal identifier, planted inconsistencies between statements of one case, and planted case series
(cases by one modus operandi). Two styles of writing: "a" (what the extractor was tuned on) and "b" (other
templates, other names, other phrasing; held out), so the benchmark can say how it does on narratives it has not
seen. `python -m lawful.casefiles.corpus --cases 40 --seed 1 --style b > cases.jsonl` writes an importable file.

Everything here is made up; no name, number or plate belongs to anyone."""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

NAMES = {
    "a": (["Maria", "James", "Aisha", "Daniel", "Priya", "Kevin", "Sofia", "Omar", "Emily", "Wei", "Grace", "Lucas",
           "Fatima", "Ryan", "Hannah", "Tariq", "Chloe", "Marcus", "Nadia", "Ethan"],
          ["Lopez", "Okafor", "Singh", "Chen", "Kowalski", "MacDonald", "Haddad", "Nguyen", "Patel", "O'Brien",
           "Rossi", "Silva", "Ibrahim", "Wong", "Murphy", "Kim", "Novak", "Tremblay", "Ahmed", "Fischer"]),
    "b": (["Beatriz", "Tomasz", "Ngozi", "Hamid", "Lena", "Yusuf", "Ingrid", "Mateo", "Keiko", "Dmitri", "Abena",
           "Rafael", "Svetlana", "Kwame", "Ines", "Joaquin", "Mei", "Anders", "Zainab", "Luca"],
          ["Delacroix", "Abernathy", "Oyelaran", "Van Der Berg", "Przybylski", "Castellanos", "Mbeki", "Lindqvist",
           "Yamamoto", "Fitzgerald", "Achterberg", "Szabo", "Olawale", "Moreau", "Kaczmarek", "Ferreira",
           "Bergstrom", "Nakamura", "Eriksen", "Gallagher"]),
}
STREETS = {
    "a": ["Birch Avenue", "Maple Street", "Oakwood Drive", "Queen Street West", "Dundas Street", "Elm Road",
          "Cedar Lane", "Harbour Street", "Pine Crescent", "Victoria Park Avenue", "Lakeshore Boulevard",
          "Willow Court"],
    "b": ["Greenfield Road", "Ashdale Avenue", "Riverside Drive", "Sherbourne Street", "Kingsway Crescent",
          "Fairview Boulevard", "Thorncliffe Park Drive", "Bellamy Road", "Lawrence Avenue", "Ossington Avenue",
          "Rosedale Valley Road", "Main Street"],
}
LANDMARKS = {"a": ["Union Station", "Eaton Centre", "High Park", "Fairview Mall"],
             "b": ["Kennedy Station", "Scarborough Town Centre", "Riverdale Park", "Yorkdale Mall"]}
VEHICLES = [("Honda", "Civic"), ("Toyota", "Corolla"), ("Ford", "F-150"), ("Nissan", "Altima"), ("Hyundai", "Elantra"),
            ("Toyota", "RAV4"), ("Mazda", "CX-5"), ("Chevrolet", "Silverado"), ("Volkswagen", "Jetta"),
            ("Dodge", "Caravan"), ("Kia", "Sportage"), ("Jeep", "Wrangler")]
COLOURS = ["black", "white", "silver", "red", "blue", "grey", "green", "dark blue"]
WEAPONS = ["knife", "handgun", "baseball bat", "crowbar", "hammer"]
WEAPON_CANON = {"knife": "knife", "handgun": "gun", "baseball bat": "bat", "crowbar": "crowbar", "hammer": "hammer"}
PROPERTY = ["laptop", "wallet", "phone", "jewellery", "cash", "passport", "bicycle", "tablet", "watch", "handbag",
            "camera", "power tools", "games console"]
PROPERTY_CANON = {"handbag": "purse", "power tools": "tools"}
CRIMES = {  # kind -> (premises, entry methods, whether there is a weapon)
    "burglary": (["house", "apartment", "garage"], ["forced door", "broken window", "pried open", "unlocked"], False),
    "robbery": (["store", "parking lot", "street"], ["armed threat", "snatch"], True),
    "vehicle theft": (["driveway", "parking lot"], ["keyless relay", "broken window"], False),
    "assault": (["bar", "street", "parking lot"], ["physical force"], True),
}
ENTRY_TEXT = {
    "a": {"forced door": "they forced the back door", "broken window": "they smashed the kitchen window",
          "pried open": "the door had been pried open", "unlocked": "the side door was unlocked",
          "armed threat": "one of them pulled out a {weapon} and threatened me",
          "snatch": "one of them grabbed my bag from my shoulder", "keyless relay": "they used a key fob relay device",
          "physical force": "he punched me twice"},
    "b": {"forced door": "somebody had forced the lock on the front door",
          "broken window": "the rear window was smashed", "pried open": "they jimmied the patio door",
          "unlocked": "I had left the garage door open", "armed threat": "he brandished a {weapon} at the clerk",
          "snatch": "the taller one ripped the purse out of her hands", "keyless relay": "they held a signal booster "
          "near the house", "physical force": "the man shoved him to the ground"},
}
NUMBER_WORD = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


@dataclass
class Text:
    """A statement being written: its text, the true identifier spans and the true fields it mentions."""

    parts: list[str] = field(default_factory=list)
    spans: list[dict] = field(default_factory=list)
    fields: dict = field(default_factory=lambda: {"time": [], "place": [], "vehicle": [], "item": [], "people": [],
                                                  "entry": [], "premises": []})

    def add(self, s: str) -> "Text":
        self.parts.append(s)
        return self

    def ident(self, kind: str, s: str) -> "Text":
        start = len("".join(self.parts))
        self.parts.append(s)
        self.spans.append({"kind": kind, "start": start, "end": start + len(s), "text": s})
        return self

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _plate(rng: random.Random) -> str:
    L = "ABCDEFGHJKLMNPRSTVWXYZ"
    if rng.random() < 0.6:
        return "".join(rng.choice(L) for _ in range(4)) + " " + "".join(rng.choice("0123456789") for _ in range(3))
    return "".join(rng.choice(L) for _ in range(3)) + "-" + "".join(rng.choice("0123456789") for _ in range(3))


def _phone(rng: random.Random) -> str:
    area = rng.choice(["416", "647", "437", "905"])
    n = f"555-{rng.randint(100, 199):04d}"
    return rng.choice([f"{area}-{n}", f"({area}) {n}", f"{area} {n.replace('-', ' ')}", f"+1 {area} {n}",
                       f"{area}.{n.replace('-', '.')}", f"{area}{n.replace('-', '')}"])


def _id(rng: random.Random) -> tuple[str, str]:
    d = lambda k: "".join(rng.choice("0123456789") for _ in range(k))  # noqa: E731
    return rng.choice([
        ("driver's licence number is", f"{rng.choice('ABCDKLMSW')}{d(4)}-{d(5)}-{d(5)}"),
        ("health card number is", f"{d(4)}-{d(3)}-{d(3)}-{rng.choice(['AB', 'KL', 'XY'])}"),
        ("passport number is", f"{rng.choice(['AB', 'GA', 'HK'])}{d(6)}"),
    ])


def _time_phrase(rng: random.Random, when: datetime, stated: date, style: str) -> str:
    """How a person says when it happened, relative to the day they speak."""
    days = (stated - when.date()).days
    h, m = when.hour, when.minute
    h12 = h % 12 or 12
    ampm = "p.m." if h >= 12 else "a.m."
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine",
             10: "ten", 11: "eleven", 12: "twelve"}
    if days == 0:
        day = rng.choice(["earlier today", "today"])
    elif days == 1 and h >= 19:
        day = "last night"
    elif days == 1:
        day = "yesterday"
    elif days <= 6 and rng.random() < 0.6:
        day = f"on {when:%A}"
    else:
        day = f"on {when.day} {when:%B}" if style == "a" else f"on {when:%B} {when.day}"
    if m == 0 and rng.random() < 0.5 and day == "last night":
        return rng.choice([f"around {words[h12]} {day}", f"{day} at about {words[h12]}"])
    clock = rng.choice([f"{h:02d}:{m:02d}", f"{h12}:{m:02d} {ampm}"]) if style == "a" else \
        rng.choice([f"{h12}:{m:02d} {ampm}", f"{h12}:{m:02d}{ampm.replace('.', '')}", f"{h:02d}:{m:02d} hrs",
                    f"{h:02d}{m:02d} hrs", f"{h12}.{m:02d}{ampm.replace('.', '')}"])
    if style == "b" and m in (15, 30, 45) and rng.random() < 0.4:
        part = "in the morning" if h < 12 else "in the afternoon" if h < 18 else "in the evening" if h < 22 else \
            "at night"
        frac = {15: "quarter past", 30: "half past", 45: "quarter to"}[m]
        hour = words[h12] if m != 45 else words[(h12 % 12) + 1]
        if not (h < 5 or (h >= 22 and part == "at night")):
            return f"{day} at {frac} {hour} {part}" if day != "last night" else f"at {frac} {hour} {day}"
    qual = rng.choice(["at ", "at about ", "around ", "at approximately "])
    return f"{day} {qual}{clock}" if rng.random() < 0.5 else f"{qual}{clock} {day}"


@dataclass
class Event:
    kind: str
    premises: str
    entry: str
    weapon: str | None
    items: list[str]
    vehicle: tuple[str, str, str] | None  # colour, make, model
    plate: str
    people: int
    street: str
    number: int
    landmark: str | None
    when: datetime


def _event(rng: random.Random, style: str, base: Event | None = None, start: date = date(2025, 1, 1)) -> Event:
    if base is not None:  # one of a series: same modus operandi, another day and house on nearby streets
        when = datetime.combine(start + timedelta(days=rng.randint(0, 500)), datetime.min.time()).replace(
            hour=max(0, min(23, base.when.hour + rng.choice([-1, 0, 0, 1]))), minute=rng.choice([0, 10, 20, 30, 40]))
        items = rng.sample(base.items, k=max(1, len(base.items) - rng.choice([0, 1])))
        if rng.random() < 0.4:
            items.append(rng.choice(PROPERTY))
        return Event(base.kind, base.premises, base.entry, base.weapon, sorted(set(items)), base.vehicle,
                     base.plate if rng.random() < 0.5 else _plate(rng), base.people, base.street,
                     rng.randint(2, 400), base.landmark, when)
    kind = rng.choice(list(CRIMES))
    premises, entries, armed = CRIMES[kind]
    when = datetime.combine(start + timedelta(days=rng.randint(0, 500)), datetime.min.time()).replace(
        hour=rng.randint(0, 23), minute=rng.choice([0, 5, 10, 15, 20, 30, 40, 45, 50]))
    colour = rng.choice(COLOURS)
    make, model = rng.choice(VEHICLES)
    return Event(kind, rng.choice(premises), rng.choice(entries), rng.choice(WEAPONS) if armed else None,
                 sorted(rng.sample(PROPERTY, k=rng.randint(1, 3))), (colour, make, model), _plate(rng),
                 rng.randint(1, 4), rng.choice(STREETS[style]), rng.randint(2, 400),
                 rng.choice(LANDMARKS[style]) if rng.random() < 0.3 else None, when)


def _people_phrase(n: int, rng: random.Random, style: str) -> str:
    if n == 1:
        return rng.choice(["a man", "a lone man"]) if style == "a" else rng.choice(["one man", "a single male"])
    if style == "b" and rng.random() < 0.3:
        return rng.choice([f"a group of {NUMBER_WORD[n]}", f"{n} suspects"])
    return f"{NUMBER_WORD[n]} {rng.choice(['men', 'people', 'males'] if style == 'a' else ['guys', 'individuals', 'men'])}"


def _street_of(ev: Event) -> str:
    return " ".join(w.lower() for w in ev.street.split() if w not in ("West", "East"))


def _street_key(street: str) -> str:
    from lawful.casefiles.extract import street_key

    return street_key(street)


def _statement(rng: random.Random, ev: Event, role: str, stated: date, names: dict, style: str,
               mention: set[str]) -> Text:
    t = Text()
    me, other = names[role], names["other"]
    if style == "a":
        t.add("My name is ").ident("name", me).add(". ")
    elif rng.random() < 0.5:
        t.add("I, ").ident("name", me).add(", make this statement. ")
    else:  # police forms write the surname in capitals
        first_, last_ = me.split(" ", 1)
        t.add("Statement of ").ident("name", f"{first_} {last_.upper()}").add(". ")
    when = _time_phrase(rng, ev.when, stated, style)
    t.fields["time"].append(ev.when.isoformat(timespec="minutes"))
    where = f"{ev.number} {ev.street}"
    t.fields["place"].append(_street_key(ev.street))
    t.fields["premises"].append(ev.premises if ev.premises != "street" else None)
    prem = {"house": "my house", "apartment": "my apartment", "garage": "the garage", "store": "the store",
            "parking lot": "the parking lot", "street": "the sidewalk", "driveway": "the driveway",
            "bar": "the bar"}[ev.premises]
    if "entry" in mention and ev.entry == "snatch" and style == "b":
        t.fields["item"].append("purse")
    if role == "victim":
        t.add(f"{when[0].upper() + when[1:]}, I was at {prem} at {where}. " if style == "a"
              else f"The incident happened {when} at {prem} on {where}. ")
        if "entry" in mention:
            t.add(ENTRY_TEXT[style][ev.entry].format(weapon=ev.weapon or "knife").capitalize() + ". ")
            t.fields["entry"].append(ev.entry)
            if "{weapon}" in ENTRY_TEXT[style][ev.entry]:
                t.fields["item"].append(WEAPON_CANON[ev.weapon or "knife"])
    elif role == "witness":
        t.add(f"I live near {prem}. {when[0].upper() + when[1:]} I was outside {where} "
              f"walking my dog. " if style == "a" else f"I was driving past {where} {when}. ")
    else:
        t.add(f"I attended {where} about a break-in reported {when}. " if style == "a" else
              f"Dispatched to {where}; occurrence reported {when}. ")
        if "entry" in mention:
            t.add("Examination showed that " + ENTRY_TEXT[style][ev.entry].format(weapon=ev.weapon or "knife") + ". ")
            t.fields["entry"].append(ev.entry)
            if "{weapon}" in ENTRY_TEXT[style][ev.entry]:
                t.fields["item"].append(WEAPON_CANON[ev.weapon or "knife"])
    if ev.landmark and "landmark" in mention:
        t.add(f"It is close to {ev.landmark}. " if style == "a" else f"That is a block from {ev.landmark}. ")
        t.fields["place"].append(ev.landmark.lower())
    if "people" in mention:
        pp = _people_phrase(ev.people, rng, style)
        t.add(f"I saw {pp} running away. " if style == "a" else
              f"There {'was' if ev.people == 1 else 'were'} {pp} involved. ")
        t.fields["people"].append(ev.people)
    if "weapon" in mention and ev.weapon and not t.fields["item"]:
        t.add(f"One of them had a {ev.weapon}. " if style == "a" else f"I noticed a {ev.weapon} in his hand. ")
        t.fields["item"].append(WEAPON_CANON[ev.weapon])
    if "vehicle" in mention and ev.vehicle:
        colour, make, model = ev.vehicle
        vt = "they got into" if style == "a" else "they left in"
        if style == "b" and rng.random() < 0.4:
            t.add(f"Then {vt} a {make} {model}, {colour} in colour, plate number ").ident("plate", ev.plate).add(". ")
        else:
            t.add(f"Then {vt} a {colour} {make} {model} with licence plate ").ident("plate", ev.plate).add(". ")
        t.fields["vehicle"].append({"colour": colour, "make": make, "model": model})
    if "items" in mention and role == "victim":
        items = ev.items
        t.add(("They took my " if style == "a" else "Missing: my ") + ", ".join(items[:-1]) +
              (" and " if len(items) > 1 else "") + items[-1] + ". ")
        t.fields["item"] += [PROPERTY_CANON.get(i, i) for i in items]
    if role != "officer":
        if style == "a":
            t.add("My neighbour ").ident("name", other).add(" also saw it. ")
        else:
            t.add("Afterwards I phoned ").ident("name", other).add(", who came over. ")
        first = other.split()[0]
        if rng.random() < 0.5 and style == "a":
            t.ident("name", first).add(" called 911. ")
        elif rng.random() < 0.5:
            t.add("Later ").ident("name", first).add(" said she would help. ")
        elif style == "b":
            t.add("I also told ").ident("name", f"{first[0]}. {other.split(' ', 1)[1]}").add(" about it. ")
        t.add("You can reach me at " if style == "a" else "My cell is ").ident("phone", _phone(rng)).add(". ")
        label, number = _id(rng)
        t.add(f"My {label} " if style == "a" else f"For the record my {label} ").ident("id", number).add(".")
    else:
        t.add("Badge ").add(str(rng.randint(1000, 9999))).add(".")
    t.fields["item"] = list(dict.fromkeys(t.fields["item"]))  # an item said twice is one item
    return t


def generate(cases: int = 60, *, seed: int = 0, style: str = "a", series: int = 4, series_size: int = 6,
             inconsistent_share: float = 0.5) -> list[dict]:
    """`cases` cases, `series` of them groups of `series_size` by one modus operandi; about `inconsistent_share` of
    the cases carry one planted inconsistency between two statements."""
    rng = random.Random(seed * 7919 + (0 if style == "a" else 104729))
    firsts, lasts = NAMES[style]
    out = []
    bases = [_event(rng, style) for _ in range(series)]
    plan = [(s, bases[s]) for s in range(series) for _ in range(series_size)]
    plan += [(None, None)] * max(0, cases - len(plan))
    rng.shuffle(plan)
    for n, (sid, base) in enumerate(plan[:cases]):
        ev = _event(rng, style, base)
        if base is None and bases and rng.random() < 0.4:  # a distractor: a series' street, another way of working
            ev.street = rng.choice(bases).street
        elif base is not None and rng.random() < 0.4:  # the series moves to a nearby street
            ev.street = rng.choice(STREETS[style])
        case_id = f"{'CF' if style == 'a' else 'HX'}-{seed:02d}-{n + 1:04d}"
        names = {r: f"{rng.choice(firsts)} {rng.choice(lasts)}" for r in ("victim", "witness", "witness2", "officer",
                                                                         "other")}
        stmts = []
        roles = ["victim", "witness"] + (["witness"] if rng.random() < 0.4 else []) + \
            (["officer"] if rng.random() < 0.6 else [])
        planted = None
        if rng.random() < inconsistent_share:
            planted = rng.choice(["time", "place", "vehicle_colour", "vehicle_make", "people_count"])
        # what both the victim and the first witness mention, so a planted difference has two passages
        common = {"people", "vehicle", "landmark"}
        for i, role in enumerate(roles):
            stated = ev.when.date() + timedelta(days=rng.choice([0, 1, 1, 2, 3]))
            if stated == ev.when.date() and ev.when.hour < 9:
                stated += timedelta(days=1)
            mention = set(common) if i < 2 else {rng.choice(["people", "vehicle", "weapon"])}
            mention |= {"items", "entry", "weapon"} if role == "victim" else set()
            mention |= {"entry"} if role == "officer" else set()
            e = ev
            if planted and i == 1:
                e = _mutate(rng, ev, planted, style)
            who = dict(names)
            who[role] = names["witness2" if (role == "witness" and i > 1) else role]
            t = _statement(rng, e, role, stated, who, style, mention)
            stmts.append({"statement": f"S{i + 1}", "role": role, "date": stated.isoformat(), "text": t.text,
                          "spans": t.spans, "fields": t.fields})
        pairs = []
        if planted:  # the changed statement (S2) differs from every statement that speaks of the same thing
            key = {"time": "time", "place": "place", "vehicle_colour": "vehicle", "vehicle_make": "vehicle",
                   "people_count": "people"}[planted]
            pairs = [{"type": planted, "statements": sorted([s["statement"], "S2"], key=lambda x: int(x[1:]))}
                     for s in stmts if s["statement"] != "S2" and s["fields"][key]]
        out.append({"case": case_id, "series": f"{style}{seed}-series-{sid}" if sid is not None else None,
                    "kind": ev.kind, "stmts": stmts, "inconsistencies": pairs})
    return out


def _mutate(rng: random.Random, ev: Event, what: str, style: str) -> Event:
    from dataclasses import replace

    if what == "time":
        return replace(ev, when=ev.when + timedelta(hours=rng.choice([-4, -3, 3, 4])))
    if what == "place":
        return replace(ev, street=rng.choice([s for s in STREETS[style] if _street_of(ev) not in s.lower()]),
                       landmark=None)
    if what == "vehicle_colour":
        c, mk, md = ev.vehicle
        from lawful.casefiles.lexicon import COLOUR_FAMILY as fam

        return replace(ev, vehicle=(rng.choice([x for x in COLOURS if fam.get(x, x) != fam.get(c, c)]), mk, md))
    if what == "vehicle_make":
        c, mk, md = ev.vehicle
        mk2, md2 = rng.choice([v for v in VEHICLES if v[0] != mk])
        return replace(ev, vehicle=(c, mk2, md2))
    return replace(ev, people=rng.choice([n for n in (1, 2, 3, 4) if n != ev.people]))


def to_jsonl(cases: list[dict]) -> str:
    """The corpus as an importable JSONL file (case, statement, role, date, text), labels left out."""
    return "".join(json.dumps({"case": c["case"], "statement": s["statement"], "role": s["role"], "date": s["date"],
                               "text": s["text"]}) + "\n" for c in cases for s in c["stmts"])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--style", choices=("a", "b"), default="a")
    ap.add_argument("--labels", action="store_true", help="write the labelled corpus (JSON) instead of JSONL")
    a = ap.parse_args(argv)
    cases = generate(a.cases, seed=a.seed, style=a.style)
    sys.stdout.write(json.dumps(cases, indent=1) if a.labels else to_jsonl(cases))


if __name__ == "__main__":
    main()

"""Structuring one statement: times and dates (absolute, and relative ones resolved against the statement's date,
with the interval they leave open), places, vehicles, items, the number of people, the premises and the entry
method, each with the span of text it came from and how sure the pattern is. Pure: patterns and the gazetteers in
`lexicon.py`, no database, no network, nothing downloaded.

Times are local wall-clock times in the jurisdiction's zone (what a witness says), written without an offset."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from lawful.casefiles import lexicon as lx
from lawful.casefiles.identify import MARKER

VERSION = "casefiles-patterns-1"


@dataclass
class Field:
    field: str  # time | place | vehicle | item | people | premises | entry
    text: str  # the passage it came from
    start: int
    end: int
    value: dict
    confidence: float
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Statement:
    case: str
    statement: str
    role: str
    date: date
    text: str
    fields: list[Field] = field(default_factory=list)


# ---- sentences -----------------------------------------------------------------------------------------------------
_END = re.compile(r"[.!?]+(?=\s+[\"'“(]?[A-Z0-9\[]|\s*$)|[。！？]+|\n+")
_ABBREV = {"mr", "mrs", "ms", "dr", "st", "ave", "rd", "no", "approx", "det", "sgt", "cst", "insp", "prof", "mt",
           "ft", "e.g", "i.e", "vs", "blvd", "cres", "jr", "sr", "pc", "dc"}


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence; a full stop after "Mr", "St", "approx" ... does not end one."""
    out, s = [], 0
    for m in _END.finditer(text):
        word = re.search(r"([A-Za-z.]+)$", text[s:m.start()])
        if m.group()[0] == "." and word and word.group(1).lower().rstrip(".") in _ABBREV:
            continue
        out.append((s, m.end()))
        s = m.end()
    out.append((s, len(text)))
    spans = []
    for a, b in out:
        while a < b and text[a].isspace():
            a += 1
        if a < b:
            spans.append((a, b))
    return spans


# ---- times and dates -----------------------------------------------------------------------------------------------
_NUM = "|".join(sorted(lx.NUMBER_WORDS, key=len, reverse=True))
_MON = "|".join(sorted(lx.MONTHS, key=len, reverse=True))
_DAY = "|".join(lx.WEEKDAYS)
_AMPM = r"(?P<ampm>a\.?\s?m\.?|p\.?\s?m\.?)"
_QUAL = (r"(?P<qual>around|about|approximately|approx\.?|roughly|at about|at around|just after|shortly after|"
         r"just before|shortly before|sometime after|sometime before|after|before|by|until|at|maybe|close to|"
         r"nearly|almost)\s+")
_HOUR = rf"(?P<h>\d{{1,2}}|{_NUM})"
TIME_RES = [
    ("between", re.compile(rf"(?i)\bbetween\s+(?P<h1>\d{{1,2}}|{_NUM})(?:[:.](?P<m1>\d{{2}}))?\s*(?P<ap1>[ap]\.?m\.?)?"
                           rf"\s+and\s+(?P<h2>\d{{1,2}}|{_NUM})(?:[:.](?P<m2>\d{{2}}))?\s*(?P<ap2>[ap]\.?m\.?)?")),
    ("clock", re.compile(rf"(?i)(?:{_QUAL})?\b(?P<h>\d{{1,2}})[:.](?P<m>\d{{2}})(?![./]\d)\s*(?:{_AMPM}|h\b|hrs\b)?")),
    ("hour", re.compile(rf"(?i)(?:{_QUAL})?\b{_HOUR}\s*(?:{_AMPM}|o'?clock)")),
    ("half", re.compile(rf"(?i)(?:{_QUAL})?\b(?P<frac>half|quarter|twenty|ten|five)\s+(?P<dir>past|to|after)\s+"
                        rf"(?P<h>\d{{1,2}}|{_NUM})")),
    ("military", re.compile(rf"(?i)(?:{_QUAL})?\b(?P<h>[01]\d|2[0-3])(?P<m>[0-5]\d)\s*(?:hrs|hours|h)\b")),
    ("named", re.compile(rf"(?i)(?:{_QUAL})?\b(?P<named>midnight|noon|midday)\b")),
    ("bare", re.compile(rf"(?i)\b{_QUAL}{_HOUR}(?:ish)?(?=\s*(?:[,.;)]|$|last\b|yesterday|this\b|that\b|in the\b|"
                        rf"at night|tonight|on\b|when\b|and\b|or\b|the\b|I\b))")),
    ("ish", re.compile(rf"(?i)\b{_HOUR}-?ish\b")),
]
PARTS = {  # part of day -> (start hour, end hour; an end past 24 runs into the next day)
    "early morning": (4, 8), "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 23), "night": (20, 29),
    "overnight": (22, 30), "early hours": (0, 5), "lunchtime": (11.5, 14), "dinner time": (17, 20),
    "rush hour": (16, 19), "dawn": (5, 7), "dusk": (18, 21),
}
_PART_RE = re.compile(r"(?i)\b(?P<rel>last|this|that|yesterday|tomorrow|the same|in the|during the|at)?\s*"
                      r"(?P<part>early morning|morning|afternoon|evening|night|overnight|early hours|lunchtime|"
                      r"dinner time|rush hour|dawn|dusk)\b")
DATE_RES = [
    ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})\b")),
    ("dmy", re.compile(r"\b(?P<d>\d{1,2})/(?P<mo>\d{1,2})/(?P<y>\d{2,4})\b")),
    ("d_month", re.compile(rf"(?i)\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MON})\b\.?(?:,?\s+(?P<y>\d{{4}}))?")),
    ("month_d", re.compile(rf"(?i)\b(?P<mon>{_MON})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}}))?")),
    ("ago", re.compile(rf"(?i)\b(?P<n>\d+|{_NUM}|a|an)\s+(?P<unit>days?|weeks?|nights?)\s+ago\b")),
    ("daybefore", re.compile(r"(?i)\bthe\s+day\s+before\s+yesterday\b")),
    ("yesterday", re.compile(r"(?i)\byesterday\b|\blast\s+night\b")),
    ("today", re.compile(r"(?i)\btoday\b|\btonight\b|\bthis\s+(?:morning|afternoon|evening)\b|\bearlier\s+today\b")),
    ("weekday", re.compile(rf"(?i)\b(?P<last>last\s+|on\s+|this\s+past\s+|past\s+)?(?P<wd>{_DAY})\b")),
    ("lastweek", re.compile(r"(?i)\blast\s+week\b")),
    ("cn", re.compile(r"(?P<cn>前天|昨天|昨晚|今天|今晚|今早)")),
]
_CN_TIME = re.compile(r"(?P<part>凌晨|早上|上午|中午|下午|傍晚|晚上)?(?P<h>[0-9]{1,2}|[一二三四五六七八九十]{1,3})[点點时](?P<m>[0-9]{1,2}分|半)?"
                      r"(?P<qual>左右|前后|多)?")
_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
           "十一": 11, "十二": 12}


def _hour(text: str) -> int:
    text = text.lower()
    return lx.NUMBER_WORDS[text] if text in lx.NUMBER_WORDS else int(text)


def _resolve_date(kind: str, m: re.Match, stated: date) -> tuple[date, date, float] | None:
    """(earliest day, latest day, confidence) of a date expression, relative ones against the statement's date."""
    g = m.groupdict()
    try:
        if kind in ("iso", "dmy"):
            y = int(g["y"]) + (2000 if len(g["y"]) == 2 else 0)
            d = date(y, int(g["mo"]), int(g["d"]))
            return d, d, 0.95
        if kind in ("d_month", "month_d"):
            mo = lx.MONTHS[g["mon"].lower()]
            y = int(g["y"]) if g.get("y") else stated.year
            d = date(y, mo, int(g["d"]))
            if not g.get("y") and d > stated:  # "12 December" said in January
                d = date(y - 1, mo, int(g["d"]))
            return d, d, 0.9
    except ValueError:
        return None
    if kind == "ago":
        n = 1 if g["n"].lower() in ("a", "an") else _hour(g["n"])
        days = n * (7 if g["unit"].lower().startswith("week") else 1)
        d = stated - timedelta(days=days)
        return (d - timedelta(days=3), d + timedelta(days=3), 0.6) if g["unit"].startswith("week") else (d, d, 0.85)
    if kind == "daybefore":
        d = stated - timedelta(days=2)
        return d, d, 0.9
    if kind == "yesterday":
        d = stated - timedelta(days=1)
        return d, d, 0.9
    if kind == "today":
        return stated, stated, 0.9
    if kind == "weekday":
        wd = lx.WEEKDAYS[g["wd"].lower()]
        back = (stated.weekday() - wd) % 7 or 7
        d = stated - timedelta(days=back)
        return d, d, 0.8 if g.get("last") else 0.7
    if kind == "lastweek":
        start = stated - timedelta(days=stated.weekday() + 7)
        return start, start + timedelta(days=6), 0.5
    if kind == "cn":
        back = {"前天": 2, "昨天": 1, "昨晚": 1}.get(g["cn"], 0)
        d = stated - timedelta(days=back)
        return d, d, 0.9
    return None


def _dates_in(text: str, s: int, e: int, stated: date) -> list[tuple[int, int, date, date, float]]:
    found = []
    for kind, rx in DATE_RES:
        for m in rx.finditer(text, s, e):
            if any(a < m.end() and m.start() < b for a, b, *_ in found):
                continue
            r = _resolve_date(kind, m, stated)
            if r:
                found.append((m.start(), m.end(), *r, _SPECIFIC.index(kind)))
    return sorted(found)


# which date a sentence means when it says several ("last night, I mean Saturday"): the most specific
_SPECIFIC = ["iso", "dmy", "d_month", "month_d", "weekday", "daybefore", "ago", "cn", "yesterday", "today",
             "lastweek"]
_POLICE = re.compile(r"(?i)\b(?:attended|arrived|dispatched|responded|on scene|we got there|police came)\b")
_EVENT = re.compile(r"(?i)\b(?:reported|occurred|happened|took place|incident|break-in|robbery|theft)\b")


def _part_of_day(sentence: str) -> tuple[str, tuple[float, float]] | None:
    m = _PART_RE.search(sentence)
    if m:
        return m.group("part").lower(), PARTS[m.group("part").lower()]
    low = sentence.lower()
    if "last night" in low or "tonight" in low or "昨晚" in sentence or "晚上" in sentence:
        return "night", PARTS["night"]
    return None


def _pick_pm(h: int, ampm: str | None, part: tuple[str, tuple[float, float]] | None) -> tuple[int, float, str]:
    """24-hour clock hour, confidence, note."""
    if ampm:
        pm = ampm.lower().startswith("p")
        return (h % 12) + (12 if pm else 0), 1.0, ""
    if h >= 13 or h == 0:
        return h % 24, 1.0, ""
    if part:
        name, (lo, hi) = part
        for cand in (h % 12, h % 12 + 12):
            for c in (cand, cand + 24):
                if lo <= c <= hi:
                    return cand, 0.9, ""
        if name in ("night", "evening", "afternoon", "overnight", "dusk", "dinner time", "rush hour"):
            return (h % 12) + (12 if h % 12 >= 5 or name != "overnight" else 0), 0.7, ""
        return h % 12, 0.7, ""
    if h == 12:
        return 12, 0.6, "noon or midnight not stated; taken as noon"
    pm = 1 <= h <= 6
    return (h % 12) + (12 if pm else 0), 0.5, f"a.m. or p.m. not stated; taken as {'p.m.' if pm else 'a.m.'}"


def _width(qual: str | None, exact_minutes: bool) -> tuple[int, int, float]:
    """(minutes before, minutes after, confidence factor) around a stated time."""
    q = (qual or "").lower().strip()
    if q in ("around", "about", "approximately", "approx", "approx.", "roughly", "at about", "at around", "maybe",
             "close to"):
        return 30, 30, 0.85
    if q in ("just after", "shortly after"):
        return 0, 30, 0.85
    if q in ("just before", "shortly before", "nearly", "almost"):
        return 30, 0, 0.85
    if q in ("after", "sometime after"):
        return 0, 120, 0.7
    if q in ("before", "by", "until", "sometime before"):
        return 120, 0, 0.7
    return (5, 5, 1.0) if exact_minutes else (15, 15, 0.95)


def _times_in(text: str, s: int, e: int) -> list[tuple[int, int, dict]]:
    """Clock times in a sentence: (start, end, parsed) with parsed = {h, m, ampm, qual, kind[, h2, m2]}."""
    found: list[tuple[int, int, dict]] = []

    def free(a, b):
        return not any(x < b and a < y for x, y, _ in found)

    for kind, rx in TIME_RES:
        for m in rx.finditer(text, s, e):
            if not free(m.start(), m.end()):
                continue
            g = m.groupdict()
            try:
                if kind == "between":
                    h1, h2 = _hour(g["h1"]), _hour(g["h2"])
                    if not (0 <= h1 <= 24 and 0 <= h2 <= 24):
                        continue
                    p = {"kind": kind, "h": h1, "m": int(g["m1"] or 0), "ampm": g["ap1"] or g["ap2"],
                         "h2": h2, "m2": int(g["m2"] or 0), "ampm2": g["ap2"] or g["ap1"], "qual": None}
                elif kind == "named":
                    n = g["named"].lower()
                    p = {"kind": kind, "h": 0 if n == "midnight" else 12, "m": 0, "ampm": "am" if n == "midnight"
                         else "pm", "qual": g.get("qual")}
                elif kind == "half":
                    h = _hour(g["h"])
                    mins = {"half": 30, "quarter": 15, "twenty": 20, "ten": 10, "five": 5}[g["frac"].lower()]
                    if g["dir"].lower() == "to":
                        h, mins = (h - 1) % 12 or 12, 60 - mins
                    p = {"kind": kind, "h": h, "m": mins, "ampm": None, "qual": g.get("qual")}
                else:
                    h = _hour(g["h"])
                    mins = int(g.get("m") or 0)
                    if h > 24 or mins > 59:
                        continue
                    p = {"kind": kind, "h": h, "m": mins, "ampm": g.get("ampm"), "qual": g.get("qual"),
                         "h24": kind == "military" or kind == "clock" and (g["h"].startswith("0") or bool(re.search(r"(?i)h|hrs$",
                                                                                             m.group())))}
            except (KeyError, ValueError):
                continue
            found.append((m.start(), m.end(), p))
    for m in _CN_TIME.finditer(text, s, e):
        if not free(m.start(), m.end()):
            continue
        h = _CN_NUM.get(m.group("h")) if not m.group("h").isdigit() else int(m.group("h"))
        if h is None or h > 24:
            continue
        mm = m.group("m") or ""
        mins = 30 if mm == "半" else int(mm[:-1]) if mm else 0
        part = m.group("part") or ""
        ampm = "pm" if part in ("下午", "傍晚", "晚上") and h < 12 else "am" if part in ("凌晨", "早上", "上午") else None
        found.append((m.start(), m.end(), {"kind": "cn", "h": h, "m": mins, "ampm": ampm,
                                           "qual": "around" if m.group("qual") else None}))
    return sorted(found, key=lambda t: t[0])


def extract_times(text: str, stated: date) -> list[Field]:
    out: list[Field] = []
    current: tuple[date, date, float] | None = None  # the last date the statement named
    night_of = False  # ... and whether it was named as a night
    for s, e in sentences(text):
        sentence = text[s:e]
        dates = _dates_in(text, s, e, stated)
        part = _part_of_day(sentence)
        if dates:
            current = min(dates, key=lambda d: d[5])[2:5]
            night_of = bool(part and part[0] in ("night", "overnight"))  # "overnight Saturday" ... "around 2 a.m."
        elif part is None and night_of:
            part = ("night", PARTS["night"])
        times = _times_in(text, s, e)
        low = sentence.lower()
        police = bool(_POLICE.search(sentence)) and not _EVENT.search(sentence)
        for ts, te, p in times:
            day_lo, day_hi, dconf = current or (stated, stated, 0.5)
            note = "" if current else "no date stated; taken as the statement's date"
            h, hconf, hnote = (p["h"], 1.0, "") if p.get("h24") else _pick_pm(p["h"], p.get("ampm"), part)
            before, after, qconf = _width(p.get("qual"), p["kind"] in ("clock", "military"))
            # "last night at 1 a.m." is the early hours of the day after "yesterday"
            if ("last night" in low or "昨晚" in sentence or part and part[0] in ("night", "overnight")) and h < 6:
                day_lo, day_hi = day_lo + timedelta(days=1), day_hi + timedelta(days=1)
            start = datetime.combine(day_lo, time(h % 24, p["m"])) - timedelta(minutes=before)
            end = datetime.combine(day_hi, time(h % 24, p["m"])) + timedelta(minutes=after)
            if p["kind"] == "between":
                h2, _, _ = _pick_pm(p["h2"], p.get("ampm2"), part)
                start = datetime.combine(day_lo, time(h % 24, p["m"]))
                end = datetime.combine(day_hi, time(h2 % 24, p["m2"]))
                if end <= start:
                    end += timedelta(days=1)
            best = start + (end - start) / 2
            span_start = ts
            # the date words nearest the time belong to the passage
            near = [d for d in dates if abs(d[0] - te) < 40 or abs(ts - d[1]) < 40]
            a = min([ts] + [d[0] for d in near])
            b = max([te] + [d[1] for d in near])
            while b > a and text[b - 1] in " ,;":
                b -= 1
            out.append(Field("time", text[a:b], a, b, {
                "at": best.isoformat(timespec="minutes"), "earliest": start.isoformat(timespec="minutes"),
                "latest": end.isoformat(timespec="minutes"),
                "uncertainty_min": int((end - start).total_seconds() // 120), "event": not police,
                "date_stated": current is not None},
                round(min(dconf, hconf, qconf), 2),
                "; ".join(x for x in (note, hnote, "the time of a police action, not of the event" if police else "")
                          if x)))
            del span_start
        if not times and part and (dates or "last night" in low or "tonight" in low):
            d_lo, d_hi, dconf = dates[0][2:5] if dates else (current or (stated - timedelta(days=1),) * 2 + (0.8,))
            if "last night" in low and not dates:
                d_lo = d_hi = stated - timedelta(days=1)
            lo, hi = part[1]
            start = datetime.combine(d_lo, time(0)) + timedelta(hours=lo)
            end = datetime.combine(d_hi, time(0)) + timedelta(hours=hi)
            m = _PART_RE.search(sentence)
            a, b = (s + m.start(), s + m.end()) if m else (s, e)
            if dates:
                a, b = min(a, dates[0][0]), max(b, dates[0][1])
            out.append(Field("time", text[a:b].strip(), a, b, {
                "at": (start + (end - start) / 2).isoformat(timespec="minutes"),
                "earliest": start.isoformat(timespec="minutes"), "latest": end.isoformat(timespec="minutes"),
                "uncertainty_min": int((end - start).total_seconds() // 120), "event": True, "date_stated": True},
                round(min(dconf, 0.6), 2),
                "only a part of the day was stated"))
    return out


# ---- places --------------------------------------------------------------------------------------------------------
_SUF = "|".join(sorted((re.escape(k) for k in lx.STREET_SUFFIX), key=len, reverse=True))
_CAP = r"(?:[A-Z][a-z]+|[A-Z]{2,}|\d{1,3}(?:st|nd|rd|th))"
_STREET = rf"(?:{_CAP}\s){{1,3}}(?i:{_SUF})\b\.?(?:\s(?:East|West|North|South|E|W|N|S)\b)?"
_ADDRESS = re.compile(rf"\b(?P<num>\d{{1,5}}[A-Za-z]?)\s+(?P<street>{_STREET})")
_INTERSECTION = re.compile(rf"(?P<a>{_STREET})\s+(?:and|&|at)\s+(?P<b>{_STREET}|{_CAP}(?:\s{_CAP})?(?=[\s,.]))"
                           rf"|(?i:corner\s+of|intersection\s+of)\s+(?P<c>{_CAP}(?:\s{_CAP})?)\s+(?:and|&)\s+"
                           rf"(?P<d>{_CAP}(?:\s{_CAP})?)")
_STREET_RE = re.compile(rf"(?P<street>{_STREET})")
_LANDMARK = re.compile(rf"\b(?P<name>(?:{_CAP}\s){{1,3}}(?:{'|'.join(lx.LANDMARK_SUFFIX)}))\b")
_PREMISES_RE = re.compile(r"(?i)\b(?:the|a|an|my|our|his|her|their|this)\s+(?:(?:back|front|side|rear|underground|"
                          r"local|corner|nearby|small|big|old|new|\w+'s)\s+)?(?P<p>" +
                          "|".join(sorted((re.escape(k) for k in lx.PREMISES), key=len, reverse=True)) + r")\b")


def street_key(name: str) -> str:
    """'Birch Ave.' -> 'birch avenue' (for comparing places)."""
    words = re.sub(r"[.,]", "", name).lower().split()
    if words and words[-1] in ("east", "west", "north", "south", "e", "w", "n", "s"):
        words = words[:-1]
    if words and words[-1] in lx.STREET_SUFFIX:
        words[-1] = lx.STREET_SUFFIX[words[-1]]
    return " ".join(words)


def extract_places(text: str) -> list[Field]:
    out: list[Field] = []

    def free(a, b):
        return not any(f.start < b and a < f.end for f in out)

    for m in _ADDRESS.finditer(text):
        end = m.start() + len(m.group().rstrip())
        if text[end - 1] == "." and len(m.group().rstrip(". ").rsplit(" ", 1)[-1]) > 4:
            end -= 1
        out.append(Field("place", text[m.start():end], m.start(), end, {
            "type": "address", "number": m.group("num"), "streets": [street_key(m.group("street"))]}, 0.9))
    for m in _INTERSECTION.finditer(text):
        if not free(m.start(), m.end()):
            continue
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("c"), m.group("d"))
        out.append(Field("place", m.group().strip(), m.start(), m.end(), {
            "type": "intersection", "streets": sorted({street_key(a), street_key(b)})}, 0.85))
    for m in _LANDMARK.finditer(text):
        name = m.group("name")
        words = name.split()
        while words and words[0].lower() in ("the", "a", "an", "at", "near", "outside", "behind", "by", "in", "on",
                                             "from", "to", "into", "when", "then", "we", "i", "he", "she", "they"):
            words = words[1:]
        if len(words) < 2:
            continue
        name = " ".join(words)
        st = m.end() - len(name)
        if not free(st, m.end()) or MARKER.search(text, max(0, st - 1), m.end() + 1):
            continue
        out.append(Field("place", name, st, m.end(), {"type": "landmark", "name": name.lower(), "streets": []}, 0.8))
    for m in _STREET_RE.finditer(text):
        if not free(m.start(), m.end()):
            continue
        words = m.group("street").split()
        while len(words) > 2 and words[0].lower() in lx.NOT_NAMES:
            words = words[1:]
        name = " ".join(words)
        if words[0].lower() in lx.NOT_NAMES and words[0].lower() not in ("queen", "king", "bloor", "yonge", "dundas",
                                                                           "college", "spadina", "bathurst", "finch"):
            continue
        st = m.end() - len(name)
        out.append(Field("place", name.rstrip(". "), st, st + len(name.rstrip(". ")),
                         {"type": "street", "streets": [street_key(name)]}, 0.8))
    return sorted(out, key=lambda f: f.start)


def extract_premises(text: str) -> list[Field]:
    out = []
    for m in _PREMISES_RE.finditer(text):
        p = m.group("p").lower()
        if p == "home" and re.search(r"(?i)\b(?:came|went|got|walking|drove|driving|heading|back)\s+home", text[
                max(0, m.start() - 25):m.end()]):
            pass
        out.append(Field("premises", m.group(), m.start(), m.end(), {"premises": lx.PREMISES[p]}, 0.7))
    return out


def extract_entry(text: str) -> list[Field]:
    out = []
    low = text.lower()
    for rx, method in lx.ENTRY.items():
        for m in re.finditer(rx, low):
            if not any(f.value["method"] == method for f in out):
                out.append(Field("entry", text[m.start():m.end()], m.start(), m.end(), {"method": method}, 0.7))
    return sorted(out, key=lambda f: f.start)


# ---- vehicles ------------------------------------------------------------------------------------------------------
def _alt(words) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_VEH = re.compile(  # the lookahead makes it try only where a vehicle word starts (every part is optional)
    rf"(?i)\b(?=(?:{_alt({**lx.COLOURS, **lx.MAKES, **lx.MODELS, **lx.VEHICLE_TYPES})})\b)(?:(?P<colour>{_alt(lx.COLOURS)})(?:[- ]coloured|[- ]colored)?\s+)?(?:(?P<make>{_alt(lx.MAKES)})(?:\s+|\b))?"
    rf"(?:(?P<model>{_alt(lx.MODELS)})\s*)?(?P<type>{_alt(lx.VEHICLE_TYPES)})?\b")
_WORDLIKE_MODELS = {"soul", "focus", "escape", "pilot", "ram", "charger", "transit", "sierra", "fusion", "golf",
                    "explorer", "accord", "mustang", "rogue", "cherokee", "outback", "forester", "caravan", "equinox",
                    "passat", "impala", "highlander", "sportage", "forte", "sonata", "model 3", "model y"}
_PLATE_NEAR = re.compile(r"\[PLATE (psn:[0-9a-f]{32})\]")


def extract_vehicles(text: str) -> list[Field]:
    out: list[Field] = []
    for m in _CN_VEH.finditer(text):  # 黑色的车, 银色轿车
        rest = text[m.end():m.end() + 80]
        pm = _PLATE_NEAR.search(re.split(r"[。！？\n]", rest)[0])
        out.append(Field("vehicle", m.group(), m.start(), m.end(), {
            "colour": lx.CN_COLOURS[m.group("colour")], "make": None, "model": None,
            "type": lx.CN_VEHICLES[m.group("type")], "plate": pm.group(1) if pm else None}, 0.7))
    for m in _VEH.finditer(text):
        g = {k: (v.lower() if v else None) for k, v in m.groupdict().items()}
        if not (g["make"] or g["model"] or g["type"]):
            continue
        if g["type"] and not (g["make"] or g["model"] or g["colour"]):
            # a bare "car"/"van": a vehicle, but of no known make or colour
            prev = text[max(0, m.start() - 12):m.start()].lower()
            if not re.search(r"\b(?:a|an|the|their|his|her|my)\s+$", prev):
                continue
        if g["type"] == "cab" and not (g["make"] or g["model"]):
            continue
        if g["model"] in _WORDLIKE_MODELS and not g["make"] and not g["type"] and not g["colour"]:
            continue  # ordinary words: "golf clubs", "in focus", "phone charger"
        if g["make"] == "mini" and not g["type"] and not g["model"]:
            continue
        if g["make"] == "mini" and g["type"] == "van" and not g["model"]:
            g["make"] = None  # "a mini van" is a minivan
        make = lx.MAKES.get(g["make"]) if g["make"] else (lx.MODELS.get(g["model"]) if g["model"] else None)
        value = {"colour": lx.COLOURS.get(g["colour"]) if g["colour"] else None, "make": make,
                 "model": m.group("model").strip() if g["model"] else None,
                 "type": lx.VEHICLE_TYPES.get(g["type"]) if g["type"] else None, "plate": None}
        end = m.start() + len(m.group().rstrip())
        if value["colour"] is None:
            after = re.match(rf"(?i)[,\s]+(?:(?:which|that|it)\s+was\s+|(?:painted|coloured|colored)\s+)?"
                             rf"(?P<c>{_alt(lx.COLOURS)})\b(?:\s+in\s+colou?r)?", text[end:end + 40])
            if after and (after.group().lower().rstrip().endswith(("colour", "color")) or
                          re.search(r"(?i)was|painted|coloured|colored", after.group())):
                value["colour"] = lx.COLOURS[after.group("c").lower()]
        # the plate said in the same sentence, after the vehicle
        rest = text[end:end + 160]
        stop = re.search(r"[.!?\n]", rest)
        pm = _PLATE_NEAR.search(rest[:stop.start()] if stop else rest)
        if pm:
            value["plate"] = pm.group(1)
        conf = 0.9 if (value["make"] or value["model"]) else 0.75
        out.append(Field("vehicle", m.group().strip(), m.start(), end, value, conf))
    return _merge_vehicles(text, out)


def _merge_vehicles(text: str, found: list[Field]) -> list[Field]:
    """One vehicle described in two goes in one sentence ("a dark red SUV, maybe a Kia"; "the car was a black
    Honda Civic") is one vehicle, when nothing said of the two disagrees."""
    out: list[Field] = []
    for f in found:
        prev = out[-1] if out else None
        if prev is not None and f.start - prev.end <= 40 and not re.search(r"[.!?\n]", text[prev.end:f.start]) \
                and all(not (prev.value[k] and f.value[k]) or prev.value[k] == f.value[k]
                        for k in ("colour", "make", "model", "type")) \
                and not re.search(r"(?i)\b(?:and|another|other|second|followed|behind)\b", text[prev.end:f.start]):
            value = {k: prev.value[k] or f.value[k] for k in prev.value}
            out[-1] = Field("vehicle", text[prev.start:f.end], prev.start, f.end, value,
                            max(prev.confidence, f.confidence))
        else:
            out.append(f)
    return out


# ---- items and people ----------------------------------------------------------------------------------------------
_WEAPON = re.compile(rf"(?i)\b(?P<w>{_alt(lx.WEAPONS)})s?\b")
_PROPERTY = re.compile(rf"(?i)\b(?P<w>{_alt(lx.PROPERTY)})\b")
_PERSON = (r"(?:men|males|man|male|people|persons|person|guys|guy|youths|youth|suspects|women|woman|females|female|"
           r"individuals|teenagers|teens|boys|girls|offenders|attackers|intruders|robbers|thieves|kids|figures)")
_ADJ = r"(?:(?:masked|young|other|tall|short|hooded|unknown|white|black|asian|older|younger|big|large|more)\s+){0,2}"
_COUNT = re.compile(rf"(?i)\b(?P<n>\d{{1,2}}|{_alt(lx.COUNT_WORDS)})\s+{_ADJ}(?P<who>{_PERSON})\b")
_GROUP = re.compile(rf"(?i)\b(?:a\s+)?group\s+of\s+(?P<n>\d{{1,2}}|{_alt(lx.COUNT_WORDS)})\b")
_PAIR = re.compile(rf"(?i)\ba\s+{_ADJ}(?:man|male|guy|woman|female|person)\s+and\s+a\s+{_ADJ}"
                   rf"(?:man|male|guy|woman|female|person)\b")
_OF_THEM = re.compile(rf"(?i)\b(?:all\s+)?(?P<n>\d{{1,2}}|{_alt(lx.NUMBER_WORDS)})\s+of\s+them\b")
_ONE = re.compile(rf"(?i)\b(?:a|one)\s+{_ADJ}(?:man|male|guy|woman|female|person|youth)\b(?!\s+and\s+a\b)")
_ALONE = re.compile(rf"(?i)\b(?:a\s+(?:lone|single)\s+{_ADJ}(?:man|male|person|woman|female)|alone|by himself|by "
                    rf"herself|on his own|on her own)\b")
_CN_COUNT = re.compile(r"(?P<n>[一二两三四五六七八九十]|\d{1,2})(?:个|名)(?P<who>男子|男人|女子|人|嫌疑人)")


def _in_marker(text: str, a: int, b: int) -> bool:
    return any(m.start() < b and a < m.end() for m in MARKER.finditer(text, max(0, a - 50), min(len(text), b + 50)))


def _cn_alt(words) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_CN_VEH = re.compile(rf"(?P<colour>{_cn_alt(lx.CN_COLOURS)})的?(?P<type>{_cn_alt(lx.CN_VEHICLES)})")
_CN_ITEM = re.compile(rf"(?P<w>{_cn_alt({**lx.CN_WEAPONS, **lx.CN_PROPERTY})})")


def _cn_items(text: str) -> list[Field]:
    out = []
    for m in _CN_ITEM.finditer(text):
        w = m.group("w")
        if re.match(r"\s*(?:号|[:：]|\d|\[PHONE|\[ID)", text[m.end():m.end() + 8]):
            continue  # 手机13912345678, 护照号码: a number, not the thing
        if w in lx.CN_WEAPONS:
            out.append(Field("item", w, m.start(), m.end(), {"category": "weapon", "item": lx.CN_WEAPONS[w]}, 0.7))
        elif w not in ("包",) or re.search(r"(?:我的|抢走|拿走|偷走|被抢|被偷)$", text[max(0, m.start() - 3):m.start()]):
            out.append(Field("item", w, m.start(), m.end(), {"category": "property", "item": lx.CN_PROPERTY[w]},
                             0.65))
    return out


def extract_items(text: str) -> list[Field]:
    out = _cn_items(text) if re.search(r"[\u4e00-\u9fff]", text) else []
    for m in _WEAPON.finditer(text):
        if _in_marker(text, m.start(), m.end()):
            continue
        w = m.group("w").lower()
        if w == "bottle" and not re.search(r"(?i)(?:broken|smashed|hit|swung|with|wielding|holding)\s+(?:a\s+)?"
                                           r"(?:glass\s+)?bottle", text[max(0, m.start() - 30):m.end()]):
            continue
        if w in ("bat", "pipe", "hammer", "screwdriver", "crowbar") and re.search(
                r"(?i)stole|taken|missing", text[max(0, m.start() - 40):m.start()]):
            continue
        if any(f.start < m.end() and m.start() < f.end for f in out):
            continue
        out.append(Field("item", m.group(), m.start(), m.end(), {"category": "weapon", "item": lx.WEAPONS[w]}, 0.85))
    for m in _PROPERTY.finditer(text):
        w = m.group("w").lower()
        if any(f.start < m.end() and m.start() < f.end for f in out) or _in_marker(text, m.start(), m.end()) \
                or re.match(r"(?i)\s+(?:number|no\b|#|call|conversation)", text[m.end():m.end() + 14]):
            continue
        if w in ("ring", "watch", "package", "tools") and not re.search(
                r"(?i)(?:\b(?:my|his|her|their|a|the|gold|silver|diamond|wedding|two|three|several|some|power|and)|,)"
                r"\s+$",
                text[max(0, m.start() - 12):m.start()]):
            continue
        if w == "watch" and re.search(r"(?i)\b(?:to|i|we|did)\s+$", text[max(0, m.start() - 5):m.start()]):
            continue
        if w in ("phone",) and re.search(r"(?i)\b(?:by|on the|over the)\s+$", text[max(0, m.start() - 8):m.start()]):
            continue
        out.append(Field("item", m.group(), m.start(), m.end(), {"category": "property", "item": lx.PROPERTY[w]},
                         0.75))
    return sorted(out, key=lambda f: f.start)


def _count(word: str) -> int:
    w = word.lower()
    return int(w) if w.isdigit() else lx.COUNT_WORDS.get(w, 0)


def extract_people(text: str) -> list[Field]:
    out: list[Field] = []

    def add(m, n, conf, note=""):
        if n and not any(f.start < m.end() and m.start() < f.end for f in out):
            out.append(Field("people", m.group(), m.start(), m.end(), {"count": n}, conf, note))

    for m in _PAIR.finditer(text):
        add(m, 2, 0.8)
    for m in _GROUP.finditer(text):
        add(m, _count(m.group("n")), 0.85)
    for m in _COUNT.finditer(text):
        n = _count(m.group("n"))
        if m.group("who").lower() in ("man", "male", "person", "guy", "woman", "female", "youth") and n != 1:
            continue
        add(m, n, 0.85)
    for m in _OF_THEM.finditer(text):
        if _count(m.group("n")) >= 2:
            add(m, _count(m.group("n")), 0.7)
    for m in _ALONE.finditer(text):
        add(m, 1, 0.6)
    for m in _ONE.finditer(text):
        add(m, 1, 0.6)
    for m in _CN_COUNT.finditer(text):
        n = _CN_NUM.get(m.group("n")) or (int(m.group("n")) if m.group("n").isdigit() else 0)
        add(m, n, 0.85)
    return sorted(out, key=lambda f: f.start)


def _first_of_each(fields: list[Field], key) -> list[Field]:
    seen, out = set(), []
    for f in fields:
        k = key(f)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out


def extract(text: str, stated: date) -> list[Field]:
    """Every field of one statement, in text order; an item, a count of people or a premises said twice is
    suggested once (its first passage)."""
    fields = (extract_times(text, stated) + extract_places(text) + extract_vehicles(text)
              + _first_of_each(extract_items(text), lambda f: f.value["item"])
              + _first_of_each(extract_people(text), lambda f: f.value["count"])
              + _first_of_each(extract_premises(text), lambda f: f.value["premises"]) + extract_entry(text))
    return sorted(fields, key=lambda f: (f.start, f.field))

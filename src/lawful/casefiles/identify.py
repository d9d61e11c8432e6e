"""Finding personal identifiers in statement text (names, phone numbers, ID numbers, licence plates, e-mail
addresses) and replacing them by keyed pseudonyms. Pure: patterns and gazetteers, no model, no database, no network.

Recall comes first (a missed name is a disclosure breach): a run of two or more capitalised words that is not a
place, a vehicle or a known non-name is taken as a name; a single capitalised word is a name after a title, a cue
("my neighbour Maria", "named Wong") or when it is part of a name already found in the same case ("Smith" after
"John Smith", which then gets John Smith's pseudonym: the same person is one pseudonym across a case)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lawful.casefiles import lexicon as lx
from lawful.privacy.pseudonyms import normalise, pseudonym

KINDS = ("name", "phone", "id", "plate", "email")
MARKER = re.compile(r"\[(NAME|PHONE|ID|PLATE|EMAIL) (psn:[0-9a-f]{32})\]")


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    text: str
    canonical: str = ""  # what the pseudonym is made of (a full name for an alias); default: the text


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


# ---- the patterns, strongest first ----------------------------------------------------------------------------------
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ID_CONTEXT = re.compile(
    r"(?i:driver'?s?\s+licen[cs]e|licen[cs]e|passport|health\s+card|identity\s+card|id\s+card|\bID\b|SIN|social\s+"
    r"insurance|employee|student|badge|card|身份证|证件)(?!\s*plate)\s*(?i:number|no\.?|num|#)?\s*(?:(?i:is|was|of)\b|:)?"
    r"\s*(?:号码|号)?\s*[:：]?\s*(?P<v>[A-Z0-9](?:[A-Z0-9]|[ -](?=[A-Z0-9])){4,24})")
_PLATE_CONTEXT = re.compile(
    r"(?i:licen[cs]e\s+plate|plates?|registration|\breg\b\.?|\btags?\b|车牌号?码?)\s*(?i:number|no\.?|#)?\s*"
    r"(?:(?i:is|was|of|read|reading|reads|that read|starting with|beginning with|ending in|ending with|like)\b|:)?\s*"
    r"[:：]?\s*[\"'“]?(?P<v>[A-Z0-9\u4e00-\u9fff](?:[A-Z0-9·]|[ -](?=[A-Z0-9])){1,9})")
_PARTIAL_PLATE = re.compile(r"(?i:licen[cs]e|plates?|tags?)\s+(?i:number\s+)?(?i:starting|beginning|ending|that "
                            r"started|that ended|started|ended)\s+(?i:with|in)?\s*[\"'“]?(?P<v>[A-Z0-9]{2,7})\b")
_IDS = [re.compile(p) for p in (
    r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])",  # PRC resident identity card
    r"(?<![\w-])[A-Z]\d{4}[- ]?\d{5}[- ]?\d{5}(?![\w-])",  # Ontario driver's licence
    r"(?<![\w-])\d{4}[- ]\d{3}[- ]\d{3}(?:[- ]?[A-Z]{2})?(?![\w-])",  # health card
    r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])",  # SSN
    r"(?<![\w-])\d{3}[ -]\d{3}[ -]\d{3}(?![\w-])",  # SIN
    r"(?<![\w-])[A-Z]{1,2}\d{6,8}(?![\w-])",  # passport
)]
_PHONES = [re.compile(p) for p in (
    r"(?<![\w+])(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-] ?)\d{3}[ .-] ?\d{4}(?!\d)",  # "416-555-\n0187" too
    r"(?<![\w+])\+\d{1,3}(?:[ .-]?\d{1,4}){2,5}(?!\d)",
    r"(?<!\d)1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)",  # PRC mobile
    r"(?<!\d)0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}(?!\d)",
    r"(?<![\w-])\d{10}(?![\w-])",
)]
_PHONE_CONTEXT = re.compile(r"(?i:phone|cell|mobile|number|tel|call me|reach me|text me|电话|手机)[^0-9+(\n]{0,15}"
                            r"(?P<v>\(?\+?\d[\d .()-]{5,16}\d)")
_PLATES = [re.compile(p) for p in (
    r"(?<![\w-])[A-Z]{4}[ -]?\d{3}(?![\w-])",  # Ontario
    r"(?<![\w-])[A-Z]{3}[ -]?\d{3,4}(?![\w-])",
    r"(?<![\w-])\d{3}[ -]?[A-Z]{3}(?![\w-])",
    r"(?<![\w-])[A-Z]{2}\d{2}[ ]?[A-Z]{3}(?![\w-])",  # UK
    r"(?<![\w-])\d[A-Z]{3}\d{3}(?![\w-])",
    r"(?<![\w-])[A-Z]{2}[ -]?\d{4,5}(?![\w-])",
    rf"[{lx.CN_PROVINCES}][A-Z][·\s]?[A-Z0-9]{{5,6}}(?![A-Z0-9])",  # PRC
)]
_WORD = (r"(?:[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:[-'][A-Z][a-z]+)?|[A-Z]'[A-Z][a-z]+|[A-Z][a-z]*(?:Mc|Mac)[A-Z][a-z]+"
         r"|[A-Z]{2,}(?:[-'][A-Z]{2,})?(?![\w-]))")  # surnames in capitals, as police statements write them
_RUN = re.compile(rf"{_WORD}(?:(?:[ ]{{1,3}}[A-Z]\.)?[ ]{{1,3}}{_WORD}){{0,3}}")  # "Gregory T. Hall", "Priya  Natarajan"
_TITLE = re.compile(r"(?:" + "|".join(re.escape(t) for t in sorted(lx.TITLES, key=len, reverse=True)) +
                    r")\.?\s+$")
CUES = ("named", "called", "name is", "known as", "i am", "friend", "neighbour", "neighbor", "husband", "wife", "son",
        "daughter", "brother", "sister", "boyfriend", "girlfriend", "partner", "colleague", "coworker", "co-worker",
        "cousin", "mother", "father", "mom", "mum", "dad", "uncle", "aunt", "manager", "roommate", "landlord",
        "tenant", "owner", "employee", "cashier", "driver", "victim", "witness", "suspect", "accused", "complainant",
        "told", "asked", "saw", "with", "by", "and", "to", "for", "from", "nephew", "niece", "grandson",
        "granddaughter", "supervisor", "clerk", "guard", "customer", "student", "teacher", "ex", "contacted",
        "spoke to", "called out to", "miss", "sir", "known to me as", "nicknamed", "goes by", "calls himself",
        "calls herself", "alias", "aka", "a.k.a.", "street name")
_CUE = re.compile(r"(?i:\b(?:" + "|".join(re.escape(c) for c in CUES) + r"))[,:]?\s+[\"'“‘]?$")
_CN_NAME = re.compile(
    rf"(?:(?<=叫)|(?<=名叫)|(?<=被害人)|(?<=证人)|(?<=嫌疑人)|(?<=报案人)|(?<=朋友)|(?<=邻居)|(?<=同事)|(?<=丈夫)|"
    rf"(?<=妻子))[{lx.CN_SURNAMES}][\u4e00-\u9fff]{{1,2}}|[{lx.CN_SURNAMES}][\u4e00-\u9fff]{{1,2}}(?=先生|女士|警官|说|称)")
_ACTS = re.compile(r"(?:'s\b|\s+(?:said|says|told|saw|came|went|ran|had|has|called|phoned|texted|asked|left|"
                   r"arrived|got|took|drove|walked|yelled|shouted|screamed|heard|knows|knew|lives|lived|was|is)\b)")
_PARTICLES = {"Van", "Von", "Der", "Den", "De", "Da", "Di", "Du", "Del", "La", "Le", "Al", "Bin", "Ibn"}
_INITIAL = re.compile(r"(?<![\w.])[A-Z]\.\s?(?:[A-Z]\.\s?)?([A-Z][a-z]+(?:[-'][A-Z][a-z]+)?"
                      r"(?:\s(?:van|von|der|den|de|da|di|du|del|la|le)?\s?[A-Z][a-z]+)*)\b"
                      r"(?!\s+(?:Street|St|Avenue|Ave|Road|Rd|Drive|Dr|Lane|Boulevard|Blvd)\b)")
_STREETISH = {*(s for s in lx.STREET_SUFFIX), *(s.lower() for s in lx.LANDMARK_SUFFIX)}
_VEHICLE_WORDS = {*lx.MAKES, *lx.MODELS, *lx.COLOURS, *lx.VEHICLE_TYPES}


def _is_plate_like(v: str) -> bool:
    v = v.strip()
    letters = sum(c.isalpha() for c in v)
    return 4 <= len(re.sub(r"[\s·-]", "", v)) <= 9 and _digits(v) >= 2 and (letters >= 1 or _digits(v) >= 5)


def _name_spans(text: str, taken: list[tuple[int, int]]) -> list[Span]:
    out = []
    for m in _RUN.finditer(text):
        s, e = m.start(), m.end()
        if any(a < e and s < b for a, b in taken):
            continue
        parts = list(re.finditer(r"[^ ]+", m.group()))
        words, starts = [w.group() for w in parts], [s + w.start() for w in parts]
        # drop words that are not names at either end
        i, j = 0, len(words)
        while i < j and (words[i].lower() in lx.NOT_NAMES or words[i].lower() in _VEHICLE_WORDS) \
                and not (words[i] in _PARTICLES and i + 1 < j and words[i + 1].lower() not in _VEHICLE_WORDS):
            i += 1
        while j > i and (words[j - 1].lower() in lx.NOT_NAMES or words[j - 1].lower() in _VEHICLE_WORDS):
            j -= 1
        if i >= j:
            continue
        after = text[e:e + 20].lstrip(" ").split(" ", 1)[0].strip(".,;:!?)").lower()
        if after in _STREETISH or words[j - 1].lower() in _STREETISH or j < len(words) and \
                words[j].lower() in _STREETISH:
            continue  # a street, a station, a park
        if any(w.lower() in _STREETISH for w in words[i:j]):
            continue
        caps = [w for w in words[i:j] if w.isupper()]
        if caps and (len(caps) == j - i and (j - i < 2 or any(len(w) < 3 for w in caps))):
            continue  # "TTC", "GPS", "OK": capitals alone make a name only as a pair of real words
        ws, we = starts[i], starts[j - 1] + len(words[j - 1])
        before = text[max(0, ws - 30):ws]
        if re.search(r"\d\s+$", before):
            continue  # "12 Birch ..." is an address
        n = j - i
        titled = bool(_TITLE.search(before))
        # a lone capitalised word inside a sentence, followed by what people do: "... and Mike said", "Mike ran"
        acting = n == 1 and (text.startswith("'s ", we) or not re.search(r"(?:^|[.!?:;\n\"“]\s*)$", before)
                             and _ACTS.match(text[we:we + 15])) \
            and not re.search(r"(?i)\b(?:in|at|on|near|into|outside|inside|behind|from)\s+$", before)
        if n >= 2 or titled or _CUE.search(before) or acting:
            initials = re.search(r"(?<![\w.])(?:[A-Z]\.\s?){1,2}$", before)  # "N. Van Der Berg"
            if initials:
                ws -= len(initials.group())
            out.append(Span("name", ws, we, text[ws:we]))
    return out


_SPACES = {"\u00a0", "\u2007", "\u202f", "\u2009", "\u200a"}  # no-break and thin spaces (a tab is ASCII)
_LETTERS = {"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "ß": "s", "Đ": "D", "đ": "d", "Æ": "A", "æ": "a", "Œ": "O",
            "œ": "o", "ı": "i", "Þ": "T", "þ": "t", "Ð": "D", "ð": "d"}


def fold(text: str) -> str:
    """The text as the patterns read it, character for character (same length, so every span found in it is the
    same span of the original): letters without their accents ("Renée" -> "Renee", "Łukasz" -> "Lukasz"), any
    space as a plain space, and a single line break as a space (a name or a number wrapped over two lines is still
    one; a blank line still ends a paragraph)."""
    import unicodedata

    out = []
    n = len(text)
    for i, c in enumerate(text):
        if c.isascii():
            if c == "\n" and (i == 0 or text[i - 1] != "\n") and (i + 1 == n or text[i + 1] != "\n"):
                c = " "
            elif c == "\t":
                c = " "
        elif c in _SPACES:
            c = " "
        elif c in _LETTERS:
            c = _LETTERS[c]
        elif c.isalpha():
            base = unicodedata.normalize("NFD", c)[0]
            if base.isascii() and base.isalpha():
                c = base
        out.append(c)
    return "".join(out)


def detect(text: str, *, known_names: dict[str, str] | None = None) -> list[Span]:
    """Every identifier in `text`, without overlaps, in order. `known_names`: lower-case word (folded) -> full name,
    from the rest of the case (a bare "Smith" is then a name, with the full name as its canonical form). The
    patterns read the folded text (see fold); each span's text is the original's, as is its canonical form (what its
    pseudonym is made of, after privacy.pseudonyms.normalise, which ignores spacing)."""
    original, text = text, fold(text)
    found: list[tuple[int, Span]] = []  # (priority, span): lower wins an overlap

    def add(priority, kind, s, e):
        seg = text[s:e]
        stripped = seg.rstrip(" -.")
        found.append((priority, Span(kind, s, s + len(stripped), stripped)))

    masked = [(m.start(), m.end()) for m in MARKER.finditer(text)]
    for m in _EMAIL.finditer(text):
        add(0, "email", m.start(), m.end())
    for m in _ID_CONTEXT.finditer(text):
        v = m.group("v")
        if _digits(v) >= 4:
            add(1, "id", m.start("v"), m.end("v"))
    for m in _PLATE_CONTEXT.finditer(text):
        if _is_plate_like(m.group("v")):
            add(1, "plate", m.start("v"), m.end("v"))
    for m in _PARTIAL_PLATE.finditer(text):  # "licence starting CJT": part of a plate is still a plate
        add(1, "plate", m.start("v"), m.end("v"))
    for m in _PHONE_CONTEXT.finditer(text):
        if 7 <= _digits(m.group("v")) <= 15:
            add(2, "phone", m.start("v"), m.end("v"))
    for p in _IDS:
        for m in p.finditer(text):
            add(3, "id", m.start(), m.end())
    for p in _PHONES:
        for m in p.finditer(text):
            if 7 <= _digits(m.group()) <= 15:
                add(4, "phone", m.start(), m.end())
    for p in _PLATES:
        for m in p.finditer(text):
            add(5, "plate", m.start(), m.end())
    for m in _CN_NAME.finditer(text):
        add(6, "name", m.start(), m.end())
    chosen: list[Span] = []
    for _, sp in sorted(found, key=lambda t: (t[0], -(t[1].end - t[1].start), t[1].start)):
        if any(a < sp.end and sp.start < b for a, b in masked):
            continue
        if not any(c.start < sp.end and sp.start < c.end for c in chosen):
            chosen.append(sp)
    taken = [(c.start, c.end) for c in chosen] + masked
    names = _name_spans(text, taken)
    chosen += names
    taken += [(n.start, n.end) for n in names]
    for m in _INITIAL.finditer(text):  # "J. Smith", "D.Okafor"
        if not any(a < m.end() and m.start() < b for a, b in taken) and m.group(1).lower() not in lx.NOT_NAMES:
            chosen.append(Span("name", m.start(), m.end(), m.group()))
            taken.append((m.start(), m.end()))
    if known_names:  # bare parts of names found elsewhere in the case
        for m in re.finditer(r"\b[A-Z](?:'[A-Z])?[A-Za-z-]+\b", text):
            word = m.group().lower()
            if word in known_names and not any(a < m.end() and m.start() < b for a, b in taken):
                chosen.append(Span("name", m.start(), m.end(), m.group(), known_names[word] or m.group()))
                taken.append((m.start(), m.end()))
    resolved = []
    for sp in chosen:
        canonical = sp.canonical
        if sp.kind == "name" and not canonical and known_names:
            bare = _strip_title(sp.text)
            if " " not in bare:
                canonical = known_names.get(bare.lower(), "")
        seen = original[sp.start:sp.end]
        resolved.append(Span(sp.kind, sp.start, sp.end, seen, canonical or seen))
    return sorted(resolved, key=lambda s: s.start)


def _strip_title(name: str) -> str:
    for t in sorted(lx.TITLES, key=len, reverse=True):
        if name.startswith(t + " ") or name.startswith(t + ". "):
            return name[len(t):].lstrip(". ")
    return name


def name_parts(full_names: list[str]) -> dict[str, str]:
    """lower-case word -> the full (two-word or longer) name it belongs to, or "" when it belongs to several."""
    owners: dict[str, set[str]] = {}
    canon = {}
    for n in full_names:
        words = _strip_title(n).split()
        if len(words) < 2:
            continue
        key = normalise(n)
        canon.setdefault(key, _strip_title(n))
        for w in words:
            if w.lower() not in lx.NOT_NAMES and len(w) > 1:
                owners.setdefault(fold(w).lower(), set()).add(key)  # looked up in the folded text
    # a word of two people's names is still a name (redacted), but not linked to either of them ("")
    return {w: canon[next(iter(k))] if len(k) == 1 else "" for w, k in owners.items()}


def detect_case(texts: list[str], *, extra_names: list[str] = ()) -> list[list[Span]]:
    """Identifiers in every statement of one case, names linked across them: a bare surname or first name that
    belongs to one full name found anywhere in the case (or in `extra_names`, the names of the case's statements
    imported before) is that person."""
    first = [detect(t) for t in texts]
    full = [sp.text for spans in first for sp in spans if sp.kind == "name" and len(_strip_title(sp.text).split()) > 1]
    full += [n for n in extra_names if len(_strip_title(n).split()) > 1]
    parts = name_parts(full)
    return [detect(t, known_names=parts) for t in texts]


def canonical(span: Span) -> str:
    return _strip_title(span.canonical) if span.kind == "name" else span.canonical


def pseudonymise(text: str, spans: list[Span], key: bytes) -> tuple[str, list[tuple[Span, str]]]:
    """The text with every span replaced by `[KIND psn:...]` (keyed, so the same identifier is the same pseudonym
    everywhere), and (span, pseudonym) pairs for sealing the originals."""
    out, pairs, last = [], [], 0
    for sp in spans:
        p = pseudonym(key, f"{sp.kind}:{canonical(sp)}")
        out.append(text[last:sp.start])
        out.append(f"[{sp.kind.upper()} {p}]")
        pairs.append((sp, p))
        last = sp.end
    out.append(text[last:])
    return "".join(out), pairs


def subject_pseudonyms(key: bytes, value: str) -> list[str]:
    """The pseudonyms an identity a person gives (a subject request's) has in case files, under every kind, since a
    request does not say whether "416 555 0199" was written down as a phone or an id: what `pseudonymise` would
    make of it (titles dropped from names; case, spacing and punctuation never matter)."""
    value = " ".join(value.split())
    names = {_strip_title(value), _strip_title(value.title())}
    return sorted({pseudonym(key, f"{kind}:{v}") for kind in KINDS for v in (names if kind == "name" else {value})})


def markers(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, pseudonym, start, end) of every pseudonym in a stored text."""
    return [(m.group(1).lower(), m.group(2), m.start(), m.end()) for m in MARKER.finditer(text)]

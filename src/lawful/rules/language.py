"""The rule language: a TOML file of rules whose conditions are one-line expressions, parsed by hand (no eval, no
Python), checked against the event schema, with errors that give file, line, column and a hint.

    [ruleset]
    name = "bird-catching"          # fields the events carry beyond the built-ins, with their types:
    fields = { items = "set", species = "text", group_size = "number" }
    zones = "zones/mountain-forest.geojson"     # optional, relative to this file
    night_ends = "06:00"                        # 'after 21:00' runs to here, across midnight

    [[rule]]
    id = "bird-catching-night"
    version = 1
    legal_basis = "Wildlife Protection Law, art. 24"
    purpose = "wildlife protection patrols"
    threshold = 0.8
    action = "warn"                              # warn | notify | open-case
    conditions = [
      { when = "local time after 21:00", weight = 0.3 },
      { when = "items contains 'bird net'", weight = 0.4 },
      { when = "inside zone of type 'mountain-forest'", weight = 0.3 },
    ]

Condition forms (FIELD is a built-in -- category, area, premises -- or a declared field):
    FIELD == 'text' | FIELD != 'text' | FIELD < 3 | <= | > | >=      FIELD in ['a', 'b']      FIELD contains 'x'
    local time after 21:00 | local time before 06:00 | local time between 22:00 and 04:00
    weekday in [Sat, Sun]
    inside zone 'Laoshan'  |  inside zone of type 'mountain-forest'
    within 500 m of (120.61, 36.17)                                  (lon, lat)
    count of 'Break and Enter' within 200 m in last 72 h >= 3         ('of ...' optional; h or d; counts this event)
    count of 'Robbery' in area in last 24 h above p99 of last 90 d    (the area's daily counts before today)
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lawful.errors import InputError
from lawful.limits import CONFIG_BYTES, check_tree, read_text

BUILTIN_FIELDS = {"category": "text", "area": "text", "premises": "text"}
FIELD_TYPES = ("text", "number", "set", "bool")
ACTIONS = ("warn", "notify", "open-case")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RuleError(InputError):
    """A rule file is wrong at a place: file:line:column, what, and a hint."""

    def __init__(self, file: str, line: int, col: int, problem: str, hint: str):
        self.file, self.line, self.col = file, line, col
        super().__init__(f"{file}:{line}:{col}: {problem}. Nothing was run.", hint)


# ---- conditions ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Compare:
    field: str
    op: str  # == != < <= > >= in contains
    value: object


@dataclass(frozen=True)
class TimeOfDay:
    start: int  # minutes after local midnight; the window is [start, end), crossing midnight when end <= start
    end: int


@dataclass(frozen=True)
class Weekday:
    days: frozenset[int]  # 0 = Monday


@dataclass(frozen=True)
class InZone:
    name: str | None
    kind: str | None


@dataclass(frozen=True)
class Near:
    lon: float
    lat: float
    metres: float


@dataclass(frozen=True)
class CountNear:
    category: str | None
    metres: float
    hours: float
    at_least: int


@dataclass(frozen=True)
class AreaSpike:
    category: str | None
    hours: float
    percentile: float
    baseline_days: int


Condition = Compare | TimeOfDay | Weekday | InZone | Near | CountNear | AreaSpike


@dataclass(frozen=True)
class Clause:
    text: str
    weight: float
    condition: Condition


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    legal_basis: str
    purpose: str
    threshold: float
    action: str
    clauses: tuple[Clause, ...]

    @property
    def ref(self) -> str:
        return f"{self.id} v{self.version}"


@dataclass(frozen=True)
class RuleSet:
    name: str
    path: str
    fields: dict[str, str]
    rules: tuple[Rule, ...]
    zones_path: str | None = None
    night_ends: int = 6 * 60
    extra: dict = field(default_factory=dict)

    @property
    def lookback_hours(self) -> float:
        """How much history before the first evaluated event its windows need."""
        hours = [c.condition.hours for r in self.rules for c in r.clauses if isinstance(c.condition, CountNear)]
        hours += [max(c.condition.hours, (c.condition.baseline_days + 1) * 24) for r in self.rules for c in r.clauses
                  if isinstance(c.condition, AreaSpike)]
        return max(hours, default=0.0)


# ---- the condition parser ------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""\s*(?:(?P<str>'[^']*'|"[^"]*")|(?P<time>\d{1,2}:\d{2})|(?P<num>-?\d+(?:\.\d+)?)"""
                    r"""|(?P<op>==|!=|<=|>=|<|>)|(?P<punct>[\[\](),])|(?P<word>[A-Za-z_][A-Za-z0-9_\-]*))""")


class _Tokens:
    def __init__(self, text: str, fail):
        self.items: list[tuple[str, str, int]] = []  # (kind, text, column)
        self.fail = fail
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                fail(pos, f"cannot read {text[pos:].strip()[:20]!r}", "quote text with '...'; see the forms in "
                     "docs/rules.md")
            kind = m.lastgroup
            self.items.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str, int]:
        j = self.i + offset
        return self.items[j] if j < len(self.items) else ("end", "", self.items[-1][2] + len(self.items[-1][1])
                                                         if self.items else 0)

    def word(self, *expected: str) -> str:
        kind, text, col = self.peek()
        if kind != "word" or (expected and text.lower() not in expected):
            self.fail(col, f"expected {' or '.join(repr(e) for e in expected) or 'a word'}, found {text or 'the end'!r}",
                      "see the condition forms in docs/rules.md")
        self.i += 1
        return text.lower() if expected else text

    def take(self, kind: str, what: str) -> str:
        k, text, col = self.peek()
        if k != kind:
            self.fail(col, f"expected {what}, found {text or 'the end'!r}", "see the condition forms in docs/rules.md")
        self.i += 1
        return text

    def number(self, what: str) -> float:
        _, text, col = self.peek()
        value = float(self.take("num", what))
        if not math.isfinite(value) or abs(value) > 1e12:
            self.fail(col, f"{text[:20]}... is too large for {what}", "give a number below a million million")
        return value

    def string(self, what: str) -> str:
        return self.take("str", what)[1:-1]

    def is_word(self, *words: str) -> bool:
        kind, text, _ = self.peek()
        return kind == "word" and text.lower() in words

    def done(self) -> None:
        kind, text, col = self.peek()
        if kind != "end":
            self.fail(col, f"unexpected {text!r} after a complete condition", "one condition per line; remove it")


def _minutes(text: str, col: int, fail) -> int:
    h, m = (int(p) for p in text.split(":"))
    if h > 23 or m > 59:
        fail(col, f"{text} is not a time of day", "write HH:MM from 00:00 to 23:59")
    return h * 60 + m


def parse_condition(text: str, fields: dict[str, str], night_ends: int, fail) -> Condition:
    """One condition from its text; fail(col, problem, hint) raises with the place."""
    t = _Tokens(text, fail)
    first = t.peek()
    if first[0] != "word":
        fail(first[2], f"a condition starts with a field or a keyword, not {first[1]!r}", "e.g. category == 'Robbery'")
    head = first[1].lower()
    if head == "local":
        t.word("local"), t.word("time")
        how = t.word("after", "before", "between")
        k, s, col = t.peek()
        start = _minutes(t.take("time", "a time HH:MM"), col, fail)
        if how == "after":
            cond = TimeOfDay(start, night_ends)
        elif how == "before":
            cond = TimeOfDay(0, start)
        else:
            t.word("and")
            _, _, col2 = t.peek()
            cond = TimeOfDay(start, _minutes(t.take("time", "a time HH:MM"), col2, fail))
        t.done()
        return cond
    if head == "weekday":
        t.word("weekday"), t.word("in"), t.take("punct", "'['")
        days = set()
        while True:
            _, d, col = t.peek()
            name = t.word()
            if name.lower()[:3] not in WEEKDAYS:
                fail(col, f"{name!r} is not a weekday", "use Mon, Tue, Wed, Thu, Fri, Sat, Sun")
            days.add(WEEKDAYS.index(name.lower()[:3]))
            if t.peek()[1] == "]":
                t.i += 1
                break
            t.take("punct", "',' or ']'")
        t.done()
        return Weekday(frozenset(days))
    if head == "inside":
        t.word("inside"), t.word("zone")
        if t.is_word("of"):
            t.word("of"), t.word("type")
            cond = InZone(None, t.string("a zone type in quotes"))
        else:
            cond = InZone(t.string("a zone name in quotes, or 'of type'"), None)
        t.done()
        return cond
    if head == "within":
        t.word("within")
        metres = _distance(t, "a distance")
        t.word("m"), t.word("of"), t.take("punct", "'('")
        lon = t.number("a longitude")
        t.take("punct", "','")
        lat = t.number("a latitude")
        t.take("punct", "')'")
        t.done()
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            fail(0, f"({lon}, {lat}) is not a longitude, latitude pair", "write (lon, lat) in degrees")
        return Near(lon, lat, metres)
    if head == "count":
        t.word("count")
        category = None
        if t.is_word("of"):
            t.word("of")
            category = t.string("a category in quotes")
        if t.is_word("within"):
            t.word("within")
            metres = _distance(t, "a distance in metres")
            t.word("m"), t.word("in"), t.word("last")
            hours = _duration(t)
            _, op, col = t.peek()
            if t.take("op", "'>='") != ">=":
                fail(col, f"windowed counts compare with >=, not {op}", "write e.g. >= 3")
            _, n, col = t.peek()
            at_least = t.number("a count")
            if at_least != int(at_least) or at_least < 1:
                fail(col, f"{n} is not a whole count of at least 1", "write e.g. >= 3")
            t.done()
            return CountNear(category, metres, hours, int(at_least))
        t.word("in"), t.word("area"), t.word("in"), t.word("last")
        hours = _duration(t)
        t.word("above")
        _, p, col = t.peek()
        pct = t.take("word", "a percentile like p99")
        if not re.fullmatch(r"p\d{1,2}(\.\d+)?", pct.lower()):
            fail(col, f"{pct!r} is not a percentile", "write p90, p95 or p99")
        t.word("of"), t.word("last")
        days = _duration(t) / 24
        t.done()
        return AreaSpike(category, hours, float(pct[1:]), int(days))
    # FIELD OP VALUE
    _, name, col = t.peek()
    t.i += 1
    ftype = fields.get(name)
    if ftype is None:
        fail(col, f"unknown field {name!r}", f"known fields: {', '.join(sorted(fields))}; declare others in "
             "[ruleset] fields")
    kind, op, ocol = t.peek()
    if kind == "op":
        t.i += 1
        vkind, _, vcol = t.peek()
        if ftype == "number":
            value = t.number(f"a number to compare {name} with")
        elif op in ("==", "!="):
            value = t.string(f"text in quotes to compare {name} with") if ftype != "bool" else t.word("true", "false") == "true"
        else:
            fail(ocol, f"{name} is {ftype}; {op} needs a number field", "use == or != for text")
        t.done()
        return Compare(name, op, value)
    how = t.word("in", "contains")
    if how == "contains":
        if ftype != "set":
            fail(ocol, f"{name} is {ftype}, not a set; 'contains' needs a set field", f"use {name} == '...' or "
                 f"declare {name} = \"set\"")
        value = t.string("an item in quotes")
        t.done()
        return Compare(name, "contains", value)
    t.take("punct", "'['")
    values = []
    while True:
        values.append(t.number("a number") if ftype == "number" else t.string("text in quotes"))
        if t.peek()[1] == "]":
            t.i += 1
            break
        t.take("punct", "',' or ']'")
    t.done()
    return Compare(name, "in", tuple(values))


def _distance(t: _Tokens, what: str) -> float:
    _, text, col = t.peek()
    metres = t.number(what)
    if metres <= 0:
        t.fail(col, f"{text} m is not a distance", "give a distance above 0 metres")
    return metres


def _duration(t: _Tokens) -> float:
    _, text, col = t.peek()
    n = t.number("a duration")
    if n <= 0:
        t.fail(col, f"{text} is not a duration", "give a duration above 0, e.g. 72 h")
    unit = t.word("h", "d")
    return n if unit == "h" else n * 24


# ---- the file ------------------------------------------------------------------------------------------------------
def _locate(source: str, needle: str, occurrence: int) -> tuple[int, int]:
    """(line, column) of the occurrence-th appearance of needle in the file (1-based); (1, 1) if not found."""
    start = -1
    for _ in range(occurrence + 1):
        start = source.find(needle, start + 1)
        if start < 0:
            return 1, 1
    line = source.count("\n", 0, start) + 1
    return line, start - (source.rfind("\n", 0, start) + 1) + 1


RULESET_KEYS = {"name", "fields", "zones", "night_ends", "timezone", "crs", "description"}
RULE_KEYS = {"id", "version", "legal_basis", "purpose", "threshold", "action", "conditions", "description"}
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,63}")


def load_ruleset(path: Path) -> RuleSet:
    source = read_text(path, what="a rule file (TOML)", limit=CONFIG_BYTES,
                       fix="give the path to a rule file (see examples/rules/)")
    return parse_ruleset(source, str(path))


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def parse_ruleset(source: str, name: str = "rules.toml") -> RuleSet:
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        raise RuleError(name, line, col, f"not valid TOML ({str(exc).split(' (at')[0]})",
                        "check quotes, brackets and commas on that line") from None
    except (RecursionError, ValueError):  # nesting past Python's recursion limit; a number with thousands of digits
        raise RuleError(name, 1, 1, "nested too deeply or a number too large to read",
                        "rule files are a few levels deep, with ordinary numbers") from None

    def fail_at(needle: str, occurrence: int = 0):
        def fail(problem: str, hint: str, col_offset: int = 0):
            line, col = _locate(source, needle, occurrence)
            raise RuleError(name, line, col + col_offset, problem, hint)
        return fail

    unknown = sorted(set(raw) - {"ruleset", "rule"})
    if unknown:
        fail_at(unknown[0])(f"unknown section {unknown[0]!r}", "a rule file has [ruleset] and [[rule]] tables only")
    head = raw.get("ruleset", {})
    if not isinstance(head, dict):
        fail_at("ruleset")("ruleset is not a table", "write a [ruleset] section")
    unknown = sorted(set(head) - RULESET_KEYS)
    if unknown:
        fail_at(unknown[0])(f"[ruleset] has an unknown key {unknown[0]!r}", f"use {', '.join(sorted(RULESET_KEYS))}")
    for key in ("name", "zones", "timezone", "crs", "description", "night_ends"):
        if key in head and (not isinstance(head[key], str) or not head[key].strip() or len(head[key]) > 500):
            fail_at(key)(f"[ruleset] {key} is {head[key]!r}, not text"[:200], f'quote it: {key} = "..."')
    declared = head.get("fields", {})
    if not isinstance(declared, dict):
        fail_at("fields")("[ruleset] fields is not a table", 'write fields = { items = "set", speed = "number" }')
    fields = dict(BUILTIN_FIELDS)
    for f, ftype in declared.items():
        if not _FIELD_NAME.fullmatch(f):
            fail_at(f)(f"field name {f!r} cannot be used in a condition"[:200], "use letters, digits, _ and -")
        if not isinstance(ftype, str) or ftype not in FIELD_TYPES:
            fail_at(f)(f"field {f!r} has type {ftype!r}"[:200], f"use one of {', '.join(FIELD_TYPES)}")
        fields[f] = ftype
    night_ends = 6 * 60
    if "night_ends" in head:
        if not re.fullmatch(r"\d{1,2}:\d{2}", str(head["night_ends"])):
            fail_at("night_ends")("night_ends is not HH:MM", "write e.g. night_ends = \"06:00\"")
        night_ends = _minutes(head["night_ends"], 0, lambda c, p, h: fail_at("night_ends")(p, h))
    rules_raw = raw.get("rule")
    if not isinstance(rules_raw, list) or not rules_raw or not all(isinstance(r, dict) for r in rules_raw):
        fail_at("[ruleset]")("the file has no [[rule]] tables", "add at least one [[rule]] with conditions")
    rules, seen, cond_counts = [], set(), {}
    for k, r in enumerate(rules_raw):
        at_rule = fail_at("[[rule]]", k)
        for key, kind in (("id", str), ("legal_basis", str), ("purpose", str), ("action", str)):
            if not isinstance(r.get(key), kind) or not str(r.get(key)).strip():
                at_rule(f"rule {k + 1} has no {key}" + (f" ({r[key]!r} is not text)"[:80] if key in r else ""),
                        f"add {key} = \"...\" (legal basis and purpose are required)")
            if len(r[key]) > 2000:
                at_rule(f"rule {k + 1}: {key} is {len(r[key]):,} characters long", "shorten it to under 2,000")
        unknown = sorted(set(r) - RULE_KEYS)
        if unknown:
            at_rule(f"rule {k + 1} has an unknown key {unknown[0]!r}", f"use {', '.join(sorted(RULE_KEYS))}")
        if r["id"] in seen:
            fail_at(f'"{r["id"]}"', 1)(f"rule id {r['id']!r} is used twice", "give every rule its own id")
        seen.add(r["id"])
        at_id = fail_at(f'"{r["id"]}"')
        if r["action"] not in ACTIONS:
            at_id(f"rule {r['id']}: action {r['action']!r} is not an action", f"use one of {', '.join(ACTIONS)}")
        version = r.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= 1_000_000:
            at_id(f"rule {r['id']}: version must be a whole number from 1", "write version = 1")
        threshold = r.get("threshold")
        if not _number(threshold):
            at_id(f"rule {r['id']} has no numeric threshold" + (f" ({threshold!r} is not a finite number)"[:80]
                                                                if "threshold" in r else ""),
                  "add threshold = 0.8 (the score at which it fires)")
        if threshold <= 0:
            at_id(f"rule {r['id']}: threshold {threshold!r} would fire on every event", "give a threshold above 0")
        conds = r.get("conditions")
        if not isinstance(conds, list) or not conds or len(conds) > 100:
            at_id(f"rule {r['id']} has no conditions" if not conds or not isinstance(conds, list) else
                  f"rule {r['id']} has {len(conds)} conditions", "add conditions = [{ when = \"...\", weight = 1.0 }] "
                  "(at most 100)")
        clauses = []
        for c in conds:
            text = c.get("when") if isinstance(c, dict) else None
            if not isinstance(text, str) or not text.strip() or len(text) > 1000:
                at_id(f"rule {r['id']}: a condition has no 'when' text", "write { when = \"...\", weight = 0.5 }")
            occ = cond_counts.get(text, 0)
            cond_counts[text] = occ + 1
            at_cond = fail_at(text, occ)
            if set(c) - {"when", "weight"}:
                at_cond(f"a condition has an unknown key {sorted(set(c) - {'when', 'weight'})[0]!r}",
                        "a condition is { when = \"...\", weight = 0.5 }")
            weight = c.get("weight", 1.0)
            if not _number(weight) or weight < 0 or weight > 1e6:
                at_cond(f"condition weight {weight!r} is not a finite number >= 0", "write weight = 0.5")
            cond = parse_condition(text, fields, night_ends, lambda col, p, h: at_cond(p, h, col))
            clauses.append(Clause(text, float(weight), cond))
        if threshold > sum(c.weight for c in clauses) + 1e-12:
            at_id(f"rule {r['id']} can never fire: threshold {threshold} is above the sum of its weights "
                  f"{sum(c.weight for c in clauses):g}", "lower the threshold or raise the weights")
        rules.append(Rule(r["id"], version, r["legal_basis"], r["purpose"], float(threshold), r["action"],
                          tuple(clauses)))
    if "timezone" in head:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(str(head["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            fail_at("timezone")(f"time zone {head['timezone']!r} is unknown", "use an IANA name like Asia/Shanghai")
    if "crs" in head:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(str(head["crs"]))
        except CRSError:
            fail_at("crs")(f"CRS {head['crs']!r} is unknown", "use a projected CRS in metres, e.g. EPSG:32651")
    try:  # anything the checks above let through: dates, deep nesting, huge numbers (named by key path)
        check_tree(raw, name)
    except InputError as exc:
        raise RuleError(name, 1, 1, exc.message, exc.fix or "") from None
    needs_zones = any(isinstance(c.condition, InZone) for r in rules for c in r.clauses)
    zones = head.get("zones")
    if needs_zones and not zones:
        fail_at("inside zone")("a rule uses zones but the rule set names no zone file",
                               "add zones = \"FILE.geojson\" under [ruleset]")
    return RuleSet(head.get("name", Path(name).stem), name, fields, tuple(rules), zones, night_ends,
                   {k: v for k, v in head.items() if k not in ("name", "fields", "zones", "night_ends")})


def propose_version(source: str, rule: Rule, weights: list[float]) -> str:
    """The rule file's text with one rule's weights replaced and its version raised by one; everything else, comments
    included, stays as written."""
    start = source.find(f'id = "{rule.id}"')
    end = source.find("[[rule]]", start)
    end = len(source) if end < 0 else end
    block = source[start:end]
    for clause, w in zip(rule.clauses, weights):
        line_start = block.find(clause.text)
        line_end = block.find("\n", line_start)
        line = block[line_start:line_end]
        block = block[:line_start] + re.sub(r"weight\s*=\s*[0-9.]+", f"weight = {w:g}", line, count=1) + block[line_end:]
    if re.search(r"^version\s*=", block, re.M):
        block = re.sub(r"^version\s*=\s*\d+", f"version = {rule.version + 1}", block, count=1, flags=re.M)
    else:
        block = block.replace(f'id = "{rule.id}"', f'id = "{rule.id}"\nversion = {rule.version + 1}', 1)
    return source[:start] + block + source[end:]

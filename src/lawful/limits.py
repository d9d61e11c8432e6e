"""Safe reading of the files a user hands Lawful: model cards, impact assessments, attachments, mappings, data files,
rule files, zone files, event and verdict files, the access policy.

Every read goes through `read_bytes`, which refuses what is not a regular file (a directory, a device such as
/dev/zero, a FIFO, a socket) before opening it, refuses a file over its size limit without reading more than the
limit, and names the file and the fix. `read_text` adds strict UTF-8 with the line of the first bad byte;
`load_toml` / `load_json` add a nesting-depth limit, whole numbers that fit in 64 bits, and (for TOML) finite
floats, each refusal naming the key path. Pure: no database.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import tomllib
from datetime import date, datetime, time
from pathlib import Path

from lawful.errors import InputError, LawfulError

MiB = 1 << 20
CONFIG_BYTES = 1 * MiB  # cards, impact assessments, mappings, rule files, the access policy
ATTACHMENT_BYTES = 16 * MiB  # evaluation and exposure JSON
ZONE_BYTES = 64 * MiB  # GeoJSON zone files
EVENT_BYTES = 512 * MiB  # rule-engine event and verdict files
DATA_BYTES = 2048 * MiB  # incident files for ingest; LAWFUL_MAX_INPUT_MB overrides
MAX_DEPTH = 32  # nesting of tables/arrays (TOML) or objects/arrays (JSON)
MAX_INT = 2**63 - 1  # whole numbers must fit a 64-bit column


def data_limit() -> int:
    """The size limit for incident data files: LAWFUL_MAX_INPUT_MB megabytes, 2048 by default."""
    text = os.environ.get("LAWFUL_MAX_INPUT_MB")
    if not text:
        return DATA_BYTES
    try:
        mb = int(text)
        if mb < 1:
            raise ValueError
    except ValueError:
        raise LawfulError(f"LAWFUL_MAX_INPUT_MB={text[:40]!r} is not a whole number of megabytes",
                          "give e.g. LAWFUL_MAX_INPUT_MB=4096, or unset it for the default of 2048") from None
    return mb * MiB


def _size(n: int) -> str:
    return f"{n / MiB:,.1f} MB" if n >= MiB else f"{n:,} bytes"


def read_bytes(path: str | Path, *, what: str, limit: int, fix: str = "", error: type[LawfulError] = InputError
               ) -> bytes:
    """The whole file, or one error naming it: missing, not a regular file, unreadable, or over `limit` bytes."""
    path = Path(path)
    fix = fix or f"give the path to {what}"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: no such file ({what})", fix) from None
    except NotADirectoryError:
        raise error(f"{path}: no such file ({what}); a part of the path is not a directory", fix) from None
    except PermissionError:
        raise error(f"{path}: permission denied ({what})", "make the file readable by the account running Lawful"
                    ) from None
    except (OSError, ValueError) as exc:  # name too long, NUL in the name, ...
        raise error(f"{str(path)[:200]}: cannot be opened ({getattr(exc, 'strerror', None) or exc})", fix) from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{path} is a directory, not {what}", fix)
    if not stat.S_ISREG(st.st_mode):
        kind = ("a character device" if stat.S_ISCHR(st.st_mode) else "a block device" if stat.S_ISBLK(st.st_mode)
                else "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "not a regular file")
        raise error(f"{path} is {kind}, not {what}; Lawful reads only regular files", fix)
    if st.st_size > limit:
        raise error(f"{path} is {_size(st.st_size)}, above the limit of {_size(limit)} for {what}",
                    "split the file, or check that it is the file you meant")
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)  # files that report no size (/proc, growing files) are still bounded
    except PermissionError:
        raise error(f"{path}: permission denied ({what})", "make the file readable by the account running Lawful"
                    ) from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})", fix) from None
    if len(data) > limit:
        raise error(f"{path} is over the limit of {_size(limit)} for {what}",
                    "split the file, or check that it is the file you meant")
    return data


def decode(data: bytes, path: str | Path, *, what: str, encoding: str = "utf-8",
           error: type[LawfulError] = InputError) -> str:
    """Strict decoding; a bad byte is reported with its line. A UTF-8 byte-order mark is dropped."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(f"{path} is not valid {encoding} text: byte 0x{data[exc.start]:02x} on line {line} cannot be "
                    f"decoded ({what})", f"save the file as {encoding.upper()}") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise error(f"{path} contains a NUL character on line {line}: it looks binary, not {what}",
                    "give a text file")
    return text.removeprefix("\ufeff")


def read_text(path: str | Path, *, what: str, limit: int = CONFIG_BYTES, fix: str = "",
              error: type[LawfulError] = InputError) -> str:
    return decode(read_bytes(path, what=what, limit=limit, fix=fix, error=error), path, what=what, error=error)


def _key(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def check_tree(obj, where: str, *, finite: bool = True, dates: bool = True, error: type[LawfulError] = InputError,
               max_depth: int = MAX_DEPTH) -> None:
    """Depth, whole-number range, finite floats and (TOML) no dates, anywhere in a parsed document; the error names
    the key path."""
    stack = [(obj, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= max_depth:
                raise error(f"{where}: nested deeper than {max_depth} levels at {_key(path)}",
                            "flatten the file; Lawful's files are only a few levels deep")
            stack.extend((v, path + (str(k),), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            if depth >= max_depth:
                raise error(f"{where}: nested deeper than {max_depth} levels at {_key(path)}",
                            "flatten the file; Lawful's files are only a few levels deep")
            stack.extend((v, path + (i,), depth + 1) for i, v in enumerate(value))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_INT:
                raise error(f"{where}, {_key(path)}: the whole number {str(value)[:12]}... is too large",
                            "give a number below 2^63")
        elif isinstance(value, float):
            if finite and not math.isfinite(value):
                raise error(f"{where}, {_key(path)}: {value} is not a finite number", "give a real number")
        elif dates and isinstance(value, (date, datetime, time)):
            raise error(f"{where}, {_key(path)}: a TOML date or time ({value}) where text is expected",
                        f'quote it: "{value}"')


class _TooLarge(ValueError):
    pass


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or abs(int(text)) > MAX_INT:
        raise _TooLarge(text)
    return int(text)


def parse_toml(text: str, where: str, *, error: type[LawfulError] = InputError, dates: bool = True,
               check: bool = True) -> dict:
    """TOML text -> dict; syntax errors give the line and column, and the tree is checked (check_tree)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{where}: not valid TOML ({exc})", "fix the syntax at that line and column") from None
    except RecursionError:
        raise error(f"{where}: nested deeper than {MAX_DEPTH} levels", "flatten the file") from None
    except ValueError as exc:  # a whole number with more digits than Python converts
        raise error(f"{where}: a number is too large ({str(exc)[:80]})", "give numbers below 2^63") from None
    if check:
        check_tree(raw, where, error=error, dates=dates)
    return raw


def load_toml(path: str | Path, *, what: str, limit: int = CONFIG_BYTES, fix: str = "",
              error: type[LawfulError] = InputError, dates: bool = True) -> dict:
    return parse_toml(read_text(path, what=what, limit=limit, fix=fix, error=error), str(path), error=error,
                      dates=dates)


def parse_json(text: str, where: str, *, error: type[LawfulError] = InputError, allow_nan: bool = False):
    """JSON text -> value; NaN/Infinity (not JSON) refused unless allow_nan, huge integers and deep nesting refused."""
    def constant(name: str):
        if not allow_nan:
            raise error(f"{where}: {name} is not a JSON number", "give a finite number, or null")
        return float(name.replace("Infinity", "inf"))

    try:
        value = json.loads(text, parse_int=_parse_int, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise error(f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; it may be "
                    "truncated", "fix the JSON at that place, or export it again") from None
    except _TooLarge as exc:
        raise error(f"{where}: the whole number {str(exc)[:12]}... is too large", "give numbers below 2^63") from None
    except RecursionError:
        raise error(f"{where}: nested deeper than {MAX_DEPTH} levels", "flatten the file") from None
    check_tree(value, where, finite=not allow_nan, dates=False, error=error)
    return value


def load_json(path: str | Path, *, what: str, limit: int = ATTACHMENT_BYTES, fix: str = "",
              error: type[LawfulError] = InputError, allow_nan: bool = False):
    return parse_json(read_text(path, what=what, limit=limit, fix=fix, error=error), str(path), error=error,
                      allow_nan=allow_nan)


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error (an OSError, or a database driver's error wrapped by SQLAlchemy) means the disk is full."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(exc, "sqlstate", None) == "53100" or getattr(exc, "pgcode", None) == "53100":  # PostgreSQL disk_full
            return True
        text = str(exc)
        if "database or disk is full" in text or "No space left on device" in text:
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False

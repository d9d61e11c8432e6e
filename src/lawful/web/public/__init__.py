"""The public pages' web helpers: their templates and static files, the signed form token that makes a form
without sign-in safe from cross-site posting (no JavaScript, no cookie), and the per-address rate limit on every
public POST. What the pages show is decided by lawful.transparency, never here."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict, deque
from pathlib import Path

from fastapi.templating import Jinja2Templates

from lawful.errors import LawfulError

HERE = Path(__file__).resolve().parent
PREFIX = "/public"
templates = Jinja2Templates(directory=str(HERE / "templates"))

FORM_SECONDS = 2 * 3600  # a form older than this is stale (the person reloads the page)
_SECRET = secrets.token_bytes(32)  # drawn at start: a restart makes open forms stale, nothing else


class TooMany(LawfulError):
    """More public submissions from one address than the limit allows (429)."""

    kind = "invalid"
    status = 429


# ---- the form token: HMAC(secret, purpose | issued | nonce), checked for age and used once -------------------------
_used: OrderedDict[str, float] = OrderedDict()
_used_lock = threading.Lock()


def form_token(purpose: str) -> str:
    issued, nonce = str(int(time.time())), secrets.token_urlsafe(12)
    mac = hmac.new(_SECRET, f"{purpose}|{issued}|{nonce}".encode(), hashlib.sha256).hexdigest()
    return f"{issued}.{nonce}.{mac}"


def check_form_token(purpose: str, token: str | None) -> None:
    """The form came from this server's page for `purpose`, less than FORM_SECONDS ago, and was not sent before."""
    stale = LawfulError("this form has expired or did not come from this site",
                        "open the form again, fill it in and send it (nothing was sent)")
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(token) > 200:
        raise stale
    issued, nonce, mac = parts
    want = hmac.new(_SECRET, f"{purpose}|{issued}|{nonce}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, mac) or not 0 <= time.time() - int(issued) <= FORM_SECONDS:
        raise stale
    now = time.time()
    with _used_lock:
        while _used and next(iter(_used.values())) < now - FORM_SECONDS:
            _used.popitem(last=False)
        if nonce in _used:
            raise LawfulError("this form was sent already", "open the form again to send something new")
        _used[nonce] = now
        while len(_used) > 100_000:
            _used.popitem(last=False)


# ---- the rate limit: a sliding window per client address ----------------------------------------------------------
def _limit() -> tuple[int, float]:
    text = os.environ.get("LAWFUL_PUBLIC_POSTS", "20/3600")
    count, _, seconds = text.partition("/")
    try:
        return max(1, int(count)), max(1.0, float(seconds or 3600))
    except ValueError:
        return 20, 3600.0


class RateLimit:
    """At most N public POSTs per address in a sliding window (LAWFUL_PUBLIC_POSTS="N/SECONDS", default 20 per
    hour), kept in memory for at most 50,000 addresses (the oldest forgotten first)."""

    def __init__(self):
        self.seen: OrderedDict[str, deque] = OrderedDict()
        self.lock = threading.Lock()

    def hit(self, address: str) -> None:
        count, window = _limit()
        now = time.monotonic()
        with self.lock:
            q = self.seen.pop(address, None) or deque()
            while q and q[0] <= now - window:
                q.popleft()
            self.seen[address] = q
            while len(self.seen) > 50_000:
                self.seen.popitem(last=False)
            if len(q) >= count:
                wait = int(q[0] + window - now) + 1
                raise TooMany(f"too many submissions from your address ({count} in {int(window // 60)} minutes)",
                              f"try again in {max(1, wait // 60)} minute(s)")
            q.append(now)

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()


"""The CLI's way in: an HTTP client of the Lawful server (LAWFUL_SERVER, default http://127.0.0.1:8000).

The client holds no database URL and no key, and nothing it sets (environment, flags, files) changes who the
server thinks you are: only the token does. `lawful login` keeps the token in a 0600 file under your config
directory (as `gh` and `kubectl` do); LAWFUL_TOKEN overrides it for scripts.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from lawful.errors import LawfulError, StoreError

DEFAULT_SERVER = "http://127.0.0.1:8000"
API = "/api/v1"

# Tests put an in-process transport here (a Starlette TestClient); None means real HTTP.
HTTP_FACTORY: Callable[[str], httpx.Client] | None = None


def server_url() -> str:
    return (os.environ.get("LAWFUL_SERVER") or DEFAULT_SERVER).rstrip("/")


def _config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lawful"


def token_file() -> Path:
    return _config_dir() / "tokens.json"


def _tokens() -> dict:
    try:
        return json.loads(token_file().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def saved_token(server: str | None = None) -> str | None:
    return os.environ.get("LAWFUL_TOKEN") or _tokens().get(server or server_url())


def save_token(token: str | None, server: str | None = None) -> Path:
    """Keep (or, with None, forget) the token for this server in a file only you can read."""
    tokens = _tokens()
    key = server or server_url()
    if token is None:
        tokens.pop(key, None)
    else:
        tokens[key] = token
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(tokens, f)
    os.replace(tmp, path)
    return path


class Client:
    def __init__(self, server: str | None = None, token: str | None = None, *, timeout: float = 60.0):
        self.server = server or server_url()
        self.token = token if token is not None else saved_token(self.server)
        self.http = HTTP_FACTORY(self.server) if HTTP_FACTORY else httpx.Client(base_url=self.server,
                                                                                timeout=timeout, trust_env=False)

    def request(self, method: str, path: str, *, auth: bool = True, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {}) or {}
        if not path.startswith("/health"):  # a token, a password or an enrolment code: never in clear to elsewhere
            _refuse_plain_http(self.server)
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = path if path.startswith("/health") else API + path
        try:
            response = self.http.request(method, url, headers=headers, **kwargs)
        except ValueError as exc:  # e.g. NaN or infinity in a body: JSON has no such numbers
            raise LawfulError(f"a value given is not a finite number ({exc})",
                              "give ordinary finite numbers") from None
        except httpx.TransportError as exc:
            raise StoreError(f"cannot reach the Lawful server at {self.server} ({type(exc).__name__})",
                             "start it with `lawful serve` (as the server's account), or set LAWFUL_SERVER "
                             "to where it runs") from None
        if response.status_code >= 400:
            raise _problem(response)
        if 300 <= response.status_code < 400:  # never followed: the token would go where the answer points
            raise StoreError(f"the server at {self.server} answered with a redirect ({response.status_code}) to "
                             f"{response.headers.get('location', '?')[:200]!r}", "set LAWFUL_SERVER to the server's "
                             "own address (https://... behind a proxy)")
        return response

    def get(self, path: str, **params):
        return _json(self.request("GET", path, params={k: v for k, v in params.items() if v is not None}),
                     self.server)

    def post(self, path: str, body: dict | None = None, **kwargs):
        r = self.request("POST", path, json=body, **kwargs)
        return _json(r, self.server) if r.content and r.headers.get("content-type", "").startswith(
            "application/json") else r

    def delete(self, path: str):
        return self.request("DELETE", path)

    def wait(self, job: dict, progress: Callable[[str, int, int], None] | None = None, poll: float = 0.2) -> dict:
        """Poll a job until it ends; its result, or its error raised as the server said it."""
        while True:
            state = self.get(f"/jobs/{job['id']}")
            if progress and state["total"]:
                progress(state["stage"], state["done"], state["total"])
            if state["state"] == "done":
                return state["result"]
            if state["state"] == "failed":
                e = state["error"] or {}
                raise LawfulError(e.get("detail", "the job failed"), e.get("fix"), kind=e.get("kind", "invalid"))
            time.sleep(poll)


def _problem(response: httpx.Response) -> LawfulError:
    try:
        body = _clean(response.json())
    except (ValueError, RecursionError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail") or f"the server answered {response.status_code}"
    if not isinstance(detail, str):
        detail = json.dumps(detail)
    kind = body.get("kind") or {401: "unauthenticated", 403: "denied", 404: "not_found", 409: "conflict",
                                 503: "unavailable"}.get(response.status_code, "invalid")
    fix = body.get("fix")
    if kind == "unauthenticated" and not fix:
        fix = "sign in with `lawful login NAME`"
    return LawfulError(detail, fix, kind=kind)


def connect() -> Client:
    return Client()


def _json(response: httpx.Response, server: str):
    """The answer's JSON, or one clear error: a hostile or broken server gets no traceback out of the client."""
    try:
        return _clean(response.json())
    except (ValueError, RecursionError):
        raise StoreError(f"the server at {server} answered with something that is not JSON (or nested too deeply)",
                         "check LAWFUL_SERVER points at a Lawful server") from None


def _refuse_plain_http(server: str) -> None:
    """A bearer token goes over plain http only to this machine: anyone on the path could read and use it."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(server)
    if parts.scheme != "http":
        return
    host = (parts.hostname or "").lower()
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise LawfulError(f"LAWFUL_SERVER is {server}: plain http to another machine would send your token (or "
                          "password) in clear",
                          "use https:// (a TLS proxy in front of the server, docs/server.md), or run the client on "
                          "the server's machine against http://127.0.0.1")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _clean(value):
    """The answer without terminal control characters (ESC sequences clear the screen, retitle the window or fake
    output): a name, reason or error text from the server reaches the terminal as text only. Tabs and line breaks
    stay (reports and CSV files carry them)."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


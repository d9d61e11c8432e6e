"""Sessions for people in a browser: the session token `credentials.sign_in` gives is kept in a cookie (HttpOnly,
SameSite=Strict, Secure over TLS) instead of an Authorization header, and every form carries a CSRF token.

The CSRF token of a session is HMAC-SHA256(server secret, session token): a page of the console shows it in a
hidden field, a POST must send it back, and a page of another site can neither read it (same-origin policy) nor
compute it (it knows neither the secret nor the HttpOnly cookie). The sign-in form, before any session exists, is
protected the same way with a random nonce in a short-lived cookie of its own. The secret is drawn when the
server starts, so a restart makes open forms stale (the person reloads the page); sessions themselves survive it.

`ConsoleCall` is `deps.Call` with the token taken from the cookie; everything else (one transaction, the request's
trail entry, refusals recorded) is `Call`'s."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from starlette.responses import Response

from lawful.access.credentials import authenticate
from lawful.access.door import READ_METHODS
from lawful.access.service import Actor
from lawful.errors import LawfulError, Unauthenticated
from lawful.web.deps import Call

SESSION_COOKIE = "lawful_session"
SIGNIN_COOKIE = "lawful_signin"
COOKIE_PATH = "/console"
_SECRET = secrets.token_bytes(32)  # per server process; see the module's docstring


def _mac(purpose: str, value: str) -> str:
    return hmac.new(_SECRET, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def session_token(request: Request) -> str:
    token = request.cookies.get(SESSION_COOKIE, "").strip()
    if not token:
        raise Unauthenticated("you are not signed in", "sign in at /console/sign-in")
    if len(token) > 200:
        raise Unauthenticated("the session is not valid", "sign in again")
    return token


def csrf_for(token: str) -> str:
    """The CSRF token of a session (what every form of the console carries)."""
    return _mac("csrf", token)


def new_signin_nonce() -> tuple[str, str]:
    """(nonce for the sign-in cookie, the form's token for it)."""
    nonce = secrets.token_urlsafe(24)
    return nonce, _mac("sign-in", nonce)


def signin_form_ok(request: Request, form_token: str) -> bool:
    nonce = request.cookies.get(SIGNIN_COOKIE, "")
    return bool(nonce) and len(nonce) <= 100 and hmac.compare_digest(_mac("sign-in", nonce), form_token or "")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, token: str, hours: float) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(hours * 3600), path=COOKIE_PATH, httponly=True,
                        secure=_secure(request), samesite="strict")
    response.delete_cookie(SIGNIN_COOKIE, path=COOKIE_PATH)


def set_signin_nonce(response: Response, request: Request, nonce: str) -> None:
    response.set_cookie(SIGNIN_COOKIE, nonce, max_age=3600, path=COOKIE_PATH, httponly=True,
                        secure=_secure(request), samesite="strict")


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


class ConsoleCall(Call):
    """`deps.Call` for console pages: the session token comes from the cookie, and `checked(form_token)`
    authenticates a POST and refuses it (on the trail, in the person's name) unless it carries the session's CSRF
    token."""

    def token(self) -> str:
        return session_token(self.request)

    def _authenticate(self, session) -> Actor:
        try:
            actor = authenticate(session, token=self.token())
        except LawfulError as exc:
            if exc.kind == "invalid":
                raise Unauthenticated(exc.message, "sign in again") from None
            raise
        if self.method not in READ_METHODS and getattr(actor, "scope", "full") == "read":
            raise LawfulError("this session may only read", "sign in again", kind="denied")
        return actor

    def csrf(self) -> str:
        return csrf_for(self.token())

    def checked(self, form_token: str | None) -> Actor:
        """The signed-in person, if the form came from one of their console pages; otherwise a refusal on the
        trail."""
        actor = self.actor()
        if not form_token or not hmac.compare_digest(self.csrf(), form_token):
            exc = LawfulError("the form did not come from your console session (missing or wrong CSRF token)",
                              "reload the page and submit the form again", kind="denied")
            self._refused(exc, actor.name)
            raise exc
        return actor


def console_call(request: Request) -> ConsoleCall:
    return ConsoleCall(request)

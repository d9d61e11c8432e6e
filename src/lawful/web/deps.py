"""How a router reaches a service: authenticate the bearer token, run the service with the actor in one
transaction, make sure the request is on the trail, and record every refusal; the order of the Kubernetes API
server (authenticate -> authorise -> admit -> audit). A request whose trail entry cannot be written is refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from fastapi import Depends, Request

from lawful.access.credentials import authenticate
from lawful.access.decide import Policy
from lawful.access.door import READ_METHODS, record_refusal, record_request
from lawful.access.service import Actor, require_write
from lawful.db import Store
from lawful.errors import LawfulError, StoreError, Unauthenticated
from lawful.jobs import Jobs


@dataclass
class Door:
    """What the server holds for its whole life: the store, the policy it read at start, the job runner."""

    store: Store
    policy: Policy
    policy_sha256: str
    jobs: Jobs


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("this request needs a bearer token",
                              "sign in with `lawful login NAME` (or POST /api/v1/session) and send "
                              "`Authorization: Bearer TOKEN`")
    token = token.strip()
    if len(token) > 200:
        raise Unauthenticated("the token is not valid", "sign in again with `lawful login NAME`")
    return token


SIGN_OUT = "/api/v1/session"


class Call:
    """One request's way to the services. Routers use `run` (one transaction) or `flow` (several)."""

    def __init__(self, request: Request):
        self.request = request
        self.door: Door = request.app.state.door
        self.method = request.method
        self.path = request.url.path

    @property
    def store(self) -> Store:
        return self.door.store

    def _authenticate(self, session) -> Actor:
        try:
            actor = authenticate(session, token=bearer(self.request))
        except LawfulError as exc:
            if exc.kind == "invalid":  # a bad token is a failed authentication, whatever the service calls it
                raise Unauthenticated(exc.message, exc.fix) from None
            raise
        # A read-only token may read, and may end itself (signing out writes nothing but its own revocation).
        if self.method not in READ_METHODS and (self.method, self.path) != ("DELETE", SIGN_OUT):
            require_write(actor, f"{self.method} {self.path[:200]}")  # refused in the holder's name, on the trail
        return actor

    def run(self, fn: Callable[..., Any], /, **kwargs) -> Any:
        """fn(session, actor=..., **kwargs) in one transaction with the authentication and the request's trail
        entry: all three commit together or not at all."""
        name = "anonymous"
        try:
            with self.store.transaction() as session:
                actor = self._authenticate(session)
                name = actor.name
                result = fn(session, actor=actor, **kwargs)
                record_request(session, actor=actor.name, method=self.method, path=self.path)
            return result
        except LawfulError as exc:
            self._refused(exc, name)
            raise

    def actor(self) -> Actor:
        """Authenticate in a short read-only transaction of its own (for flows, which open their own, and job
        status): it never waits for the write lock a long load holds."""
        try:
            with self.store.transaction(readonly=True) as session:
                return self._authenticate(session)
        except LawfulError as exc:
            self._refused(exc, "anonymous")
            raise

    def flow(self, fn: Callable[..., Any], /, **kwargs) -> Any:
        """fn(store, actor=..., **kwargs): an operation of several transactions, each writing its own entries."""
        actor = self.actor()
        try:
            return fn(self.store, actor=actor, **kwargs)
        except LawfulError as exc:
            self._refused(exc, actor.name)
            raise

    def open(self, fn: Callable[..., Any], /, **kwargs) -> Any:
        """fn(session, **kwargs) for the few requests that come before sign-in (signing in itself); the service
        writes its own trail entries."""
        with self.store.transaction() as session:
            return fn(session, **kwargs)

    def _refused(self, exc: LawfulError, actor: str) -> None:
        if exc.kind not in ("denied", "unauthenticated"):
            return
        try:
            record_refusal(self.store, exc=exc, actor=actor, method=self.method, path=self.path)
        except Exception:  # noqa: BLE001 - whatever failed, the answer is still a refusal, said to be unrecorded
            raise StoreError(f"{exc.message}; and the refusal could not be written to the trail",
                             "tell the operator: the server cannot write its trail") from None


def call(request: Request) -> Call:
    return Call(request)


CallDep = Depends(call)

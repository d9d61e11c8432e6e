"""The one policy decision point: decide(actor, action, resource, purpose) -> Decision(allowed, reason).

Deny by default. A request is allowed only when one of the actor's roles grants the action and lists the purpose,
the action's own purposes (if the policy restricts it) include the purpose, the resource's classification is at
or below the actor's clearance, and (for a model with purposes of its own in the policy) the purpose is one of the
model's. Pure: the policy is a dataclass read from a TOML file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lawful.errors import ConfigError, LawfulError
from lawful.limits import parse_toml, read_text

LEVELS = ("public", "internal", "confidential", "secret")
DEFAULT_POLICY = Path(__file__).with_name("policy.toml")


ROLES = ("admin", "analyst", "supervisor", "officer", "model-owner", "approver", "dpo", "auditor")  # access.models
# Every action some service asks about. A policy granting anything else is refused: a typo would otherwise grant
# nothing (or, worse, look as if it did).
ACTIONS = frozenset({
    "users.create", "models.register", "models.approve", "models.activate", "models.suspend", "models.reinstate",
    "models.retire", "outputs.issue", "outputs.issue-sandbox", "outputs.decide", "outputs.decide-plan", "outputs.read",
    "outputs.read-sandbox", "incidents.read", "incidents.load", "incidents.reidentify", "serious-incidents.record", "audit.read",
    "audit.export", "privacy.purge", "privacy.hold", "privacy.requests", "privacy.breaches",
    "patrol.plan", "patrol.dosage", "complaints.handle", "transparency.audit-pack",
    "casefiles.import", "casefiles.read", "casefiles.analyse", "casefiles.disclose", "casefiles.reidentify"})
# A case reference after a purpose that allows one: "investigation 2026-0412" (one word, with at least one digit).
REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,39}")
MAX_PURPOSE = 200


@dataclass(frozen=True)
class Policy:
    roles: dict[str, tuple[frozenset[str], tuple[str, ...]]]  # role -> (actions, purposes)
    models: dict[str, tuple[str, ...]] = field(default_factory=dict)  # model -> purposes
    source: str = ""
    actions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # action -> the only purposes it may serve
    # purpose -> (its declared sub-purposes, whether a case reference may follow it)
    purposes: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=dict)

    def granted(self, role: str) -> frozenset[str]:
        return self.roles.get(role, (frozenset(), ()))[0]


@dataclass(frozen=True)
class Resource:
    kind: str  # model | output | incidents | trail | user
    name: str = ""
    classification: str = "internal"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


class AccessDenied(LawfulError):
    """A refusal by the decision point; the CLI writes it to the trail before printing it."""

    kind = "denied"

    def __init__(self, actor: str, action: str, resource: Resource, purpose: str, reason: str):
        self.actor, self.action, self.resource, self.purpose, self.reason = actor, action, resource, purpose, reason
        super().__init__(f"denied: {reason}", "ask for the role or purpose you need; the denial is on the trail")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def purpose_matches(allowed: str, purpose: str, policy: Policy | None = None) -> bool:
    """Exactly the allowed purpose (case and spacing aside), or one of the sub-purposes the policy declares for it
    ([purposes."NAME"] sub = [...]), or, where the policy says so (reference = true), the purpose followed by one
    case reference: "investigation 2026-0412". Nothing else rides on an approval: "patrol planning of protest
    organisers" is not "patrol planning"."""
    a, p = _norm(allowed), _norm(purpose)
    if not p:
        return False
    if p == a:
        return True
    if policy is None:
        return False
    for name, (subs, reference) in policy.purposes.items():
        if _norm(name) != a:
            continue
        if any(p == _norm(s) for s in subs):
            return True
        rest = p[len(a) + 1:] if p.startswith(a + " ") else ""
        return bool(reference and REFERENCE.fullmatch(rest) and any(c.isdigit() for c in rest))
    return False


def decide(actor, action: str, resource: Resource, purpose: str, policy: Policy) -> Decision:
    """actor: anything with .name, .roles and .clearance."""
    if not purpose or not purpose.strip():
        return Decision(False, f"{actor.name} gave no purpose for {action}; every request states one")
    granting = [r for r in sorted(actor.roles) if action in policy.granted(r)]
    if not granting:
        return Decision(False, f"no role of {actor.name} ({', '.join(sorted(actor.roles)) or 'none'}) grants {action}")
    for_purpose = [r for r in granting if any(purpose_matches(p, purpose, policy) for p in policy.roles[r][1])]
    if not for_purpose:
        return Decision(False, f"{action} is granted to {actor.name} as {', '.join(granting)}, but not for the "
                               f"purpose {purpose!r}")
    only = policy.actions.get(action)
    if only is not None and not any(purpose_matches(p, purpose, policy) for p in only):
        return Decision(False, f"{action} may only serve {', '.join(only)}, not {purpose!r}")
    if LEVELS.index(resource.classification) > LEVELS.index(actor.clearance):
        return Decision(False, f"{resource.kind} {resource.name} is {resource.classification}, above "
                               f"{actor.name}'s clearance ({actor.clearance})")
    model_purposes = policy.models.get(resource.name) if resource.kind == "model" else None
    if model_purposes is not None and purpose not in ("governance", "administration") \
            and not any(purpose_matches(p, purpose, policy) for p in model_purposes):
        return Decision(False, f"model {resource.name} may not be used for {purpose!r} (its purposes: "
                               f"{', '.join(model_purposes)})")
    return Decision(True, f"{action} granted to {actor.name} as {for_purpose[0]} for {purpose!r}")


def require(actor, action: str, resource: Resource, purpose: str, policy: Policy | None = None) -> None:
    """decide(), raising AccessDenied on a refusal."""
    d = decide(actor, action, resource, purpose, policy or load_policy())
    if not d.allowed:
        raise AccessDenied(actor.name, action, resource, purpose, d.reason)


_CACHE: dict[tuple[str, float], Policy] = {}
_PINNED: list[Policy] = []  # the server's policy, read once at start (pin_policy); empty in other processes


def pin_policy(policy: Policy | None) -> None:
    """From now on this process decides by `policy` whatever the file or LAWFUL_POLICY say (None unpins)."""
    _PINNED[:] = [policy] if policy is not None else []


def load_policy(path: Path | None = None) -> Policy:
    """The policy file (LAWFUL_POLICY, or the one shipped with Lawful), checked strictly: unknown sections, keys,
    roles and actions, a string where a list belongs, wildcards and purposes no role may serve are refused."""
    if path is None and _PINNED:  # the server decides by the policy it read at start, whatever the env says now
        return _PINNED[0]
    path = path or Path(os.environ.get("LAWFUL_POLICY") or DEFAULT_POLICY)
    try:
        key = (str(path), path.stat().st_mtime)
    except FileNotFoundError:
        raise ConfigError(f"policy file {path} does not exist", "point LAWFUL_POLICY at a policy TOML file") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"policy file {str(path)[:200]} cannot be read ({getattr(exc, 'strerror', None) or exc})",
                          "point LAWFUL_POLICY at a policy TOML file") from None
    if key not in _CACHE:
        text = read_text(path, what="the access policy (TOML)", error=ConfigError,
                         fix="point LAWFUL_POLICY at a policy TOML file, or unset it for the shipped policy")
        _CACHE[key] = parse_policy(text, str(path))
    return _CACHE[key]


def parse_policy(text: str, source: str = "policy.toml") -> Policy:
    raw = parse_toml(text, source, error=ConfigError)

    def bad(where: str, problem: str, fix: str):
        raise ConfigError(f"{source}, {where}: {problem}", fix)

    def table(value, where: str, keys: tuple[str, ...] | None = None, holds: str = "") -> dict:
        """value as a table; with keys, one holding no others (holds says what it may hold)."""
        if not isinstance(value, dict):
            bad(where, f"expected a table, got {value!r}"[:200], f"write it as [{where}]")
        if keys is not None and set(value) - set(keys):
            bad(f"[{where}]", f"unknown key(s) {', '.join(sorted(set(value) - set(keys)))}", f"it holds only {holds}")
        return value

    def words(value, where: str, *, known=None, what: str = "") -> tuple[str, ...]:
        if not isinstance(value, list):  # a string would be read as its characters
            bad(where, f"expected a list of strings, got {type(value).__name__} {value!r}"[:200],
                f'write {where.rsplit(" ", 1)[-1]} = ["...", "..."]')
        for v in value:
            if not isinstance(v, str) or not v.strip() or len(v) > MAX_PURPOSE:
                bad(where, f"{v!r} is not a non-empty name of at most {MAX_PURPOSE} characters"[:200],
                    "write each entry as quoted text")
            if "*" in v or "?" in v:
                bad(where, f"{v!r}: wildcards are not allowed", "name every entry; the policy denies by default")
            if known is not None and v not in known:
                bad(where, f"unknown {what} {v!r}", f"use one of {', '.join(sorted(known))}")
        return tuple(value)

    unknown = set(raw) - {"roles", "models", "actions", "purposes"}
    if unknown:
        bad(f"[{sorted(unknown)[0]}]", "unknown section", "use [roles.NAME], [models.NAME], [actions.\"NAME\"] and "
            "[purposes.\"NAME\"]")
    roles = {}
    for name, r in table(raw.get("roles", {}), "roles").items():
        where = f"[roles.{name}]"
        if name not in ROLES:
            bad(where, f"unknown role {name!r}", f"use one of {', '.join(ROLES)}")
        r = table(r, f"roles.{name}", ("actions", "purposes"), "actions = [...] and purposes = [...]")
        roles[name] = (frozenset(words(r.get("actions", []), f"{where} actions", known=ACTIONS, what="action")),
                       words(r.get("purposes", []), f"{where} purposes"))
    models = {}
    for name, m in table(raw.get("models", {}), "models").items():
        m = table(m, f"models.{name}", ("purposes",), "purposes = [...]")
        models[name] = words(m.get("purposes", []), f"[models.{name}] purposes")
    actions = {}
    for name, a in table(raw.get("actions", {}), "actions").items():
        if name not in ACTIONS:
            bad(f'[actions."{name}"]', f"unknown action {name!r}", f"use one of {', '.join(sorted(ACTIONS))}")
        a = table(a, f'actions."{name}"', ("purposes",), "purposes = [...]")
        actions[name] = words(a.get("purposes", []), f'[actions."{name}"] purposes')
    purposes = {}
    for name, p in table(raw.get("purposes", {}), "purposes").items():
        where = f'[purposes."{name}"]'
        p = table(p, f'purposes."{name}"', ("sub", "reference"), "sub = [...] and reference = true/false")
        if not isinstance(p.get("reference", False), bool):
            bad(f"{where} reference", f"{p['reference']!r} is not true or false", "write reference = true")
        subs = words(p.get("sub", []), f"{where} sub")
        for s in subs:
            if not _norm(s).startswith(_norm(name) + " "):
                bad(f"{where} sub", f"{s!r} does not begin with {name!r}",
                    f'a sub-purpose narrows its purpose: write "{name} ..."')
        purposes[name] = (subs, p.get("reference", False))
    return Policy(roles, models, source, actions, purposes)

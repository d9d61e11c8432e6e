"""The one policy decision point: decide(actor, action, resource, purpose) -> Decision(allowed, reason).

Deny by default. A request is allowed only when one of the actor's roles grants the action and lists the purpose,
the action's own purposes (if the policy restricts it) include the purpose, the resource's classification is at
or below the actor's clearance, and (for a model with purposes of its own in the policy) the purpose is one of the
model's. Pure: the policy is a dataclass read from a TOML file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lawful.errors import ConfigError, LawfulError

LEVELS = ("public", "internal", "confidential", "secret")
DEFAULT_POLICY = Path(__file__).with_name("policy.toml")


@dataclass(frozen=True)
class Policy:
    roles: dict[str, tuple[frozenset[str], tuple[str, ...]]]  # role -> (actions, purposes)
    models: dict[str, tuple[str, ...]] = field(default_factory=dict)  # model -> purposes
    source: str = ""
    actions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # action -> the only purposes it may serve

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


def purpose_matches(allowed: str, purpose: str) -> bool:
    a, p = allowed.strip().lower(), purpose.strip().lower()
    return bool(p) and (p == a or p.startswith(a + " "))


def decide(actor, action: str, resource: Resource, purpose: str, policy: Policy) -> Decision:
    """actor: anything with .name, .roles and .clearance."""
    if not purpose or not purpose.strip():
        return Decision(False, f"{actor.name} gave no purpose for {action}; every request states one")
    granting = [r for r in sorted(actor.roles) if action in policy.granted(r)]
    if not granting:
        return Decision(False, f"no role of {actor.name} ({', '.join(sorted(actor.roles)) or 'none'}) grants {action}")
    for_purpose = [r for r in granting if any(purpose_matches(p, purpose) for p in policy.roles[r][1])]
    if not for_purpose:
        return Decision(False, f"{action} is granted to {actor.name} as {', '.join(granting)}, but not for the "
                               f"purpose {purpose!r}")
    only = policy.actions.get(action)
    if only is not None and not any(purpose_matches(p, purpose) for p in only):
        return Decision(False, f"{action} may only serve {', '.join(only)}, not {purpose!r}")
    if LEVELS.index(resource.classification) > LEVELS.index(actor.clearance):
        return Decision(False, f"{resource.kind} {resource.name} is {resource.classification}, above "
                               f"{actor.name}'s clearance ({actor.clearance})")
    model_purposes = policy.models.get(resource.name) if resource.kind == "model" else None
    if model_purposes is not None and purpose not in ("governance", "administration") \
            and not any(purpose_matches(p, purpose) for p in model_purposes):
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
    """The policy file (LAWFUL_POLICY, or the one shipped with Lawful), checked: unknown keys are refused."""
    if path is None and _PINNED:
        return _PINNED[0]
    path = path or Path(os.environ.get("LAWFUL_POLICY") or DEFAULT_POLICY)
    try:
        key = (str(path), path.stat().st_mtime)
    except FileNotFoundError:
        raise ConfigError(f"policy file {path} does not exist", "point LAWFUL_POLICY at a policy TOML file") from None
    if key not in _CACHE:
        _CACHE[key] = parse_policy(path.read_text(encoding="utf-8"), str(path))
    return _CACHE[key]


def parse_policy(text: str, source: str = "policy.toml") -> Policy:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})", "fix the syntax at that line") from None
    unknown = set(raw) - {"roles", "models", "actions"}
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}", "use [roles.NAME] and "
                          "[models.NAME]")
    roles = {}
    for name, r in raw.get("roles", {}).items():
        if set(r) - {"actions", "purposes"} or not isinstance(r.get("actions", []), list):
            raise ConfigError(f"{source}: [roles.{name}] may hold only actions and purposes lists",
                              "write actions = [...] and purposes = [...]")
        roles[name] = (frozenset(r.get("actions", [])), tuple(r.get("purposes", [])))
    models = {name: tuple(m.get("purposes", [])) for name, m in raw.get("models", {}).items()}
    actions = {name: tuple(a.get("purposes", [])) for name, a in raw.get("actions", {}).items()}
    return Policy(roles, models, source, actions)

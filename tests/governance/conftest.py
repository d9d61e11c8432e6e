"""People and a registered entry on a fresh store, made through the services the CLI uses."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from lawful import db
from lawful.access.service import create, get_actor
from lawful.governance import registry
from lawful.governance.card import load_card
from lawful.governance.policy import Thresholds

ROOT = Path(__file__).resolve().parents[2]
CARD = load_card(ROOT / "examples" / "governance" / "demo-forecaster.toml")
FRIA = {k: f"{k} described" for k in ("process_and_frequency", "affected_groups", "risks", "oversight_measures",
                                       "materialisation_response", "complaints")}
EVALUATION = {"source": "test", "records": [{"model": "ensemble", "coverage": 0.05, "hit_rate": 0.3, "pai": 6.0,
                                             "days": 52}]}
EXPOSURE = {"source": "test", "model": "ensemble", "coverage": 0.05, "days": 52, "misplaced": 0.2}
PEOPLE = {"admin": ["admin"], "owner": ["model-owner"], "ap1": ["approver"], "ap2": ["approver"],
          "analyst": ["analyst"], "supervisor": ["supervisor"], "dpo": ["dpo"], "officer": ["officer"]}


class Gov:
    """A store with people in it, and shortcuts that each run in their own committed transaction."""

    def __init__(self, settings):
        self.settings = settings
        self.engine = db.open_store(settings)
        self.t = Thresholds()
        with self.tx() as s:
            for name, roles in PEOPLE.items():
                create(s, creator=None if name == "admin" else get_actor(s, name="admin"), name=name, roles=roles,
                       first_admin=name == "admin",
                       password="correct horse battery staple" if name == "admin" else None)  # argon2 is slow on purpose

    def tx(self):
        return db.transaction(self.engine, settings=self.settings)

    def actor(self, s, name):
        return get_actor(s, name=name)

    def register(self, tier="high", **changes):
        card = copy.deepcopy(CARD)
        card.update(tier=tier, owner="owner", **changes)
        with self.tx() as s:
            e = registry.register(s, actor=self.actor(s, "owner"), card=card)
            registry.attach(s, actor=self.actor(s, "owner"), entry=e, evaluation=EVALUATION, exposure=EXPOSURE,
                            fria=FRIA)
            return e.ref

    def step(self, fn, ref, who, **kw):
        with self.tx() as s:
            e = registry.get(s, ref=ref)
            fn(s, actor=self.actor(s, who), entry=e, **kw)
            return e.state

    def approve(self, ref, who, **kw):
        kw.setdefault("purposes", ["patrol planning"])
        return self.step(registry.approve, ref, who, reason="fine", areas=kw.pop("areas", []),
                         expires=kw.pop("expires", None), thresholds=self.t, **kw)

    def active(self, tier="high"):
        ref = self.register(tier)
        self.step(registry.submit, ref, "owner", thresholds=self.t)
        self.approve(ref, "ap1")
        if tier == "high":
            self.approve(ref, "ap2")
        self.step(registry.activate, ref, "owner")
        return ref


@pytest.fixture
def gov(store):
    g = Gov(store)
    yield g
    g.engine.dispose()

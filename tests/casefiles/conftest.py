"""A store with people (an officer and an analyst cleared for confidential case files), the case-file assistant
registered, approved for investigations and active; all through the services."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from lawful.access.service import create, get_actor
from lawful.governance import registry
from lawful.governance.card import load_card
from tests.governance.conftest import EVALUATION, EXPOSURE, FRIA, Gov

ROOT = Path(__file__).resolve().parents[2]
CARD = load_card(ROOT / "examples" / "governance" / "casefile-assistant.toml")
EXAMPLES = ROOT / "examples" / "casefiles"
CLEARED = {"det": ["analyst"], "pc": ["officer"], "sup": ["supervisor"], "pc2": ["officer"]}


class Cases(Gov):
    """Gov plus people cleared for confidential case files and the active assistant."""

    def __init__(self, settings):
        super().__init__(settings)
        from sqlalchemy import select

        from lawful.access.models import User

        with self.tx() as s:
            admin = get_actor(s, name="admin")
            for name, roles in CLEARED.items():
                create(s, creator=admin, name=name, roles=roles)
                # cleared as a vetting office would (the demo admin itself holds internal clearance only)
                s.scalar(select(User).where(User.name == name)).clearance = "confidential"
        self.assistant = self.active_assistant()

    def active_assistant(self, **changes) -> str:
        card = copy.deepcopy(CARD)
        card.update(owner="owner", **changes)
        with self.tx() as s:
            e = registry.register(s, actor=self.actor(s, "owner"), card=card)
            registry.attach(s, actor=self.actor(s, "owner"), entry=e, evaluation=EVALUATION, exposure=EXPOSURE,
                            fria=FRIA)
            ref = e.ref
        self.step(registry.submit, ref, "owner", thresholds=self.t)
        self.approve(ref, "ap1", purposes=["investigation"])
        self.step(registry.activate, ref, "owner")
        return ref


@pytest.fixture
def cases(store):
    c = Cases(store)
    yield c
    c.engine.dispose()

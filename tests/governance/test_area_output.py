"""An approval limited to an area lets out outputs for that area only: a forecast issued for Hood0 holds Hood0's
places, not the city's."""

from __future__ import annotations

from lawful.governance import registry
from tests.forecast.test_cli_forecast import loaded  # noqa: F401
from tests.governance.conftest import Gov
from tests.web.conftest import server  # noqa: F401


def test_an_output_for_an_area_holds_only_that_areas_places(loaded, server):
    """An approval limited to Hood0 let out a forecast 'for Hood0' with places all over the city."""
    from tests.conftest import _token_of

    g = Gov(loaded)
    try:
        ref = g.register("medium")
        g.step(registry.submit, ref, "owner", thresholds=g.t)
        g.approve(ref, "ap1", areas=["Hood0"])
        g.step(registry.activate, ref, "owner")
    finally:
        g.engine.dispose()
    analyst = {"Authorization": f"Bearer {_token_of(loaded, 'analyst')}"}
    r = server.post("/api/v1/forecast/issue", headers=analyst,
                    json={"ref": ref, "purpose": "patrol planning", "day": "2019-12-10", "area": "Hood0"})
    assert r.status_code == 201, r.text
    assert r.json()["cells"] and {c["neighbourhood"] for c in r.json()["cells"]} == {"Hood0"}

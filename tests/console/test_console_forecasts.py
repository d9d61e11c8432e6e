"""An analyst's forecasting work in Debian's Chromium: run a day's forecast from the Forecasts page, read the map (the
whole surface, the week's incidents, the top places outlined) and the top place's explanation, and download the
surface and the top places as GeoJSON and CSV for a GIS; each run and export on the trail as development work."""

from __future__ import annotations

import json

from lawful.settings import TORONTO_BOUNDS
from tests.console.test_console import sign_in, watch
from tests.forecast.test_cli_forecast import loaded  # noqa: F401  (fixture: two years of synthetic incidents)


def test_an_analyst_runs_a_forecast_reads_why_and_exports_it_for_a_gis(loaded, console, browser, shot,  # noqa: F811
                                                                        tmp_path):
    console.enrol("analyst")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "analyst", next_="?next=/console/forecasts")
    assert page.url.endswith("/console/forecasts")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Forecasts").get_attribute("aria-current") == "page"
    # the form with the analyst's defaults; nothing has run yet
    assert page.get_by_label("Category").input_value() == "Break and Enter"
    assert page.get_by_label("Day").input_value() == "2019-12-24"
    assert page.get_by_label("Model").input_value() == "features"
    assert page.get_by_role("heading", name="Risk surface").count() == 0
    assert console.trail("development") == []

    page.get_by_label("Model").select_option("kde")
    page.get_by_label("Top places").fill("5")
    page.get_by_role("button", name="Run the forecast").click()
    assert page.get_by_role("heading", name="Break and Enter on 2019-12-24").is_visible()

    # the map: the whole surface, the five top places outlined and numbered, the incidents of the week before
    figure = page.get_by_role("img", name="Risk surface of Break and Enter on 2019-12-24")
    assert figure.is_visible()
    assert page.locator(".map-surface .place-outline").count() == 5
    assert page.locator(".map-surface .place-rank").all_text_contents() == ["1", "2", "3", "4", "5"]
    dots = page.locator(".map-surface .events circle").count()
    recent = int(page.locator(".facts dt", has_text="Incidents in the 7 days before").locator("xpath=../dd")
                 .inner_text())
    assert dots == recent > 0
    # the top place's explanation: its sentence and a bar per term, on the same screen
    first = page.locator("#place-1")
    assert first.get_by_role("heading").inner_text().startswith("cell ")
    sentence = first.locator(".sentence").inner_text()
    assert "incidents" in sentence
    assert first.locator(".term").count() >= 1
    shot(page, "20-forecasts")

    [run] = console.trail("development")
    assert (run["actor"], run["object"], run["purpose"]) == ("analyst", "incidents:Break and Enter", "crime analysis")
    assert run["details"]["analysis"] == "forecast map" and run["details"]["recent_days"] == 7

    # the top places as GeoJSON: EPSG:4326 polygons inside the jurisdiction, with rank, score and sentence
    with page.expect_download() as dl:
        page.get_by_role("link", name="Top places as GeoJSON").click()
    assert dl.value.suggested_filename == "lawful-places-2019-12-24.geojson"
    path = tmp_path / "places.geojson"
    dl.value.save_as(path)
    fc = json.loads(path.read_text())
    assert fc["type"] == "FeatureCollection" and [f["properties"]["rank"] for f in fc["features"]] == [1, 2, 3, 4, 5]
    assert fc["features"][0]["properties"]["sentence"] == sentence
    lo_lon, lo_lat, hi_lon, hi_lat = TORONTO_BOUNDS
    for f in fc["features"]:
        ring = f["geometry"]["coordinates"][0]
        assert f["geometry"]["type"] == "Polygon" and len(ring) == 5 and ring[0] == ring[-1]
        assert all(lo_lon <= lon <= hi_lon and lo_lat <= lat <= hi_lat for lon, lat in ring)
        # a 200 m cell is about 0.0025 degrees of longitude and 0.0018 of latitude at Toronto
        assert 0.0015 < max(p[0] for p in ring) - min(p[0] for p in ring) < 0.0035
    with page.expect_download() as dl:
        page.get_by_role("link", name="Whole surface as CSV").click()
    path = tmp_path / "surface.csv"
    dl.value.save_as(path)
    lines = path.read_text().splitlines()
    assert lines[0].split(",")[:2] == ["rank", "cell_id"] and {"neighbourhood", "lon", "lat", "wkt"} <= set(lines[0].split(",")) and len(lines) > 100
    assert [e["details"]["analysis"] for e in console.trail("development")] == ["forecast map"] * 3
    assert errors == []


def test_a_forecast_for_a_category_not_stored_says_so_and_a_dpo_is_refused(loaded, console, browser, shot):  # noqa: F811
    console.enrol("analyst")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, console, "analyst", next_="?next=/console/forecasts")
    page.get_by_label("Category").fill("Bicycle Theft")
    page.get_by_role("button", name="Run the forecast").click()
    assert page.get_by_text("No incidents of category 'Bicycle Theft' are stored").is_visible()
    console.enrol("dpo")
    other = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(other, console, "dpo", code=console.code("dpo"))
    assert other.get_by_role("navigation", name="Main").get_by_role("link", name="Forecasts").count() == 0
    other.goto(f"{console.base}/console/forecasts?run=1")
    assert other.get_by_role("heading", name="Refused").is_visible()
    assert any(e["actor"] == "dpo" for e in console.trail("access.deny"))


def test_an_analyst_starts_a_backtest_and_reads_pai_by_coverage_as_a_chart(loaded, console, browser, shot):  # noqa: F811
    console.enrol("analyst")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    sign_in(page, console, "analyst", next_="?next=/console/backtests")
    form = page.get_by_role("form", name="Start a backtest")
    form.get_by_label("First day").fill("2019-11-01")
    form.get_by_label("End (not forecast)").fill("2019-12-25")
    form.get_by_label("Every how many days").fill("14")
    for name in ("kde", "prospective"):
        form.get_by_label(name, exact=True).uncheck()
    form.get_by_label("naive", exact=True).check()  # naive and naive-all
    form.get_by_role("button", name="Start the backtest").click()
    assert "/console/backtests?job=" in page.url
    # the job runs in the server; the page says how far it is and the person checks again (no script, no timed
    # refresh): a bounded number of reloads, each a full request, never a sleep
    for _ in range(2000):
        if page.get_by_role("link", name="Check again").count() == 0:
            break
        page.get_by_role("link", name="Check again").click()
    chart = page.get_by_role("img", name="PAI by share of the area flagged, per model, with 95% intervals")
    assert chart.is_visible()
    assert page.locator(".pai-chart .series").count() == 2
    assert page.locator(".pai-chart .series-0 circle").count() == 5  # 1%, 2%, 5%, 10%, 20%
    assert page.locator(".pai-chart .whisker").count() > 0
    table = page.get_by_role("table")
    assert table.get_by_role("row").count() == 1 + 10
    assert table.get_by_role("row", name="naive-all 5%").is_visible()
    assert page.get_by_text("4, 2019-11-01 to 2019-12-13").is_visible()
    assert page.locator(".facts dd").first.inner_text() == "Break and Enter"
    shot(page, "21-backtests")
    [entry] = console.trail("development")
    assert entry["details"]["analysis"] == "backtest" and entry["details"]["models"] == ["naive", "naive-all"]
    assert errors == []
    # someone else's job does not exist for them
    console.enrol("supervisor")
    other = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(other, console, "supervisor")
    other.goto(page.url)
    assert other.get_by_text("No job").is_visible()

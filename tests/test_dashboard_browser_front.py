"""The dashboard's Pareto-front charts in a real browser (Debian's Chromium through Playwright): a
sweep of two metrics and one of three, made by function agents over a real store; the page draws
the front the service ranks (rank 1 of ``best_runs``) and the hypervolume the server computed, and a
sweep of one metric has no front section."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs the server extra")
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")

import sweepkit  # noqa: E402
import test_dashboard_browser as main_browser_test  # noqa: E402
from sweepkit.connect import open_local  # noqa: E402
from sweepkit.dashboard import create_app, loopback_only  # noqa: E402
from sweepkit.dashboard.front import front_view  # noqa: E402
from test_dashboard_browser import _need_browser, open_sweep, serving  # noqa: E402

# the browser fixtures of the dashboard's main browser test, over this module's ``world``
browser = main_browser_test.browser
svg_page = main_browser_test.svg_page

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dashboard-browser-front")]  # one browser

PARAMETERS = {"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}}


def _sweep(db: str, metrics: list[dict], train, count: int = 20) -> str:
    sweep_id = sweepkit.sweep(
        {"method": "random", "seed": 5, "metrics": metrics, "parameters": PARAMETERS}, db=db
    )
    sweepkit.agent(sweep_id, function=train, count=count, db=db, quiet=True)
    return sweep_id


def _zdt1():
    run = sweepkit.init()
    x, y = run.config["x"], run.config["y"]
    g = 1 + 9 * y
    run.log({"f1": x, "f2": g * (1 - math.sqrt(x / g))})


def _three():
    run = sweepkit.init()
    x, y = run.config["x"], run.config["y"]
    run.log({"a": x, "b": y, "c": -(2 - x - y)})  # c maximised below: the same direction as a and b


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    _need_browser()
    db = str(tmp_path_factory.mktemp("front") / "store.db")
    two = _sweep(db, [{"name": "f1"}, {"name": "f2"}], _zdt1)
    three = _sweep(db, [{"name": "a"}, {"name": "b"}, {"name": "c", "goal": "maximize"}], _three)
    one = sweepkit.sweep({"method": "random", "metric": {"name": "f1"}, "parameters": PARAMETERS}, db=db)
    service = open_local(db)
    try:
        with serving(create_app(lambda: service, loopback_only, refresh_interval_s=0.2)) as url:
            yield {"url": url, "service": service, "two": two, "three": three, "one": one}
    finally:
        service.close()


def _front(service, sweep_id: str) -> list[int]:
    return sorted(r.run.number for r in service.best_runs(sweep_id) if r.rank == 1)


def test_two_metrics_scatter_with_the_front_joined(world, svg_page):
    page = svg_page.page
    open_sweep(page, world, world["two"])
    charts = page.locator("#chart-front")
    sync_api.expect(charts).to_have_attribute("data-drawn", "1")
    front = _front(world["service"], world["two"])
    assert 1 <= len(front) < 20
    assert charts.get_attribute("data-front") == ",".join(map(str, front))
    note = page.locator("#front-note").inner_text()
    assert note.startswith(f"{len(front)} of 20 finished runs on the Pareto front")
    # one chart: the dominated runs, the front's points and the line joining them (an SVG path)
    svg = page.locator("#chart-front .chart svg")
    assert svg.locator("path").count() >= len(front) + 1
    hv = page.locator("#chart-hypervolume")
    expected = front_view(world["service"], world["two"])["hypervolume"][-1][2]
    sync_api.expect(hv).to_have_attribute("data-hypervolume", str(expected))
    assert 0 < expected < 1


def test_three_metrics_a_scatter_for_each_pair(world, svg_page):
    page = svg_page.page
    open_sweep(page, world, world["three"])
    charts = page.locator("#chart-front")
    sync_api.expect(charts).to_have_attribute("data-drawn", "3")
    pairs = [c.get_attribute("data-pair") for c in page.locator("#chart-front [data-pair]").all()]
    assert pairs == ["a/b", "a/c", "b/c"]
    # every run lies on the plane a + b = 2 + c: none dominates another, all are on the front
    front = _front(world["service"], world["three"])
    assert len(front) == 20
    assert charts.get_attribute("data-front") == ",".join(map(str, front))
    assert float(page.locator("#chart-hypervolume").get_attribute("data-hypervolume")) > 0


def test_one_metric_has_no_front(world, svg_page):
    page = svg_page.page
    open_sweep(page, world, world["one"])
    assert page.locator("#front").count() == 0

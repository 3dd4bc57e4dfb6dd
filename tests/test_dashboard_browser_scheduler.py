"""A sweep whose runs the user's scheduler process queues (``scheduler.source``), in a real browser
(Debian's Chromium through Playwright): the sweeps list and the sweep's page say "scheduler gone"
once the process has been silent for longer than the heartbeat timeout, and how to start it again;
the dashboard's JSON says the same."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs the server extra")
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")

import test_dashboard_browser as main_browser_test  # noqa: E402
from sweepkit.connect import open_local  # noqa: E402
from sweepkit.dashboard import create_app, loopback_only  # noqa: E402
from sweepkit.dashboard.views import sweep_summary  # noqa: E402
from test_dashboard_browser import _need_browser, open_sweep, serving  # noqa: E402

# the browser fixtures of the dashboard's main browser test, over this module's ``world``
browser = main_browser_test.browser
watched = main_browser_test.watched

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dashboard-browser-scheduler")]  # one browser

CONFIG = {
    "program": "train.py",
    "method": "custom",
    "metrics": [{"name": "error"}, {"name": "cost"}],
    "scheduler": {"engine": "optuna", "source": "scheduler.py", "search_space": "search_space"},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    _need_browser()
    patch = pytest.MonkeyPatch()
    patch.setenv("SWEEPKIT_HEARTBEAT_TIMEOUT", "1")
    db = str(tmp_path_factory.mktemp("scheduler") / "store.db")
    service = open_local(db, create=True)
    try:
        gone = service.create_sweep(CONFIG, name="gone").id
        never = service.create_sweep(CONFIG, name="never").id
        service.scheduler_heartbeat(gone, host="laptop", pid=4242)
        time.sleep(1.5)  # silent for longer than the timeout
        with serving(create_app(lambda: service, loopback_only, refresh_interval_s=0.2)) as url:
            yield {"url": url, "service": service, "gone": gone, "never": never}
    finally:
        service.close()
        patch.undo()


def test_the_view_says_the_scheduler_is_gone(world):
    shown = sweep_summary(world["service"].get_sweep(world["gone"]), None)["scheduler"]
    assert (shown["state"], shown["host"], shown["pid"]) == ("gone", "laptop", 4242)
    assert shown["command"] == f"sweepkit scheduler {world['gone']}"
    assert sweep_summary(world["service"].get_sweep(world["never"]), None)["scheduler"]["state"] == "waiting"


def test_sweeps_list_and_sweep_page_say_scheduler_gone(world, watched):
    page = watched.page
    page.goto(world["url"] + "/")
    row = page.locator(f'#sweeps tr[data-sweep="{world["gone"]}"]')
    sync_api.expect(row.locator(".scheduler-state")).to_have_text("scheduler gone")
    assert "laptop, pid 4242" in row.locator(".scheduler-state").get_attribute("title")
    other = page.locator(f'#sweeps tr[data-sweep="{world["never"]}"] .scheduler-state')
    sync_api.expect(other).to_have_text("no scheduler yet")
    open_sweep(page, world, world["gone"])
    fact = page.locator("#sweep-scheduler")
    sync_api.expect(fact).to_contain_text("scheduler gone")
    assert f"start sweepkit scheduler {world['gone']} again" in fact.inner_text()

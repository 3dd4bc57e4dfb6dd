"""The dashboard in a real browser: Debian's Chromium driven by Playwright, over a real store.

The data is made by real agents: a function agent in this process (a finished hyperband sweep, and a
live sweep whose steps the test releases one by one) and a program agent as a subprocess (a run that
prints while the test watches its page). One server and one browser serve the whole module.

With ``SWEEPKIT_SCREENSHOTS=1`` the tests write the screenshots of docs/dashboard.md into
docs/images/. The browser is ``/usr/bin/chromium`` (``SWEEPKIT_TEST_CHROMIUM`` names another);
without it the tests are skipped, unless ``SWEEPKIT_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs the server extra")
sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")
expect = sync_api.expect

import sweepkit  # noqa: E402
from sweepkit.connect import open_local  # noqa: E402
from sweepkit.dashboard import create_app, loopback_only  # noqa: E402
from sweepkit.dashboard.local import bind  # noqa: E402
from sweepkit.runs import SweepState  # noqa: E402

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("SWEEPKIT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "images"
TIMEOUT_MS = 30_000

EVIL_NAME = "<img src=x onerror=alert(1)>"
EVIL_VALUE = "</script><script>alert(2)</script>"

FINISHED_SWEEP = {
    "method": "random",
    "name": "lr search",
    "metric": {"name": "loss", "goal": "minimize"},
    "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
        "dropout": {"min": 0.0, "max": 0.5},
        "optimizer": {"values": ["adam", "sgd", EVIL_VALUE]},
    },
    "seed": 3,
}
LIVE_SWEEP = {
    "method": "random",
    "name": "live",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"width": {"values": [32, 64]}},
}
PROGRAM = textwrap.dedent(
    """
    import os, sys, time
    import sweepkit
    run = sweepkit.init()
    i = 0
    while not os.path.exists(sys.argv[0] + ".stop"):
        i += 1
        print(f"tick {i} width={run.config['width']}", flush=True)
        run.log({"loss": 1.0 / i})
        time.sleep(0.2)
    print("done", flush=True)
    """
)


def _need_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"no Chromium at {CHROMIUM}: apt-get install chromium (or set SWEEPKIT_TEST_CHROMIUM)"
    if os.environ.get("SWEEPKIT_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


# --- the data: real agents ----------------------------------------------------------------------------


def _finished_sweep(db: str) -> str:
    sweep_id = sweepkit.sweep(FINISHED_SWEEP, db=db)
    calls = []

    def train():
        run = sweepkit.init()
        calls.append(run.id)
        if len(calls) == 1:
            run.rename(EVIL_NAME)
        c = run.config
        value = (
            1.0 + abs(math.log10(c["lr"]) + 2.5) + c["dropout"] + (0.4 if c["optimizer"] == "sgd" else 0.0)
        )
        for _ in range(12):
            value *= 0.9
            run.log({"loss": value, "note": EVIL_VALUE})
            time.sleep(0.004)  # let hyperband's stops reach the run before it ends

    sweepkit.agent(sweep_id, function=train, count=24, db=db, quiet=True)
    return sweep_id


class LiveSweep:
    """A function agent in a thread whose runs log one step each time the test releases one."""

    STEPS = 6

    def __init__(self, db: str):
        self.db = db
        self.id = sweepkit.sweep(LIVE_SWEEP, db=db)
        self.steps = threading.Semaphore(0)
        self.thread = threading.Thread(target=self._agent, daemon=True, name="live-agent")

    def _agent(self):
        def train():
            run = sweepkit.init()
            for i in range(self.STEPS):
                if not self.steps.acquire(timeout=120):
                    return
                run.log({"loss": 1.0 / (i + 1) + run.config["width"] / 1000})

        sweepkit.agent(self.id, function=train, count=2, db=self.db, quiet=True)

    def release(self, n: int) -> None:
        for _ in range(n):
            self.steps.release()

    def finish(self) -> None:
        self.release(2 * self.STEPS)
        if self.thread.ident is not None:
            self.thread.join(timeout=60)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    _need_browser()
    root = tmp_path_factory.mktemp("dashboard")
    db = str(root / "store.db")
    finished = _finished_sweep(db)
    live = LiveSweep(db)
    program_dir = root / "program"
    program_dir.mkdir()
    (program_dir / "prints.py").write_text(PROGRAM)
    program_sweep = sweepkit.sweep(
        {"method": "grid", "name": "prints", "program": "prints.py", "metric": {"name": "loss"},
         "parameters": {"width": {"values": [8]}}},
        db=db,
    )  # fmt: skip

    service = open_local(db)
    try:
        with serving(create_app(lambda: service, loopback_only, refresh_interval_s=0.2)) as url:
            yield {
                "url": url,
                "db": db,
                "service": service,
                "finished": finished,
                "live": live,
                "program_sweep": program_sweep,
                "program_dir": program_dir,
            }
    finally:
        live.finish()
        (program_dir / "prints.py.stop").write_text("")
        service.close()


@contextlib.contextmanager
def serving(app):
    """``app`` served by uvicorn in a thread on an ephemeral loopback port; yields its URL."""
    import uvicorn

    sock = bind(0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the dashboard's server did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser(world):
    with sync_api.sync_playwright() as p:
        opened = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield opened
        opened.close()


class Watched:
    """A page, and everything that must not happen on it: dialogs, script errors, CSP violations."""

    def __init__(self, browser, dark: bool = False):
        self.context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, color_scheme="dark" if dark else "light"
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.problems: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        self.page.on("console", self._console)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message):
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console: {message.text}")

    def close(self):
        self.context.close()
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.problems == []


@pytest.fixture
def watched(browser):
    opened = Watched(browser)
    yield opened
    opened.close()


def screenshot(page, name: str) -> None:
    if os.environ.get("SWEEPKIT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def open_sweep(page, world, sweep_id: str) -> None:
    page.goto(f"{world['url']}/sweeps/{sweep_id}")
    page.wait_for_selector("main[data-ready]")


def wait_until(condition, timeout_s: float = TIMEOUT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def shown_count(page) -> tuple[int, int]:
    shown, total = re.match(r"(\d+) of (\d+) runs shown", page.inner_text("#runs-count")).groups()
    return int(shown), int(total)


# --- the tests ------------------------------------------------------------------------------------------


def test_sweeps_list_sorts_and_searches(world, watched):
    page = watched.page
    page.goto(world["url"] + "/")
    page.wait_for_selector(f'#sweeps tr[data-sweep="{world["finished"]}"]')
    rows = page.locator("#sweeps tbody tr")
    assert rows.count() == 3
    finished_row = page.locator(f'#sweeps tr[data-sweep="{world["finished"]}"]')
    assert "24 runs" in finished_row.inner_text() and "finished" in finished_row.inner_text()
    best = world["service"].best_run(world["finished"]).metric.best("minimize")
    assert f"{best:.4g}" in finished_row.inner_text()
    page.get_by_role("button", name="Sweep").click()  # sort by name, A to Z
    names = page.locator("#sweeps tbody tr td:first-child a")
    assert names.all_inner_texts() == ["live", "lr search", "prints"]
    page.fill("#sweep-search", "prin")
    assert page.locator("#sweeps tbody tr").count() == 1
    page.fill("#sweep-search", "")
    screenshot(page, "dashboard-sweeps.png")


def test_sweep_page_draws_every_chart(world, watched):
    page = watched.page
    open_sweep(page, world, world["finished"])
    for chart in ("#chart-best-run", "#chart-best-time", "#chart-parallel", "#chart-curves"):
        page.wait_for_selector(f"{chart}[data-drawn] canvas")
    assert page.locator("#chart-scatter .small-chart canvas").count() == 3  # lr, dropout, optimizer
    page.wait_for_selector("#importance-table tbody tr")
    assert page.locator("#importance-table tbody tr").count() == 5  # lr, dropout, 3 optimizers
    assert page.get_attribute("#chart-curves", "data-curves") == "24"
    assert page.get_attribute("#chart-parallel", "data-axes") == "dropout\nlr\noptimizer\nloss"
    assert shown_count(page) == (24, 24)
    service = world["service"]
    killed = [r for r in service.all_runs(world["finished"]) if r.stop_info]
    assert killed, "the hyperband sweep stopped no run: the curves chart has nothing to mark"
    page.click("#config summary")
    assert "log_uniform_values" in page.inner_text("#config pre")
    screenshot(page, "dashboard-sweep.png")


def test_brushing_an_axis_filters_the_table(world, watched):
    page = watched.page
    open_sweep(page, world, world["finished"])
    page.wait_for_selector("#chart-parallel[data-drawn] canvas")
    box = page.locator("#chart-parallel").bounding_box()
    layout = json.loads(page.get_attribute("#chart-parallel", "data-layout"))
    axis_x = box["x"] + box["width"] - layout["right"]  # the metric's axis is the last one
    top = box["y"] + layout["top"]
    height = box["height"] - layout["top"] - layout["bottom"]
    page.mouse.move(axis_x, top + 0.55 * height)
    page.mouse.down()
    page.mouse.move(axis_x, top + 0.75 * height, steps=8)
    page.mouse.move(axis_x, top + 0.99 * height, steps=8)
    page.mouse.up()
    page.wait_for_selector('#range-chips .chip[data-column="metric"]')
    shown, total = shown_count(page)
    assert 0 < shown < total == 24
    chip = page.inner_text('#range-chips .chip[data-column="metric"]')
    low, high = (float(x) for x in re.search(r"loss: (\S+) … (\S+)", chip).groups())
    losses = [float(x) for x in page.locator("#runs-table .grid-row div:nth-child(4)").all_inner_texts()]
    assert len(losses) == shown and all(low * 0.999 <= x <= high * 1.001 for x in losses)
    assert max(losses) < max(r.metric.min for r in world["service"].all_runs(world["finished"]))
    page.click('#range-chips .chip[data-column="metric"] button')
    expect(page.locator("#runs-count")).to_have_text("24 of 24 runs shown")


def test_pause_then_resume_with_confirmation(world, watched):
    page = watched.page
    service = world["service"]
    sweep_id = world["program_sweep"]
    open_sweep(page, world, sweep_id)
    page.click("#control-pause")
    assert page.is_visible("dialog#confirm")
    page.click("#confirm-no")  # keeping it changes nothing
    assert service.get_sweep(sweep_id).state == SweepState.RUNNING
    page.click("#control-pause")
    page.click("#confirm-yes")
    page.wait_for_selector("#sweep-state:has-text('paused')")
    assert service.get_sweep(sweep_id).state == SweepState.PAUSED
    assert page.is_disabled("#control-pause") and page.is_enabled("#control-resume")
    page.click("#control-resume")
    page.click("#confirm-yes")
    page.wait_for_selector("#sweep-state:has-text('running')")
    assert service.get_sweep(sweep_id).state == SweepState.RUNNING


def test_new_runs_and_growing_curves_appear_without_a_reload(world, watched):
    page = watched.page
    live = world["live"]
    live.thread.start()
    live.release(2)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = world["service"].all_runs(live.id)
        if runs and runs[0].metric.count == 2:
            break
        time.sleep(0.1)
    open_sweep(page, world, live.id)
    page.evaluate("window.__sameDocument = true")
    page.wait_for_selector('#runs-table .grid-row[data-run="1"]')
    points = int(page.get_attribute("#chart-curves", "data-points") or "0")
    assert points == 2
    live.release(LiveSweep.STEPS - 2 + 3)  # run 1 ends, run 2 starts and logs 3 values
    page.wait_for_selector('#runs-table .grid-row[data-run="2"]')
    wait_until(lambda: int(page.get_attribute("#chart-curves", "data-points")) >= 9)
    page.wait_for_selector('#runs-table .grid-row[data-run="1"] .badge:has-text("finished")')
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "dashboard-live.png")


def test_run_page_shows_its_command_reasons_and_a_live_log_tail(world, watched):
    page = watched.page
    service = world["service"]
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sweepkit",
            "agent",
            world["program_sweep"],
            "--count",
            "1",
            "--quiet",
            "--db",
            world["db"],
        ],
        cwd=world["program_dir"],
        env={**os.environ, "SWEEPKIT_INTERPRETER": sys.executable},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        run = None
        while time.monotonic() < deadline and run is None:
            found = service.all_runs(world["program_sweep"])
            run = found[0] if found and service.run_output(found[0].id).size else None
            time.sleep(0.2)
        assert run is not None, "the program run printed nothing"
        page.goto(f"{world['url']}/runs/{run.id}")
        page.wait_for_selector("main[data-ready]")
        page.evaluate("window.__sameDocument = true")
        assert "prints.py --width=8" in page.inner_text("#command")
        reasons = page.inner_text("#suggestion")
        assert "grid_index" in reasons and "grid_size" in reasons
        expect(page.locator("#output")).to_contain_text("tick 3 ")
        expect(page.locator("#output")).to_contain_text("tick 8 ")
        page.wait_for_selector('#run-charts .small-chart[data-key="loss"][data-drawn] canvas')
        screenshot(page, "dashboard-run.png")
        (world["program_dir"] / "prints.py.stop").write_text("")
        page.wait_for_selector("#run-state:has-text('finished')")
        expect(page.locator("#output")).to_contain_text("done")
        assert page.inner_text("#run-exit") == "0"
        assert page.evaluate("window.__sameDocument") is True
        text = page.inner_text("#output")
        assert text.index("tick 1 ") < text.index("tick 8 ") < text.index("done")
        assert text.count("tick 5 ") == 1  # appended, never repeated
    finally:
        (world["program_dir"] / "prints.py.stop").write_text("")
        _, err = agent.communicate(timeout=60)
    assert agent.returncode == 0, err


def test_values_from_runs_are_text_never_markup(world, watched):
    page = watched.page
    service = world["service"]
    evil = next(r for r in service.all_runs(world["finished"]) if r.name == EVIL_NAME)
    open_sweep(page, world, world["finished"])
    page.fill("#run-search", "onerror")
    expect(page.locator("#runs-count")).to_have_text("1 of 24 runs shown")
    assert page.inner_text("#runs-table .grid-row a") == EVIL_NAME
    assert EVIL_VALUE in page.text_content("#config pre")
    assert page.locator("main img").count() == 0
    assert page.locator("script").count() == 1  # only the bundle
    page.goto(f"{world['url']}/runs/{evil.id}")
    page.wait_for_selector("main[data-ready]")
    assert page.inner_text("#run-name") == EVIL_NAME
    assert EVIL_VALUE in page.inner_text("#summary")
    assert page.locator("main img").count() == 0
    page.wait_for_timeout(300)  # give an injected handler the time it would need to fire
    assert watched.dialogs == []


def test_dark_theme_screenshot(world, browser):
    dark = Watched(browser, dark=True)
    try:
        open_sweep(dark.page, world, world["finished"])
        dark.page.wait_for_selector("#chart-curves[data-drawn] canvas")
        background = dark.page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 19, 24)"
        screenshot(dark.page, "dashboard-sweep-dark.png")
    finally:
        dark.close()


def test_a_token_is_asked_for_sent_and_its_scope_respected(world, watched):
    """As behind ``sweepkit server``: the hook wants a token; "reader" may read, not control."""

    def tokens(request, scope):
        token = request.headers.get("authorization", "")
        return token == "Bearer admin" or (token == "Bearer reader" and scope == "read")

    page = watched.page
    with serving(create_app(lambda: world["service"], tokens)) as url:
        page.goto(url + "/")
        page.wait_for_selector("form.token")
        assert "read" in page.inner_text(".error")
        page.fill("#token", "reader")
        page.click("form.token button")
        page.wait_for_selector(f'#sweeps tr[data-sweep="{world["finished"]}"]')
        assert "reader" not in page.content()  # the token is sent, never written into the page
        open_sweep(page, world | {"url": url}, world["program_sweep"])
        page.click("#control-pause")
        page.click("#confirm-yes")
        page.wait_for_selector(".error:has-text(\"needs a token with the 'admin' scope\")")
        assert world["service"].get_sweep(world["program_sweep"]).state == SweepState.RUNNING
    # The refusals were answers the page expected (401/403), shown as sentences above.
    watched.problems = [p for p in watched.problems if "status of 403" not in p]

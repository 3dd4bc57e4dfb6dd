"""The dashboard in a real browser: Debian's Chromium driven by Playwright, over a real store.

The data is made by real agents: a function agent in this process (a finished hyperband sweep, and a
live sweep whose steps the test releases one by one) and program agents as subprocesses (a run that
prints while the test watches its page; runs on four stand-in GPUs; an unchanged W&B script logging
images, a table, histograms and a 10 MB string); the sweeps whose curves must fit the plot (losses
of 100-250, of 0.125-30, hyperband's thresholds above the best runs) are logged through the
service's calls. One server and one browser serve the whole module. Tests that read where lines
landed draw the charts as SVG (``localStorage["sweepkit-renderer"] = "svg"``).

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
from sweepkit.runs import RunState, SweepState  # noqa: E402
from sweepkit.service import LogBatch  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dashboard-browser")]  # one browser, one world

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

    def __init__(self, browser, dark: bool = False, svg: bool = False):
        self.context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, color_scheme="dark" if dark else "light"
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        if svg:  # charts drawn as SVG: tests read where every line and mark landed
            self.context.add_init_script("localStorage.setItem('sweepkit-renderer', 'svg')")
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


@pytest.fixture
def svg_page(browser):
    opened = Watched(browser, svg=True)
    yield opened
    opened.close()


def screenshot(page, name: str) -> None:
    if os.environ.get("SWEEPKIT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def screenshot_between(page, first: str, last: str, name: str) -> None:
    """The part of a page from one element's top to another's bottom, for docs/dashboard.md."""
    if os.environ.get("SWEEPKIT_SCREENSHOTS"):
        top, bottom = page.locator(first).bounding_box(), page.locator(last).bounding_box()
        clip = {
            "x": 0,
            "y": top["y"] - 8,
            "width": 1400,
            "height": bottom["y"] + bottom["height"] - top["y"] + 16,
        }
        page.screenshot(path=str(SCREENSHOTS / name), clip=clip, full_page=True)


def screenshot_of(locator, name: str) -> None:
    """One part of a page (a section), for docs/dashboard.md."""
    if os.environ.get("SWEEPKIT_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        locator.screenshot(path=str(SCREENSHOTS / name))


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
    page.locator("#chart-parallel").scroll_into_view_if_needed()
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
    # The columns: compare, #, run, state, loss, ...
    losses = [float(x) for x in page.locator("#runs-table .grid-row div:nth-child(5)").all_inner_texts()]
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
        prompt = page.inner_text(".error")
        assert "needs a token" in prompt and "sweepkit token create --scope read" in prompt
        assert "Authorization" not in prompt.split("The server said:")[0]  # it speaks to a person
        page.fill("#token", "reader")
        page.click("form.token button")
        page.wait_for_selector(f'#sweeps tr[data-sweep="{world["finished"]}"]')
        assert "reader" not in page.content()  # the token is sent, never written into the page
        open_sweep(page, world | {"url": url}, world["program_sweep"])
        # Read-only: the controls are disabled and say why; nothing is sent.
        page.wait_for_selector("#read-only:not([hidden])")
        for action in ("pause", "stop", "cancel"):
            assert page.is_disabled(f"#control-{action}")
            assert "admin" in page.get_attribute(f"#control-{action}", "title")
        reason = page.inner_text("#read-only")
        assert "Read-only" in reason and "sweepkit token create --scope admin" in reason
        screenshot_between(page, "main > h1", "#read-only", "dashboard-read-only.png")
        assert world["service"].get_sweep(world["program_sweep"]).state == SweepState.RUNNING
    # The refusals were answers the page expected (401/403), shown as sentences above.
    watched.problems = [p for p in watched.problems if "status of 403" not in p]


# --- curves that fit their data ---------------------------------------------------------------------


def _shaped_sweep(service, name: str, curves: list[list[float]], early_terminate=None) -> str:
    """A sweep whose runs logged ``curves`` (the sweep metric ``loss``, and ``acc``, ``epoch`` and
    ``_runtime`` on the same rows), made through the service's calls as an agent makes them."""
    config = {
        "method": "random",
        "name": name,
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
            "width": {"values": [16, 32, 64]},
        },
    }
    if early_terminate:
        config["early_terminate"] = early_terminate
    sweep = service.create_sweep(config)
    agent = service.register_agent(sweep.id, host="plots", pid=1)
    for i, values in enumerate(curves):
        run = service.claim_run(sweep.id, agent, f"{sweep.id}-{i}").assignment
        rows = [
            {"_step": s, "loss": v, "acc": 1.0 - v / (1.2 * values[0]), "epoch": s // 4, "_runtime": 0.5 * s}
            for s, v in enumerate(values)
        ]
        ack = service.log(run.run_id, LogBatch(seq=1, rows=rows))
        service.finish_run(run.run_id, RunState.KILLED if ack.stop_requested else RunState.FINISHED)
    return sweep.id


#: Losses of 100-250; of 0.125-30; and hyperband's thresholds well above the best runs (0.077).
HUNDREDS = [[250 - (150 - 6 * i) * (1 - math.exp(-s / (4 + i))) for s in range(30)] for i in range(12)]
WIDE = [[30 * math.exp(-s / (3 + i)) + 0.125 for s in range(40)] for i in range(10)]
BANDED = [[0.077 + 0.01 * i + (0.35 + 0.05 * i) * 0.75**s for s in range(12)] for i in range(10)]


@pytest.fixture(scope="module")
def shapes(world):
    service = world["service"]
    return {
        "hundreds": _shaped_sweep(service, "losses 100-250", HUNDREDS),
        "wide": _shaped_sweep(service, "losses 0.125-30", WIDE),
        "banded": _shaped_sweep(
            service, "hyperband marks", BANDED, {"type": "hyperband", "min_iter": 2, "eta": 2}
        ),
    }


_POINT = re.compile(r"([ML])\s*(-?[\d.]+(?:e-?\d+)?)[ ,](-?[\d.]+(?:e-?\d+)?)")


def drawn_lines(page, selector: str = "#chart-curves") -> dict:
    """Where a line chart drew its curves (SVG renderer): the plot area from the chart's layout, and
    each curve's points, read from the paths of its layers' colors."""
    found = page.evaluate(
        """(sel) => {
          const el = document.querySelector(sel);
          const svg = el.querySelector('svg');
          const layers = JSON.parse(el.dataset.layers).filter(l => l.curves > 0);
          const colors = new Set(layers.map(l => l.color));
          const css = getComputedStyle(document.documentElement);
          const marks = new Set(['--warn', '--state-killed'].map(v => css.getPropertyValue(v).trim()));
          const paths = [...svg.querySelectorAll('path')];
          return {
            width: +svg.getAttribute('width'), height: +svg.getAttribute('height'),
            layout: JSON.parse(el.dataset.layout), layers, y: JSON.parse(el.dataset.y),
            lines: paths.filter(p => p.getAttribute('fill') === 'none' && colors.has(p.getAttribute('stroke')))
                        .map(p => ({stroke: p.getAttribute('stroke'), d: p.getAttribute('d')})),
            marks: paths.filter(p => marks.has(p.getAttribute('fill'))).map(p => {
              const b = p.getBoundingClientRect(), s = svg.getBoundingClientRect();
              return [b.left - s.left, b.top - s.top, b.right - s.left, b.bottom - s.top];
            }),
          };
        }""",
        selector,
    )
    layout = found["layout"]
    found["area"] = (
        layout["left"],
        layout["top"],
        found["width"] - layout["right"],
        found["height"] - layout["bottom"],
    )
    curves = []
    for line in found["lines"]:
        for piece in line["d"].split("M")[1:]:
            curves.append([(float(x), float(y)) for _, x, y in _POINT.findall("M" + piece)])
    found["curves"] = curves
    return found


def assert_curves_fit(drawn: dict, runs: int) -> None:
    """Every run's curve inside the plot area, the curves together using most of its height and
    starting and ending at its left and right edges; marks inside the area too."""
    left, top, right, bottom = drawn["area"]
    assert len(drawn["curves"]) == runs == sum(layer["curves"] for layer in drawn["layers"])
    for points in drawn["curves"]:
        assert len(points) >= 2
        for x, y in points:
            assert left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1, (x, y, drawn["area"])
    ys = [y for points in drawn["curves"] for _, y in points]
    xs = [x for points in drawn["curves"] for x, _ in points]
    assert max(ys) - min(ys) >= 0.7 * (bottom - top), (min(ys), max(ys), drawn["area"])
    assert abs(min(xs) - left) <= 2 and abs(max(xs) - right) <= 2
    for x0, y0, x1, y1 in drawn["marks"]:
        assert left - 8 <= x0 and x1 <= right + 8 and top - 8 <= y0 and y1 <= bottom + 8, (x0, y0, x1, y1)


def test_every_runs_curve_fits_the_plot_area_whatever_its_values(world, shapes, svg_page):
    page = svg_page.page
    for name, runs in (("hundreds", 12), ("wide", 10), ("banded", 10)):
        open_sweep(page, world, shapes[name])
        page.wait_for_selector("#chart-curves[data-drawn] svg")
        drawn = drawn_lines(page)
        assert_curves_fit(drawn, runs)
        if name == "hundreds":
            assert 90 < drawn["y"]["min"] < 100 < 250 < drawn["y"]["max"] < 260
        if name == "banded":
            thresholds = [t.threshold for t in world["service"].band_thresholds(shapes["banded"])]
            assert thresholds and min(thresholds) > 0.1 > 0.077
            assert drawn["y"]["min"] < 0.077 and drawn["y"]["max"] > max(BANDED[-1])
            assert len(drawn["marks"]) >= len(thresholds)  # the thresholds' bars and the crosses
    # A log scale of 0.125-30 still uses the whole plot; switched by the page's control.
    open_sweep(page, world, shapes["wide"])
    page.check("#curves-log")
    page.wait_for_selector('#chart-curves[data-y-scale="log"]')
    assert_curves_fit(drawn_lines(page), 10)
    assert "log=1" in page.url
    screenshot_of(page.locator("#curves"), "dashboard-curves-log.png")


def test_smoothing_is_wandbs_exponential_moving_average(world, shapes, svg_page):
    page = svg_page.page
    page.goto(f"{world['url']}/sweeps/{shapes['hundreds']}?smooth=0.6")
    page.wait_for_selector("main[data-ready]")
    drawn = drawn_lines(page)
    assert_curves_fit(drawn, 12)
    left, top, right, bottom = drawn["area"]
    low, high = drawn["y"]["min"], drawn["y"]["max"]
    first = drawn["curves"][0]  # run 1's, the first of the finished layer
    shown = [high - (y - top) / (bottom - top) * (high - low) for _, y in first]
    # W&B's (TensorBoard's) debiased exponential moving average, with weight 0.6.
    last, expected = 0.0, []
    for n, value in enumerate(HUNDREDS[0], start=1):
        last = last * 0.6 + 0.4 * value
        expected.append(last / (1 - 0.6**n))
    assert shown == pytest.approx(expected, abs=(high - low) * 0.002)
    assert expected != pytest.approx(HUNDREDS[0], abs=1)  # it did smooth
    assert page.input_value("#curves-smoothing") == "0.6"


def test_any_logged_key_against_any_x(world, shapes, svg_page):
    page = svg_page.page
    open_sweep(page, world, shapes["hundreds"])
    page.wait_for_selector("#curves-key option[value='acc']", state="attached")
    page.select_option("#curves-key", "acc")
    page.wait_for_selector('#chart-curves[data-key="acc"][data-x="_step"][data-curves="12"]')
    assert_curves_fit(drawn_lines(page), 12)
    page.select_option("#curves-x", "epoch")
    page.wait_for_selector('#chart-curves[data-key="acc"][data-x="epoch"]')
    drawn = drawn_lines(page)
    assert_curves_fit(drawn, 12)
    assert "key=acc" in page.url and "x=epoch" in page.url
    page.select_option("#curves-x", "_runtime")
    page.wait_for_selector('#chart-curves[data-key="acc"][data-x="_runtime"]')
    assert_curves_fit(drawn_lines(page), 12)
    # The address reopens the same view.
    page.reload()
    page.wait_for_selector('main[data-ready] #chart-curves[data-key="acc"][data-x="_runtime"]')
    assert page.input_value("#curves-key") == "acc"
    screenshot_of(page.locator("#curves"), "dashboard-any-key.png")


# --- compare, two parameters, agents, a run's media -----------------------------------------------------


def compared(page) -> list[int]:
    found = page.get_attribute("#compare", "data-runs") or ""
    return [int(n) for n in found.split(",") if n]


def test_compare_runs_picked_in_the_table_and_on_a_chart_and_reopened_by_link(world, svg_page):
    page = svg_page.page
    service = world["service"]
    open_sweep(page, world, world["finished"])
    page.wait_for_selector("#compare .hint")
    page.check('#runs-table .grid-row[data-run="3"] input.select-run')
    page.check('#runs-table .grid-row[data-run="1"] input.select-run')
    page.wait_for_selector('#compare[data-drawn="2"]')
    assert compared(page) == [3, 1] and "compare=3,1" in page.url
    assert page.locator("#compare-legend li").count() == 2
    page.wait_for_selector('#chart-compare[data-curves="2"]')
    # Configs side by side: the parameters that differ are marked, the constant ones are not.
    differing = page.locator("#compare-config tr.differs th").all_inner_texts()
    assert any("lr" in text for text in differing) and any("dropout" in text for text in differing)
    page.check("#compare-only-diff")
    assert (
        page.locator("#compare-config tbody tr").count() == page.locator("#compare-config tr.differs").count()
    )
    # A point on a chart: one of the runs in "best so far, by run".
    muted = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--muted').trim()")
    points = page.locator(f'#chart-best-run svg path[fill="{muted}"]')
    page.locator("#chart-best-run").scroll_into_view_if_needed()
    box = max(
        (points.nth(i).bounding_box() for i in range(points.count())), key=lambda b: b["y"]
    )  # the worst
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector('#compare[data-drawn="3"]')
    chosen = compared(page)
    assert chosen[:2] == [3, 1] and len(chosen) == 3
    screenshot_of(page.locator("#compare"), "dashboard-compare.png")
    # The link reopens the same selection.
    link = page.get_attribute("#compare-link", "href")
    page.goto(world["url"] + link)
    page.wait_for_selector('#compare[data-drawn="3"]')
    assert compared(page) == chosen
    assert page.is_checked('#runs-table .grid-row[data-run="3"] input.select-run')
    # The best runs, as the service ranks them.
    page.click("#compare-clear")
    page.wait_for_selector("#compare-best")
    page.click("#compare-best")
    best = [r.run.number for r in service.best_runs(world["finished"], limit=5)]
    page.wait_for_selector(f'#compare[data-runs="{",".join(map(str, best))}"]')


def test_the_metric_over_two_parameters(world, watched):
    page = watched.page
    open_sweep(page, world, world["finished"])
    page.wait_for_selector("#chart-contour[data-drawn] canvas")
    assert page.get_attribute("#chart-contour", "data-axes") == "dropout\nlr"
    assert int(page.get_attribute("#chart-contour", "data-cells")) >= 5
    page.select_option("#contour-y", "optimizer")
    wait_until(lambda: page.get_attribute("#chart-contour", "data-axes") == "dropout\noptimizer")
    assert 1 <= int(page.get_attribute("#chart-contour", "data-cells")) <= 30
    page.select_option("#contour-value", "best")
    assert "best loss" in page.inner_text("#contour-legend")
    page.select_option("#contour-y", "lr")
    screenshot_of(page.locator("#scatter"), "dashboard-two-params.png")


SLOT_PROGRAM = textwrap.dedent(
    """
    import time
    import sweepkit
    run = sweepkit.init()
    for i in range(3):
        run.log({"loss": run.config["x"] / (i + 1)})
        time.sleep(0.4)
    if run.config["x"] == 6:
        raise SystemExit(3)
    """
)


def test_agents_their_gpus_and_runs_per_slot_live(world, watched, tmp_path):
    page = watched.page
    service = world["service"]
    (tmp_path / "slots.py").write_text(SLOT_PROGRAM)
    sweep_id = sweepkit.sweep(
        {"method": "grid", "name": "slots", "program": "slots.py", "metric": {"name": "loss"},
         "parameters": {"x": {"values": [1, 2, 3, 4, 5, 6]}}},
        db=world["db"],
    )  # fmt: skip
    standins = Path(__file__).parent / "standins"
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(SWEEPKIT_INTERPRETER=sys.executable, PATH=f"{standins}{os.pathsep}{env['PATH']}")
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sweepkit",
            "agent",
            sweep_id,
            "--gpus",
            "all",
            "--quiet",
            "--db",
            world["db"],
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: any(r.state == RunState.RUNNING for r in service.all_runs(sweep_id)), 60)
        open_sweep(page, world, sweep_id)
        page.wait_for_selector("#agents-list tbody tr")
        row = page.inner_text("#agents-list tbody tr")
        assert "0 | 1 | 2 | 3" in row and "running" in row  # four slots of one GPU each, live
        lanes = page.get_attribute("#chart-timeline", "data-lanes").split("\n")
        assert [lane.rsplit(" · ", 1)[1] for lane in lanes] == ["GPU 0", "GPU 1", "GPU 2", "GPU 3"]
        _, err = agent.communicate(timeout=120)
        assert agent.returncode == 0, err
        # Live: the ended runs and the finished agent appear without a reload.
        wait_until(lambda: page.get_attribute("#chart-timeline", "data-bars") == "6")
        page.wait_for_selector("#agents-list tbody tr .badge.state-finished")
        assert "5 finished, 1 failed" in page.inner_text("#agents-list tbody tr")
        # A retry waits in the queue until an agent takes it.
        service.retry_runs(sweep_id)
        wait_until(lambda: page.get_attribute("#chart-timeline", "data-bars") == "7")
        assert page.get_attribute("#chart-timeline", "data-lanes").startswith("queued (no agent yet)\n")
        (listed,) = service.list_agents(sweep_id)
        assert listed.slots == [["0"], ["1"], ["2"], ["3"]]
        ran = [run for run in service.all_runs(sweep_id) if run.agent_id is not None]
        assert len(ran) == 6 and {run.slot for run in ran} <= {1, 2, 3, 4}
        screenshot_of(page.locator("#agents"), "dashboard-agents.png")
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.communicate(timeout=30)


MEDIA_PROGRAM = textwrap.dedent(
    """
    import wandb
    run = wandb.init()
    table = wandb.Table(columns=["i", "square", "label"])
    for i in range(60):
        table.add_data(i, i * i, f"row {i}")
    for step in range(3):
        pixels = [[(x * 30 + y * 10 + step * 60) % 256 for x in range(8)] for y in range(8)]
        wandb.log({"loss": 1.0 / (step + 1), "digits": wandb.Image(pixels, caption=f"step {step}"),
                   "weights": wandb.Histogram([((i * 7) % 23) / 23 + step for i in range(200)], num_bins=16)})
        print(f"epoch {step} done: loss={1.0 / (step + 1):.3f}", flush=True)
    wandb.log({"predictions": table})
    run.summary["essay"] = "word " * 2_000_000
    print("all done", flush=True)
    wandb.finish()
    """
)


def test_a_runs_page_shows_its_images_tables_histograms_long_text_and_searchable_output(
    world, watched, tmp_path
):
    page = watched.page
    service = world["service"]
    (tmp_path / "media.py").write_text(MEDIA_PROGRAM)
    sweep_id = sweepkit.sweep(
        {"method": "grid", "name": "media", "program": "media.py", "metric": {"name": "loss"},
         "parameters": {"x": {"values": [1]}}},
        db=world["db"],
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--count", "1", "--quiet", "--db", world["db"]],
        cwd=tmp_path,
        env={**os.environ, "SWEEPKIT_INTERPRETER": sys.executable},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    (run,) = service.all_runs(sweep_id)
    assert run.state == RunState.FINISHED, run.error
    page.goto(f"{world['url']}/runs/{run.id}")
    page.wait_for_selector("main[data-ready]")
    # Images: the last one, then any step by the slider.
    card = page.locator('.media-card[data-key="digits"]')
    page.wait_for_function(
        "() => { const i = document.querySelector('.media-card[data-key=\"digits\"] img'); return i && i.naturalWidth === 8; }"
    )
    assert card.locator("img").get_attribute("alt") == "step 2"
    page.wait_for_selector('.media-card[data-key="digits"][data-steps="3"] input[type="range"]')
    slider = card.locator('input[type="range"]')
    slider.fill("0")
    slider.dispatch_event("change")
    page.wait_for_selector('.media-card[data-key="digits"][data-step="0"] img[alt="step 0"]')
    # A table, paged.
    table = page.locator('.media-card[data-key="predictions"] .media-table')
    page.wait_for_selector('.media-card[data-key="predictions"] .media-table[data-total="60"]')
    assert "rows 1–25 of 60" in table.inner_text()
    table.locator("button.table-next").click()
    page.wait_for_selector('.media-card[data-key="predictions"] .media-table[data-offset="25"]')
    assert "row 25" in table.inner_text() and "rows 26–50 of 60" in table.inner_text()
    # Histograms: the last one, and all three over steps.
    page.wait_for_selector('.media-card[data-key="weights"] .histogram[data-bins="16"][data-drawn]')
    page.wait_for_selector('.media-card[data-key="weights"] .histogram-steps[data-steps="3"][data-drawn]')
    # A 10 MB string: cut, and shown whole only in a box of its own.
    long_text = page.locator('#summary .long-text[data-size="10000000"]')
    assert page.evaluate("document.documentElement.scrollHeight") < 20_000
    screenshot_of(page.locator("section:has(#media)"), "dashboard-run-media.png")
    long_text.locator("button.show-all").click()
    page.wait_for_selector("#summary pre.long")
    sizes = page.evaluate(
        "(() => { const p = document.querySelector('#summary pre.long');"
        " return [p.clientHeight, p.scrollHeight, p.textContent.length, document.documentElement.scrollHeight]; })()"
    )
    assert sizes[0] <= 440 and sizes[1] > 10_000 and sizes[2] == 10_000_000 and sizes[3] < 20_000
    # The output, searched.
    page.fill("#output-search", "epoch")
    expect(page.locator("#output-count")).to_have_text("1 of 3")
    assert page.locator("#output mark").count() == 3
    page.click("#output-next")
    expect(page.locator("#output-count")).to_have_text("2 of 3")
    assert page.inner_text("#output mark.current") == "epoch"
    page.check("#output-only")
    lines = [line for line in page.inner_text("#output").splitlines() if line.strip()]
    assert lines == [f"epoch {i} done: loss={1 / (i + 1):.3f}" for i in range(3)]
    page.fill("#output-search", "nothing like it")
    expect(page.locator("#output-count")).to_have_text("no match")


def test_config_versions_and_queued_and_imported_runs(world, watched):
    service = world["service"]
    config = {
        "method": "grid",
        "name": "changed",
        "metric": {"name": "loss"},
        "parameters": {"a": {"values": [1, 2]}},
    }
    sweep = service.create_sweep(config)
    service.update_sweep(sweep.id, {**config, "parameters": {"a": {"values": [1, 2, 3]}}})
    service.queue_points(sweep.id, [{"a": 3}])
    service.import_runs(sweep.id, [{"params": {"a": 1}, "metrics": {"loss": 0.5}}], source="old.csv")
    page = watched.page
    open_sweep(page, world, sweep.id)
    page.click("#config summary")
    versions = page.locator("#config-versions li.version")
    assert versions.count() == 2 and page.inner_text("#config-versions h3") == "Versions (2)"
    assert versions.nth(0).get_attribute("data-version") == "2"
    versions.nth(0).locator("summary").click()
    text = versions.nth(0).inner_text()
    assert "parameter a: one of 1, 2 -> one of 1, 2, 3" in text
    assert "the grid grows from 2 to 3 points; 0 already ran, 3 new" in text
    page.wait_for_selector("#runs .origin")
    assert sorted(t.strip() for t in page.locator("#runs .origin").all_inner_texts()) == [
        "imported",
        "queued",
    ]

    # Change the config from the page: first what it would do, then applied as version 3.
    versions.nth(0).locator("summary").click()
    page.click("#config-edit summary")
    page.fill(
        "#config-text",
        "method: grid\nmetric: {name: loss}\nparameters:\n  a: {values: [1, 2, 3, 4]}\n  b: {values: [x, y]}\n",
    )
    page.fill("#config-defaults", "b=x")
    assert page.is_disabled("#config-apply")
    page.click("#config-preview-button")
    page.wait_for_selector("#config-preview ul.changes")
    said = page.inner_text("#config-preview")
    assert "parameter b added: the earlier run is taken to have had b='x'" in said  # the imported one
    assert "the grid grows from 3 to 8 points; 1 already ran, 1 queued, 6 new" in said
    assert [v.version for v in service.config_versions(sweep.id)] == [1, 2]  # only said
    screenshot_of(page.locator("#config"), "dashboard-config-versions.png")
    page.click("#config-apply")
    wait_until(lambda: len(service.config_versions(sweep.id)) == 3)
    assert all(r.params["b"] == "x" for r in service.all_runs(sweep.id))
    page.wait_for_selector(
        "#config-versions li.version[data-version='3']", state="attached"
    )  # after the reload
    page.click("#config summary")
    page.click("#config-edit summary")
    page.fill("#config-text", "method: grid\nparameters: {a: {values: [1]}}\nmetric: {name: acc}\n")
    page.click("#config-preview-button")
    page.wait_for_selector("#config-preview [role=alert]")
    assert "metric.name: cannot change a sweep's metric" in page.inner_text("#config-preview")
    # the browser logs the refusal's 409 (expected here); nothing else may have gone wrong
    assert watched.problems == [
        "console: Failed to load resource: the server responded with a status of 409 (Conflict)"
    ]
    watched.problems.clear()


def test_conditional_parameters_absent_from_a_run_are_left_out_of_its_lines_and_plots(world, watched):
    """A parameter that exists only for sgd: runs with adam still draw their lines (skipping its
    axis), the per-parameter plot and importance count only the runs that have it."""
    db = world["db"]
    sweep_id = sweepkit.sweep(
        {
            "method": "random",
            "name": "conditional",
            "seed": 5,
            "metric": {"name": "loss"},
            "parameters": {
                "optimizer": {"values": ["sgd", "adam"]},
                "momentum": {"min": 0.0, "max": 0.99, "when": {"optimizer": "sgd"}},
                "beta1": {"values": [0.9, 0.99], "when": {"optimizer": "adam"}},
            },
        },
        db=db,
    )

    def train():
        run = sweepkit.init()
        c = run.config
        run.log({"loss": c["momentum"] if c["optimizer"] == "sgd" else c["beta1"]})

    sweepkit.agent(sweep_id, function=train, count=12, db=db, quiet=True)
    runs = world["service"].all_runs(sweep_id)
    with_momentum = sum("momentum" in r.params for r in runs)
    assert 0 < with_momentum < 12
    page = watched.page
    open_sweep(page, world, sweep_id)
    page.wait_for_selector("#chart-parallel[data-drawn] canvas")
    assert page.get_attribute("#chart-parallel", "data-axes") == "beta1\nmomentum\noptimizer\nloss"
    assert page.get_attribute("#chart-parallel", "data-lines") == "12"  # not only the sgd runs
    assert page.locator("#chart-scatter .small-chart canvas").count() == 3
    page.wait_for_selector("#importance-table tbody tr")
    rows = page.locator("#importance-table tbody tr").all_inner_texts()
    assert not any("null" in row for row in rows)  # absence is no category of its own
    # the table: an absent parameter is a blank cell
    assert shown_count(page) == (12, 12)

"""The dashboard's JSON endpoints and headers, over a real store (no browser here).

Runs are made through the sweep service's own calls (claim, log, finish) or by a real agent, and the
dashboard application is driven through Starlette's test client. The browser side is in
test_dashboard_browser.py; ``sweepkit ui`` as a process in test_dashboard_ui.py.
"""

from __future__ import annotations

import csv
import io
import json
import math
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweepkit.errors import SweepkitError

pytest.importorskip("fastapi", reason="the dashboard needs the server extra")
from starlette.exceptions import HTTPException  # noqa: E402

with warnings.catch_warnings():  # newer Starlette asks for another HTTP client; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient  # noqa: E402

from sweepkit.connect import open_local  # noqa: E402
from sweepkit.dashboard import API, create_app  # noqa: E402
from sweepkit.dashboard.curves import points_per_run, sample  # noqa: E402
from sweepkit.dashboard.importance import compute, correlation  # noqa: E402
from sweepkit.dashboard.params import axes  # noqa: E402
from sweepkit.runs import RunState  # noqa: E402
from sweepkit.service import LogBatch  # noqa: E402
from sweepkit.service.types import Parameter
from sweepkit.stopping.hyperband import thresholds  # noqa: E402

HYPERBAND = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
        "opt": {"values": ["adam", "sgd"]},
        "seed": {"value": 7},
    },
    "program": "train.py",
}


def allow_all(request, scope):
    return True


@pytest.fixture
def service(tmp_path):
    opened = open_local(str(tmp_path / "store.db"), create=True)
    yield opened
    opened.close()


def client_for(service, authorize=allow_all) -> TestClient:
    return TestClient(create_app(lambda: service, authorize, refresh_interval_s=0.0))


class Runs:
    """Runs of one sweep made through the service's calls, as an agent makes them."""

    def __init__(self, service, config=HYPERBAND):
        self.service = service
        self.sweep = service.create_sweep(config)
        self.agent = service.register_agent(self.sweep.id, host="test", pid=1)
        self.keys = 0
        self.seq: dict[str, int] = {}

    def start(self):
        self.keys += 1
        claim = self.service.claim_run(self.sweep.id, self.agent, f"k{self.keys}")
        return claim.assignment

    def log(self, run_id, *values, key="loss", **extra):
        seq = self.seq[run_id] = self.seq.get(run_id, 0) + 1
        last = self.service.get_run(run_id).last_step
        start = 0 if last is None else last + 1
        rows = [{"_step": start + i, key: v} for i, v in enumerate(values)]
        return self.service.log(run_id, LogBatch(seq=seq, rows=rows, **extra))

    def finish(self, run_id, state=RunState.FINISHED):
        return self.service.finish_run(run_id, state, exit_code=0)


# --- pure pieces ------------------------------------------------------------------------------------


def test_sample_keeps_ends_and_bands_within_budget():
    assert sample(5, 20) == [1, 2, 3, 4, 5]
    picked = sample(1000, 20, keep={3, 9, 27, 81, 243, 729, 2187})
    assert picked[0] == 1 and picked[-1] == 1000
    assert {3, 9, 27, 81, 243, 729} <= set(picked) and 2187 not in picked
    assert len(picked) <= 20 + 6 and picked == sorted(set(picked))
    assert points_per_run(10_000) == 20 and points_per_run(10) == 1000


def test_correlation_and_forest_find_the_parameter_that_matters():
    params = axes(
        [
            Parameter("lr", "number", log=True, low=1e-4, high=1.0),
            Parameter("noise", "number", low=0.0, high=1.0),
            Parameter("opt", "category", values=["adam", "sgd"]),
        ]
    )
    assert [(p.name, p.kind, p.log) for p in params] == [
        ("lr", "number", True),
        ("noise", "number", False),
        ("opt", "category", False),
    ]
    samples = []
    for i in range(60):
        lr = 10 ** (-4 + 4 * ((i * 7) % 60) / 59)
        noise = ((i * 13) % 17) / 17
        opt = "sgd" if i % 2 else "adam"
        samples.append(([lr, noise, opt], -math.log10(lr) + (0.5 if opt == "sgd" else 0.0)))
    result = compute(params, samples)
    by_name = {(f["param"], f["value"]): f for f in result["features"]}
    assert result["runs"] == 60 and result["forest"] is True
    assert by_name[("lr", None)]["correlation"] < -0.95  # on the log scale it is drawn on
    assert by_name[("opt", "sgd")]["correlation"] > 0 > by_name[("opt", "adam")]["correlation"]
    assert result["features"][0]["param"] == "lr"  # the most important first
    assert by_name[("noise", None)]["importance"] < by_name[("lr", None)]["importance"]
    assert correlation([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None
    assert compute(params, samples[:2])["features"] == []


# --- sweeps and runs --------------------------------------------------------------------------------


def test_sweeps_list_shows_counts_progress_and_the_best_finished_value(service):
    made = Runs(service, {**HYPERBAND, "run_cap": 5})
    a, b, c = made.start(), made.start(), made.start()
    made.log(a.run_id, 0.9, 0.5)
    made.finish(a.run_id)
    made.log(b.run_id, 0.8, 0.3)
    made.finish(b.run_id)
    made.log(c.run_id, 0.1)  # better, but still running: not the sweep's best
    with client_for(service) as client:
        (sweep,) = client.get(f"{API}/sweeps").json()["sweeps"]
    assert sweep["id"] == made.sweep.id and sweep["method"] == "random"
    assert sweep["runs_by_state"] == {"finished": 2, "running": 1}
    assert (sweep["run_count"], sweep["planned_runs"]) == (3, 5)
    assert sweep["best"] == 0.3 and sweep["metric"] == {"name": "loss", "goal": "minimize"}


def test_runs_are_sent_whole_once_then_only_what_changed(service):
    made = Runs(service)
    first, second = made.start(), made.start()
    made.log(first.run_id, 0.5)
    with client_for(service) as client:
        url = f"{API}/sweeps/{made.sweep.id}/runs"
        whole = client.get(url).json()
        assert whole["full"] is True and whole["params"] == ["lr", "opt", "seed"]
        fields = whole["fields"]
        by_number = {row[0]: dict(zip(fields, row, strict=True)) for row in whole["rows"]}
        assert set(by_number) == {1, 2}
        assert by_number[1]["best"] == 0.5 and by_number[1]["count"] == 1
        assert by_number[1]["params"][1] in ("adam", "sgd") and by_number[1]["params"][2] == 7

        unchanged = client.get(url, params={"since": whole["cursor"]}).json()
        assert unchanged["full"] is False and unchanged["rows"] == []

        made.log(second.run_id, 0.7, 0.6)
        third = made.start()
        delta = client.get(url, params={"since": whole["cursor"]}).json()
        assert sorted(row[0] for row in delta["rows"]) == [2, 3]
        assert delta["sweep"]["run_count"] == 3

        made.finish(first.run_id)  # a run leaving the watched states is noticed too
        later = client.get(url, params={"since": delta["cursor"]}).json()
        assert [(row[0], row[fields.index("state")]) for row in later["rows"]] == [(1, "finished")]
        assert third.run_number == 3

        stale = client.get(url, params={"since": "another-epoch.5"}).json()
        assert stale["full"] is True and len(stale["rows"]) == 3


def test_curves_by_iteration_and_only_the_runs_asked_for(service):
    made = Runs(service)
    a, b = made.start(), made.start()
    made.log(a.run_id, 1.0, "not a number", 0.8, float("nan"), 0.6)
    made.log(b.run_id, 2.0)
    with client_for(service) as client:
        url = f"{API}/sweeps/{made.sweep.id}/curves"
        client.get(f"{API}/sweeps/{made.sweep.id}/runs")
        curves = {n: (xs, ys) for n, xs, ys in client.get(url).json()["runs"]}
        assert curves == {1: ([1, 2, 3], [1.0, 0.8, 0.6]), 2: ([1], [2.0])}
        made.log(b.run_id, 1.5, 1.25)
        client.get(f"{API}/sweeps/{made.sweep.id}/runs")
        only = client.get(url, params={"runs": "2"}).json()["runs"]
        assert only == [[2, [1, 2, 3], [2.0, 1.5, 1.25]]]
        assert client.get(url, params={"runs": "x"}).status_code == 400


def test_thresholds_are_hyperbands_and_stopped_runs_carry_their_band(service):
    made = Runs(service)
    good, middle, bad = made.start(), made.start(), made.start()
    made.log(good.run_id, 0.5, 0.4)
    made.log(middle.run_id, 0.6, 0.5)
    ack = made.log(bad.run_id, 0.9, 0.9)
    assert ack.stop_requested
    with client_for(service) as client:
        payload = client.get(f"{API}/sweeps/{made.sweep.id}/runs").json()
    fields = payload["fields"]
    rows = {row[0]: dict(zip(fields, row, strict=True)) for row in payload["rows"]}
    assert rows[3]["stop_requested"] is True and rows[3]["stop_band"] == 2 and rows[1]["stop_band"] is None
    views = [service.get_run(run.run_id) for run in (good, middle, bad)]
    expected = thresholds(HYPERBAND["early_terminate"], "minimize", views)
    assert payload["thresholds"] == [{"band": b, "threshold": t, "runs": n} for b, (t, n) in expected.items()]
    assert payload["thresholds"] == [
        {"band": 2, "threshold": 0.5, "runs": 3}
    ]  # index int(3 / 2) of 0.4, 0.5, 0.9


def test_sweep_detail_has_config_parameters_and_bands(service):
    made = Runs(service)
    with client_for(service) as client:
        detail = client.get(f"{API}/sweeps/{made.sweep.id}").json()
        missing = client.get(f"{API}/sweeps/nosuchid")
    assert detail["config"]["parameters"]["lr"]["distribution"] == "log_uniform_values"
    assert [p["name"] for p in detail["params"]] == ["lr", "opt", "seed"]
    assert detail["params"][1]["labels"] == ["adam", "sgd"] and detail["params"][2]["constant"] is True
    assert detail["hyperband"]["bands"][:4] == [2, 4, 8, 16]
    assert missing.status_code == 404
    assert "nosuchid" in missing.json()["detail"] and "Traceback" not in missing.text


def test_sweep_detail_lists_config_versions_and_rows_say_queued_or_imported(service):
    made = Runs(service)
    wider = {
        **HYPERBAND,
        "parameters": {**HYPERBAND["parameters"], "opt": {"values": ["adam", "sgd", "lbfgs"]}},
    }
    service.update_sweep(made.sweep.id, wider)
    service.queue_points(made.sweep.id, [{"lr": 0.01, "opt": "lbfgs"}])
    service.import_runs(
        made.sweep.id, [{"params": {"lr": 0.1, "opt": "sgd"}, "metrics": {"loss": 0.3}}], source="old.csv"
    )
    made.start()
    with client_for(service) as client:
        detail = client.get(f"{API}/sweeps/{made.sweep.id}").json()
        whole = client.get(f"{API}/sweeps/{made.sweep.id}/runs").json()
    assert [(v["version"], v["changes"]) for v in detail["versions"]] == [
        (2, ["parameter opt: one of 'adam', 'sgd' -> one of 'adam', 'sgd', 'lbfgs'"]),
        (1, []),
    ]
    assert detail["versions"][0]["config"]["parameters"]["opt"]["values"][-1] == "lbfgs"
    fields = whole["fields"]
    rows = {row[0]: dict(zip(fields, row, strict=True)) for row in whole["rows"]}
    assert [(rows[n]["state"], rows[n]["origin"]) for n in sorted(rows)] == [
        ("running", "queued"),  # the queued point went to the first claim
        ("finished", "imported"),
    ]


def test_run_detail_history_and_command_line(service):
    made = Runs(service)
    run = made.start()
    made.log(run.run_id, 0.5, 0.25, summary={"note": "text", "bad": float("nan")})
    with client_for(service) as client:
        detail = client.get(f"{API}/runs/{run.run_id}")
        history = client.get(f"{API}/runs/{run.run_id}/history").json()
        after = client.get(f"{API}/runs/{run.run_id}/history", params={"after": 0}).json()
    assert detail.status_code == 200
    body = detail.json()  # NaN in a summary still makes valid JSON
    assert body["summary"]["bad"] == "NaN" and body["best"] == 0.25
    assert body["command"].startswith("${env} ${interpreter} train.py --lr=")
    assert "--opt=" in body["command"] and "--seed=7" in body["command"]
    assert history["series"]["loss"] == [[0, 1], [0.5, 0.25]] and history["last_step"] == 1
    assert after["series"] == {"loss": [[1], [0.25]]}
    with client_for(service) as client:
        bad = client.get(f"{API}/runs/{run.run_id}/history", params={"after": "soon"})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("after: ")


def test_output_sends_only_the_new_text(service):
    made = Runs(service)
    run = made.start()
    made.log(run.run_id, 0.5, output="line 1\n")
    with client_for(service) as client:
        url = f"{API}/runs/{run.run_id}/output"
        first = client.get(url).json()
        assert first == {"size": 7, "head": "line 1\n", "tail": "", "skipped": 0}
        made.log(run.run_id, 0.4, output="line 2\n")
        assert client.get(url, params={"known": 7}).json() == {"size": 14, "append": "line 2\n"}
        assert client.get(url, params={"known": 14}).json() == {"size": 14, "append": ""}


def test_exports_are_what_sweepkit_runs_prints(service):
    made = Runs(service)
    run = made.start()
    made.log(run.run_id, 0.5)
    made.finish(run.run_id)
    with client_for(service) as client:
        as_csv = client.get(f"{API}/sweeps/{made.sweep.id}/export", params={"format": "csv"})
        as_json = client.get(f"{API}/sweeps/{made.sweep.id}/export", params={"format": "json"})
        bad = client.get(f"{API}/sweeps/{made.sweep.id}/export", params={"format": "xml"})
    assert "attachment" in as_csv.headers["content-disposition"]
    (row,) = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert row["id"] == run.run_id and row["state"] == "finished" and row["summary.loss"] == "0.5"
    (item,) = as_json.json()
    assert item["id"] == run.run_id and item["config"]["opt"] in ("adam", "sgd")
    assert bad.status_code == 400


def test_importance_endpoint_over_real_runs(service):
    made = Runs(service)
    for i in range(8):
        run = made.start()
        made.log(run.run_id, float(i))
        made.finish(run.run_id)
    with client_for(service) as client:
        result = client.get(f"{API}/sweeps/{made.sweep.id}/importance").json()
    assert result["runs"] == 8 and result["stale"] is False and result["forest"] is True
    assert {f["param"] for f in result["features"]} == {"lr", "opt"}  # the constant is left out


# --- controls and safety ------------------------------------------------------------------------------


def test_controls_need_admin_and_a_json_post_from_the_same_site(service):
    made = Runs(service)
    asked = []

    def reader_only(request, scope):
        asked.append(scope)
        return scope == "read"

    url = f"{API}/sweeps/{made.sweep.id}/control"
    with client_for(service, reader_only) as client:
        assert client.get(f"{API}/sweeps").status_code == 200
        refused = client.post(url, json={"action": "pause"})
        assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert asked == ["read", "admin"]
    assert service.get_sweep(made.sweep.id).state.value == "running"

    with client_for(service) as client:
        assert client.get(url).status_code == 405
        assert client.post(url, data={"action": "pause"}).status_code == 415  # a plain form post
        foreign = client.post(url, json={"action": "pause"}, headers={"Origin": "http://evil.example"})
        assert foreign.status_code == 403
        assert client.post(url, json={"action": "explode"}).status_code == 400
        paused = client.post(url, json={"action": "pause"}, headers={"Origin": "http://testserver"})
        assert paused.status_code == 200 and paused.json()["state"] == "paused"
        again = client.post(url, json={"action": "pause"})
        assert again.status_code == 409 and "only a running sweep can be paused" in again.json()["detail"]
        assert client.post(url, json={"action": "resume"}).json()["state"] == "running"


def test_a_hook_may_raise_its_own_refusal(service):
    async def no_token(request, scope):
        raise HTTPException(401, "Give a token.")

    with client_for(service, no_token) as client:
        answer = client.get(f"{API}/sweeps")
    assert answer.status_code == 401 and answer.json() == {"detail": "Give a token."}


def test_every_answer_carries_a_strict_content_security_policy(service):
    with client_for(service) as client:
        page = client.get("/sweeps/abc")
        api = client.get(f"{API}/sweeps")
        script = client.get("/static/app.js")
    for answer in (page, api, script):
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert api.headers["cache-control"] == "no-store"
    assert page.status_code == 200 and script.status_code == 200
    # The page is a shell: scripts only from files, no data, no secret.
    assert "<script>" not in page.text and 'type="module" src="/static/app.js?v=' in page.text


def test_pages_find_their_assets_under_a_mount_point(service):
    from fastapi import FastAPI

    outer = FastAPI()
    outer.mount("/dash", create_app(lambda: service, allow_all))
    with TestClient(outer) as client:
        page = client.get("/dash/sweeps/x")
        assert 'content="/dash"' in page.text and 'src="/dash/static/app.js?v=' in page.text
        assert client.get("/dash/static/app.css").status_code == 200
        api = client.get(f"/dash{API}/sweeps")
        assert api.json() == {"sweeps": []} and api.headers["cache-control"] == "no-store"


def test_a_failing_service_is_one_sentence_not_a_traceback(service):
    def broken():
        raise RuntimeError("secret internals")

    with TestClient(create_app(broken, allow_all), raise_server_exceptions=False) as client:
        answer = client.get(f"{API}/sweeps")
    assert answer.status_code == 500
    assert json.loads(answer.text) == {
        "detail": "The dashboard could not answer (RuntimeError); see the server log."
    }


# --- any key, compare, agents, access --------------------------------------------------------------


def test_curves_of_any_logged_key_against_step_time_or_another_key(service):
    made = Runs(service)
    a, b = made.start(), made.start()
    for run, scale in ((a, 1.0), (b, 2.0)):
        rows = [
            {"_step": s, "loss": scale / (s + 1), "acc": s * scale, "epoch": s // 2, "_runtime": 0.5 * s}
            for s in range(4)
        ]
        made.seq[run.run_id] = 1
        service.log(run.run_id, LogBatch(seq=1, rows=rows))
    with client_for(service) as client:
        base = f"{API}/sweeps/{made.sweep.id}"
        client.get(f"{base}/runs")
        keys = client.get(f"{base}/keys").json()
        assert keys["metric"] == "loss" and [k["key"] for k in keys["keys"]] == ["loss", "acc", "epoch"]
        assert keys["keys"][1]["runs"] == 2 and keys["x"] == ["_runtime", "acc", "epoch"]

        by_step = client.get(f"{base}/curves", params={"key": "acc"}).json()
        assert by_step["x"] == "_step"
        assert {n: (xs, ys) for n, xs, ys in by_step["runs"]} == {
            1: ([0, 1, 2, 3], [0, 1, 2, 3]),
            2: ([0, 1, 2, 3], [0, 2, 4, 6]),
        }
        by_epoch = client.get(f"{base}/curves", params={"key": "acc", "x": "epoch"}).json()["runs"]
        assert by_epoch[1] == [2, [0, 0, 1, 1], [0, 2, 4, 6]]
        by_time = client.get(f"{base}/curves", params={"key": "loss", "x": "_runtime"}).json()["runs"]
        assert by_time[0] == [1, [0, 0.5, 1, 1.5], [1, 0.5, 0.333333, 0.25]]
        refused = client.get(f"{base}/curves", params={"key": "acc", "x": "iteration"})
        assert refused.status_code == 400 and "iteration" in refused.json()["detail"]

        # Later rows are read, for the runs that logged since (and only after the last step read).
        service.log(b.run_id, LogBatch(seq=2, rows=[{"_step": 4, "acc": 8.0, "epoch": 2}]))
        client.get(f"{base}/runs")
        grown = client.get(f"{base}/curves", params={"key": "acc", "x": "epoch", "runs": "2"}).json()
        assert grown["runs"] == [[2, [0, 0, 1, 1, 2], [0, 2, 4, 6, 8]]]
        missing = client.get(f"{base}/curves", params={"key": "nothing"}).json()
        assert missing == {"key": "nothing", "x": "_step", "runs": []}


def test_compare_shows_configs_and_summaries_side_by_side_with_differences_marked(service):
    made = Runs(service)
    runs = [made.start() for _ in range(3)]
    for i, run in enumerate(runs):
        made.log(
            run.run_id, 0.5 - i / 10, summary={"note": "same", "rank": i, "essay": "x" * (300 if i else 10)}
        )
    with client_for(service) as client:
        base = f"{API}/sweeps/{made.sweep.id}"
        client.get(f"{base}/runs")
        answer = client.get(f"{base}/compare", params={"runs": "3,1"}).json()
        assert [r["number"] for r in answer["runs"]] == [3, 1]  # in the order asked for
        assert answer["runs"][0]["value"] == pytest.approx(0.3)
        config = {row["key"]: row for row in answer["config"]}
        assert config["seed"] == {"key": "seed", "values": [7, 7], "differs": False}
        assert config["lr"]["differs"] is True
        summary = {row["key"]: row for row in answer["summary"]}
        assert summary["note"]["differs"] is False and summary["rank"]["values"] == [2, 0]
        assert summary["essay"]["values"][0].startswith("x" * 200 + "… (300 characters)")
        assert summary["essay"]["differs"] is True
        assert not any(key.startswith("_") for key in summary)
        assert client.get(f"{base}/compare", params={"runs": "1,99"}).status_code == 404
        too_many = ",".join(str(n) for n in range(1, 23))
        assert client.get(f"{base}/compare", params={"runs": too_many}).status_code == 400


def test_best_runs_come_ranked_from_the_service(service):
    made = Runs(service)
    for value in (0.5, 0.2, 0.9):
        run = made.start()
        made.log(run.run_id, value)
        made.finish(run.run_id)
    with client_for(service) as client:
        best = client.get(f"{API}/sweeps/{made.sweep.id}/best", params={"limit": 2}).json()["runs"]
    expected = service.best_runs(made.sweep.id, limit=2)
    assert [r["id"] for r in best] == [r.run.id for r in expected]
    assert [(r["number"], r["rank"], r["value"]) for r in best] == [(2, 1, 0.2), (1, 2, 0.5)]


def test_access_says_whether_this_viewer_may_control_sweeps(service):
    def reader_only(request, scope):
        return scope == "read"

    with client_for(service, reader_only) as client:
        access = client.get(f"{API}/access").json()
    assert access["control"] is False and "admin" in access["reason"]
    with client_for(service) as client:
        assert client.get(f"{API}/access").json() == {"control": True, "reason": None}


def test_agents_with_their_hosts_gpus_heartbeats_and_runs_per_slot(service, tmp_path):
    sweep = service.create_sweep(HYPERBAND)
    agent = service.register_agent(
        sweep.id, host="gpu-box", pid=42, workdir=str(tmp_path), slots=[["0"], ["1", "2"]]
    )
    first = service.claim_run(sweep.id, agent, "k1", slot=2).assignment
    service.claim_run(sweep.id, agent, "k2", slot=1)
    quiet = service.register_agent(sweep.id, host="cpu-box", pid=7)
    service.agent_finished(quiet)
    assert service.get_run(first.run_id).slot == 2
    with client_for(service) as client:
        answer = client.get(f"{API}/sweeps/{sweep.id}/agents").json()
        payload = client.get(f"{API}/sweeps/{sweep.id}/runs").json()
        missing = client.get(f"{API}/sweeps/nosuchid/agents")
    gpu, cpu = answer["agents"]
    assert (gpu["id"], gpu["host"], gpu["pid"], gpu["live"]) == (agent, "gpu-box", 42, True)
    assert gpu["slots"] == [["0"], ["1", "2"]] and gpu["workdir"] == str(tmp_path)
    assert gpu["heartbeat_at"] is not None and answer["heartbeat_timeout_s"] > 0
    assert (cpu["host"], cpu["state"], cpu["live"], cpu["slots"]) == ("cpu-box", "finished", False, None)
    fields = payload["fields"]
    rows = {row[0]: dict(zip(fields, row, strict=True)) for row in payload["rows"]}
    assert (rows[1]["agent"], rows[1]["slot"]) == (agent, 2) and rows[2]["slot"] == 1
    assert missing.status_code == 404


# --- what runs logged besides numbers -----------------------------------------------------------------


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000000030101001825e2d50000000049454e44ae426082"
)


def _media_run(service, tmp_path):
    """A run whose agent works in ``tmp_path/work``, with an image at two steps, a table, a histogram,
    a file outside its media folder and a link out of it."""
    workdir = tmp_path / "work"
    sweep = service.create_sweep(HYPERBAND)
    agent = service.register_agent(sweep.id, host="here", pid=1, workdir=str(workdir))
    run = service.claim_run(sweep.id, agent, "k1").assignment
    folder = workdir / ".sweepkit" / "runs" / run.run_id
    images = folder / "files" / "media" / "images"
    images.mkdir(parents=True)
    (images / "x_0.png").write_bytes(PNG)
    (images / "x_1.png").write_bytes(PNG)
    (folder / "files" / "media" / "table").mkdir()
    table = {"columns": ["id", "text", "pic"], "data": [[i, "t" * (i * 300), None] for i in range(120)]}
    table["data"][0][2] = {"_type": "image-file", "path": "files/media/images/x_0.png"}
    (folder / "files" / "media" / "table" / "t.table.json").write_text(json.dumps(table))
    (folder / "files" / "secret.txt").write_text("not media")
    (tmp_path / "outside.png").write_bytes(PNG)
    (images / "link.png").symlink_to(tmp_path / "outside.png")
    (folder / "files" / "media" / "notes.html").write_text("<script>alert(1)</script>")

    def image(step):
        return {"_type": "image-file", "path": f"files/media/images/x_{step}.png", "width": 1, "height": 1}

    histogram = {"_type": "histogram", "bins": [0.0, 1.0, 2.0], "values": [3, 4]}
    tref = {"_type": "table-file", "path": "files/media/table/t.table.json", "nrows": 120, "ncols": 3}
    rows = [
        {"_step": 0, "loss": 0.5, "samples": image(0), "weights": histogram},
        {"_step": 1, "loss": 0.4, "samples": image(1), "weights": histogram, "preds": tref},
    ]
    service.log(run.run_id, LogBatch(seq=1, rows=rows))
    return run.run_id


def test_a_runs_media_keys_steps_files_and_tables(service, tmp_path):
    run_id = _media_run(service, tmp_path)
    with client_for(service) as client:
        base = f"{API}/runs/{run_id}"
        detail = client.get(base).json()
        media = {m["key"]: m for m in detail["media"]}
        assert set(media) == {"samples", "weights", "preds"}
        assert media["samples"]["last"]["path"] == "files/media/images/x_1.png"
        assert media["weights"]["last"]["values"] == [3, 4]
        assert detail["files"]["here"] is True and detail["files"]["host"] == "here"

        steps = client.get(f"{base}/media", params={"key": "samples"}).json()
        assert [step for step, _ref in steps["steps"]] == [0, 1] and steps["total"] == 2

        image = client.get(f"{base}/file", params={"path": "files/media/images/x_0.png"})
        assert image.status_code == 200 and image.content == PNG
        assert image.headers["content-type"] == "image/png"
        assert "sandbox" in image.headers["content-security-policy"]
        assert image.headers["x-content-type-options"] == "nosniff"
        html = client.get(f"{base}/file", params={"path": "files/media/notes.html"})
        assert html.status_code == 200 and html.headers["content-type"] == "application/octet-stream"
        assert html.headers["content-disposition"].startswith("attachment")

        page = client.get(
            f"{base}/table", params={"path": "files/media/table/t.table.json", "offset": 100}
        ).json()
        assert page["columns"] == ["id", "text", "pic"] and page["total"] == 120 and page["offset"] == 100
        assert [row[0] for row in page["rows"]] == list(range(100, 120))
        assert page["rows"][1][1].endswith(f"… ({101 * 300:,} characters)")
        first = client.get(
            f"{base}/table", params={"path": "files/media/table/t.table.json", "limit": 2}
        ).json()
        assert first["rows"][0][2]["_type"] == "image-file" and len(first["rows"]) == 2


@pytest.mark.parametrize(
    "path",
    [
        "files/secret.txt",
        "files/media/../secret.txt",
        "files/media/images/../../secret.txt",
        "../../../outside.png",
        "/etc/passwd",
        "files/media/images/link.png",
        "files\\media\\images\\x_0.png",
        "files/media/images/missing.png",
        "files/media",
        "files/media/images/x_0.png\x00.txt",
    ],
)
def test_no_file_outside_the_runs_media_folder_is_served(service, tmp_path, path):
    run_id = _media_run(service, tmp_path)
    with client_for(service) as client:
        answer = client.get(f"{API}/runs/{run_id}/file", params={"path": path})
    assert answer.status_code in (400, 404), answer.text
    assert "not media" not in answer.text and not answer.content.startswith(PNG[:8])
    assert answer.json()["detail"].count("\n") == 0


def test_long_text_is_cut_in_the_page_and_sent_whole_when_asked(service):
    made = Runs(service)
    run = made.start()
    big = "word " * 2_000_000  # 10 MB
    made.log(run.run_id, 0.5, summary={"essay": big, "nested": {"quote": "q" * 5000, "short": "ok"}})
    with client_for(service) as client:
        base = f"{API}/runs/{run.run_id}"
        detail = client.get(base)
        assert len(detail.content) < 50_000
        essay = detail.json()["summary"]["essay"]
        assert essay["_type"] == "sweepkit-cut" and essay["size"] == len(big) and essay["path"] == ["essay"]
        assert essay["head"] == big[:2000]
        assert detail.json()["summary"]["nested"]["short"] == "ok"
        whole = client.get(f"{base}/value", params={"path": json.dumps(["essay"])})
        assert whole.status_code == 200 and whole.text == big
        assert client.get(f"{base}/value", params={"path": '["nested", "quote"]'}).text == "q" * 5000
        assert client.get(f"{base}/value", params={"path": '["nope"]'}).status_code == 404
        assert client.get(f"{base}/value", params={"path": "essay"}).status_code == 400
        assert client.get(f"{base}/value", params={"path": '["essay"]', "where": "env"}).status_code == 400


SEGMENTS = ["files", "media", "images", "x_0.png", "..", ".", "", "secret.txt", "link.png", "~", "%2e%2e"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(SEGMENTS), max_size=7), absolute=st.booleans())
def test_a_served_path_is_always_a_file_inside_the_media_folder(tmp_path_factory, parts, absolute):
    from sweepkit.dashboard.run_files import media_path

    root = tmp_path_factory.getbasetemp() / "media-paths"
    folder = root / "run"
    if not folder.exists():
        (folder / "files" / "media" / "images").mkdir(parents=True)
        (folder / "files" / "media" / "images" / "x_0.png").write_bytes(PNG)
        (folder / "files" / "secret.txt").write_text("secret")
        (root / "secret.txt").write_text("secret")
        (folder / "files" / "media" / "images" / "link.png").symlink_to(root / "secret.txt")
    relative = ("/" if absolute else "") + "/".join(parts)
    try:
        found = media_path(folder, relative)
    except SweepkitError as refused:
        assert "\n" not in str(refused)
        return
    assert found.is_file() and found.is_relative_to((folder / "files" / "media").resolve())
    assert found.read_bytes() == PNG

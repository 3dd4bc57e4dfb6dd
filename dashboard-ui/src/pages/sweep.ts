// A sweep's page: its state and controls, config, best so far, parallel coordinates, parameter
// importance, the metric against each parameter, every run's curve, and the runs table; all live.

import { errorBox, every, getBlob, getJSON, postJSON } from "../api";
import { badge, byState, crumbs, progress, sweepTitle } from "../common";
import { h, replace } from "../dom";
import { num, when, yaml } from "../format";
import { onThemeChange } from "../theme";
import type { RunsPayload, SweepDetail, SweepSummary } from "../types";
import { ImportanceTable } from "../sweep/importance";
import { METRIC, RunsModel } from "../sweep/model";
import { ParallelChart } from "../sweep/parallel";
import { prefetch, type FirstAnswers } from "../sweep/prefetch";
import { BestSoFar, Curves, MetricByParam } from "../sweep/plots";
import { RunsTable } from "../sweep/table";

// Which of these a sweep allows now comes from the server (``actions`` of the sweep).
const ACTIONS: Record<string, { label: string; asks: string }> = {
  pause: { label: "Pause", asks: "Pause the sweep? Agents start no new run until it is resumed; running runs go on." },
  resume: { label: "Resume", asks: "Resume the sweep? Agents start runs again." },
  stop: { label: "Stop", asks: "Stop the sweep? No new run starts; running runs finish." },
  cancel: {
    label: "Cancel",
    asks: "Cancel the sweep? No new run starts and every running run is asked to stop. It cannot be resumed.",
  },
};

function section(id: string, title: string, ...body: (Node | null)[]): HTMLElement {
  return h("section", { id, "aria-labelledby": `${id}-title`, class: "panel" }, h("h2", { id: `${id}-title` }, title), ...body);
}

async function download(path: string, name: string): Promise<void> {
  const blob = await getBlob(path);
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function sweepPage(main: HTMLElement, sweepId: string, answers: FirstAnswers = prefetch(sweepId)): Promise<void> {
  const path = `/sweeps/${encodeURIComponent(sweepId)}`;
  crumbs(["Sweeps", "/"], [sweepId, null]);
  let detail: SweepDetail;
  let first: RunsPayload;
  const firstCurves = answers.curves;
  try {
    [detail, first] = await Promise.all([answers.detail, answers.runs]);
  } catch (err) {
    replace(main, errorBox(err));
    return;
  }
  performance.mark("sweepkit:data");
  document.title = `${sweepTitle(detail)} · sweepkit`;
  crumbs(["Sweeps", "/"], [sweepTitle(detail), null]);
  const model = new RunsModel(detail.params);
  model.apply(first);

  // --- header and controls ---------------------------------------------------------------------
  const facts = h("dl", { class: "facts" });
  const controls = h("div", { class: "controls", role: "group", "aria-label": "Sweep controls" });
  const controlStatus = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const dialogText = h("p", { id: "confirm-text" });
  const confirmButton = h("button", { type: "submit", value: "yes", id: "confirm-yes", class: "danger" }, "Confirm");
  const dialog = h(
    "dialog",
    { id: "confirm", "aria-labelledby": "confirm-text" },
    h(
      "form",
      { method: "dialog" },
      dialogText,
      h("div", { class: "buttons" }, h("button", { type: "submit", value: "no", id: "confirm-no" }, "Keep it as it is"), confirmButton),
    ),
  );
  let pending: string | null = null;
  dialog.addEventListener("close", async () => {
    const action = pending;
    pending = null;
    if (dialog.returnValue !== "yes" || !action) return;
    controlStatus.textContent = `${ACTIONS[action].label}…`;
    try {
      const summary = await postJSON<SweepSummary>(`${path}/control`, { action });
      controlStatus.textContent = `Sweep is ${summary.state}.`;
      drawHeader(summary);
    } catch (err) {
      controlStatus.textContent = "";
      replace(controlErrors, errorBox(err));
    }
  });
  const controlErrors = h("div");

  function drawHeader(s: SweepSummary): void {
    const metric = s.metric;
    replace(
      facts,
      h("div", null, h("dt", null, "State"), h("dd", { id: "sweep-state" }, badge(s.state), s.state_reason ? h("span", { class: "muted" }, ` ${s.state_reason}`) : null)),
      h("div", null, h("dt", null, "Method"), h("dd", null, s.method)),
      h("div", null, h("dt", null, "Metric"), h("dd", null, metric ? `${metric.name} (${metric.goal})` : "none")),
      h("div", null, h("dt", null, "Best"), h("dd", { id: "sweep-best" }, metric ? num(s.best) || "–" : "–")),
      h("div", null, h("dt", null, "Runs"), h("dd", null, progress(s.run_count, s.planned_runs), " ", byState(s.runs_by_state))),
      h("div", null, h("dt", null, "Live agents"), h("dd", { id: "sweep-agents" }, String(s.live_agents))),
      h("div", null, h("dt", null, "Created"), h("dd", null, when(s.created_at))),
      h("div", null, h("dt", null, "ID"), h("dd", null, h("code", null, s.id))),
    );
    replace(
      controls,
      Object.entries(ACTIONS).map(([action, info]) =>
        h(
          "button",
          {
            type: "button",
            id: `control-${action}`,
            class: action === "cancel" ? "danger" : "",
            disabled: !s.actions.includes(action),
            onclick: () => {
              pending = action;
              dialogText.textContent = info.asks;
              confirmButton.textContent = info.label;
              replace(controlErrors);
              dialog.showModal();
            },
          },
          info.label,
        ),
      ),
    );
  }

  // --- sections ----------------------------------------------------------------------------------
  const bestByRun = h("div", { class: "chart", id: "chart-best-run" });
  const bestByTime = h("div", { class: "chart", id: "chart-best-time" });
  const parallelEl = h("div", { class: "chart tall", id: "chart-parallel" });
  const importanceEl = h("div", { id: "importance" });
  const scatterEl = h("div", { class: "small-charts", id: "chart-scatter" });
  const curvesEl = h("div", { class: "chart tall", id: "chart-curves" });
  const table = new RunsTable(model);

  const filtersEl = h("div", { class: "filters", id: "filters" });
  // As written when sweepkit has the text; else the validated config, with its defaults, as YAML.
  const configText = detail.source ?? yaml(detail.config).replace(/^\n/, "");
  replace(
    main,
    h("h1", null, sweepTitle(detail)),
    facts,
    controls,
    controlStatus,
    controlErrors,
    dialog,
    h("details", { class: "panel", id: "config" }, h("summary", null, "Config"), h("pre", { class: "code" }, configText)),
    h(
      "div",
      { class: "two" },
      section("best-run", "Best so far, by run", bestByRun),
      section("best-time", "Best so far, over time", bestByTime),
    ),
    section("parallel", "Parameters and metric", h("p", { class: "muted small" }, "Drag along an axis to filter the runs; click the axis outside the selection to clear it."), parallelEl),
    section("importance-panel", "Parameter importance", importanceEl),
    section("scatter", "Metric against each parameter", scatterEl),
    section(
      "curves",
      "Every run's metric",
      h("p", { class: "muted small" }, detail.hyperband ? "Dashed lines: hyperband's bands; bars: each band's threshold now; crosses: runs hyperband stopped." : "Each run's metric by iteration."),
      curvesEl,
    ),
    section(
      "runs",
      "Runs",
      filtersEl,
      h(
        "div",
        { class: "toolbar" },
        h("button", { type: "button", id: "export-csv", onclick: () => download(`${path}/export?format=csv`, `sweep-${sweepId}-runs.csv`).catch((e) => replace(controlErrors, errorBox(e))) }, "Export CSV"),
        h("button", { type: "button", id: "export-json", onclick: () => download(`${path}/export?format=json`, `sweep-${sweepId}-runs.json`).catch((e) => replace(controlErrors, errorBox(e))) }, "Export JSON"),
      ),
      table.element,
    ),
  );
  drawHeader(first.sweep);

  const parallel = new ParallelChart(parallelEl, model);
  const byRun = new BestSoFar(bestByRun, model, "number");
  const byTime = new BestSoFar(bestByTime, model, "time");
  const scatter = new MetricByParam(scatterEl, model);
  const curves = new Curves(curvesEl, model, detail.hyperband);
  const importance = new ImportanceTable(importanceEl, sweepId);

  // --- filters -------------------------------------------------------------------------------------
  const stateBoxes = h("fieldset", { class: "states" }, h("legend", null, "States"));
  const search = h("input", { type: "search", id: "run-search", placeholder: "run name or number" });
  search.addEventListener("input", () => {
    model.query = search.value.trim().toLowerCase();
    model.emit("filter");
  });
  const chips = h("div", { class: "chips", id: "range-chips", "aria-live": "polite" });
  const columnSelect = h("select", { id: "range-column", "aria-label": "Column to filter" });
  const lo = h("input", { type: "number", step: "any", id: "range-min", "aria-label": "Minimum", placeholder: "min" });
  const hi = h("input", { type: "number", step: "any", id: "range-max", "aria-label": "Maximum", placeholder: "max" });
  const numericColumns = [
    ...(detail.metric ? [[METRIC, detail.metric.name]] : []),
    ...detail.params.filter((p) => p.kind === "number" && !p.constant).map((p) => [p.name, p.name]),
  ];
  replace(columnSelect, numericColumns.map(([value, label]) => h("option", { value }, label)));
  const rangeForm = h(
    "form",
    {
      class: "range",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const a = lo.value === "" ? -Infinity : Number(lo.value);
        const b = hi.value === "" ? Infinity : Number(hi.value);
        if (Number.isNaN(a) || Number.isNaN(b)) return;
        model.setRange(columnSelect.value, { intervals: [[Math.min(a, b), Math.max(a, b)]] });
      },
    },
    h("label", { for: "range-column" }, "Range"),
    columnSelect,
    lo,
    hi,
    h("button", { type: "submit" }, "Filter"),
  );
  replace(
    filtersEl,
    stateBoxes,
    h("div", { class: "toolbar" }, h("label", { for: "run-search" }, "Search"), search, numericColumns.length ? rangeForm : null),
    chips,
  );

  function drawStates(): void {
    const present = new Set([...model.rows.values()].map((r) => r.state));
    for (const s of model.states) present.add(s);
    const boxes = [...present].sort().map((state) => {
      const box = h("input", {
        type: "checkbox",
        value: state,
        checked: model.states.has(state),
        onchange: () => {
          if (box.checked) model.states.add(state);
          else model.states.delete(state);
          model.emit("filter");
        },
      });
      return h("label", { class: "check" }, box, ` ${state}`);
    });
    replace(stateBoxes, h("legend", null, "Show only"), boxes);
  }

  function drawChips(): void {
    const label = (column: string) => (column === METRIC ? detail.metric?.name ?? "metric" : column);
    replace(
      chips,
      [...model.ranges.entries()].map(([column, filter]) => {
        const what =
          "labels" in filter
            ? [...filter.labels].join(", ") || "nothing"
            : filter.intervals.map(([a, b]) => `${num(a)} … ${num(b)}`).join(" or ");
        return h(
          "span",
          { class: "chip", "data-column": column },
          `${label(column)}: ${what} `,
          h(
            "button",
            {
              type: "button",
              class: "ghost",
              "aria-label": `Clear the filter on ${label(column)}`,
              onclick: () => {
                parallel.clearBrush(column);
                model.setRange(column, null);
              },
            },
            "×",
          ),
        );
      }),
    );
  }

  // --- drawing -------------------------------------------------------------------------------------
  let chartsTimer = 0;
  let lastCharts = 0;
  function renderCharts(): void {
    chartsTimer = 0;
    lastCharts = performance.now();
    byRun.render();
    byTime.render();
    performance.mark("sweepkit:best-so-far");
    parallel.render();
    performance.mark("sweepkit:parallel");
    scatter.render();
    performance.mark("sweepkit:scatter");
    curves.render();
    performance.mark("sweepkit:curves");
  }
  function scheduleCharts(): void {
    if (chartsTimer) return;
    const gap = model.rows.size > 2000 ? 4000 : 800;
    const wait = Math.max(0, lastCharts + gap - performance.now());
    chartsTimer = window.setTimeout(renderCharts, wait);
  }
  let filterTimer = 0;
  model.on((what) => {
    if (what !== "filter") return;
    table.update();
    drawChips();
    window.clearTimeout(filterTimer);
    filterTimer = window.setTimeout(() => {
      parallel.render();
      scatter.render();
      curves.render();
    }, 120);
  });
  onThemeChange(() => renderCharts());

  drawStates();
  table.update(true);
  performance.mark("sweepkit:table");
  renderCharts();
  importance.load().catch((err) => replace(importanceEl, errorBox(err)));

  async function fetchCurves(numbers: number[] | null): Promise<void> {
    if (!detail.metric) return;
    if (numbers === null) {
      const data = await getJSON<{ runs: [number, number[], number[]][] }>(`${path}/curves`);
      curves.take(data.runs);
      return;
    }
    if (!numbers.length) return;
    for (let i = 0; i < numbers.length; i += 200) {
      const batch = numbers.slice(i, i + 200);
      const data = await getJSON<{ runs: [number, number[], number[]][] }>(`${path}/curves?runs=${batch.join(",")}`);
      curves.take(data.runs);
    }
  }
  await firstCurves.then((data) => curves.take(data.runs)).catch((err) => replace(curvesEl, errorBox(err)));
  performance.mark("sweepkit:curves-data");
  curves.render();
  performance.mark("sweepkit:curves-drawn");
  main.setAttribute("data-ready", "1");
  main.setAttribute("data-ready-ms", String(Math.round(performance.now())));

  // --- live ----------------------------------------------------------------------------------------
  const runCountBefore = () => model.rows.size;
  let importanceAt = performance.now();
  every(2000, async () => {
    const payload = await getJSON<RunsPayload>(`${path}/runs?since=${encodeURIComponent(model.cursor ?? "")}`);
    if (payload.params.join("\n") !== detail.params.map((p) => p.name).join("\n")) {
      location.reload(); // the config changed its parameters: start over
      return;
    }
    const before = runCountBefore();
    const changed = model.apply(payload);
    drawHeader(payload.sweep);
    if (!changed && !payload.full) return;
    const grown = model.grown;
    drawStates();
    table.update(model.rows.size !== before || payload.full);
    if (grown.length) await fetchCurves(payload.full ? null : grown);
    scheduleCharts();
    if (performance.now() - importanceAt > 5000) {
      importanceAt = performance.now();
      importance.load().catch(() => undefined);
    }
  });
}

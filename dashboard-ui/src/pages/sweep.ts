// A sweep's page: its state and controls, config, best so far, parallel coordinates, parameter
// importance, the metric against each parameter and against two at once, every run's curve of any
// logged key, the runs compared, the agents and their slots over time, and the runs table; all live.

import { errorBox, every, getBlob, getJSON, postJSON } from "../api";
import { crumbs, sweepTitle } from "../common";
import { h, replace } from "../dom";
import { num, yaml } from "../format";
import { onThemeChange } from "../theme";
import type { KeyChoices, RunsPayload, SweepDetail } from "../types";
import { readAddress, writeAddress } from "../sweep/address";
import { AgentsPanel } from "../sweep/agents";
import { ComparePanel } from "../sweep/compare";
import { TwoParamMap } from "../sweep/contour";
import { CurvesChart } from "../sweep/curves";
import { SweepHeader } from "../sweep/header";
import { ImportanceTable } from "../sweep/importance";
import { CurveSet, LineControls, fetchCurves } from "../sweep/lines";
import { ITERATION, METRIC, RunsModel } from "../sweep/model";
import { ParallelChart } from "../sweep/parallel";
import { prefetch, type FirstAnswers } from "../sweep/prefetch";
import { FrontPanel } from "../sweep/front";
import { BestSoFar, MetricByParam } from "../sweep/plots";
import { RunsTable } from "../sweep/table";

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
  const metricName = detail.metric?.name ?? null;
  const model = new RunsModel(detail.params, metricName);
  const defaults = { key: model.lines.key, x: model.lines.x };
  readAddress(model);
  model.apply(first);

  const header = new SweepHeader(path);

  // --- sections ----------------------------------------------------------------------------------
  const bestByRun = h("div", { class: "chart", id: "chart-best-run" });
  const bestByTime = h("div", { class: "chart", id: "chart-best-time" });
  const parallelEl = h("div", { class: "chart tall", id: "chart-parallel" });
  const importanceEl = h("div", { id: "importance" });
  const scatterEl = h("div", { class: "small-charts", id: "chart-scatter" });
  const curvesEl = h("div", { class: "chart tall", id: "chart-curves" });
  const table = new RunsTable(model);
  const curveControls = new LineControls(model, "curves");
  const compare = new ComparePanel(model, path, path);
  const agents = new AgentsPanel(model, path);
  const twoParams = new TwoParamMap(model);
  // Several metrics: the Pareto front and the hypervolume (computed by the server).
  const front = detail.objectives.length > 1 ? new FrontPanel(path, model) : null;

  const metricLog = h("input", {
    type: "checkbox",
    id: "metric-log",
    onchange: () => {
      model.metricAxis = { ...model.metricAxis, log: metricLog.checked };
      model.emit("axis");
    },
  });
  const metricOutliers = h("input", {
    type: "checkbox",
    id: "metric-outliers",
    onchange: () => {
      model.metricAxis = { ...model.metricAxis, outliers: metricOutliers.checked };
      model.emit("axis");
    },
  });
  const metricAxisControls = h(
    "div",
    { class: "toolbar chart-controls" },
    h("span", { class: "muted" }, `${metricName ?? "Metric"} axis:`),
    h("label", { class: "check" }, metricLog, " log scale"),
    h("label", { class: "check", title: "Fit the axis to the values between the 5th and 95th percentile" }, metricOutliers, " ignore outliers"),
  );

  const filtersEl = h("div", { class: "filters", id: "filters" });
  // As written when sweepkit has the text; else the validated config, with its defaults, as YAML.
  const configText = detail.source ?? yaml(detail.config).replace(/^\n/, "");
  const hyperbandNote = detail.hyperband
    ? "By iteration, dashed lines are hyperband's bands, bars each band's threshold now, crosses the runs hyperband stopped (click one to compare it)."
    : "Each run's curve; choose any key runs logged, and what to draw it against.";
  replace(
    main,
    h("h1", null, sweepTitle(detail)),
    ...header.parts(),
    h("details", { class: "panel", id: "config" }, h("summary", null, "Config"), h("pre", { class: "code" }, configText), configEditor(path, configText), configVersions(detail)),
    metricAxisControls,
    h(
      "div",
      { class: "two" },
      section("best-run", "Best so far, by run", bestByRun),
      section("best-time", "Best so far, over time", bestByTime),
    ),
    front ? section("front", "Pareto front", front.element) : null,
    section("parallel", "Parameters and metric", h("p", { class: "muted small" }, "Drag along an axis to filter the runs; click the axis outside the selection to clear it."), parallelEl),
    section("importance-panel", "Parameter importance", importanceEl),
    section(
      "scatter",
      "Metric against the parameters",
      h(
        "div",
        { class: "two" },
        h("div", null, h("h3", null, "One at a time"), scatterEl),
        h("div", { id: "two-params" }, h("h3", null, "Two at once"), twoParams.element),
      ),
    ),
    section("curves", "Every run's curve", h("p", { class: "muted small" }, hyperbandNote), curveControls.element, curvesEl),
    compare.element,
    agents.element,
    section(
      "runs",
      "Runs",
      filtersEl,
      h(
        "div",
        { class: "toolbar" },
        h("button", { type: "button", id: "export-csv", onclick: () => download(`${path}/export?format=csv`, `sweep-${sweepId}-runs.csv`).catch((e) => replace(header.errors, errorBox(e))) }, "Export CSV"),
        h("button", { type: "button", id: "export-json", onclick: () => download(`${path}/export?format=json`, `sweep-${sweepId}-runs.json`).catch((e) => replace(header.errors, errorBox(e))) }, "Export JSON"),
      ),
      table.element,
    ),
  );
  header.draw(first.sweep);
  header.loadAccess().catch(() => undefined);

  const parallel = new ParallelChart(parallelEl, model);
  const byRun = new BestSoFar(bestByRun, model, "number");
  const byTime = new BestSoFar(bestByTime, model, "time");
  const scatter = new MetricByParam(scatterEl, model);
  const curves = new CurvesChart(curvesEl, model, detail.hyperband);
  curves.onNote = (note) => {
    curveControls.note.textContent = note;
  };
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
  /** The charts below the first screen: drawn after the page is ready, and on the same schedule. */
  function renderLater(): void {
    twoParams.render();
    agents.render();
  }
  function scheduleCharts(): void {
    if (chartsTimer) return;
    const gap = model.rows.size > 2000 ? 4000 : 800;
    const wait = Math.max(0, lastCharts + gap - performance.now());
    chartsTimer = window.setTimeout(() => {
      renderCharts();
      renderLater();
    }, wait);
  }

  // The curves drawn now, and fetching them when the key or the x changes.
  async function loadCurves(): Promise<void> {
    const s = model.lines;
    if (!s.key) return;
    if (!curves.set.matches(s)) {
      const next = new CurveSet(s.key, s.x);
      curvesEl.setAttribute("aria-busy", "true");
      try {
        await fetchCurves(path, next, null);
      } finally {
        curvesEl.removeAttribute("aria-busy");
      }
      if (!next.matches(model.lines)) return; // changed again meanwhile
      curves.set = next;
    }
    curves.render();
  }

  /** Curves that could not be fetched: said beside the chart's controls (the chart keeps what it drew). */
  function curvesFailed(err: unknown): void {
    curveControls.note.textContent = err instanceof Error ? err.message : String(err);
    curvesEl.setAttribute("data-error", "1");
  }

  let filterTimer = 0;
  model.on((what) => {
    if (what === "filter") {
      table.update();
      drawChips();
      window.clearTimeout(filterTimer);
      filterTimer = window.setTimeout(() => {
        parallel.render();
        scatter.render();
        curves.render();
        twoParams.render();
      }, 120);
    } else if (what === "select") {
      table.redraw();
      byRun.render();
      byTime.render();
      scatter.render();
      curves.render();
      twoParams.render();
      agents.renderTimeline(true);
      writeAddress(model, defaults);
      compare.update().catch((err) => compare.element.append(errorBox(err)));
    } else if (what === "lines") {
      curveControls.sync();
      writeAddress(model, defaults);
      loadCurves().catch(curvesFailed);
      compare.settingsChanged().catch((err) => compare.element.append(errorBox(err)));
    } else if (what === "axis") {
      byRun.render();
      byTime.render();
      scatter.render();
      twoParams.render();
    }
  });
  onThemeChange(() => {
    front?.render();
    renderCharts();
    renderLater();
    compare.draw();
  });

  drawStates();
  table.update(true);
  performance.mark("sweepkit:table");
  renderCharts();
  importance.load().catch((err) => replace(importanceEl, errorBox(err)));
  front?.load().catch((err) => front.element.append(errorBox(err)));

  async function loadKeys(): Promise<void> {
    const choices = await getJSON<KeyChoices>(`${path}/keys`);
    curveControls.setChoices(choices);
    compare.controls.setChoices(choices);
  }
  loadKeys().catch(() => undefined);

  await firstCurves
    .then((data) => {
      if (data.key !== null && data.x !== null) {
        const set = new CurveSet(data.key, data.x);
        set.take(data.runs);
        curves.set = set;
        if (!set.matches(model.lines)) model.setLines({ key: data.key, x: data.x });
      }
    })
    .catch(curvesFailed);
  performance.mark("sweepkit:curves-data");
  curves.render();
  performance.mark("sweepkit:curves-drawn");
  main.setAttribute("data-ready", "1");
  main.setAttribute("data-ready-ms", String(Math.round(performance.now())));

  // Below the first screen, once the page is ready; the comparison first, when the address asked for one.
  if (answers.compare) {
    await answers.compare.then(([answer, curvesOf]) => compare.preload(answer, curvesOf)).catch(() => undefined);
  }
  compare.update().catch((err) => compare.element.append(errorBox(err)));
  window.setTimeout(renderLater, 0); // after the browser has painted what is ready
  agents.load().catch((err) => agents.element.append(errorBox(err)));

  // --- live ----------------------------------------------------------------------------------------
  let importanceAt = performance.now();
  let keysAt = performance.now();
  let agentsAt = performance.now();
  every(2000, async () => {
    const payload = await getJSON<RunsPayload>(`${path}/runs?since=${encodeURIComponent(model.cursor ?? "")}`);
    if (payload.params.join("\n") !== detail.params.map((p) => p.name).join("\n")) {
      location.reload(); // the config changed its parameters: start over
      return;
    }
    const before = model.rows.size;
    const changed = model.apply(payload);
    header.draw(payload.sweep);
    if (performance.now() - agentsAt > 4000) {
      agentsAt = performance.now();
      agents.load().catch(() => undefined);
    }
    if (!changed && !payload.full) return;
    drawStates();
    table.update(model.rows.size !== before || payload.full);
    const grew = model.lines.x === ITERATION ? model.grown : model.stepped;
    if (grew.length && curves.set.matches(model.lines)) await fetchCurves(path, curves.set, payload.full ? null : grew);
    await compare.refresh(model.stepped);
    scheduleCharts();
    if (performance.now() - importanceAt > 5000) {
      importanceAt = performance.now();
      importance.load().catch(() => undefined);
      front?.load().catch(() => undefined);
    }
    if (performance.now() - keysAt > 10000) {
      keysAt = performance.now();
      loadKeys().catch(() => undefined);
    }
  });
}

/** The config's versions, newest first: when each began and what changing to it did (its config on a click). */
function configVersions(detail: SweepDetail): HTMLElement | null {
  const versions = detail.versions ?? [];
  if (versions.length < 2) return null;
  return h(
    "div",
    { id: "config-versions" },
    h("h3", null, `Versions (${versions.length})`),
    h(
      "ul",
      { class: "versions" },
      ...versions.map((v) =>
        h(
          "li",
          { class: "version", "data-version": String(v.version) },
          h("details", null,
            h("summary", null, `version ${v.version}, ${new Date(v.created_at).toLocaleString()}${v.version === 1 ? " (created)" : ""}`),
            v.changes.length ? h("ul", null, ...v.changes.map((c) => h("li", null, c))) : null,
            h("pre", { class: "code" }, v.source ?? yaml(v.config).replace(/^\n/, "")),
          ),
        ),
      ),
    ),
  );
}

interface ConfigChange {
  changes: string[];
  warnings: string[];
  applied: boolean;
}

/** Edit the config of a running sweep: what the change does is shown first, then it can be applied. */
function configEditor(path: string, configText: string): HTMLElement {
  const text = h("textarea", { id: "config-text", class: "code", rows: "14", spellcheck: "false", "aria-label": "New config (YAML)" }) as HTMLTextAreaElement;
  text.value = configText;
  const defaults = h("input", { id: "config-defaults", type: "text", placeholder: "for a parameter you add: NAME=VALUE, ...", "aria-label": "Defaults for added parameters" }) as HTMLInputElement;
  const said = h("div", { id: "config-preview" });
  const apply = h("button", { type: "button", id: "config-apply", disabled: "" }, "Apply") as HTMLButtonElement;
  const parsedDefaults = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const part of defaults.value.split(",").map((p) => p.trim()).filter(Boolean)) {
      const at = part.indexOf("=");
      if (at < 1) throw new Error(`${part}: expected NAME=VALUE`);
      const raw = part.slice(at + 1).trim();
      let value: unknown = raw;
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
      out[part.slice(0, at).trim()] = value;
    }
    return out;
  };
  const send = async (dryRun: boolean) => {
    replace(said, h("p", { class: "muted small" }, dryRun ? "Asking what the change does..." : "Applying..."));
    try {
      const answer = await postJSON<ConfigChange>(`${path}/config`, { text: text.value, defaults: parsedDefaults(), dry_run: dryRun });
      const lines = answer.changes.length ? answer.changes : ["no change to what the sweep does"];
      replace(
        said,
        h("p", null, answer.applied ? "Changed. The new version:" : "This change would:"),
        h("ul", { class: "changes" }, ...lines.map((c) => h("li", null, c))),
        ...answer.warnings.map((w) => h("p", { class: "muted small" }, `warning: ${w}`)),
      );
      apply.disabled = answer.applied;
      if (answer.applied) window.setTimeout(() => window.location.reload(), 1500);
    } catch (err) {
      apply.disabled = true;
      replace(said, errorBox(err));
    }
  };
  text.oninput = defaults.oninput = () => {
    apply.disabled = true;
  };
  apply.onclick = () => void send(false);
  return h(
    "details",
    { id: "config-edit" },
    h("summary", null, "Change the config"),
    h("p", { class: "muted small" }, "Preview says what the change does to the sweep (a grid never runs a point again; bayes keeps the earlier runs the new space can express); nothing changes until Apply."),
    text,
    defaults,
    h("div", { class: "toolbar" }, h("button", { type: "button", id: "config-preview-button", onclick: () => void send(true) }, "Preview"), apply),
    said,
  );
}

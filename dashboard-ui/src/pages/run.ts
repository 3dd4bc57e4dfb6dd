// A run's page: what it is, why it stopped, its command, the search method's reasons, its config
// and summary (long text cut, shown whole on request), a chart of every logged number (log scale,
// smoothing, against step or time), what it logged besides numbers (images, tables, histograms, ...),
// and its output with a search; live while it runs.

import { errorBox, every, getJSON, pageUrl } from "../api";
import { Range } from "../axes";
import { chart, axisStyle, base, markDrawn, type Chart } from "../charts";
import { badge, crumbs } from "../common";
import { h, keyValues, replace, type Child } from "../dom";
import { duration, flatten, num, text, when } from "../format";
import { MediaPanel, type MediaKey, type RunFiles } from "../run/media";
import { OutputLog } from "../run/output";
import { valueList } from "../run/values";
import { ema } from "../smoothing";
import { onThemeChange, palette } from "../theme";
import type { HistoryPage, RunDetail } from "../types";

const ACTIVE = new Set(["pending", "running", "preempting", "crashed"]);
const MAX_CHARTS = 60;
const TIME_KEYS = new Set(["_runtime", "_timestamp"]);

function pairs(value: Record<string, unknown>): [string, Child][] {
  return flatten(value).map(([k, v]) => [k, text(v)]);
}

interface RunDetailWithMedia extends RunDetail {
  media: MediaKey[];
  files: RunFiles | null;
}

export async function runPage(main: HTMLElement, runId: string): Promise<void> {
  const path = `/runs/${encodeURIComponent(runId)}`;
  crumbs(["Sweeps", "/"], [runId, null]);
  let run: RunDetailWithMedia;
  try {
    run = await getJSON<RunDetailWithMedia>(path);
  } catch (err) {
    replace(main, errorBox(err));
    return;
  }
  const title = run.name ?? run.id;
  document.title = `${title} · sweepkit`;
  if (run.sweep) crumbs(["Sweeps", "/"], [run.sweep.name ?? run.sweep.id, `/sweeps/${encodeURIComponent(run.sweep.id)}`], [title, null]);
  else crumbs(["Sweeps", "/"], [title, null]);

  const facts = h("dl", { class: "facts" });
  const stopEl = h("div", { id: "stop" });
  const chartsEl = h("div", { class: "small-charts", id: "run-charts" });
  const output = new OutputLog(path);
  const summaryEl = h("div", { id: "summary" });
  const configEl = h("div", { id: "run-config" });
  let media = new MediaPanel(path, run.media ?? [], run.files ?? { folder: null, host: null, here: false });
  const mediaHolder = h("div", null, media.element);

  // How the charts draw: against what, log, smoothing.
  const settings = { x: "_step", log: false, smoothing: 0 };
  const xSelect = h("select", {
    id: "run-x",
    onchange: () => {
      settings.x = xSelect.value;
      drawCharts();
    },
  });
  const X_NAMES: Record<string, string> = { _step: "step", _runtime: "time since start (s)", _timestamp: "wall time" };
  /** The x axes: step, the times, and every other number the run logged (an epoch, a global step). */
  function drawXChoices(): void {
    const keys = [...series.keys()].filter((k) => !TIME_KEYS.has(k)).sort();
    const choices = ["_step", "_runtime", "_timestamp", ...keys];
    if (xSelect.options.length === choices.length) return;
    replace(xSelect, choices.map((x) => h("option", { value: x, selected: x === settings.x }, X_NAMES[x] ?? x)));
  }
  const logBox = h("input", {
    type: "checkbox",
    id: "run-log",
    onchange: () => {
      settings.log = logBox.checked;
      drawCharts();
    },
  });
  const smoothText = h("output", { for: "run-smoothing", class: "small" }, "off");
  const smoothing = h("input", {
    type: "range",
    id: "run-smoothing",
    min: 0,
    max: 0.99,
    step: 0.01,
    value: 0,
    oninput: () => {
      settings.smoothing = Number(smoothing.value);
      smoothText.textContent = settings.smoothing ? settings.smoothing.toFixed(2) : "off";
      drawCharts();
    },
  });
  const chartControls = h(
    "div",
    { class: "toolbar chart-controls" },
    h("label", { for: "run-x" }, "Against"),
    xSelect,
    h("label", { class: "check" }, logBox, " log scale"),
    h("label", { for: "run-smoothing", title: "W&B's exponential moving average (as TensorBoard's); 0 is none" }, "Smoothing"),
    smoothing,
    smoothText,
  );

  replace(
    main,
    h("h1", { id: "run-name" }, title),
    facts,
    stopEl,
    h("section", { class: "panel", "aria-labelledby": "cmd-title" }, h("h2", { id: "cmd-title" }, "Command"), h("pre", { class: "code", id: "command" }, run.command ?? "(not a sweep run, or the command cannot be rendered)")),
    h(
      "div",
      { class: "two" },
      h("section", { class: "panel", "aria-labelledby": "config-title" }, h("h2", { id: "config-title" }, "Config"), configEl),
      h("section", { class: "panel", "aria-labelledby": "summary-title" }, h("h2", { id: "summary-title" }, "Summary"), summaryEl),
    ),
    h("section", { class: "panel", "aria-labelledby": "why-title" }, h("h2", { id: "why-title" }, "Why these parameters"), h("div", { id: "suggestion" }, Object.keys(run.suggestion).length ? keyValues(pairs(run.suggestion), "The search method's reasons") : h("p", { class: "muted" }, "The search method recorded no reasons for this run (random search draws at random)."))),
    h("section", { class: "panel", "aria-labelledby": "charts-title" }, h("h2", { id: "charts-title" }, "Logged values"), chartControls, chartsEl),
    h("section", { class: "panel", "aria-labelledby": "media-title" }, h("h2", { id: "media-title" }, "Media"), mediaHolder),
    h("section", { class: "panel", "aria-labelledby": "output-title" }, h("h2", { id: "output-title" }, "Output"), output.element),
  );

  function drawFacts(r: RunDetailWithMedia): void {
    const metric = r.sweep?.metric;
    replace(
      facts,
      h("div", null, h("dt", null, "State"), h("dd", { id: "run-state" }, badge(r.state))),
      r.sweep ? h("div", null, h("dt", null, "Sweep"), h("dd", null, h("a", { href: pageUrl(`/sweeps/${encodeURIComponent(r.sweep.id)}`) }, r.sweep.name ?? r.sweep.id), r.number !== null ? ` · run ${r.number}` : "")) : null,
      metric ? h("div", null, h("dt", null, `Best ${metric.name}`), h("dd", { id: "run-best" }, num(r.best) || "–")) : null,
      h("div", null, h("dt", null, "Exit code"), h("dd", { id: "run-exit" }, r.exit_code === null ? "–" : String(r.exit_code))),
      h("div", null, h("dt", null, "Duration"), h("dd", null, duration(r.duration_s))),
      h("div", null, h("dt", null, "Created"), h("dd", null, when(r.created_at))),
      r.files?.host ? h("div", null, h("dt", null, "Agent"), h("dd", null, `${r.agent_id} on ${r.files.host}`)) : null,
      h("div", null, h("dt", null, "ID"), h("dd", null, h("code", null, r.id))),
    );
    const parts: Child[] = [];
    if (r.stop_reason) {
      parts.push(h("p", null, h("strong", null, "Stopped: "), r.stop_reason));
      if (r.stop_info) parts.push(keyValues(pairs(r.stop_info), "How it was stopped"));
    }
    if (r.error) parts.push(h("p", null, h("strong", null, "Error: "), h("code", null, r.error)));
    replace(stopEl, parts.length ? h("section", { class: "panel notice", role: "note" }, parts) : null);
    const summary = Object.fromEntries(Object.entries(r.summary).filter(([k]) => !k.startsWith("_")));
    replace(summaryEl, valueList(summary, "Summary", path, "summary"));
    replace(configEl, valueList(r.config, "Config", path, "config"));
  }
  drawFacts(run);
  media.render();

  // --- logged values -----------------------------------------------------------------------------
  const series = new Map<string, [number[], number[]]>();
  const charts = new Map<string, Chart>();
  let lastStep: number | null = null;

  async function readHistory(): Promise<boolean> {
    let grew = false;
    for (;;) {
      const q = lastStep === null ? "" : `?after=${lastStep}`;
      const page = await getJSON<HistoryPage>(`${path}/history${q}`);
      for (const [key, [steps, values]] of Object.entries(page.series)) {
        const s = series.get(key) ?? [[], []];
        s[0].push(...steps);
        s[1].push(...values);
        series.set(key, s);
        grew = true;
      }
      if (page.last_step !== null) lastStep = page.last_step;
      if (page.next_after === null) return grew;
    }
  }

  /** A key's points against the chosen x: by step, or by the time logged on the same row. */
  function points(key: string): [number, number][] {
    const [steps, values] = series.get(key) as [number[], number[]];
    const ys = settings.smoothing > 0 ? Array.from(ema(values, settings.smoothing)) : values;
    if (settings.x === "_step") return steps.map((s, i) => [s, ys[i]]);
    const [tSteps, times] = series.get(settings.x) ?? [[], []];
    const at = new Map(tSteps.map((s, i) => [s, times[i]]));
    const scale = settings.x === "_timestamp" ? 1000 : 1; // a time axis counts milliseconds
    const out: [number, number][] = [];
    steps.forEach((s, i) => {
      const t = at.get(s);
      if (t !== undefined) out.push([t * scale, ys[i]]);
    });
    return out;
  }

  function drawCharts(): void {
    drawXChoices();
    const p = palette();
    const keys = [...series.keys()].filter((k) => !TIME_KEYS.has(k)).sort();
    const metric = run.sweep?.metric?.name;
    if (metric && keys.includes(metric)) keys.splice(keys.indexOf(metric), 1), keys.unshift(metric);
    if (!keys.length) {
      replace(chartsEl, h("p", { class: "muted" }, "Nothing logged yet."));
      return;
    }
    if (chartsEl.querySelector("p.muted")) replace(chartsEl);
    for (const key of keys.slice(0, MAX_CHARTS)) {
      let c = charts.get(key);
      if (!c) {
        const cell = h("div", { class: "small-chart", "data-key": key });
        chartsEl.append(cell);
        c = chart(cell, `${key} by step`);
        charts.set(key, c);
      }
      const data = points(key);
      const range = new Range();
      for (const [, y] of data) range.add(y);
      const log = settings.log && range.positive;
      const fitted = range.extent(log);
      const timeX = settings.x === "_timestamp";
      c.setOption(
        {
          ...base(p),
          grid: { left: 56, right: 16, top: 28, bottom: 32 },
          tooltip: { show: true, trigger: "axis", renderMode: "richText", confine: true },
          xAxis: {
            type: timeX ? "time" : "value",
            name: settings.x === "_timestamp" ? "" : settings.x === "_runtime" ? "seconds" : X_NAMES[settings.x] ?? settings.x,
            nameLocation: "middle",
            nameGap: 22,
            scale: true,
            ...axisStyle(p),
            axisLabel: { color: p.muted, hideOverlap: true },
          },
          yAxis: {
            type: log ? "log" : "value",
            name: key,
            min: fitted?.min,
            max: fitted?.max,
            ...axisStyle(p),
            axisLabel: { color: p.muted, hideOverlap: true, formatter: (v: number) => num(v, 3), showMinLabel: log, showMaxLabel: log },
          },
          series: [
            {
              type: "line",
              showSymbol: data.length < 50,
              symbolSize: 4,
              sampling: "lttb",
              lineStyle: { color: key === metric ? p.accent : p.series[1], width: 1.5 },
              itemStyle: { color: key === metric ? p.accent : p.series[1] },
              data,
            },
          ],
        },
        { notMerge: true },
      );
      const cell = c.getDom() as HTMLElement;
      cell.setAttribute("data-y", JSON.stringify(fitted));
      markDrawn(c, cell);
    }
    chartsEl.setAttribute("data-drawn", String(Math.min(keys.length, MAX_CHARTS)));
    if (keys.length > MAX_CHARTS) chartsEl.setAttribute("title", `The first ${MAX_CHARTS} of ${keys.length} keys`);
  }

  await Promise.all([readHistory().then(drawCharts), output.read()]).catch((err) => main.append(errorBox(err)));
  onThemeChange(drawCharts);
  main.setAttribute("data-ready", "1");

  const stop = every(2000, async () => {
    const wasActive = ACTIVE.has(run.state);
    if (!wasActive) {
      stop();
      return;
    }
    const before = JSON.stringify(run.media);
    run = await getJSON<RunDetailWithMedia>(path);
    drawFacts(run);
    if (JSON.stringify(run.media) !== before) {
      media = new MediaPanel(path, run.media ?? [], run.files ?? { folder: null, host: null, here: false });
      replace(mediaHolder, media.element);
      media.render();
    }
    const [grew] = await Promise.all([readHistory(), output.read()]);
    if (grew) drawCharts();
    if (!ACTIVE.has(run.state)) {
      // one last read after the run ended, then stop polling
      const [last] = await Promise.all([readHistory(), output.read()]);
      if (last) drawCharts();
    }
  });
}

// A run's page: what it is, why it stopped, its command, the search method's reasons, its config
// and summary, a chart of every logged number, and the tail of its output; live while it runs.

import { errorBox, every, getJSON, pageUrl } from "../api";
import { chart, axisStyle, base, markDrawn, type Chart } from "../charts";
import { badge, crumbs } from "../common";
import { h, keyValues, replace, type Child } from "../dom";
import { duration, flatten, num, text, when } from "../format";
import { onThemeChange, palette } from "../theme";
import type { HistoryPage, OutputPage, RunDetail } from "../types";

const ACTIVE = new Set(["pending", "running", "preempting", "crashed"]);
const MAX_CHARTS = 60;

function pairs(value: Record<string, unknown>): [string, Child][] {
  return flatten(value).map(([k, v]) => [k, text(v)]);
}

export async function runPage(main: HTMLElement, runId: string): Promise<void> {
  const path = `/runs/${encodeURIComponent(runId)}`;
  crumbs(["Sweeps", "/"], [runId, null]);
  let run: RunDetail;
  try {
    run = await getJSON<RunDetail>(path);
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
  const outputEl = h("pre", { class: "log", id: "output", tabindex: 0, "aria-label": "Output" });
  const summaryEl = h("div", { id: "summary" });
  replace(
    main,
    h("h1", { id: "run-name" }, title),
    facts,
    stopEl,
    h("section", { class: "panel", "aria-labelledby": "cmd-title" }, h("h2", { id: "cmd-title" }, "Command"), h("pre", { class: "code", id: "command" }, run.command ?? "(not a sweep run, or the command cannot be rendered)")),
    h(
      "div",
      { class: "two" },
      h("section", { class: "panel", "aria-labelledby": "config-title" }, h("h2", { id: "config-title" }, "Config"), h("div", { id: "run-config" }, keyValues(pairs(run.config), "Config"))),
      h("section", { class: "panel", "aria-labelledby": "summary-title" }, h("h2", { id: "summary-title" }, "Summary"), summaryEl),
    ),
    h("section", { class: "panel", "aria-labelledby": "why-title" }, h("h2", { id: "why-title" }, "Why these parameters"), h("div", { id: "suggestion" }, Object.keys(run.suggestion).length ? keyValues(pairs(run.suggestion), "The search method's reasons") : h("p", { class: "muted" }, "The search method recorded no reasons for this run (random search draws at random)."))),
    h("section", { class: "panel", "aria-labelledby": "charts-title" }, h("h2", { id: "charts-title" }, "Logged values"), chartsEl),
    h("section", { class: "panel", "aria-labelledby": "output-title" }, h("h2", { id: "output-title" }, "Output"), outputEl),
  );

  function drawFacts(r: RunDetail): void {
    const metric = r.sweep?.metric;
    replace(
      facts,
      h("div", null, h("dt", null, "State"), h("dd", { id: "run-state" }, badge(r.state))),
      r.sweep ? h("div", null, h("dt", null, "Sweep"), h("dd", null, h("a", { href: pageUrl(`/sweeps/${encodeURIComponent(r.sweep.id)}`) }, r.sweep.name ?? r.sweep.id), r.number !== null ? ` · run ${r.number}` : "")) : null,
      metric ? h("div", null, h("dt", null, `Best ${metric.name}`), h("dd", { id: "run-best" }, num(r.best) || "–")) : null,
      h("div", null, h("dt", null, "Exit code"), h("dd", { id: "run-exit" }, r.exit_code === null ? "–" : String(r.exit_code))),
      h("div", null, h("dt", null, "Duration"), h("dd", null, duration(r.duration_s))),
      h("div", null, h("dt", null, "Created"), h("dd", null, when(r.created_at))),
      h("div", null, h("dt", null, "ID"), h("dd", null, h("code", null, r.id))),
    );
    const parts: Child[] = [];
    if (r.stop_reason) {
      parts.push(h("p", null, h("strong", null, "Stopped: "), r.stop_reason));
      if (r.stop_info) parts.push(keyValues(pairs(r.stop_info), "How it was stopped"));
    }
    if (r.error) parts.push(h("p", null, h("strong", null, "Error: "), h("code", null, r.error)));
    replace(stopEl, parts.length ? h("section", { class: "panel notice", role: "note" }, parts) : null);
    replace(summaryEl, keyValues(pairs(Object.fromEntries(Object.entries(r.summary).filter(([k]) => !k.startsWith("_")))), "Summary"));
  }
  drawFacts(run);

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

  function drawCharts(): void {
    const p = palette();
    const keys = [...series.keys()].sort();
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
      const [steps, values] = series.get(key) as [number[], number[]];
      c.setOption(
        {
          ...base(p),
          grid: { left: 56, right: 16, top: 28, bottom: 32 },
          tooltip: { show: true, trigger: "axis", renderMode: "richText", confine: true },
          xAxis: { type: "value", name: "step", nameLocation: "middle", nameGap: 22, scale: true, ...axisStyle(p) },
          yAxis: { type: "value", name: key, scale: true, ...axisStyle(p) },
          series: [
            {
              type: "line",
              showSymbol: steps.length < 50,
              symbolSize: 4,
              sampling: "lttb",
              lineStyle: { color: key === metric ? p.accent : p.series[1], width: 1.5 },
              itemStyle: { color: key === metric ? p.accent : p.series[1] },
              data: steps.map((s, i) => [s, values[i]]),
            },
          ],
        },
        { notMerge: true },
      );
      markDrawn(c, c.getDom() as HTMLElement);
    }
    chartsEl.setAttribute("data-drawn", String(Math.min(keys.length, MAX_CHARTS)));
    if (keys.length > MAX_CHARTS) chartsEl.setAttribute("title", `The first ${MAX_CHARTS} of ${keys.length} keys`);
  }

  // --- output ------------------------------------------------------------------------------------
  let outputSize: number | null = null;
  async function readOutput(): Promise<void> {
    const page = await getJSON<OutputPage>(`${path}/output${outputSize === null ? "" : `?known=${outputSize}`}`);
    const atBottom = outputEl.scrollTop + outputEl.clientHeight >= outputEl.scrollHeight - 8;
    if (page.append !== undefined) {
      if (page.append) outputEl.append(document.createTextNode(page.append));
    } else {
      replace(
        outputEl,
        page.head ?? "",
        page.skipped ? h("span", { class: "muted" }, `\n[… ${page.skipped} characters not kept …]\n`) : null,
        page.tail ?? "",
      );
    }
    if (!page.size) outputEl.setAttribute("data-empty", "1");
    else outputEl.removeAttribute("data-empty");
    outputSize = page.size;
    outputEl.setAttribute("data-size", String(page.size));
    if (atBottom) outputEl.scrollTop = outputEl.scrollHeight;
  }

  await Promise.all([readHistory().then(drawCharts), readOutput()]).catch((err) => main.append(errorBox(err)));
  onThemeChange(drawCharts);
  main.setAttribute("data-ready", "1");

  const stop = every(2000, async () => {
    const wasActive = ACTIVE.has(run.state);
    if (!wasActive) {
      stop();
      return;
    }
    run = await getJSON<RunDetail>(path);
    drawFacts(run);
    const [grew] = await Promise.all([readHistory(), readOutput()]);
    if (grew) drawCharts();
    if (!ACTIVE.has(run.state)) {
      // one last read after the run ended, then stop polling
      const [last] = await Promise.all([readHistory(), readOutput()]);
      if (last) drawCharts();
    }
  });
}

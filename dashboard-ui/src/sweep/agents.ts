// A sweep's agents: each one's host, GPUs, state and last heartbeat, and a timeline of runs per
// agent slot (queued, running, finished, failed, killed, crashed), live. Idle slots show as gaps,
// a silent agent as "silent since", how long runs waited as the light part before their bar.

import { getJSON } from "../api";
import { base, chart, markDrawn, type Chart, type Option } from "../charts";
import { h, replace } from "../dom";
import { duration, when } from "../format";
import { palette, type Palette } from "../theme";
import type { Row } from "../types";
import type { RunsModel } from "./model";

export interface AgentView {
  id: string;
  host: string;
  pid: number;
  /** "running" until it says it stopped, then "finished". */
  state: string;
  /** Running and heard from within the heartbeat timeout. */
  live: boolean;
  created_at: string;
  heartbeat_at: string | null;
  finished_at: string | null;
  /** The GPUs of each of its slots ([] for a slot on CPUs); null when the agent did not say. */
  slots: string[][] | null;
}

interface AgentsAnswer {
  agents: AgentView[];
  heartbeat_timeout_s: number;
  now: string;
}

/** Lanes above this many runs are drawn as plain bars (no hover, no click): thousands draw fast. */
const INTERACTIVE_RUNS = 2000;
/** How often the timeline of thousands of runs is drawn again, at most, as they change. */
const BIG_EVERY_MS = 10_000;
const TIMELINE_GRID = { left: 200, right: 24, top: 16, bottom: 40 };
const WINDOWS: [string, number][] = [
  ["all", 0],
  ["last 10 minutes", 600],
  ["last hour", 3600],
  ["last day", 86400],
];

function ago(seconds: number): string {
  return seconds < 1 ? "just now" : `${duration(seconds)} ago`;
}

interface Lane {
  label: string;
  agent: string;
  slot: number;
}

interface Bar {
  lane: number;
  start: number;
  end: number;
  /** When it was queued, if it waited before it started. */
  queued: number | null;
  state: string;
  row: Row;
}

export class AgentsPanel {
  readonly element: HTMLElement;
  private readonly table: HTMLElement;
  private readonly chartEl: HTMLElement;
  private readonly window: HTMLSelectElement;
  private readonly note: HTMLElement;
  private readonly legend: HTMLElement;
  private chart: Chart | null = null;
  private answer: AgentsAnswer | null = null;
  /** When the timeline was last drawn with runs (null: never). */
  private drawnAt: number | null = null;
  /** The server's clock minus this browser's, in seconds (heartbeats are the server's times). */
  private skew = 0;

  constructor(
    private readonly model: RunsModel,
    private readonly path: string,
  ) {
    this.table = h("div", { class: "scroll-x", id: "agents-table" });
    this.chartEl = h("div", { class: "chart", id: "chart-timeline" });
    this.note = h("p", { class: "muted small" });
    this.legend = h("ul", { class: "legend small", "aria-label": "Colors of the timeline" });
    this.window = h(
      "select",
      { id: "timeline-window", onchange: () => this.renderTimeline(true) },
      WINDOWS.map(([label, s]) => h("option", { value: s }, label)),
    );
    this.element = h(
      "section",
      { id: "agents", class: "panel", "aria-labelledby": "agents-title" },
      h("h2", { id: "agents-title" }, "Agents"),
      this.table,
      h("h3", null, "Runs per agent slot"),
      h("div", { class: "toolbar" }, h("label", { for: "timeline-window" }, "Show"), this.window, this.note),
      this.chartEl,
      this.legend,
    );
  }

  async load(): Promise<void> {
    const answer = await getJSON<AgentsAnswer>(`${this.path}/agents`);
    this.answer = answer;
    this.skew = (Date.parse(answer.now) - Date.now()) / 1000;
    this.render();
  }

  render(): void {
    this.renderTable();
    this.renderTimeline();
  }

  private now(): number {
    return Date.now() / 1000 + this.skew;
  }

  private runsOf(agent: string): Row[] {
    return this.model.all().filter((r) => r.agent === agent);
  }

  private renderTable(): void {
    const answer = this.answer;
    if (!answer) return;
    if (!answer.agents.length) {
      replace(this.table, h("p", { class: "muted" }, "No agent has worked on this sweep yet: start one with sweepkit agent SWEEP_ID."));
      return;
    }
    const now = this.now();
    const rows = answer.agents.map((a) => {
      const runs = this.runsOf(a.id);
      const busy = runs.filter((r) => r.state === "running").length;
      const slots = a.slots ?? [[]];
      const heard = a.heartbeat_at ? Date.parse(a.heartbeat_at) / 1000 : null;
      let state: Node;
      if (a.state === "finished") state = h("span", { class: "badge state-finished" }, "finished");
      else if (a.live) state = h("span", { class: "badge state-running" }, "running");
      else state = h("span", { class: "badge state-crashed", title: "no heartbeat within the timeout: the agent or its machine may have died" }, "silent");
      const gpus = slots.some((g) => g.length) ? slots.map((g) => (g.length ? g.join(",") : "–")).join(" | ") : "none (CPU)";
      const counts: Record<string, number> = {};
      for (const r of runs) counts[r.state] = (counts[r.state] ?? 0) + 1;
      return h(
        "tr",
        { "data-agent": a.id },
        h("td", null, h("code", null, a.id)),
        h("td", null, a.host),
        h("td", { class: "num" }, String(a.pid)),
        h("td", null, gpus),
        h("td", { class: "num", title: "slots running a run / slots" }, `${busy} / ${a.slots ? slots.length : "?"}`),
        h("td", null, state),
        h("td", { title: a.heartbeat_at ?? "" }, heard === null ? "never" : ago(Math.max(0, now - heard))),
        h("td", null, Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ") || "none"),
      );
    });
    replace(
      this.table,
      h(
        "table",
        { class: "list", id: "agents-list" },
        h(
          "thead",
          null,
          h("tr", null, ["Agent", "Host", "PID", "GPUs per slot", "Busy slots", "State", "Last heartbeat", "Runs"].map((t) => h("th", { scope: "col" }, t))),
        ),
        h("tbody", null, rows),
      ),
    );
    this.element.setAttribute("data-agents", String(answer.agents.length));
  }

  /** Lanes (one per agent slot) and every run's bar in its lane. */
  private layout(): { lanes: Lane[]; bars: Bar[] } {
    const answer = this.answer;
    const lanes: Lane[] = [];
    const bars: Bar[] = [];
    const now = this.now();
    const queued = this.model.all().filter((r) => r.state === "pending" && r.agent === null);
    if (queued.length) {
      lanes.push({ label: "queued (no agent yet)", agent: "", slot: 0 });
      for (const r of queued) bars.push({ lane: 0, start: r.created ?? now, end: now, queued: null, state: "queued", row: r });
    }
    for (const agent of answer?.agents ?? []) {
      const runs = this.runsOf(agent.id).filter((r) => r.started !== null || r.created !== null);
      const known = agent.slots ?? [];
      const first = lanes.length;
      const laneOf = new Map<number, number>();
      const addLane = (slot: number) => {
        const gpus = known[slot - 1];
        const where = gpus && gpus.length ? `GPU ${gpus.join(",")}` : `slot ${slot}`;
        lanes.push({ label: `${agent.host} · ${agent.id} · ${where}`, agent: agent.id, slot });
        laneOf.set(slot, lanes.length - 1);
      };
      known.forEach((_g, i) => addLane(i + 1));
      // Runs whose slot the agent did not record go to the first slot free when they started.
      const free: number[] = [];
      const sorted = [...runs].sort((a, b) => (a.started ?? a.created ?? 0) - (b.started ?? b.created ?? 0));
      for (const r of sorted) {
        const start = r.started ?? r.created ?? now;
        const end = r.finished ?? (r.state === "running" || r.state === "pending" ? now : start);
        let slot = r.slot;
        if (slot === null) {
          let k = free.findIndex((until) => until <= start);
          if (k < 0) k = free.push(0) - 1;
          free[k] = end;
          slot = k + 1;
        }
        if (!laneOf.has(slot)) addLane(slot);
        const waited = r.started !== null && r.created !== null && r.started - r.created > 1 ? r.created : null;
        bars.push({ lane: laneOf.get(slot) as number, start, end, queued: waited, state: r.state, row: r });
      }
      if (lanes.length === first) addLane(1);
    }
    return { lanes, bars };
  }

  /** Draws the timeline; with thousands of runs at most every ``BIG_EVERY_MS`` unless ``force``. */
  renderTimeline(force = false): void {
    const recent = this.drawnAt !== null && performance.now() - this.drawnAt < BIG_EVERY_MS;
    if (!force && recent && this.model.rows.size > INTERACTIVE_RUNS) return;
    const p: Palette = palette();
    const { lanes, bars } = this.layout();
    if (!lanes.length) {
      this.chart?.clear();
      return;
    }
    this.drawnAt = performance.now();
    const now = this.now();
    const span = Number(this.window.value);
    let first = now;
    let last = -Infinity;
    for (const b of bars) {
      first = Math.min(first, b.queued ?? b.start);
      last = Math.max(last, b.end);
    }
    // Until now while runs run or wait; else until the last one ended.
    const going = bars.some((b) => b.state === "running" || b.state === "queued" || b.state === "pending");
    const to = going || !bars.length ? now : last + Math.max(1, last - first) * 0.02;
    // All of it: from a little before the first run.
    const from = span ? to - span : first - Math.max(1, to - first) * 0.02;
    const shown = bars.filter((b) => b.end >= from);
    const height = Math.max(160, Math.min(900, lanes.length * 28 + TIMELINE_GRID.top + TIMELINE_GRID.bottom));
    this.chartEl.style.height = `${height}px`;
    if (!this.chart) {
      this.chart = chart(this.chartEl, "Runs per agent slot over time, colored by state");
      this.chart.on("click", (event: unknown) => {
        const data = (event as { data?: unknown }).data;
        if (Array.isArray(data) && typeof data[4] === "number") this.model.toggle(data[4]);
      });
    } else {
      this.chart.resize();
    }
    const colorOf = (state: string) => (state === "queued" ? p.muted : p.states[state] ?? p.muted);
    const present = [...new Set(shown.map((b) => b.state))].sort();
    replace(
      this.legend,
      present.map((state) => {
        const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
        swatch.style.borderTop = `8px solid ${colorOf(state)}`;
        return h("li", null, swatch, state);
      }),
    );
    const laneHeight = (height - TIMELINE_GRID.top - TIMELINE_GRID.bottom) / lanes.length;
    const thick = Math.max(3, Math.min(18, laneHeight * 0.6));
    const series: Record<string, unknown>[] = [];
    const interactive = shown.length <= INTERACTIVE_RUNS;
    if (interactive) {
      // [start ms, end ms, lane, queued-from ms or -1, run number]
      const data = shown.map((b) => [b.start * 1000, b.end * 1000, b.lane, b.queued === null ? -1 : b.queued * 1000, b.row.number]);
      series.push({
        type: "custom",
        name: "runs",
        data,
        encode: { x: [0, 1], y: 2 },
        renderItem: (params: { dataIndex: number }, api: { value: (i: number) => number; coord: (v: number[]) => number[] }) => {
          const b = shown[params.dataIndex];
          const a = api.coord([api.value(0), api.value(2)]);
          const z = api.coord([api.value(1), api.value(2)]);
          const children: Record<string, unknown>[] = [];
          if (api.value(3) >= 0) {
            const q = api.coord([api.value(3), api.value(2)]);
            children.push({ type: "rect", shape: { x: q[0], y: q[1] - thick / 4, width: Math.max(1, a[0] - q[0]), height: thick / 2 }, style: { fill: p.muted, opacity: 0.35 } });
          }
          const selected = this.model.isSelected(b.row.number);
          children.push({
            type: "rect",
            shape: { x: a[0], y: a[1] - thick / 2, width: Math.max(2, z[0] - a[0]), height: thick },
            style: { fill: colorOf(b.state), opacity: b.state === "running" ? 0.95 : 0.75, stroke: selected ? p.text : undefined, lineWidth: selected ? 2 : 0 },
          });
          return { type: "group", children };
        },
        tooltip: {
          formatter: (x: { dataIndex: number }) => {
            const b = shown[x.dataIndex];
            const r = b.row;
            const waited = b.queued === null ? "" : `\nwaited ${duration(b.start - b.queued)} before it started`;
            return `run ${r.number} ${r.name ?? ""}: ${b.state}\n${when(b.start)} for ${duration(b.end - b.start)}${waited}\n(click to compare)`;
          },
        },
      });
    } else {
      const groups = new Map<string, number[]>();
      for (const b of shown) {
        const g = groups.get(b.state) ?? [];
        g.push(b.start * 1000, b.lane, Math.max(b.end, b.start + 1) * 1000, b.lane);
        groups.set(b.state, g);
      }
      for (const [state, flat] of groups) {
        const data = new Float64Array((flat.length / 4) * 5);
        for (let i = 0, o = 0; i < flat.length; i += 4) {
          data[o++] = 2;
          data[o++] = flat[i];
          data[o++] = flat[i + 1];
          data[o++] = flat[i + 2];
          data[o++] = flat[i + 3];
        }
        series.push({
          type: "lines",
          name: state,
          coordinateSystem: "cartesian2d",
          polyline: true,
          large: true,
          largeThreshold: 0,
          progressive: 0,
          silent: true,
          lineStyle: { color: colorOf(state), width: thick, opacity: 0.8, cap: "butt" },
          data,
        });
      }
    }
    const option: Option = {
      ...base(p),
      grid: TIMELINE_GRID,
      tooltip: { show: true, trigger: "item", renderMode: "richText", confine: true },
      xAxis: {
        type: "time",
        min: from * 1000,
        max: to * 1000,
        axisLine: { lineStyle: { color: p.muted } },
        axisLabel: { color: p.muted, hideOverlap: true },
        splitLine: { lineStyle: { color: p.grid } },
      },
      yAxis: {
        type: "category",
        data: lanes.map((l) => l.label),
        inverse: true,
        axisLine: { lineStyle: { color: p.muted } },
        axisLabel: { color: p.muted, width: TIMELINE_GRID.left - 12, overflow: "truncate" },
        splitLine: { show: true, lineStyle: { color: p.grid } },
      },
      series,
    };
    this.chart.setOption(option, { notMerge: true });
    this.note.textContent = interactive ? "Hover a run for its times; click it to compare it. The light part before a bar: how long it waited." : `${shown.length} runs: drawn as plain bars.`;
    this.chartEl.setAttribute("data-lanes", lanes.map((l) => l.label).join("\n"));
    this.chartEl.setAttribute("data-bars", String(shown.length));
    markDrawn(this.chart, this.chartEl);
  }
}

// A sweep with several metrics: its Pareto front (two metrics: one scatter with the front joined;
// three or more: a scatter for each pair), and the normalised hypervolume as runs finished. The
// server computes the front (the service's ranking) and the hypervolume; this draws them.

import { getJSON } from "../api";
import { axisStyle, base, chart, markDrawn, type Chart, type Option } from "../charts";
import { h, replace } from "../dom";
import { num } from "../format";
import { palette } from "../theme";
import type { Front } from "../types";
import type { RunsModel } from "./model";
import { selectOnClick } from "./plots";

function axis(name: string, goal: string): Record<string, unknown> {
  return { type: "value", scale: true, name: `${name} (${goal === "maximize" ? "max" : "min"})`, nameLocation: "middle", nameGap: 26 };
}

export class FrontPanel {
  readonly element: HTMLElement;
  private readonly pairsEl: HTMLElement;
  private readonly hvEl: HTMLElement;
  private pairs: Chart[] = [];
  private hv: Chart | null = null;
  data: Front | null = null;

  constructor(
    private readonly path: string,
    private readonly model: RunsModel,
  ) {
    this.pairsEl = h("div", { class: "small-charts", id: "chart-front" });
    this.hvEl = h("div", { class: "chart", id: "chart-hypervolume" });
    this.element = h(
      "div",
      null,
      h("p", { class: "muted small", id: "front-note" }, ""),
      this.pairsEl,
      h("h3", null, "Hypervolume as runs finished"),
      this.hvEl,
    );
  }

  async load(): Promise<void> {
    this.data = await getJSON<Front>(`${this.path}/front`);
    this.render();
  }

  render(): void {
    const data = this.data;
    if (!data) return;
    const p = palette();
    const m = data.objectives.length;
    const onFront = new Set(data.front);
    const note = this.element.querySelector("#front-note") as HTMLElement;
    note.textContent = `${data.front.length} of ${data.points.length} finished runs on the Pareto front (no other run is as good in every metric and better in one). Click a run to compare it.`;
    const pairs: [number, number][] = [];
    for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) pairs.push([a, b]);
    if (this.pairs.length !== pairs.length) {
      this.pairs.forEach((c) => c.dispose());
      const cells = pairs.map(([a, b]) => h("div", { class: m === 2 ? "chart" : "small-chart", "data-pair": `${data.objectives[a].name}/${data.objectives[b].name}` }));
      replace(this.pairsEl, cells);
      this.pairs = cells.map((cell, i) => chart(cell, `${data.objectives[pairs[i][1]].name} against ${data.objectives[pairs[i][0]].name}, the Pareto front highlighted`));
      this.pairs.forEach((c) => selectOnClick(c, this.model));
    }
    pairs.forEach(([a, b], i) => {
      const at = (pt: number[]): number[] => [pt[1 + a], pt[1 + b], pt[0]];
      const front = data.points.filter((pt) => onFront.has(pt[0])).map(at);
      const others = data.points.filter((pt) => !onFront.has(pt[0])).map(at);
      const series: Record<string, unknown>[] = [
        { type: "scatter", name: "dominated runs", symbol: "rect", symbolSize: 4, itemStyle: { color: p.muted, opacity: 0.5 }, data: others },
        { type: "scatter", name: "Pareto front", symbolSize: 8, z: 4, itemStyle: { color: p.accent }, data: front },
      ];
      if (m === 2) {
        // the front joined, in the order of the first metric's axis
        const joined = [...front].sort((u, v) => u[0] - v[0]).map((pt) => [pt[0], pt[1]]);
        series.push({ type: "line", name: "front", silent: true, symbol: "none", lineStyle: { color: p.accent, width: 1.5 }, data: joined, tooltip: { show: false } });
      }
      const option: Option = {
        ...base(p),
        grid: { left: 64, right: 24, top: 28, bottom: 40 },
        tooltip: {
          show: true,
          trigger: "item",
          renderMode: "richText",
          confine: true,
          formatter: (x: { data: number[] }) => `run ${x.data[2]}: ${data.objectives[a].name} ${num(x.data[0])}, ${data.objectives[b].name} ${num(x.data[1])}`,
        },
        xAxis: { ...axisStyle(p), ...axis(data.objectives[a].name, data.objectives[a].goal) },
        yAxis: { ...axisStyle(p), ...axis(data.objectives[b].name, data.objectives[b].goal), nameGap: 44 },
        series,
      };
      const c = this.pairs[i];
      c.setOption(option, { notMerge: true });
      markDrawn(c, c.getDom() as HTMLElement);
    });
    this.pairsEl.setAttribute("data-drawn", String(pairs.length));
    this.pairsEl.setAttribute("data-front", data.front.join(","));
    if (!this.hv) this.hv = chart(this.hvEl, `Normalised hypervolume (reference point ${data.reference} in every metric scaled to 0-1) as runs finished`);
    const hvOption: Option = {
      ...base(p),
      grid: { left: 64, right: 24, top: 28, bottom: 40 },
      tooltip: { show: true, trigger: "axis", renderMode: "richText", confine: true },
      xAxis: { ...axisStyle(p), type: "value", name: "runs finished", nameLocation: "middle", nameGap: 26, minInterval: 1 },
      yAxis: { ...axisStyle(p), type: "value", name: "hypervolume", min: 0 },
      series: [{ type: "line", step: "end", symbol: "none", lineStyle: { color: p.accent, width: 2 }, data: data.hypervolume.map((pt) => [pt[1], pt[2]]) }],
    };
    this.hv.setOption(hvOption, { notMerge: true });
    markDrawn(this.hv, this.hvEl);
    const last = data.hypervolume[data.hypervolume.length - 1];
    this.hvEl.setAttribute("data-hypervolume", last ? String(last[2]) : "");
  }
}

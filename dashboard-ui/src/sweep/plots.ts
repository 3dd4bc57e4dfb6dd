// The sweep page's other charts: best value so far (by run number and by wall time), the metric
// against each parameter, and every run's metric curve with hyperband's bands and thresholds.

import { axisStyle, base, chart, markDrawn, type Chart, type Option } from "../charts";
import { h, replace } from "../dom";
import { num, text, when } from "../format";
import { palette, type Palette } from "../theme";
import type { Hyperband, Row } from "../types";
import type { RunsModel } from "./model";

function grid(): Record<string, number> {
  return { left: 64, right: 24, top: 28, bottom: 40 };
}

/** Best metric value so far among finished runs, over run number or over the time runs finished. */
export class BestSoFar {
  private readonly chart: Chart;

  constructor(
    private readonly el: HTMLElement,
    private readonly model: RunsModel,
    private readonly over: "number" | "time",
  ) {
    const what = over === "number" ? "run number" : "wall time";
    this.chart = chart(el, `Best metric value so far over ${what}, with every run's value`);
  }

  render(): void {
    const p = palette();
    const metric = this.model.sweep?.metric;
    if (!metric) {
      this.chart.clear();
      return;
    }
    const x = (r: Row) => (this.over === "number" ? r.number : (r.finished ?? 0) * 1000);
    const rows = this.model
      .all()
      .filter((r) => r.best !== null && (this.over === "number" || r.finished !== null))
      .sort((a, b) => x(a) - x(b));
    const line: [number, number][] = [];
    let best: Row | null = null;
    for (const r of rows) {
      if (r.state !== "finished" || r.key === null) continue;
      if (best === null || r.key < (best.key as number)) {
        best = r;
        line.push([x(r), r.best as number]);
      }
    }
    if (line.length && rows.length) line.push([x(rows[rows.length - 1]), line[line.length - 1][1]]);
    const option: Option = {
      ...base(p),
      grid: grid(),
      tooltip: { show: true, trigger: "item", renderMode: "richText", confine: true },
      xAxis: {
        type: this.over === "number" ? "value" : "time",
        name: this.over === "number" ? "run" : "finished",
        nameLocation: "middle",
        nameGap: 26,
        minInterval: 1,
        scale: true,
        // A minute either side of the runs, so that a few runs close together do not span days.
        ...(this.over === "time" ? { min: (v: { min: number }) => v.min - 60_000, max: (v: { max: number }) => v.max + 60_000 } : {}),
        ...axisStyle(p),
      },
      yAxis: { type: "value", name: metric.name, scale: true, ...axisStyle(p) },
      series: [
        {
          type: "scatter",
          name: "run",
          symbol: "rect", // squares draw faster than circles, by the thousand
          symbolSize: 4,
          large: rows.length > 2000,
          itemStyle: { color: p.muted, opacity: 0.6 },
          data: rows.map((r) => [x(r), r.best, r.number]),
          tooltip: {
            formatter: (params: { data: number[] }) =>
              `run ${params.data[2]}: ${num(params.data[1])}${this.over === "time" ? `\nfinished ${when(params.data[0] / 1000)}` : ""}`,
          },
        },
        {
          type: "line",
          name: "best so far",
          step: "end",
          symbol: "none",
          lineStyle: { color: p.accent, width: 2 },
          data: line,
          tooltip: { show: false },
        },
      ],
    };
    this.chart.setOption(option, { notMerge: true });
    markDrawn(this.chart, this.el);
  }
}

/** A deterministic jitter in [-0.3, 0.3] for a run, so category strips spread their points. */
function jitter(n: number): number {
  const x = Math.sin(n * 12.9898) * 43758.5453;
  return (x - Math.floor(x) - 0.5) * 0.6;
}

/** The metric against each parameter: scatter, strips for categories, log axes for log distributions. */
export class MetricByParam {
  private charts: Chart[] = [];
  static readonly MAX = 24;

  constructor(
    private readonly el: HTMLElement,
    private readonly model: RunsModel,
  ) {}

  render(): void {
    const p = palette();
    const metric = this.model.sweep?.metric;
    const params = this.model.params
      .map((param, j) => ({ param, j }))
      .filter(({ param }) => !param.constant)
      .slice(0, MetricByParam.MAX);
    if (!metric || !params.length) {
      replace(this.el, h("p", { class: "muted" }, metric ? "No parameter varies." : "The sweep has no metric."));
      return;
    }
    const rows = this.model.all().filter((r) => r.best !== null);
    const shown = new Set(this.model.filtered().map((r) => r.number));
    if (this.charts.length !== params.length) {
      this.charts.forEach((c) => c.dispose());
      const cells = params.map(({ param }) =>
        h("div", { class: "small-chart", "data-param": param.name }),
      );
      replace(this.el, cells);
      this.charts = cells.map((cell, i) => chart(cell, `${metric.name} against ${params[i].param.name}`));
    }
    params.forEach(({ param, j }, i) => {
      const c = this.charts[i];
      const labels = param.kind === "category" ? [...(param.labels ?? [])] : null;
      const point = (r: Row): [number, number, number] | null => {
        const v = r.params[j];
        if (labels) {
          const label = text(v);
          let index = labels.indexOf(label);
          if (index < 0) index = labels.push(label) - 1;
          return [index + jitter(r.number), r.best as number, r.number];
        }
        return typeof v === "number" ? [v, r.best as number, r.number] : null;
      };
      const inside: [number, number, number][] = [];
      const outside: [number, number, number][] = [];
      for (const r of rows) {
        const pt = point(r);
        if (pt) (shown.has(r.number) ? inside : outside).push(pt);
      }
      const positive = inside.concat(outside).every((pt) => pt[0] > 0);
      const xAxis = labels
        ? { type: "category", data: labels, boundaryGap: true, axisLabel: { color: p.muted, hideOverlap: true } }
        : { type: param.log && positive ? "log" : "value", scale: true, axisLabel: { color: p.muted, hideOverlap: true } };
      const option: Option = {
        ...base(p),
        grid: { left: 56, right: 16, top: 28, bottom: 32 },
        tooltip: { show: true, trigger: "item", renderMode: "richText", confine: true },
        xAxis: { ...axisStyle(p), ...xAxis, name: param.name, nameLocation: "middle", nameGap: 22 },
        yAxis: { type: "value", scale: true, ...axisStyle(p), axisLine: { onZero: false, lineStyle: { color: p.muted } }, name: metric.name },
        series: [
          {
            type: "scatter",
            name: "other runs",
            symbol: "rect",
            symbolSize: 4,
            large: outside.length > 2000,
            itemStyle: { color: p.muted, opacity: 0.25 },
            data: outside,
            tooltip: { formatter: (x: { data: number[] }) => `run ${x.data[2]}: ${num(x.data[1])}` },
          },
          {
            type: "scatter",
            name: "runs shown",
            symbol: "rect",
            symbolSize: 4,
            large: inside.length > 2000,
            itemStyle: { color: p.accent, opacity: 0.75 },
            data: inside,
            tooltip: { formatter: (x: { data: number[] }) => `run ${x.data[2]}: ${num(x.data[1])}` },
          },
        ],
      };
      c.setOption(option, { notMerge: true });
      markDrawn(c, c.getDom() as HTMLElement);
    });
    this.el.setAttribute("data-drawn", String(params.length));
  }
}

interface Curve {
  xs: number[];
  ys: number[];
}

/** Every run's metric by iteration; hyperband's bands (vertical lines) and thresholds (bars);
 *  runs hyperband stopped end with a cross. */
export class Curves {
  private readonly chart: Chart;
  readonly curves = new Map<number, Curve>();

  constructor(
    private readonly el: HTMLElement,
    private readonly model: RunsModel,
    private readonly hyperband: Hyperband | null,
  ) {
    this.chart = chart(el, "Every run's metric by iteration, with hyperband's bands and thresholds");
  }

  take(runs: [number, number[], number[]][]): void {
    for (const [n, xs, ys] of runs) this.curves.set(n, { xs, ys });
  }

  private flat(rows: Row[]): Float64Array {
    let size = 0;
    for (const r of rows) {
      const c = this.curves.get(r.number);
      if (c && c.xs.length > 1) size += 1 + 2 * c.xs.length;
    }
    const out = new Float64Array(size);
    let o = 0;
    for (const r of rows) {
      const c = this.curves.get(r.number);
      if (!c || c.xs.length < 2) continue;
      out[o++] = c.xs.length;
      for (let k = 0; k < c.xs.length; k++) {
        out[o++] = c.xs[k];
        out[o++] = c.ys[k];
      }
    }
    return out;
  }

  render(): void {
    const p: Palette = palette();
    const metric = this.model.sweep?.metric;
    if (!metric) {
      this.chart.clear();
      return;
    }
    const rows = this.model.all();
    const shown = new Set(this.model.filtered().map((r) => r.number));
    const stopped = (r: Row) => r.stop_band !== null || (r.state === "killed" && r.stop_requested);
    const groups: [string, Row[], string, number][] = [
      ["filtered out", rows.filter((r) => !shown.has(r.number)), p.muted, 0.08],
      ["finished", rows.filter((r) => shown.has(r.number) && !stopped(r) && r.state !== "running"), p.states.finished, rows.length > 1000 ? 0.25 : 0.6],
      ["stopped by hyperband", rows.filter((r) => shown.has(r.number) && stopped(r)), p.states.killed, 0.5],
      ["running", rows.filter((r) => shown.has(r.number) && r.state === "running" && !stopped(r)), p.states.running, 0.95],
    ];
    const series: Record<string, unknown>[] = [];
    for (const [name, group, color, opacity] of groups) {
      const data = this.flat(group);
      if (!data.length) continue; // an empty large "lines" series cannot be drawn
      series.push({
      type: "lines",
      name,
      coordinateSystem: "cartesian2d",
      polyline: true,
      large: true,
      largeThreshold: 0,
      progressive: 0,
      silent: true,
      lineStyle: { color, width: name === "running" ? 1.6 : 1, opacity },
      data,
      });
    }
    const ends = rows
      .filter((r) => stopped(r) && shown.has(r.number))
      .map((r) => {
        const c = this.curves.get(r.number);
        return c && c.xs.length ? [c.xs[c.xs.length - 1], c.ys[c.ys.length - 1], r.number] : null;
      })
      .filter((v): v is number[] => v !== null);
    series.push({
      type: "scatter",
      name: "stopped here",
      symbol: "path://M2,0 L5,3 L8,0 L10,2 L7,5 L10,8 L8,10 L5,7 L2,10 L0,8 L3,5 L0,2 Z",
      symbolSize: 8,
      itemStyle: { color: p.states.killed },
      data: ends,
      tooltip: { formatter: (x: { data: number[] }) => `run ${x.data[2]} stopped at iteration ${x.data[0]}: ${num(x.data[1])}` },
    });
    const thresholds = this.model.thresholds.map((t) => [t.band, t.threshold, t.runs]);
    series.push({
      type: "scatter",
      name: "threshold",
      symbol: "rect",
      symbolSize: [18, 4],
      itemStyle: { color: p.warn },
      z: 10,
      data: thresholds,
      tooltip: {
        formatter: (x: { data: number[] }) => `band ${x.data[0]} threshold ${num(x.data[1])} (${x.data[2]} runs reached it)`,
      },
      markLine: this.hyperband
        ? {
            silent: true,
            symbol: "none",
            label: { color: p.muted, formatter: (x: { value: number }) => `band ${x.value}` },
            lineStyle: { color: p.warn, type: "dashed", opacity: 0.7 },
            data: this.hyperband.bands.filter((b) => b <= this.maxIteration()).map((b) => ({ xAxis: b })),
          }
        : undefined,
    });
    const option: Option = {
      ...base(p),
      grid: { left: 64, right: 40, top: 36, bottom: 40 },
      tooltip: { show: true, trigger: "item", renderMode: "richText", confine: true },
      xAxis: { type: "value", name: "iteration", nameLocation: "middle", nameGap: 26, min: 1, max: Math.max(2, this.maxIteration()), ...axisStyle(p) },
      yAxis: { type: "value", name: metric.name, scale: true, ...axisStyle(p) },
      series,
    };
    this.chart.setOption(option, { notMerge: true });
    this.el.setAttribute("data-curves", String(this.curves.size));
    let points = 0;
    for (const c of this.curves.values()) points += c.xs.length;
    this.el.setAttribute("data-points", String(points));
    markDrawn(this.chart, this.el);
  }

  private maxIteration(): number {
    let most = 1;
    for (const c of this.curves.values()) if (c.xs.length) most = Math.max(most, c.xs[c.xs.length - 1]);
    return most;
  }
}

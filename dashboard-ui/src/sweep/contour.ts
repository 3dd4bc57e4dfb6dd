// The metric over two parameters at once (what optuna-dashboard calls a contour): the plane of the
// two chosen parameters cut into cells (a category or a distinct value each, or ten equal bins, on a
// log scale for log-distributed parameters), each cell colored by the mean or the best metric value
// of the runs in it, empty cells left blank, and every run drawn as a point where its values put it.
// Only the runs the filters keep count; clicking a point selects its run to compare.

import { base, chart, markDrawn, type Chart, type Option } from "../charts";
import { h, replace } from "../dom";
import { num, text } from "../format";
import { palette, type Palette } from "../theme";
import type { ParamAxis, Row } from "../types";
import { selectedSeries, selectOnClick } from "./plots";
import type { RunsModel } from "./model";

/** Up to this many distinct values get a cell each (see ``dimension``); else ``BINS`` bins. */
const MAX_DISTINCT = 12;
const BINS = 10;
export const CONTOUR_GRID = { left: 110, right: 24, top: 24, bottom: 64 };

interface Dim {
  name: string;
  labels: string[];
  /** Where a run's value falls: its cell and how far across it (0 to 1); null when it has none. */
  place: (value: unknown) => [number, number] | null;
}

function mix(a: string, b: string, t: number): string {
  const parse = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const [x, y] = [parse(a), parse(b)];
  return `#${x.map((v, i) => Math.round(v + (y[i] - v) * t).toString(16).padStart(2, "0")).join("")}`;
}

export function rampColor(colors: string[], t: number): string {
  const at = Math.min(colors.length - 1.000001, Math.max(0, t * (colors.length - 1)));
  const i = Math.floor(at);
  return mix(colors[i], colors[i + 1], at - i);
}

/** The cells of one parameter, from the values the runs have. */
export function dimension(param: ParamAxis, values: unknown[]): Dim {
  if (param.kind === "category") {
    const labels = [...(param.labels ?? [])];
    for (const v of values) if (!labels.includes(text(v))) labels.push(text(v));
    return {
      name: param.name,
      labels,
      place: (v) => {
        const i = labels.indexOf(text(v));
        return i < 0 ? null : [i, 0.5];
      },
    };
  }
  const numbers = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  const distinct = [...new Set(numbers)].sort((a, b) => a - b);
  // A few values each taken by several runs (a grid, an integer): a cell each; else equal bins.
  if (distinct.length <= MAX_DISTINCT && (param.integer || numbers.length >= 2 * distinct.length)) {
    return {
      name: param.name,
      labels: distinct.map((v) => num(v, 3)),
      place: (v) => {
        const i = typeof v === "number" ? distinct.indexOf(v) : -1;
        return i < 0 ? null : [i, 0.5];
      },
    };
  }
  const log = param.log && distinct[0] > 0;
  const f = (v: number) => (log ? Math.log10(v) : v);
  const lo = f(distinct[0]);
  const hi = f(distinct[distinct.length - 1]);
  const width = (hi - lo) / BINS;
  const edge = (i: number) => (log ? 10 ** (lo + i * width) : lo + i * width);
  return {
    name: param.name,
    labels: Array.from({ length: BINS }, (_, i) => `${num(edge(i), 2)}–${num(edge(i + 1), 2)}`),
    place: (v) => {
      if (typeof v !== "number" || !Number.isFinite(v) || (log && v <= 0)) return null;
      const t = (f(v) - lo) / width;
      const i = Math.min(BINS - 1, Math.max(0, Math.floor(t)));
      return [i, Math.min(1, Math.max(0, t - i))];
    },
  };
}

interface Cell {
  x: number;
  y: number;
  sum: number;
  count: number;
  best: number;
  bestKey: number;
}

export class TwoParamMap {
  readonly element: HTMLElement;
  private readonly chartEl: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly xSelect: HTMLSelectElement;
  private readonly ySelect: HTMLSelectElement;
  private readonly value: HTMLSelectElement;
  private chart: Chart | null = null;

  constructor(private readonly model: RunsModel) {
    const params = model.params.filter((p) => !p.constant);
    const option = (p: ParamAxis, chosen: boolean) => h("option", { value: p.name, selected: chosen }, p.name);
    this.xSelect = h("select", { id: "contour-x", onchange: () => this.render() }, params.map((p, i) => option(p, i === 0)));
    this.ySelect = h("select", { id: "contour-y", onchange: () => this.render() }, params.map((p, i) => option(p, i === 1)));
    this.value = h(
      "select",
      { id: "contour-value", onchange: () => this.render() },
      h("option", { value: "mean" }, "mean"),
      h("option", { value: "best" }, "best"),
    );
    this.chartEl = h("div", { class: "chart square", id: "chart-contour" });
    this.legend = h("div", { class: "ramp-legend", id: "contour-legend" });
    this.element = h(
      "div",
      { class: "two-params" },
      h(
        "div",
        { class: "toolbar" },
        h("label", { for: "contour-x" }, "Across"),
        this.xSelect,
        h("label", { for: "contour-y" }, "up"),
        this.ySelect,
        h("label", { for: "contour-value" }, "color by the"),
        this.value,
      ),
      this.chartEl,
      this.legend,
    );
  }

  render(): void {
    const p: Palette = palette();
    const metric = this.model.sweep?.metric;
    const params = this.model.params.filter((q) => !q.constant);
    if (!metric || params.length < 2) {
      replace(this.element, h("p", { class: "muted", id: "chart-contour" }, metric ? "Needs two parameters that vary." : "The sweep has no metric."));
      return;
    }
    const xj = this.model.paramIndex(this.xSelect.value);
    const yj = this.model.paramIndex(this.ySelect.value);
    const all = this.model.all().filter((r) => r.best !== null);
    const xDim = dimension(this.model.params[xj], all.map((r) => r.params[xj]));
    const yDim = dimension(this.model.params[yj], all.map((r) => r.params[yj]));
    const shown = new Set(this.model.filtered().map((r) => r.number));
    const cells = new Map<string, Cell>();
    const inside: number[][] = [];
    const outside: number[][] = [];
    const point = (r: Row): number[] | null => {
      const a = xDim.place(r.params[xj]);
      const b = yDim.place(r.params[yj]);
      return a && b ? [a[0] - 0.5 + a[1], b[0] - 0.5 + b[1], r.number] : null;
    };
    for (const r of all) {
      const a = xDim.place(r.params[xj]);
      const b = yDim.place(r.params[yj]);
      if (!a || !b) continue;
      const at = [a[0] - 0.5 + a[1], b[0] - 0.5 + b[1], r.number];
      if (!shown.has(r.number)) {
        outside.push(at);
        continue;
      }
      inside.push(at);
      const id = `${a[0]},${b[0]}`;
      const value = r.best as number;
      const key = r.key ?? value;
      const cell = cells.get(id) ?? { x: a[0], y: b[0], sum: 0, count: 0, best: value, bestKey: key };
      cell.sum += value;
      cell.count += 1;
      if (key < cell.bestKey) [cell.best, cell.bestKey] = [value, key];
      cells.set(id, cell);
    }
    const byMean = this.value.value === "mean";
    // [x, y, the value colored, runs, best, mean]
    const data = [...cells.values()].map((c) => [c.x, c.y, byMean ? c.sum / c.count : c.best, c.count, c.best, c.sum / c.count]);
    const values = data.map((d) => d[2]);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const log = this.model.metricAxis.log && lo > 0;
    const scale = (v: number) => (hi === lo ? 0.5 : log ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (v - lo) / (hi - lo));
    const colors = metric.goal === "maximize" ? [...p.ramp].reverse() : p.ramp;
    if (!this.chart) {
      this.chart = chart(this.chartEl, `${metric.name} over two parameters; click a run to compare it`);
      selectOnClick(this.chart, this.model);
    }
    const axis = (dim: Dim, position: "x" | "y") => ({
      type: "category",
      data: dim.labels,
      name: dim.name,
      nameLocation: "middle",
      nameGap: position === "x" ? 44 : 96,
      axisLine: { lineStyle: { color: p.muted } },
      axisLabel: { color: p.muted, hideOverlap: true, rotate: position === "x" && dim.labels.length > 6 ? 30 : 0 },
      nameTextStyle: { color: p.text },
      splitLine: { show: false },
    });
    const option: Option = {
      ...base(p),
      grid: CONTOUR_GRID,
      tooltip: { show: true, trigger: "item", renderMode: "richText", confine: true },
      xAxis: axis(xDim, "x"),
      yAxis: axis(yDim, "y"),
      series: [
        {
          type: "custom",
          name: "cells",
          z: 1,
          data,
          renderItem: (_params: unknown, api: { value: (i: number) => number; coord: (v: number[]) => number[]; size: (v: number[]) => number[] }) => {
            const center = api.coord([api.value(0), api.value(1)]);
            const size = api.size([1, 1]);
            return {
              type: "rect",
              shape: { x: center[0] - size[0] / 2, y: center[1] - size[1] / 2, width: size[0], height: size[1] },
              style: { fill: rampColor(colors, scale(api.value(2))), opacity: 0.85 },
            };
          },
          tooltip: {
            formatter: (x: { data: number[] }) =>
              `${xDim.name} ${xDim.labels[x.data[0]]}, ${yDim.name} ${yDim.labels[x.data[1]]}\n` +
              `${x.data[3]} run${x.data[3] === 1 ? "" : "s"}: mean ${num(x.data[5])}, best ${num(x.data[4])}`,
          },
        },
        {
          type: "scatter",
          name: "other runs",
          symbol: "circle",
          symbolSize: 3,
          z: 2,
          itemStyle: { color: p.muted, opacity: 0.3 },
          data: outside,
          tooltip: { formatter: (x: { data: number[] }) => `run ${x.data[2]} (filtered out)` },
        },
        {
          type: "scatter",
          name: "runs",
          symbol: "circle",
          symbolSize: 4,
          large: inside.length > 2000,
          z: 3,
          itemStyle: { color: p.text, opacity: 0.55 },
          data: inside,
          tooltip: { formatter: (x: { data: number[] }) => `run ${x.data[2]}: ${num(this.model.rows.get(x.data[2])?.best)} (click to compare)` },
        },
        ...selectedSeries(p, this.model, point),
      ],
    };
    this.chart.setOption(option, { notMerge: true });
    const bar = h("span", { class: "ramp", "aria-hidden": "true" });
    bar.style.background = `linear-gradient(to right, ${colors.join(", ")})`;
    replace(
      this.legend,
      data.length
        ? [
            h("span", { class: "small" }, `${byMean ? "mean" : "best"} ${metric.name}${log ? " (log)" : ""}: `),
            h("span", { class: "small" }, num(lo)),
            bar,
            h("span", { class: "small" }, num(hi)),
          ]
        : h("span", { class: "muted small" }, "No run with a value in the filters."),
    );
    this.chartEl.setAttribute("data-cells", String(data.length));
    this.chartEl.setAttribute("data-axes", `${xDim.name}\n${yDim.name}`);
    markDrawn(this.chart, this.chartEl);
  }
}

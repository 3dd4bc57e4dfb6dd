// Parallel coordinates of the parameters and the metric; brushing an axis filters the runs table.
//
// ECharts draws the axes and their brushes (its parallel component); the runs' lines are drawn by a
// large "lines" layer in a grid laid exactly over the axes (axis i at x = i, each axis's extent
// mapped to y in [0, 1]), a few typed arrays instead of one element per run: 10,000 runs draw in a
// fraction of the time. Lines are colored by the metric in a few bands; runs the filters leave out
// are drawn faint.

import { axisStyle, base, chart, markDrawn, type Chart } from "../charts";
import { num, text } from "../format";
import { palette } from "../theme";
import type { ParamAxis, Row } from "../types";
import { METRIC, type RangeFilter, type RunsModel } from "./model";

export const LAYOUT = { left: 80, right: 110, top: 48, bottom: 36 };
const COLOR_BANDS = 8;

interface Dim {
  column: string;
  name: string;
  category: string[] | null;
  /** A conditional parameter: a run without it skips this axis (its line goes from the axis before to the one after). */
  optional?: boolean;
  log: boolean;
  min: number;
  max: number;
}

/** ``a`` to ``b`` (``#rrggbb``) at ``t`` in [0, 1]. */
function mix(a: string, b: string, t: number): string {
  const parse = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
  const [x, y] = [parse(a), parse(b)];
  return `#${x.map((v, i) => Math.round(v + (y[i] - v) * t).toString(16).padStart(2, "0")).join("")}`;
}

function ramp(colors: string[], t: number): string {
  const at = Math.min(colors.length - 1.000001, Math.max(0, t * (colors.length - 1)));
  const i = Math.floor(at);
  return mix(colors[i], colors[i + 1], at - i);
}

export class ParallelChart {
  private readonly chart: Chart;
  private dims: Dim[] = [];

  constructor(
    private readonly el: HTMLElement,
    private readonly model: RunsModel,
  ) {
    this.chart = chart(el, "Parallel coordinates of the parameters and the metric; drag along an axis to filter the runs");
    this.chart.on("axisareaselected", (params: unknown) => this.brushed(params as { parallelAxisId: string; intervals: number[][] }));
  }

  private dimensions(rows: Row[]): Dim[] {
    const dims: Dim[] = [];
    const numeric = (column: string, name: string, log: boolean, values: unknown[]) => {
      const xs = values.filter((v): v is number => typeof v === "number" && (!log || v > 0));
      let min = xs.length ? Math.min(...xs) : 0;
      let max = xs.length ? Math.max(...xs) : 1;
      if (min === max) [min, max] = log ? [min / 2, max * 2] : [min - 0.5, max + 0.5];
      dims.push({ column, name, category: null, log, min, max });
    };
    this.model.params.forEach((p: ParamAxis, j: number) => {
      if (p.constant) return;
      const values = rows.map((r) => r.params[j]);
      if (p.kind === "category") {
        const labels = [...(p.labels ?? [])];
        for (const v of values) {
          if (p.conditional && v === null) continue;
          const l = text(v);
          if (!labels.includes(l)) labels.push(l);
        }
        dims.push({ column: p.name, name: p.name, category: labels, log: false, min: 0, max: Math.max(1, labels.length - 1), optional: p.conditional });
      } else {
        const positive = values.every((v) => typeof v !== "number" || v > 0);
        numeric(p.name, p.name, p.log && positive, values);
        dims[dims.length - 1].optional = p.conditional;
      }
    });
    const metric = this.model.sweep?.metric;
    if (metric) numeric(METRIC, metric.name, false, rows.map((r) => r.best));
    return dims;
  }

  /** Where a value sits on its axis, from 0 (bottom) to 1 (top); null when it has no place. */
  private position(d: Dim, value: unknown): number | null {
    if (d.category) {
      const i = d.category.indexOf(text(value));
      if (i < 0) return null;
      return d.category.length > 1 ? i / (d.category.length - 1) : 0;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) return null;
    if (d.log) return value > 0 ? (Math.log(value) - Math.log(d.min)) / (Math.log(d.max) - Math.log(d.min)) : null;
    return (value - d.min) / (d.max - d.min);
  }

  render(): void {
    const p = palette();
    const metric = this.model.sweep?.metric ?? null;
    const rows = this.model.all().filter((r) => !metric || r.best !== null);
    this.dims = this.dimensions(rows);
    const n = this.dims.length;
    const metricDim = metric ? this.dims[n - 1] : null;
    const colors = metric?.goal === "maximize" ? [...p.ramp].reverse() : p.ramp;
    // One flat array per color band (and one for runs the filters leave out): [count, x, y, x, y, ...].
    const groups: number[][] = Array.from({ length: COLOR_BANDS + 1 }, () => []);
    let drawn = 0;
    for (const r of rows) {
      const ys = this.dims.map((d) => {
        const value = this.model.value(r, d.column);
        return d.optional && value === null ? undefined : this.position(d, value);
      });
      if (ys.some((y) => y === null)) continue;
      let group = 0;
      if (!this.model.passes(r)) group = COLOR_BANDS;
      else if (metricDim) group = Math.min(COLOR_BANDS - 1, Math.floor((ys[n - 1] as number) * COLOR_BANDS));
      const out = groups[group];
      drawn += 1;
      // an absent conditional parameter: no point on its axis
      out.push(ys.filter((y) => y !== undefined).length);
      ys.forEach((y, i) => {
        if (y !== undefined) out.push(i, y as number);
      });
    }
    const faint = rows.length > 2000 ? 0.2 : 0.5;
    const series = groups
      .map((data, g) => ({ data, g }))
      .filter(({ data }) => data.length)
      .map(({ data, g }) => ({
        type: "lines",
        coordinateSystem: "cartesian2d",
        polyline: true,
        large: true,
        largeThreshold: 0,
        progressive: 0,
        silent: true,
        z: g === COLOR_BANDS ? 1 : 2,
        lineStyle:
          g === COLOR_BANDS
            ? { color: p.muted, width: 1, opacity: 0.06 }
            : { color: metricDim ? ramp(colors, (g + 0.5) / COLOR_BANDS) : p.accent, width: 1, opacity: faint + 0.2 },
        data: new Float64Array(data),
      }));
    const option: Record<string, unknown> = {
      ...base(p),
      tooltip: { show: false },
      grid: { ...LAYOUT, show: false },
      xAxis: { type: "value", min: 0, max: Math.max(1, n - 1), show: false },
      yAxis: { type: "value", min: 0, max: 1, show: false },
      parallel: { ...LAYOUT, parallelAxisDefault: { ...axisStyle(p), nameLocation: "end", nameGap: 14, realtime: false } },
      parallelAxis: this.dims.map((d, i) => ({
        id: `axis-${d.column}`,
        dim: i,
        name: d.name,
        type: d.category ? "category" : d.log ? "log" : "value",
        data: d.category ?? undefined,
        boundaryGap: d.category ? false : undefined,
        min: d.category ? undefined : d.min,
        max: d.category ? undefined : d.max,
        axisLabel: { color: p.muted, hideOverlap: true, formatter: d.category ? undefined : (v: number) => num(v, 3) },
        areaSelectStyle: { width: 24, borderColor: p.accent, color: p.accent, opacity: 0.25 },
      })),
      series,
    };
    this.chart.setOption(option, { replaceMerge: ["series"] });
    this.el.setAttribute("data-axes", this.dims.map((d) => d.name).join("\n"));
    this.el.setAttribute("data-lines", String(drawn));
    this.el.setAttribute("data-layout", JSON.stringify(LAYOUT));
    markDrawn(this.chart, this.el);
  }

  private brushed(event: { parallelAxisId: string; intervals: number[][] }): void {
    const dim = this.dims.find((d) => `axis-${d.column}` === event.parallelAxisId);
    if (!dim) return;
    let filter: RangeFilter | null = null;
    if (event.intervals.length) {
      if (dim.category) {
        const labels = new Set<string>();
        dim.category.forEach((label, i) => {
          if (event.intervals.some(([lo, hi]) => i >= Math.min(lo, hi) && i <= Math.max(lo, hi))) labels.add(label);
        });
        filter = { labels };
      } else {
        filter = { intervals: event.intervals.map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]) };
      }
    }
    this.model.setRange(dim.column, filter);
  }

  /** Removes the brush on one axis (when its filter is cleared elsewhere). */
  clearBrush(column: string): void {
    this.chart.dispatchAction({ type: "axisAreaSelect", parallelAxisId: `axis-${column}`, intervals: [] });
  }
}

// The sweep page's scatter charts: best value so far (by run number and by wall time) and the
// metric against each parameter. Their metric axis fits every value shown, on a log scale when
// asked; clicking a run's point selects it to compare (selected runs are drawn larger, in their color).

import { Range } from "../axes";
import { axisStyle, base, chart, markDrawn, type Chart, type Option } from "../charts";
import { h, replace } from "../dom";
import { num, text, when } from "../format";
import { palette, type Palette } from "../theme";
import type { Row } from "../types";
import { runStyle } from "./lines";
import type { RunsModel } from "./model";

/** The metric axis of a scatter chart: fitted to ``values``, log when asked and every value is above 0. */
export function metricAxis(p: Palette, model: RunsModel, values: Iterable<number>, name: string): Record<string, unknown> {
  const range = new Range(model.metricAxis.outliers);
  for (const v of values) range.add(v);
  const log = model.metricAxis.log && range.positive;
  const fitted = range.extent(log, model.metricAxis.outliers);
  return {
    type: log ? "log" : "value",
    name,
    min: fitted?.min,
    max: fitted?.max,
    ...axisStyle(p),
    axisLine: { onZero: false, lineStyle: { color: p.muted } },
    axisLabel: { color: p.muted, hideOverlap: true, formatter: (v: number) => num(v, 3), showMinLabel: log, showMaxLabel: log },
  };
}

/** The selected runs' points, each in its run's color, drawn over the others; ``point`` places a row. */
export function selectedSeries(p: Palette, model: RunsModel, point: (r: Row) => number[] | null): Record<string, unknown>[] {
  return model.selected.flatMap((n, i) => {
    const row = model.rows.get(n);
    const at = row ? point(row) : null;
    if (!at) return [];
    const look = runStyle(p, i);
    return [
      {
        type: "scatter",
        name: `run ${n}`,
        symbol: "circle",
        symbolSize: 10,
        z: 5,
        itemStyle: { color: look.color, borderColor: p.background, borderWidth: 1.5 },
        data: [at],
        tooltip: { formatter: () => `run ${n}: ${num(row?.best)} (selected; click to take it out)` },
      },
    ];
  });
}

/** Clicking a point whose data is [x, y, run number] selects that run (or takes it out). */
export function selectOnClick(c: Chart, model: RunsModel): void {
  c.on("click", (event: unknown) => {
    const data = (event as { data?: unknown }).data;
    if (Array.isArray(data) && typeof data[2] === "number") model.toggle(data[2]);
  });
}

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
    this.chart = chart(el, `Best metric value so far over ${what}, with every run's value; click a run to compare it`);
    selectOnClick(this.chart, model);
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
      yAxis: metricAxis(p, this.model, rows.map((r) => r.best as number), metric.name),
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
          silent: true, // the runs' points under it stay clickable
          lineStyle: { color: p.accent, width: 2 },
          data: line,
          tooltip: { show: false },
        },
        ...selectedSeries(p, this.model, (r) => (r.best === null || (this.over === "time" && r.finished === null) ? null : [x(r), r.best, r.number])),
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
      this.charts = cells.map((cell, i) => chart(cell, `${metric.name} against ${params[i].param.name}; click a run to compare it`));
      this.charts.forEach((c) => selectOnClick(c, this.model));
    }
    params.forEach(({ param, j }, i) => {
      const c = this.charts[i];
      const labels = param.kind === "category" ? [...(param.labels ?? [])] : null;
      const point = (r: Row): [number, number, number] | null => {
        const v = r.params[j];
        if (param.conditional && v === null) return null; // absent in this run: no point
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
        yAxis: metricAxis(p, this.model, rows.map((r) => r.best as number), metric.name),
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
          ...selectedSeries(p, this.model, point),
        ],
      };
      c.setOption(option, { notMerge: true });
      markDrawn(c, c.getDom() as HTMLElement);
    });
    this.el.setAttribute("data-drawn", String(params.length));
  }
}

// Parallel coordinates of the parameters and the metric; brushing an axis filters the runs table.

import { axisStyle, base, chart, markDrawn, type Chart } from "../charts";
import { text } from "../format";
import { palette } from "../theme";
import type { ParamAxis, Row } from "../types";
import { METRIC, type RangeFilter, type RunsModel } from "./model";

export const LAYOUT = { left: 80, right: 110, top: 48, bottom: 36 };

interface Dim {
  column: string;
  name: string;
  category: string[] | null;
  log: boolean;
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
    this.model.params.forEach((p: ParamAxis, j: number) => {
      if (p.constant) return;
      if (p.kind === "category") {
        const labels = [...(p.labels ?? [])];
        for (const r of rows) {
          const l = text(r.params[j]);
          if (!labels.includes(l)) labels.push(l);
        }
        dims.push({ column: p.name, name: p.name, category: labels, log: false });
      } else {
        const positive = rows.every((r) => typeof r.params[j] !== "number" || (r.params[j] as number) > 0);
        dims.push({ column: p.name, name: p.name, category: null, log: p.log && positive });
      }
    });
    const metric = this.model.sweep?.metric;
    if (metric) dims.push({ column: METRIC, name: metric.name, category: null, log: false });
    return dims;
  }

  render(): void {
    const p = palette();
    const metric = this.model.sweep?.metric ?? null;
    const rows = this.model.all().filter((r) => !metric || r.best !== null);
    this.dims = this.dimensions(rows);
    const data = rows.map((r) =>
      this.dims.map((d) => {
        const v = this.model.value(r, d.column);
        if (d.category) return text(v);
        return typeof v === "number" ? v : "-";
      }),
    );
    const metricDim = metric ? this.dims.length - 1 : -1;
    const values = rows.map((r) => r.best).filter((v): v is number => v !== null);
    const ramp = metric?.goal === "maximize" ? [...p.ramp].reverse() : p.ramp;
    const option: Record<string, unknown> = {
      ...base(p),
      tooltip: { show: false },
      parallel: { ...LAYOUT, parallelAxisDefault: { ...axisStyle(p), nameLocation: "end", nameGap: 14, realtime: false } },
      parallelAxis: this.dims.map((d, i) => ({
        id: `axis-${d.column}`,
        dim: i,
        name: d.name,
        type: d.category ? "category" : d.log ? "log" : "value",
        data: d.category ?? undefined,
        scale: !d.category,
        axisLabel: { color: p.muted, hideOverlap: true },
        areaSelectStyle: { width: 24, borderColor: p.accent, color: p.accent, opacity: 0.25 },
      })),
      visualMap:
        metricDim >= 0 && values.length
          ? {
              show: false,
              type: "continuous",
              dimension: metricDim,
              min: Math.min(...values),
              max: Math.max(...values),
              inRange: { color: ramp },
            }
          : undefined,
      series: [
        {
          type: "parallel",
          data,
          smooth: false,
          progressive: 0,
          lineStyle: { width: 1, opacity: rows.length > 2000 ? 0.25 : 0.6, color: p.accent },
          inactiveOpacity: 0.04,
          activeOpacity: 1,
        },
      ],
    };
    this.chart.setOption(option, { replaceMerge: ["series", "visualMap"] });
    this.el.setAttribute("data-axes", this.dims.map((d) => d.name).join("\n"));
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

  axisNames(): string[] {
    return this.dims.map((d) => d.name);
  }
}

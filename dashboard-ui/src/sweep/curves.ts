// Every run's curve of one logged key (the sweep metric by iteration unless another is chosen):
// runs colored by state, runs the filters leave out faint, the runs selected to compare on top in
// their own colors; by iteration, hyperband's bands (dashed lines), each band's threshold now (bars)
// and a cross where hyperband stopped a run. The axes fit everything drawn.

import { base, chart, markDrawn, type Chart, type Option } from "../charts";
import { num } from "../format";
import { ema } from "../smoothing";
import { palette, type Palette } from "../theme";
import type { Hyperband, Row } from "../types";
import { CurveSet, LINE_GRID, planLines, runStyle, type Curve, type Layer } from "./lines";
import type { RunsModel } from "./model";

function stopped(r: Row): boolean {
  return r.stop_band !== null || (r.state === "killed" && r.stop_requested);
}

export class CurvesChart {
  private readonly chart: Chart;
  /** The curves drawn now (of the model's key against its x). */
  set: CurveSet;
  /** Called with why the settings could not all be followed ("" when they were). */
  onNote: (note: string) => void = () => undefined;

  constructor(
    private readonly el: HTMLElement,
    private readonly model: RunsModel,
    private readonly hyperband: Hyperband | null,
  ) {
    this.chart = chart(el, "Every run's curve, with hyperband's bands and thresholds by iteration");
    this.set = new CurveSet(model.lines.key, model.lines.x);
    // The crosses are the chart's points: clicking one selects its run to compare.
    this.chart.on("click", (event: unknown) => {
      const data = (event as { data?: unknown }).data;
      if (Array.isArray(data) && typeof data[2] === "number") model.toggle(data[2]);
    });
  }

  render(): void {
    const p: Palette = palette();
    const s = this.model.lines;
    if (!s.key) {
      this.chart.clear();
      return;
    }
    if (!this.set.matches(s)) return; // the curves asked for are on their way: keep what is drawn
    const byIteration = this.model.byIteration();
    const rows = this.model.all();
    const shown = new Set(this.model.filtered().map((r) => r.number));
    const selected = new Set(this.model.selected);
    const curve = (r: Row) => this.set.curves.get(r.number);
    const curvesOf = (group: Row[]) => group.map(curve).filter((c): c is Curve => c !== undefined);
    const plain = rows.filter((r) => !selected.has(r.number));
    const many = rows.length > 1000;
    const layers: Layer[] = [
      { name: "filtered out", curves: curvesOf(plain.filter((r) => !shown.has(r.number))), color: p.muted, opacity: 0.08, width: 1, z: 1, fit: false },
      {
        name: "finished",
        curves: curvesOf(plain.filter((r) => shown.has(r.number) && !stopped(r) && r.state !== "running")),
        color: p.states.finished,
        opacity: many ? 0.25 : 0.6,
        width: 1,
      },
      { name: "stopped by hyperband", curves: curvesOf(plain.filter((r) => shown.has(r.number) && stopped(r))), color: p.states.killed, opacity: 0.5, width: 1 },
      {
        name: "running",
        curves: curvesOf(plain.filter((r) => shown.has(r.number) && r.state === "running" && !stopped(r))),
        color: p.states.running,
        opacity: 0.95,
        width: 1.6,
        z: 3,
      },
    ];
    this.model.selected.forEach((n, i) => {
      const c = this.set.curves.get(n);
      if (!c) return;
      const look = runStyle(p, i);
      layers.push({ name: `run ${n}`, curves: [c], color: look.color, dash: look.dash, opacity: 1, width: 2.2, z: 5 });
    });
    const ends = rows
      .filter((r) => stopped(r) && shown.has(r.number))
      .map((r) => {
        const c = curve(r);
        if (!c || !c.xs.length) return null;
        const ys = s.smoothing > 0 ? ema(c.ys, s.smoothing) : c.ys;
        const x = s.x === "_timestamp" ? c.xs[c.xs.length - 1] * 1000 : c.xs[c.xs.length - 1];
        return [x, ys[ys.length - 1], r.number];
      })
      .filter((v): v is number[] => v !== null);
    const thresholds = byIteration ? this.model.thresholds.map((t) => [t.band, t.threshold, t.runs]) : [];
    const plan = planLines(p, layers, s, {
      ys: [...ends.map((e) => e[1]), ...thresholds.map((t) => t[1])],
      xs: thresholds.map((t) => t[0]),
      minX: byIteration ? 1 : undefined,
    });
    const series = plan.series;
    series.push({
      type: "scatter",
      name: "stopped here",
      symbol: "path://M2,0 L5,3 L8,0 L10,2 L7,5 L10,8 L8,10 L5,7 L2,10 L0,8 L3,5 L0,2 Z",
      symbolSize: 8,
      itemStyle: { color: p.states.killed },
      z: 6,
      data: ends,
      tooltip: { formatter: (x: { data: number[] }) => `run ${x.data[2]} stopped here: ${num(x.data[1])} (click to compare)` },
    });
    if (byIteration) {
      const maxX = plan.xAxis.max as number;
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
              data: this.hyperband.bands.filter((b) => b <= maxX).map((b) => ({ xAxis: b })),
            }
          : undefined,
      });
    }
    const option: Option = {
      ...base(p),
      grid: LINE_GRID,
      tooltip: { show: true, trigger: "item", renderMode: "richText", confine: true },
      xAxis: plan.xAxis,
      yAxis: plan.yAxis,
      series,
    };
    this.chart.setOption(option, { notMerge: true });
    this.onNote(plan.note);
    this.el.setAttribute("data-curves", String(this.set.curves.size));
    this.el.setAttribute("data-points", String(this.set.points()));
    this.el.setAttribute("data-key", s.key);
    this.el.setAttribute("data-x", s.x);
    this.el.setAttribute("data-layout", JSON.stringify(LINE_GRID));
    this.el.setAttribute("data-y", JSON.stringify(plan.y));
    this.el.setAttribute("data-y-scale", String(plan.yAxis.type));
    // Each layer's color and how many curves it draws (for tests that read the drawn geometry).
    this.el.setAttribute(
      "data-layers",
      JSON.stringify(layers.map((l) => ({ name: l.name, color: l.color, curves: l.curves.filter((c) => c.xs.length > 1).length }))),
    );
    markDrawn(this.chart, this.el);
  }
}

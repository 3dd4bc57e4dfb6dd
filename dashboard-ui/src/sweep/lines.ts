// Line charts of a logged key across runs: the data (one set of curves per key and x, fetched from
// ``/curves`` and kept up to date), the controls every line chart shares (key, x axis, log scale,
// smoothing, outliers), and the drawing of many curves at once as ECharts' large "lines" layers.

import { getJSON } from "../api";
import { Range, type Extent } from "../axes";
import { axisStyle } from "../charts";
import { h, replace } from "../dom";
import { num, when } from "../format";
import { ema } from "../smoothing";
import type { Palette } from "../theme";
import type { CurveRow, CurvesAnswer, KeyChoices } from "../types";
import { ITERATION, type LineSettings, type RunsModel } from "./model";

export interface Curve {
  xs: number[];
  ys: number[];
}

/** Where the plot area sits in a line chart (pixels from each edge): tests read it from ``data-layout``. */
export const LINE_GRID = { left: 72, right: 40, top: 36, bottom: 44 };

/** What an x axis is called. */
export function xLabel(x: string): string {
  if (x === ITERATION) return "iteration";
  if (x === "_step") return "step";
  if (x === "_runtime") return "time since start (s)";
  if (x === "_timestamp") return "wall time";
  return x;
}

/** The curves of one key against one x, for the runs fetched so far. */
export class CurveSet {
  readonly curves = new Map<number, Curve>();

  constructor(
    readonly key: string,
    readonly x: string,
  ) {}

  take(rows: CurveRow[]): void {
    for (const [n, xs, ys] of rows) this.curves.set(n, { xs, ys });
  }

  matches(s: LineSettings): boolean {
    return s.key === this.key && s.x === this.x;
  }

  points(): number {
    let total = 0;
    for (const c of this.curves.values()) total += c.xs.length;
    return total;
  }
}

/** Fetches curves: every run's (``runs`` null) or some runs' (``alone``: budgeted as a chart of only them). */
export async function fetchCurves(
  path: string,
  set: CurveSet,
  runs: number[] | null,
  alone = false,
): Promise<void> {
  const q = new URLSearchParams({ key: set.key, x: set.x });
  if (alone) q.set("alone", "1");
  if (runs === null) {
    set.take((await getJSON<CurvesAnswer>(`${path}/curves?${q}`)).runs);
    return;
  }
  for (let i = 0; i < runs.length; i += 200) {
    q.set("runs", runs.slice(i, i + 200).join(","));
    set.take((await getJSON<CurvesAnswer>(`${path}/curves?${q}`)).runs);
  }
}

/** The controls of a line chart, bound to the model's shared settings (``prefix`` names their ids). */
export class LineControls {
  readonly element: HTMLElement;
  private readonly key: HTMLSelectElement;
  private readonly x: HTMLSelectElement;
  private readonly log: HTMLInputElement;
  private readonly smoothing: HTMLInputElement;
  private readonly smoothingText: HTMLOutputElement;
  private readonly outliers: HTMLInputElement;
  readonly note: HTMLElement;
  private choices: KeyChoices = { metric: null, keys: [], x: [] };

  constructor(
    private readonly model: RunsModel,
    prefix: string,
  ) {
    const id = (name: string) => `${prefix}-${name}`;
    this.key = h("select", { id: id("key"), onchange: () => this.changed("key") });
    this.x = h("select", { id: id("x"), onchange: () => this.changed("x") });
    this.log = h("input", { type: "checkbox", id: id("log"), onchange: () => model.setLines({ log: this.log.checked }) });
    this.smoothingText = h("output", { for: id("smoothing"), class: "small" });
    this.smoothing = h("input", {
      type: "range",
      id: id("smoothing"),
      min: 0,
      max: 0.99,
      step: 0.01,
      "aria-describedby": id("smoothing-help"),
      oninput: () => model.setLines({ smoothing: Number(this.smoothing.value) }),
    });
    this.outliers = h("input", {
      type: "checkbox",
      id: id("outliers"),
      onchange: () => model.setLines({ outliers: this.outliers.checked }),
    });
    this.note = h("span", { class: "muted small", id: id("note"), "aria-live": "polite" });
    this.element = h(
      "div",
      { class: "toolbar chart-controls" },
      h("label", { for: id("key") }, "Key"),
      this.key,
      h("label", { for: id("x") }, "Against"),
      this.x,
      h("label", { class: "check" }, this.log, " log scale"),
      h("label", { for: id("smoothing"), title: "W&B's exponential moving average (as TensorBoard's); 0 is none" }, "Smoothing"),
      this.smoothing,
      this.smoothingText,
      h("span", { id: id("smoothing-help"), class: "visually-hidden" }, "Exponential moving average weight, 0 for none"),
      h("label", { class: "check", title: "Fit the y axis to the values between the 5th and 95th percentile" }, this.outliers, " ignore outliers"),
      this.note,
    );
    this.sync();
  }

  private changed(what: "key" | "x"): void {
    const s = this.model.lines;
    if (what === "key") {
      const key = this.key.value;
      // Iterations count the sweep metric's values: another key is drawn by step.
      const x = key !== this.choices.metric && s.x === ITERATION ? "_step" : s.x;
      this.model.setLines({ key, x });
    } else {
      this.model.setLines({ x: this.x.value });
    }
  }

  /** The keys runs logged, as ``/keys`` answers. */
  setChoices(choices: KeyChoices): void {
    this.choices = choices;
    this.sync();
  }

  /** Shows the model's settings (after a change made elsewhere). */
  sync(): void {
    const s = this.model.lines;
    const keys = this.choices.keys.map((k) => k.key);
    if (s.key && !keys.includes(s.key)) keys.unshift(s.key);
    const label = (k: string) => (k === this.choices.metric ? `${k} (sweep metric)` : k);
    replace(this.key, keys.map((k) => h("option", { value: k, selected: k === s.key }, label(k))));
    const xs = [...(s.key && s.key === this.choices.metric ? [ITERATION] : []), "_step", ...this.choices.x.filter((x) => x !== s.key)];
    if (!xs.includes(s.x)) xs.push(s.x);
    replace(this.x, xs.map((x) => h("option", { value: x, selected: x === s.x }, xLabel(x))));
    this.log.checked = s.log;
    this.smoothing.value = String(s.smoothing);
    this.smoothingText.textContent = s.smoothing ? s.smoothing.toFixed(2) : "off";
    this.outliers.checked = s.outliers;
  }
}

/** One layer of curves drawn alike (a state, the runs filtered out, one selected run). */
export interface Layer {
  name: string;
  curves: Curve[];
  color: string;
  opacity: number;
  width: number;
  dash?: "solid" | "dashed" | "dotted";
  z?: number;
  /** Whether the axes fit these curves (not the faint runs the filters leave out). */
  fit?: boolean;
}

/** A curve as drawn: smoothed, and on a time axis in milliseconds. */
function drawn(c: Curve, s: LineSettings): Curve {
  if (s.smoothing <= 0 && s.x !== "_timestamp") return c;
  const xs = s.x === "_timestamp" ? c.xs.map((x) => x * 1000) : c.xs;
  const ys = s.smoothing > 0 ? Array.from(ema(c.ys, s.smoothing)) : c.ys;
  return { xs, ys };
}

/** Flat ``[n, x, y, x, y, ..., n, ...]`` of the curves with two points or more (a large "lines" layer). */
function flat(curves: Curve[]): Float64Array {
  let size = 0;
  for (const c of curves) if (c.xs.length > 1) size += 1 + 2 * c.xs.length;
  const out = new Float64Array(size);
  let o = 0;
  for (const c of curves) {
    if (c.xs.length < 2) continue;
    out[o++] = c.xs.length;
    for (let k = 0; k < c.xs.length; k++) {
      out[o++] = c.xs[k];
      out[o++] = c.ys[k];
    }
  }
  return out;
}

export interface LinePlan {
  series: Record<string, unknown>[];
  xAxis: Record<string, unknown>;
  yAxis: Record<string, unknown>;
  /** Why the settings could not all be followed (a log scale of values at or below zero). */
  note: string;
  /** The y axis's extent (for tests and the benchmark). */
  y: Extent | null;
}

/**
 * The series and axes of a chart of ``layers`` under settings ``s``: every curve smoothed as asked, the
 * axes fitted to everything drawn (``extra`` values too: thresholds, marks), log when asked and possible.
 */
export function planLines(
  p: Palette,
  layers: Layer[],
  s: LineSettings,
  extra: { ys?: number[]; xs?: number[]; minX?: number; yName?: string; plain?: boolean } = {},
): LinePlan {
  const yRange = new Range(s.outliers);
  const xRange = new Range();
  const smoothed = layers.map((layer) => ({ layer, curves: layer.curves.map((c) => drawn(c, s)) }));
  const raw: Curve[] = [];
  let count = 0;
  for (const { layer, curves } of smoothed) {
    if (layer.fit === false) continue;
    for (const c of curves) {
      yRange.addAll(c.ys);
      xRange.addAll(c.xs);
      count++;
    }
  }
  for (const v of extra.ys ?? []) yRange.add(v);
  for (const v of extra.xs ?? []) xRange.add(s.x === "_timestamp" ? v * 1000 : v);
  const log = s.log && yRange.positive;
  const note = s.log && !yRange.positive ? "A log scale needs values above zero: drawn linear." : "";
  const y = yRange.extent(log, s.outliers);
  const series: Record<string, unknown>[] = [];
  // W&B shows the unsmoothed lines faintly behind the smoothed ones; with a few curves only.
  if (s.smoothing > 0 && count <= 60) {
    for (const { layer } of smoothed) for (const c of layer.curves) raw.push(drawn(c, { ...s, smoothing: 0 }));
    const data = flat(raw);
    if (data.length) series.push(linesSeries("unsmoothed", data, p.muted, 0.25, 1, "solid", 0));
  }
  for (const { layer, curves } of smoothed) {
    if (extra.plain) {
      // A few curves: ordinary line series, which show their values on hover.
      for (const c of curves) series.push(lineSeries(layer, c));
      continue;
    }
    const data = flat(curves);
    if (!data.length) continue; // an empty large "lines" series cannot be drawn
    series.push(linesSeries(layer.name, data, layer.color, layer.opacity, layer.width, layer.dash ?? "solid", layer.z ?? 2));
  }
  const timeX = s.x === "_timestamp";
  // The curves start and end at the plot's edges (no padding along x).
  let xMin = xRange.count ? xRange.low : 0;
  let xMax = xRange.count ? xRange.high : 1;
  if (xMin === xMax) [xMin, xMax] = [xMin - 1, xMax + 1];
  if (extra.minX !== undefined) xMin = Math.min(xMin, extra.minX);
  const labels = { color: p.muted, hideOverlap: true, formatter: (v: number) => num(v, 3) };
  return {
    series,
    note,
    y,
    xAxis: {
      type: timeX ? "time" : "value",
      name: xLabel(s.x),
      nameLocation: "middle",
      nameGap: 26,
      min: xMin,
      max: xMax,
      ...axisStyle(p),
      axisLabel: timeX ? { color: p.muted, hideOverlap: true } : labels,
    },
    yAxis: {
      type: log ? "log" : "value",
      name: extra.yName ?? s.key,
      min: y ? y.min : undefined,
      max: y ? y.max : undefined,
      ...axisStyle(p),
      axisLine: { onZero: false, lineStyle: { color: p.muted } },
      // The ends of a fitted axis are rarely round numbers: their labels are left out on a linear axis.
      axisLabel: { ...labels, showMinLabel: log, showMaxLabel: log },
    },
  };
}

function lineSeries(layer: Layer, c: Curve): Record<string, unknown> {
  return {
    type: "line",
    name: layer.name,
    showSymbol: c.xs.length === 1,
    symbolSize: 5,
    z: layer.z ?? 2,
    lineStyle: { color: layer.color, width: layer.width, opacity: layer.opacity, type: layer.dash ?? "solid" },
    itemStyle: { color: layer.color },
    emphasis: { disabled: true },
    data: c.xs.map((x, k) => [x, c.ys[k]]),
  };
}

function linesSeries(
  name: string,
  data: Float64Array,
  color: string,
  opacity: number,
  width: number,
  dash: string,
  z: number,
): Record<string, unknown> {
  return {
    type: "lines",
    name,
    coordinateSystem: "cartesian2d",
    polyline: true,
    large: true,
    largeThreshold: 0,
    progressive: 0,
    silent: true,
    z,
    lineStyle: { color, width, opacity, type: dash },
    data,
  };
}

/** The tooltip text of a point on a line chart's x axis. */
export function xText(x: number, s: LineSettings): string {
  if (s.x === "_timestamp") return when(x / 1000);
  return `${xLabel(s.x)} ${num(x)}`;
}

/** A distinct look for the i-th selected run: six colors, then dashed, then dotted. */
export function runStyle(p: Palette, i: number): { color: string; dash: "solid" | "dashed" | "dotted" } {
  const dashes = ["solid", "dashed", "dotted"] as const;
  return { color: p.series[i % p.series.length], dash: dashes[Math.floor(i / p.series.length) % 3] };
}

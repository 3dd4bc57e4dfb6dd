// A sweep's runs in the browser: rows kept by run number, changes applied as they arrive, the
// filters that the table and the charts share (states, text, parameter and metric ranges), the runs
// selected to compare, and how line charts draw (which key, against what, log, smoothing).

import { text } from "../format";
import type { ParamAxis, Row, RunsPayload, SweepSummary, Threshold } from "../types";

/** A range filter on one column: numeric intervals (any may match) or a set of category labels. */
export type RangeFilter = { intervals: [number, number][] } | { labels: Set<string> };

export const METRIC = "metric";
/** The x of the sweep metric's curves by default: the k-th value a run logged (hyperband's unit). */
export const ITERATION = "iteration";
/** The most runs compared at once. */
export const MAX_COMPARED = 20;

export type Change = "rows" | "filter" | "select" | "lines" | "axis";

/** How line charts draw: ``key`` against ``x``, on a log scale or not, smoothed by ``smoothing``. */
export interface LineSettings {
  key: string;
  x: string;
  log: boolean;
  /** W&B's exponential moving average weight, 0 (none) to 0.99. */
  smoothing: number;
  /** Fit the y axis to the values between the 5th and 95th percentile. */
  outliers: boolean;
}

export class RunsModel {
  rows = new Map<number, Row>();
  cursor: string | null = null;
  sweep: SweepSummary | null = null;
  thresholds: Threshold[] = [];
  params: ParamAxis[];
  /** Run numbers whose metric count grew in the last update (their curves need fetching). */
  grown: number[] = [];
  /** Run numbers that logged rows in the last update (curves of other keys need fetching). */
  stepped: number[] = [];
  /** Runs selected to compare, in the order they were picked. */
  selected: number[] = [];
  lines: LineSettings;
  /** How the charts of the metric against runs and parameters draw their metric axis. */
  metricAxis = { log: false, outliers: false };
  // filters
  states = new Set<string>();
  query = "";
  ranges = new Map<string, RangeFilter>();
  private listeners: ((what: Change) => void)[] = [];

  constructor(params: ParamAxis[], metric: string | null) {
    this.params = params;
    this.lines = { key: metric ?? "", x: metric ? ITERATION : "_step", log: false, smoothing: 0, outliers: false };
  }

  on(fn: (what: Change) => void): void {
    this.listeners.push(fn);
  }

  emit(what: Change): void {
    this.listeners.forEach((fn) => fn(what));
  }

  /** Whether the line charts show the sweep metric by iteration (where hyperband's marks belong). */
  byIteration(): boolean {
    return this.lines.x === ITERATION;
  }

  setLines(change: Partial<LineSettings>): void {
    this.lines = { ...this.lines, ...change };
    this.emit("lines");
  }

  isSelected(number: number): boolean {
    return this.selected.includes(number);
  }

  /** Adds a run to the comparison or takes it out; false when the comparison is full. */
  toggle(number: number): boolean {
    const at = this.selected.indexOf(number);
    if (at >= 0) this.selected.splice(at, 1);
    else if (this.selected.length >= MAX_COMPARED) return false;
    else this.selected.push(number);
    this.emit("select");
    return true;
  }

  select(numbers: number[]): void {
    this.selected = [...new Set(numbers)].filter((n) => Number.isInteger(n)).slice(0, MAX_COMPARED);
    this.emit("select");
  }

  /** Applies an answer of ``/runs``; returns how many rows changed. */
  apply(payload: RunsPayload): number {
    const f = payload.fields;
    const at = (name: string) => f.indexOf(name);
    const i = {
      number: at("number"), id: at("id"), name: at("name"), state: at("state"), best: at("best"), key: at("key"), last: at("last"),
      count: at("count"), created: at("created"), started: at("started"), finished: at("finished"), duration: at("duration"),
      exit_code: at("exit_code"), stop_band: at("stop_band"), stop_requested: at("stop_requested"),
      params: at("params"), summary: at("summary"), step: at("step"), agent: at("agent"), slot: at("slot"),
      origin: at("origin"),
    };
    if (payload.full) this.rows.clear();
    const grown: number[] = [];
    const stepped: number[] = [];
    for (const r of payload.rows) {
      const row: Row = {
        number: r[i.number] as number,
        id: r[i.id] as string,
        name: r[i.name] as string | null,
        state: r[i.state] as string,
        best: r[i.best] as number | null,
        key: r[i.key] as number | null,
        last: r[i.last] as number | null,
        count: r[i.count] as number,
        created: r[i.created] as number | null,
        started: r[i.started] as number | null,
        finished: r[i.finished] as number | null,
        duration: r[i.duration] as number | null,
        exit_code: r[i.exit_code] as number | null,
        stop_band: r[i.stop_band] as number | null,
        stop_requested: r[i.stop_requested] as boolean,
        params: r[i.params] as unknown[],
        summary: (r[i.summary] as Record<string, unknown>) ?? {},
        step: (r[i.step] as number | null) ?? null,
        agent: (r[i.agent] as string | null) ?? null,
        slot: (r[i.slot] as number | null) ?? null,
        origin: i.origin < 0 ? null : ((r[i.origin] as string | null) ?? null),
      };
      const before = this.rows.get(row.number);
      if (row.count > 0 && (!before || before.count !== row.count)) grown.push(row.number);
      if (row.step !== null && (!before || before.step !== row.step)) stepped.push(row.number);
      this.rows.set(row.number, row);
    }
    this.grown = grown;
    this.stepped = stepped;
    this.cursor = payload.cursor;
    this.sweep = payload.sweep;
    this.thresholds = payload.thresholds;
    return payload.rows.length;
  }

  /** Every row in run-number order. */
  all(): Row[] {
    return [...this.rows.values()].sort((a, b) => a.number - b.number);
  }

  paramIndex(name: string): number {
    return this.params.findIndex((p) => p.name === name);
  }

  /** A column's value of a row: a parameter's by name, or the metric's best value. */
  value(row: Row, column: string): unknown {
    if (column === METRIC) return row.best;
    const j = this.paramIndex(column);
    return j >= 0 ? row.params[j] : undefined;
  }

  passes(row: Row): boolean {
    if (this.states.size && !this.states.has(row.state)) return false;
    if (this.query) {
      const hay = `${row.name ?? ""} ${row.id} ${row.number}`.toLowerCase();
      if (!hay.includes(this.query)) return false;
    }
    for (const [column, filter] of this.ranges) {
      const value = this.value(row, column);
      if ("labels" in filter) {
        if (!filter.labels.has(text(value))) return false;
      } else {
        if (typeof value !== "number") return false;
        if (!filter.intervals.some(([lo, hi]) => value >= lo && value <= hi)) return false;
      }
    }
    return true;
  }

  filtered(): Row[] {
    return this.all().filter((row) => this.passes(row));
  }

  setRange(column: string, filter: RangeFilter | null): void {
    if (filter) this.ranges.set(column, filter);
    else this.ranges.delete(column);
    this.emit("filter");
  }
}

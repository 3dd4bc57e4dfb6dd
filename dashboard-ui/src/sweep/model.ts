// A sweep's runs in the browser: rows kept by run number, changes applied as they arrive, and the
// filters that the table and the charts share (states, text, parameter and metric ranges).

import { text } from "../format";
import type { ParamAxis, Row, RunsPayload, SweepSummary, Threshold } from "../types";

/** A range filter on one column: numeric intervals (any may match) or a set of category labels. */
export type RangeFilter = { intervals: [number, number][] } | { labels: Set<string> };

export const METRIC = "metric";

export class RunsModel {
  rows = new Map<number, Row>();
  cursor: string | null = null;
  sweep: SweepSummary | null = null;
  thresholds: Threshold[] = [];
  params: ParamAxis[];
  /** Run numbers whose metric count grew in the last update (their curves need fetching). */
  grown: number[] = [];
  // filters
  states = new Set<string>();
  query = "";
  ranges = new Map<string, RangeFilter>();
  private listeners: ((what: "rows" | "filter") => void)[] = [];

  constructor(params: ParamAxis[]) {
    this.params = params;
  }

  on(fn: (what: "rows" | "filter") => void): void {
    this.listeners.push(fn);
  }

  emit(what: "rows" | "filter"): void {
    this.listeners.forEach((fn) => fn(what));
  }

  /** Applies an answer of ``/runs``; returns how many rows changed. */
  apply(payload: RunsPayload): number {
    const f = payload.fields;
    const at = (name: string) => f.indexOf(name);
    const i = {
      number: at("number"), id: at("id"), name: at("name"), state: at("state"), best: at("best"), key: at("key"), last: at("last"),
      count: at("count"), created: at("created"), started: at("started"), finished: at("finished"), duration: at("duration"),
      exit_code: at("exit_code"), stop_band: at("stop_band"), stop_requested: at("stop_requested"),
      params: at("params"), summary: at("summary"),
    };
    if (payload.full) this.rows.clear();
    const grown: number[] = [];
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
      };
      const before = this.rows.get(row.number);
      if (row.count > 0 && (!before || before.count !== row.count)) grown.push(row.number);
      this.rows.set(row.number, row);
    }
    this.grown = grown;
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

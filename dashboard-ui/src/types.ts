// The shapes the dashboard's endpoints answer with (see sweepkit/dashboard/views.py).

export interface Metric {
  name: string;
  goal: "minimize" | "maximize";
}

export interface SweepSummary {
  id: string;
  name: string | null;
  project: string | null;
  entity: string | null;
  method: string;
  state: string;
  state_reason: string | null;
  run_count: number;
  runs_by_state: Record<string, number>;
  planned_runs: number | null;
  live_agents: number;
  created_at: string;
  updated_at: string;
  metric: Metric | null;
  /** Every metric the sweep optimises (several: Pareto fronts). */
  objectives: Metric[];
  best: number | null;
  /** What can be done to the sweep in its state now (the service's rule). */
  actions: string[];
  /** The user's scheduler process (`sweepkit scheduler`), for a sweep whose config names scheduler.source. */
  scheduler: SchedulerView | null;
}

export interface SchedulerView {
  /** "waiting" (none started yet), "alive" or "gone" (silent for longer than the heartbeat timeout). */
  state: "waiting" | "alive" | "gone";
  host: string | null;
  pid: number | null;
  seen_at: string | null;
  /** The command that starts one. */
  command: string;
}

export interface ParamAxis {
  name: string;
  kind: "number" | "category";
  log: boolean;
  integer: boolean;
  constant: boolean;
  labels: string[] | null;
  /** It exists only under a condition (`when`): runs without it hold null for it. */
  conditional: boolean;
}

export interface Hyperband {
  bands: number[];
  eta: number;
  strict: boolean;
}

export interface SweepDetail extends SweepSummary {
  config: Record<string, unknown>;
  /** The config as its author wrote it (the file's text), when sweepkit was given it. */
  source: string | null;
  /** Every version of the config, newest first, with what changing to it did. */
  versions?: ConfigVersion[];
  params: ParamAxis[];
  hyperband: Hyperband | null;
}

export interface ConfigVersion {
  version: number;
  created_at: string;
  config: Record<string, unknown>;
  source: string | null;
  changes: string[];
}

export interface Threshold {
  band: number;
  threshold: number;
  runs: number;
}

export interface RunsPayload {
  cursor: string;
  full: boolean;
  fields: string[];
  params: string[];
  rows: unknown[][];
  sweep: SweepSummary;
  thresholds: Threshold[];
}

export interface Row {
  number: number;
  id: string;
  name: string | null;
  state: string;
  best: number | null;
  /** ``best`` on the objective's lower-is-better scale (the server's): compare runs with it. */
  key: number | null;
  last: number | null;
  count: number;
  created: number | null;
  started: number | null;
  finished: number | null;
  duration: number | null;
  exit_code: number | null;
  stop_band: number | null;
  stop_requested: boolean;
  params: unknown[];
  summary: Record<string, unknown>;
  /** The run's last logged step (null before its first row). */
  step: number | null;
  /** The agent that ran it, and the agent's slot. */
  agent: string | null;
  slot: number | null;
  /** Where the run came from when the search method did not suggest it: queued, imported, retry. */
  origin: string | null;
}

/** A sweep with several metrics: finished runs' values, its Pareto front, hypervolume over time. */
export interface Front {
  objectives: Metric[];
  /** [run number, value of each objective...] of every finished run with all values. */
  points: number[][];
  /** Run numbers on the front (the service's rank 1). */
  front: number[];
  /** [finished (epoch s) or null, runs finished, normalised hypervolume]. */
  hypervolume: (number | null)[][];
  reference: number;
}

export interface Importance {
  runs: number;
  forest: boolean;
  stale: boolean;
  metric: Metric | null;
  features: { param: string; value: string | null; correlation: number | null; importance: number | null }[];
}

export interface RunDetail {
  id: string;
  sweep_id: string | null;
  number: number | null;
  name: string | null;
  project: string | null;
  state: string;
  params: Record<string, unknown>;
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  metric: { count: number; last: number | null; min: number | null; max: number | null; bands: Record<string, number> };
  last_step: number | null;
  created_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  exit_code: number | null;
  agent_id: string | null;
  stop_requested: boolean;
  stop_reason: string | null;
  stop_info: Record<string, unknown> | null;
  suggestion: Record<string, unknown>;
  error: string | null;
  duration_s: number | null;
  sweep: { id: string; name: string | null; metric: Metric | null; state: string } | null;
  best: number | null;
  command: string | null;
  hyperband: Hyperband | null;
}

export interface HistoryPage {
  series: Record<string, [number[], number[]]>;
  next_after: number | null;
  last_step: number | null;
}

export interface OutputPage {
  size: number;
  append?: string;
  head?: string;
  tail?: string;
  skipped?: number;
}

/** A run's curve: its number, x values and y values. */
export type CurveRow = [number, number[], number[]];

export interface CurvesAnswer {
  key: string | null;
  x: string | null;
  runs: CurveRow[];
}

export interface KeyChoices {
  metric: string | null;
  keys: { key: string; runs: number }[];
  x: string[];
}

export interface ComparedRun {
  number: number;
  id: string;
  name: string | null;
  state: string;
  value: number | null;
  duration: number | null;
}

export interface CompareRow {
  key: string;
  values: unknown[];
  differs: boolean;
}

export interface CompareAnswer {
  runs: ComparedRun[];
  config: CompareRow[];
  summary: CompareRow[];
}

// The sweep page's first three answers, asked for as soon as the page starts: before the charting
// code has even loaded (it comes in its own chunk), so the two overlap.

import { getJSON } from "../api";
import type { RunsPayload, SweepDetail } from "../types";

export type CurvesAnswer = { runs: [number, number[], number[]][] };

export interface FirstAnswers {
  detail: Promise<SweepDetail>;
  runs: Promise<RunsPayload>;
  curves: Promise<CurvesAnswer>;
}

export function prefetch(sweepId: string): FirstAnswers {
  const path = `/sweeps/${encodeURIComponent(sweepId)}`;
  const answers = {
    // The curves are the slowest answer: asked for first, drawn last.
    curves: getJSON<CurvesAnswer>(`${path}/curves`),
    detail: getJSON<SweepDetail>(path),
    runs: getJSON<RunsPayload>(`${path}/runs`),
  };
  for (const answer of Object.values(answers)) answer.catch(() => undefined); // handled where awaited
  return answers;
}

// The sweep page's first three answers, asked for as soon as the page starts: before the charting
// code has even loaded (it comes in its own chunk), so the two overlap.

import { getJSON } from "../api";
import type { CompareAnswer, CurvesAnswer, RunsPayload, SweepDetail } from "../types";

export interface FirstAnswers {
  detail: Promise<SweepDetail>;
  runs: Promise<RunsPayload>;
  curves: Promise<CurvesAnswer>;
  /** When the address names runs to compare: their comparison and their curves. */
  compare: Promise<[CompareAnswer, CurvesAnswer]> | null;
}

/** The line charts' settings a page's address asks for (``?key=acc&x=_step&log=1&smooth=0.6``). */
export function curvesQuery(search: string = location.search): string {
  const asked = new URLSearchParams(search);
  const q = new URLSearchParams();
  for (const name of ["key", "x"]) {
    const value = asked.get(name);
    if (value) q.set(name, value);
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}

export function prefetch(sweepId: string): FirstAnswers {
  const path = `/sweeps/${encodeURIComponent(sweepId)}`;
  const answers = {
    // The curves are the slowest answer: asked for first, drawn last.
    curves: getJSON<CurvesAnswer>(`${path}/curves${curvesQuery()}`),
    detail: getJSON<SweepDetail>(path),
    runs: getJSON<RunsPayload>(`${path}/runs`),
    compare: null as Promise<[CompareAnswer, CurvesAnswer]> | null,
  };
  const compared = new URLSearchParams(location.search).get("compare");
  if (compared && /^[\d,]+$/.test(compared)) {
    const settings = curvesQuery();
    answers.compare = Promise.all([
      getJSON<CompareAnswer>(`${path}/compare?runs=${compared}`),
      getJSON<CurvesAnswer>(`${path}/curves${settings ? `${settings}&` : "?"}runs=${compared}&alone=1`),
    ]);
  }
  for (const answer of Object.values(answers)) answer?.catch(() => undefined); // handled where awaited
  return answers;
}

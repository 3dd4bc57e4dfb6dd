// Pieces every page shows: state badges, the breadcrumb, runs-by-state counts.

import { pageUrl } from "./api";
import { h, replace, type Child } from "./dom";
import type { SchedulerView } from "./types";

const STATE_ORDER = ["running", "pending", "preempting", "finished", "killed", "failed", "crashed", "preempted"];

export function badge(state: string): HTMLElement {
  return h("span", { class: `badge state-${state.replace(/[^a-z]/g, "")}` }, state);
}

/** A sweep's user scheduler process (`sweepkit scheduler`): a badge, "scheduler gone" in the failed
 * colour when it stopped being heard from, with where it ran and how to start one in its title. */
export function schedulerBadge(s: SchedulerView | null): HTMLElement | null {
  if (!s) return null;
  const where = s.host ? `${s.host}, pid ${s.pid}` : "";
  if (s.state === "gone") {
    const title = `last heard from ${s.seen_at ?? "?"} (${where}); start \`${s.command}\` again`;
    return h("span", { class: "badge state-failed scheduler-state", title }, "scheduler gone");
  }
  if (s.state === "waiting") {
    return h("span", { class: "badge state-pending scheduler-state", title: `start \`${s.command}\`` }, "no scheduler yet");
  }
  return h("span", { class: "badge state-running scheduler-state", title: where }, "scheduler alive");
}

export function byState(counts: Record<string, number>): HTMLElement {
  const keys = Object.keys(counts).sort((a, b) => STATE_ORDER.indexOf(a) - STATE_ORDER.indexOf(b));
  if (!keys.length) return h("span", { class: "muted" }, "no runs");
  return h(
    "span",
    { class: "counts" },
    keys.map((k) => h("span", { class: `count state-${k.replace(/[^a-z]/g, "")}`, title: k }, `${counts[k]} ${k}`)),
  );
}

export function crumbs(...items: [string, string | null][]): void {
  const nav = document.getElementById("crumbs");
  if (!nav) return;
  const parts: Child[] = [];
  items.forEach(([label, href], i) => {
    if (i) parts.push(h("span", { class: "sep", "aria-hidden": "true" }, "/"));
    parts.push(href ? h("a", { href: pageUrl(href) }, label) : h("span", { "aria-current": "page" }, label));
  });
  replace(nav, parts);
}

export function sweepTitle(s: { name: string | null; id: string }): string {
  return s.name || s.id;
}

export function progress(done: number, planned: number | null): HTMLElement {
  if (!planned) return h("span", null, `${done} runs`);
  const bar = h("progress", { max: planned, value: Math.min(done, planned), "aria-label": "runs handed out" });
  return h("span", { class: "progress" }, bar, ` ${done} / ${planned}`);
}

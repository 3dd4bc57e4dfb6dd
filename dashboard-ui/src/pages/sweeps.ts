// The sweeps list: every sweep with its state, runs by state, progress, best value and agents;
// sorted by a column, searched by text, refreshed every few seconds.

import { errorBox, every, getJSON, pageUrl } from "../api";
import { badge, byState, crumbs, progress, schedulerBadge, sweepTitle } from "../common";
import { h, replace } from "../dom";
import { num, when } from "../format";
import type { SweepSummary } from "../types";

type Key = "name" | "id" | "method" | "state" | "runs" | "best" | "created" | "agents";

const COLUMNS: [Key, string][] = [
  ["name", "Sweep"],
  ["id", "ID"],
  ["method", "Method"],
  ["state", "State"],
  ["runs", "Runs"],
  ["best", "Best"],
  ["created", "Created"],
  ["agents", "Agents"],
];

function sortValue(s: SweepSummary, key: Key): string | number {
  switch (key) {
    case "name":
      return sweepTitle(s).toLowerCase();
    case "id":
      return s.id;
    case "method":
      return s.method;
    case "state":
      return s.state;
    case "runs":
      return s.run_count;
    case "best":
      return s.best ?? Number.NaN;
    case "created":
      return s.created_at;
    case "agents":
      return s.live_agents;
  }
}

export function sweepsPage(main: HTMLElement): void {
  crumbs(["Sweeps", null]);
  document.title = "Sweeps · sweepkit";
  let sweeps: SweepSummary[] = [];
  let sortKey: Key = "created";
  let descending = true;
  let query = "";

  const search = h("input", {
    type: "search",
    id: "sweep-search",
    placeholder: "name, id, project, method, state",
    oninput: () => {
      query = search.value.trim().toLowerCase();
      draw();
    },
  });
  const status = h("p", { class: "muted", "aria-live": "polite" });
  const errors = h("div");
  const head = h("tr");
  const body = h("tbody");
  const table = h("table", { class: "list", id: "sweeps" }, h("thead", null, head), body);
  replace(
    main,
    h("h1", null, "Sweeps"),
    h("div", { class: "toolbar" }, h("label", { for: "sweep-search" }, "Search"), search, status),
    errors,
    h("div", { class: "scroll-x" }, table),
  );

  function header(): void {
    replace(
      head,
      COLUMNS.map(([key, label]) => {
        const sorted = key === sortKey;
        const button = h(
          "button",
          {
            type: "button",
            class: "sort",
            onclick: () => {
              descending = sorted ? !descending : key !== "name" && key !== "id" && key !== "method";
              sortKey = key;
              header();
              draw();
            },
          },
          label,
          sorted ? (descending ? " ▼" : " ▲") : "",
        );
        return h("th", { scope: "col", "aria-sort": sorted ? (descending ? "descending" : "ascending") : "none" }, button);
      }),
    );
  }

  function draw(): void {
    const shown = sweeps.filter((s) => {
      if (!query) return true;
      const hay = [s.name, s.id, s.project, s.entity, s.method, s.state].join(" ").toLowerCase();
      return hay.includes(query);
    });
    shown.sort((a, b) => {
      const x = sortValue(a, sortKey);
      const y = sortValue(b, sortKey);
      const missing = (v: string | number) => typeof v === "number" && Number.isNaN(v);
      if (missing(x) !== missing(y)) return missing(x) ? 1 : -1;
      const order = x < y ? -1 : x > y ? 1 : 0;
      return descending ? -order : order;
    });
    status.textContent = `${shown.length} of ${sweeps.length} sweeps`;
    replace(
      body,
      shown.length
        ? shown.map((s) =>
            h(
              "tr",
              { "data-sweep": s.id },
              h("td", null, h("a", { href: pageUrl(`/sweeps/${encodeURIComponent(s.id)}`) }, sweepTitle(s)), s.project ? h("div", { class: "muted small" }, s.project) : null),
              h("td", null, h("code", null, s.id)),
              h("td", null, s.method),
              h("td", null, badge(s.state), s.scheduler ? h("div", null, schedulerBadge(s.scheduler)) : null),
              h("td", null, progress(s.run_count, s.planned_runs), h("div", null, byState(s.runs_by_state))),
              h("td", { class: "num" }, s.metric ? [num(s.best), h("div", { class: "muted small" }, `${s.metric.name} (${s.metric.goal === "maximize" ? "max" : "min"})`)] : h("span", { class: "muted" }, "no metric")),
              h("td", null, when(s.created_at)),
              h("td", { class: "num" }, String(s.live_agents)),
            ),
          )
        : h("tr", null, h("td", { colspan: COLUMNS.length, class: "muted" }, sweeps.length ? "No sweep matches." : "No sweeps yet: create one with sweepkit sweep CONFIG.")),
    );
  }

  async function load(): Promise<void> {
    try {
      const data = await getJSON<{ sweeps: SweepSummary[] }>("/sweeps");
      sweeps = data.sweeps;
      replace(errors);
      draw();
    } catch (err) {
      replace(errors, errorBox(err));
      throw err;
    }
  }

  header();
  load().catch(() => undefined);
  every(3000, load);
}

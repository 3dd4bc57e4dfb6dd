// The runs table: sortable, filterable, columns to choose, and virtual, so that 10,000 rows scroll
// smoothly (only the rows in view exist in the page). Cells are text; a run's name links to its page;
// the first column's box selects the run to compare.

import { pageUrl } from "../api";
import { badge } from "../common";
import { h, replace } from "../dom";
import { duration, num, text, when } from "../format";
import type { Row } from "../types";
import { MAX_COMPARED, type RunsModel } from "./model";

const ROW_HEIGHT = 30;

/** Seconds a run took, or has taken so far while it runs. */
function runDuration(r: Row): number | null {
  if (r.duration !== null) return r.duration;
  const start = r.started ?? r.created;
  return start === null ? null : Math.max(0, Date.now() / 1000 - start);
}
const OVERSCAN = 8;

interface Column {
  key: string;
  label: string;
  width: number;
  value: (row: Row) => unknown;
  cell?: (row: Row) => Node | string;
  numeric?: boolean;
}

export class RunsTable {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly window: HTMLElement;
  private readonly head: HTMLElement;
  private readonly chooser: HTMLElement;
  private readonly count: HTMLElement;
  private columns: Column[] = [];
  private visible = new Set<string>();
  private sortKey = "number";
  private descending = false;
  private rows: Row[] = [];
  private drawnRange = "";
  private frame = 0;

  constructor(private readonly model: RunsModel) {
    this.head = h("div", { class: "grid-head", role: "row" });
    this.spacer = h("div", { class: "grid-spacer" });
    this.window = h("div", { class: "grid-window", role: "rowgroup" });
    this.viewport = h(
      "div",
      { class: "grid", role: "grid", tabindex: 0, id: "runs-table", "aria-label": "Runs" },
      h("div", { role: "rowgroup", class: "grid-headgroup" }, this.head),
      this.spacer,
    );
    this.spacer.append(this.window);
    this.viewport.addEventListener("scroll", () => this.schedule(), { passive: true });
    this.viewport.addEventListener("keydown", (e) => this.keys(e));
    this.chooser = h("div", { class: "chooser-list" });
    this.count = h("span", { class: "muted", "aria-live": "polite", id: "runs-count" });
    this.element = h(
      "div",
      { class: "runs-table" },
      h(
        "div",
        { class: "toolbar" },
        this.count,
        h("details", { class: "chooser" }, h("summary", null, "Columns"), this.chooser),
      ),
      this.viewport,
    );
    this.defineColumns();
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
  }

  private defineColumns(): void {
    const m = this.model;
    const metric = m.sweep?.metric?.name ?? "metric";
    const cols: Column[] = [
      {
        key: "select",
        label: "Compare",
        width: 84,
        value: (r) => (m.isSelected(r.number) ? 0 : 1),
        cell: (r) => {
          const box = h("input", {
            type: "checkbox",
            class: "select-run",
            "aria-label": `Compare run ${r.number}`,
            checked: m.isSelected(r.number),
            onchange: () => {
              if (!m.toggle(r.number)) {
                box.checked = false;
                this.count.textContent = `At most ${MAX_COMPARED} runs can be compared at once.`;
              }
            },
          });
          return box;
        },
      },
      { key: "number", label: "#", width: 64, value: (r) => r.number, numeric: true },
      {
        key: "name",
        label: "Run",
        width: 220,
        value: (r) => r.name ?? r.id,
        cell: (r) => h("a", { href: pageUrl(`/runs/${encodeURIComponent(r.id)}`) }, r.name ?? r.id),
      },
      {
        key: "state",
        label: "State",
        width: 104,
        value: (r) => r.state,
        // A point queued with `sweep --add` or a result imported says so beside its state.
        cell: (r) => (r.origin === "queued" || r.origin === "imported" ? h("span", null, badge(r.state), h("span", { class: "muted small origin" }, ` ${r.origin}`)) : badge(r.state)),
      },
      { key: "best", label: metric, width: 110, value: (r) => r.best, numeric: true },
      { key: "last", label: `${metric} (last)`, width: 110, value: (r) => r.last, numeric: true },
      { key: "count", label: "Iterations", width: 90, value: (r) => r.count, numeric: true },
    ];
    m.params.forEach((p, j) => {
      cols.push({
        key: `p:${p.name}`,
        label: p.name,
        width: Math.max(90, Math.min(180, p.name.length * 9 + 24)),
        value: (r) => r.params[j],
        numeric: p.kind === "number",
      });
    });
    const summaryKeys = new Set<string>();
    for (const row of m.rows.values()) for (const k of Object.keys(row.summary)) summaryKeys.add(k);
    [...summaryKeys].sort().forEach((k) => {
      cols.push({ key: `s:${k}`, label: k, width: 110, value: (r) => r.summary[k], numeric: true });
    });
    cols.push(
      { key: "created", label: "Created", width: 140, value: (r) => r.created, cell: (r) => when(r.created) },
      { key: "duration", label: "Duration", width: 100, value: runDuration, cell: (r) => duration(runDuration(r)), numeric: true },
      { key: "exit_code", label: "Exit", width: 64, value: (r) => r.exit_code, numeric: true },
      {
        key: "stop_band",
        label: "Stop band",
        width: 100,
        value: (r) => r.stop_band,
        numeric: true,
      },
    );
    const known = new Set(this.columns.map((c) => c.key));
    const first = !this.columns.length;
    this.columns = cols;
    for (const c of cols) {
      if (first) {
        const isSummary = c.key.startsWith("s:");
        const paramIndex = m.params.findIndex((p) => `p:${p.name}` === c.key);
        const hiddenParam = paramIndex >= 0 && (paramIndex >= 8 || m.params[paramIndex].constant);
        if (!isSummary && !hiddenParam && c.key !== "last" && c.key !== "exit_code") this.visible.add(c.key);
      } else if (!known.has(c.key) && c.key.startsWith("p:")) {
        this.visible.add(c.key);
      }
    }
    this.drawChooser();
  }

  private drawChooser(): void {
    replace(
      this.chooser,
      this.columns.map((c) => {
        const box = h("input", {
          type: "checkbox",
          checked: this.visible.has(c.key),
          onchange: () => {
            if (box.checked) this.visible.add(c.key);
            else this.visible.delete(c.key);
            this.drawnRange = "";
            this.drawHead();
            this.schedule();
          },
        });
        return h("label", { class: "check" }, box, ` ${c.label}`);
      }),
    );
  }

  private shown(): Column[] {
    return this.columns.filter((c) => this.visible.has(c.key));
  }

  private template(): string {
    return this.shown()
      .map((c) => `${c.width}px`)
      .join(" ");
  }

  private drawHead(): void {
    const cols = this.shown();
    this.head.style.gridTemplateColumns = this.template();
    const width = cols.reduce((s, c) => s + c.width, 0);
    this.spacer.style.width = `${width}px`;
    this.head.style.width = `${width}px`;
    replace(
      this.head,
      cols.map((c) => {
        const sorted = c.key === this.sortKey;
        return h(
          "div",
          {
            role: "columnheader",
            class: c.numeric ? "num" : "",
            "aria-sort": sorted ? (this.descending ? "descending" : "ascending") : "none",
          },
          h(
            "button",
            {
              type: "button",
              class: "sort",
              "data-column": c.key,
              title: `Sort by ${c.label}`,
              onclick: () => this.sortBy(c.key),
            },
            c.label,
            sorted ? (this.descending ? " ▼" : " ▲") : "",
          ),
        );
      }),
    );
  }

  sortBy(key: string): void {
    if (this.sortKey === key) this.descending = !this.descending;
    else {
      this.sortKey = key;
      this.descending = false;
    }
    this.update();
  }

  /** Recomputes the rows shown (filters and sort) and redraws. ``newColumns`` after new params or summary keys. */
  update(newColumns = false): void {
    if (newColumns) this.defineColumns();
    const column = this.columns.find((c) => c.key === this.sortKey) ?? this.columns[0];
    const rows = this.model.filtered();
    const dir = this.descending ? -1 : 1;
    rows.sort((a, b) => {
      const x = column.value(a);
      const y = column.value(b);
      const xm = x === null || x === undefined;
      const ym = y === null || y === undefined;
      if (xm || ym) return xm === ym ? a.number - b.number : xm ? 1 : -1;
      let order: number;
      if (typeof x === "number" && typeof y === "number") order = x - y;
      else order = text(x).localeCompare(text(y), undefined, { numeric: true });
      return order ? order * dir : a.number - b.number;
    });
    this.rows = rows;
    this.count.textContent = `${rows.length} of ${this.model.rows.size} runs shown`;
    this.viewport.setAttribute("aria-rowcount", String(rows.length + 1));
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    // As tall as its rows, up to 16 of them; then it scrolls.
    this.viewport.style.height = `${Math.min(16, Math.max(3, rows.length + 1)) * ROW_HEIGHT + 6}px`;
    this.drawnRange = "";
    this.drawHead();
    this.draw();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const top = Math.max(0, this.viewport.scrollTop - this.head.offsetHeight);
    const height = this.viewport.clientHeight || 480;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const key = `${first}:${last}`;
    if (key === this.drawnRange) return;
    this.drawnRange = key;
    const cols = this.shown();
    const template = this.template();
    this.window.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    const out: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const row = this.rows[i];
      const el = h(
        "div",
        { role: "row", class: this.model.isSelected(row.number) ? "grid-row selected" : "grid-row", "aria-rowindex": i + 2, "data-run": row.number },
        cols.map((c) =>
          h("div", { role: "gridcell", class: c.numeric ? "num" : "" }, c.cell ? c.cell(row) : c.numeric ? num(c.value(row)) : text(c.value(row))),
        ),
      );
      el.style.gridTemplateColumns = template;
      out.push(el);
    }
    replace(this.window, out);
    this.element.setAttribute("data-drawn", String(this.rows.length));
  }

  private keys(event: KeyboardEvent): void {
    if (event.target !== this.viewport) return;
    const page = this.viewport.clientHeight - ROW_HEIGHT;
    const moves: Record<string, number> = { ArrowDown: ROW_HEIGHT, ArrowUp: -ROW_HEIGHT, PageDown: page, PageUp: -page };
    if (event.key in moves) {
      this.viewport.scrollTop += moves[event.key];
      event.preventDefault();
    } else if (event.key === "Home") {
      this.viewport.scrollTop = 0;
      event.preventDefault();
    } else if (event.key === "End") {
      this.viewport.scrollTop = this.viewport.scrollHeight;
      event.preventDefault();
    }
  }

  /** Draws the rows in view again (a run was selected or taken out). */
  redraw(): void {
    this.drawnRange = "";
    this.draw();
  }

  /** The rows as currently filtered and sorted. */
  current(): Row[] {
    return this.rows;
  }
}

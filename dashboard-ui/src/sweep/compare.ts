// Comparing a few runs: their curves overlaid (any logged key, the line charts' shared settings),
// and their config and summary side by side with the rows that differ marked; a link that reopens
// the same selection (``?compare=3,7,12``). Runs are picked in the runs table, on the charts, or as
// the best runs the service ranks.

import { errorBox, getJSON, pageUrl } from "../api";
import { badge } from "../common";
import { base, chart, markDrawn, type Chart, type Option } from "../charts";
import { h, replace } from "../dom";
import { duration, num, text } from "../format";
import { palette } from "../theme";
import type { CompareAnswer, CompareRow, CurvesAnswer } from "../types";
import { CurveSet, LINE_GRID, LineControls, fetchCurves, planLines, runStyle, xText, type Layer } from "./lines";
import type { RunsModel } from "./model";

export class ComparePanel {
  readonly element: HTMLElement;
  readonly controls: LineControls;
  private readonly body: HTMLElement;
  private readonly chartEl: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly tables: HTMLElement;
  private readonly link: HTMLAnchorElement;
  private readonly onlyDiff: HTMLInputElement;
  private readonly status: HTMLElement;
  private chart: Chart | null = null;
  private set: CurveSet;
  private answer: CompareAnswer | null = null;
  private asked = "";
  /** The runs and settings whose curves ``set`` holds. */
  private curvesFor = "";

  constructor(
    private readonly model: RunsModel,
    private readonly path: string,
    private readonly sweepPath: string,
  ) {
    this.controls = new LineControls(model, "compare");
    this.set = new CurveSet(model.lines.key, model.lines.x);
    this.chartEl = h("div", { class: "chart tall", id: "chart-compare" });
    this.legend = h("ul", { class: "legend", id: "compare-legend", "aria-label": "Runs compared" });
    this.tables = h("div", { id: "compare-tables" });
    this.status = h("p", { class: "muted small", role: "status" });
    this.link = h("a", { id: "compare-link", href: "#" }, "Link to this comparison");
    this.onlyDiff = h("input", { type: "checkbox", id: "compare-only-diff", onchange: () => this.drawTables() });
    const copy = h(
      "button",
      {
        type: "button",
        id: "compare-copy",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(this.link.href);
            this.status.textContent = "Link copied.";
          } catch {
            this.status.textContent = "Copy the link above (the browser did not allow copying).";
          }
        },
      },
      "Copy link",
    );
    const clear = h("button", { type: "button", id: "compare-clear", onclick: () => model.select([]) }, "Clear selection");
    this.body = h(
      "div",
      null,
      h("div", { class: "toolbar" }, this.link, copy, clear, h("label", { class: "check" }, this.onlyDiff, " only rows that differ")),
      this.status,
      this.legend,
      this.controls.element,
      this.chartEl,
      this.tables,
    );
    this.element = h(
      "section",
      { id: "compare", class: "panel", "aria-labelledby": "compare-title" },
      h("h2", { id: "compare-title" }, "Compare runs"),
      this.body,
    );
  }

  /** Takes the answers asked for with the page's first ones (the address named runs to compare). */
  preload(answer: CompareAnswer, curves: CurvesAnswer): void {
    const key = this.model.selected.join(",");
    if (answer.runs.map((r) => r.number).join(",") !== key || curves.key === null || curves.x === null) return;
    this.answer = answer;
    this.asked = key;
    this.set = new CurveSet(curves.key, curves.x);
    this.set.take(curves.runs);
    this.curvesFor = `${key}\n${curves.key}\n${curves.x}`;
  }

  /** Shows the selection: nothing to show hides the section's body behind a hint. */
  async update(): Promise<void> {
    const numbers = this.model.selected;
    this.link.href = pageUrl(`${this.sweepPath}?compare=${numbers.join(",")}`);
    this.element.setAttribute("data-runs", numbers.join(","));
    if (!numbers.length) {
      this.chart?.clear();
      replace(this.legend);
      replace(this.tables);
      this.body.hidden = true;
      this.element.querySelector(".hint")?.remove();
      this.element.append(
        h(
          "p",
          { class: "muted hint" },
          "Select runs to compare: tick them in the runs table, click their points on the charts above, or ",
          h("button", { type: "button", id: "compare-best", onclick: () => this.pickBest() }, "compare the 5 best"),
          ".",
        ),
      );
      this.element.setAttribute("data-drawn", "0");
      return;
    }
    this.element.querySelector(".hint")?.remove();
    this.body.hidden = false;
    const key = numbers.join(",");
    if (key !== this.asked) {
      this.asked = key;
      try {
        this.answer = await getJSON<CompareAnswer>(`${this.path}/compare?runs=${key}`);
      } catch (err) {
        replace(this.tables, errorBox(err));
        return;
      }
    }
    await this.loadCurves(null);
    this.draw();
  }

  /** New values of the compared runs (``grown``: the runs that logged since). */
  async refresh(grown: number[]): Promise<void> {
    const mine = grown.filter((n) => this.model.isSelected(n));
    if (!mine.length) return;
    this.asked = "";
    this.curvesFor = "";
    await this.update();
  }

  async settingsChanged(): Promise<void> {
    this.controls.sync();
    if (!this.model.selected.length) return;
    await this.loadCurves(null);
    this.draw();
  }

  private async loadCurves(only: number[] | null): Promise<void> {
    const s = this.model.lines;
    if (!s.key) return;
    const wanted = `${this.model.selected.join(",")}\n${s.key}\n${s.x}`;
    if (only === null && wanted === this.curvesFor) return;
    if (!this.set.matches(s)) this.set = new CurveSet(s.key, s.x);
    await fetchCurves(this.path, this.set, only ?? this.model.selected, true);
    this.curvesFor = wanted;
  }

  private async pickBest(): Promise<void> {
    try {
      const best = await getJSON<{ runs: { number: number }[] }>(`${this.path}/best?limit=5`);
      if (!best.runs.length) {
        this.element.querySelector(".hint")?.append(" (no run has finished with a value yet)");
        return;
      }
      this.model.select(best.runs.map((r) => r.number));
    } catch (err) {
      this.element.append(errorBox(err));
    }
  }

  draw(): void {
    const p = palette();
    const s = this.model.lines;
    const runs = this.answer?.runs ?? [];
    const byNumber = new Map(runs.map((r) => [r.number, r]));
    replace(
      this.legend,
      this.model.selected.map((n, i) => {
        const look = runStyle(p, i);
        const run = byNumber.get(n);
        const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
        swatch.style.borderTop = `3px ${look.dash} ${look.color}`;
        return h(
          "li",
          { "data-run": n },
          swatch,
          h("a", { href: pageUrl(`/runs/${encodeURIComponent(run?.id ?? "")}`) }, run?.name ?? `run ${n}`),
          run ? [" ", badge(run.state)] : null,
          h(
            "button",
            { type: "button", class: "ghost", "aria-label": `Stop comparing run ${n}`, onclick: () => this.model.toggle(n) },
            "×",
          ),
        );
      }),
    );
    if (!this.chart) this.chart = chart(this.chartEl, "The compared runs' curves, overlaid");
    const layers: Layer[] = [];
    this.model.selected.forEach((n, i) => {
      const c = this.set.curves.get(n);
      if (!c) return;
      const look = runStyle(p, i);
      layers.push({ name: byNumber.get(n)?.name ?? `run ${n}`, curves: [c], color: look.color, dash: look.dash, opacity: 1, width: 2 });
    });
    const plan = planLines(p, layers, s, { plain: true });
    const option: Option = {
      ...base(p),
      grid: LINE_GRID,
      tooltip: {
        show: true,
        trigger: "axis",
        renderMode: "richText",
        confine: true,
        formatter: (items: { seriesName: string; value: number[] }[]) =>
          items.length ? [xText(items[0].value[0], s), ...items.map((it) => `${it.seriesName}: ${num(it.value[1])}`)].join("\n") : "",
      },
      xAxis: plan.xAxis,
      yAxis: plan.yAxis,
      series: plan.series,
    };
    this.chart.setOption(option, { notMerge: true });
    this.controls.note.textContent = plan.note || (layers.length ? "" : `No compared run logged ${s.key}.`);
    this.chartEl.setAttribute("data-layout", JSON.stringify(LINE_GRID));
    this.chartEl.setAttribute("data-curves", String(layers.length));
    markDrawn(this.chart, this.chartEl);
    this.drawTables();
    this.element.setAttribute("data-drawn", String(this.model.selected.length));
    this.element.setAttribute("data-drawn-ms", String(Math.round(performance.now())));
  }

  private drawTables(): void {
    const answer = this.answer;
    if (!answer) return;
    const p = palette();
    const only = this.onlyDiff.checked;
    const head = h(
      "tr",
      null,
      h("th", { scope: "col" }, "Key"),
      answer.runs.map((r) => {
        const i = this.model.selected.indexOf(r.number);
        const swatch = h("span", { class: "swatch", "aria-hidden": "true" });
        if (i >= 0) {
          const look = runStyle(p, i);
          swatch.style.borderTop = `3px ${look.dash} ${look.color}`;
        }
        return h("th", { scope: "col" }, swatch, r.name ?? `run ${r.number}`);
      }),
    );
    const facts: [string, unknown[]][] = [
      ["state", answer.runs.map((r) => r.state)],
      ["metric", answer.runs.map((r) => r.value)],
      ["duration", answer.runs.map((r) => duration(r.duration))],
    ];
    const table = (title: string, id: string, rows: CompareRow[]) => {
      const shown = only ? rows.filter((r) => r.differs) : rows;
      const body = shown.map((row) =>
        h(
          "tr",
          { class: row.differs ? "differs" : "" },
          h("th", { scope: "row" }, row.differs ? h("span", { class: "mark", title: "differs between the runs" }, "≠ ") : null, row.key),
          row.values.map((v) => h("td", { class: typeof v === "number" ? "num" : "" }, typeof v === "number" ? num(v, 6) : text(v))),
        ),
      );
      const differing = rows.filter((r) => r.differs).length;
      return h(
        "div",
        { class: "scroll-x" },
        h(
          "table",
          { class: "list compare", id },
          h("caption", null, `${title}: ${differing} of ${rows.length} ${rows.length === 1 ? "key differs" : "keys differ"}`),
          h("thead", null, head.cloneNode(true)),
          h("tbody", null, body.length ? body : h("tr", null, h("td", { colspan: answer.runs.length + 1, class: "muted" }, "Nothing differs."))),
        ),
      );
    };
    replace(
      this.tables,
      h(
        "div",
        { class: "scroll-x" },
        h(
          "table",
          { class: "list compare", id: "compare-facts" },
          h("thead", null, head),
          h(
            "tbody",
            null,
            facts.map(([k, values]) => h("tr", null, h("th", { scope: "row" }, k), values.map((v) => h("td", null, typeof v === "number" ? num(v) : text(v))))),
          ),
        ),
      ),
      table("Config", "compare-config", answer.config),
      table("Summary", "compare-summary", answer.summary),
    );
  }
}

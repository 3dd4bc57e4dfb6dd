// Parameter importance against the metric, as a table with bars: the forest's importance and the
// correlation (negative to the left), computed by the server.

import { getJSON } from "../api";
import { h, replace } from "../dom";
import { num } from "../format";
import type { Importance } from "../types";

function bar(value: number | null, signed: boolean): HTMLElement {
  if (value === null) return h("span", { class: "muted" }, "–");
  const fill = h("span", { class: `fill ${signed ? (value < 0 ? "neg" : "pos") : "imp"}` });
  const width = Math.min(1, Math.abs(value)) * (signed ? 50 : 100);
  fill.style.width = `${width}%`;
  if (signed) fill.style.left = value < 0 ? `${50 - width}%` : "50%";
  return h("span", { class: `bar${signed ? " signed" : ""}` }, fill, h("span", { class: "bar-text" }, num(value, 3)));
}

export class ImportanceTable {
  private timer = 0;

  constructor(
    private readonly el: HTMLElement,
    private readonly sweepId: string,
  ) {}

  async load(): Promise<void> {
    const data = await getJSON<Importance>(`/sweeps/${encodeURIComponent(this.sweepId)}/importance`);
    this.draw(data);
    window.clearTimeout(this.timer);
    if (data.stale) this.timer = window.setTimeout(() => this.load().catch(() => undefined), 1500);
  }

  private draw(data: Importance): void {
    const metric = data.metric?.name ?? "the metric";
    if (!data.features.length) {
      const why = data.stale ? "Computing…" : `Needs at least 3 runs with a value of ${metric} and a parameter that varies.`;
      replace(this.el, h("p", { class: "muted" }, why));
      this.el.setAttribute("data-drawn", "0");
      return;
    }
    const note = [
      `${data.runs} runs with a value of ${metric}.`,
      data.forest ? "" : " Forest importance needs scikit-learn (pip install 'sweepkit[server]').",
      data.stale ? " Updating…" : "",
    ].join("");
    replace(
      this.el,
      h(
        "table",
        { class: "importance", id: "importance-table" },
        h("caption", { class: "muted" }, note),
        h(
          "thead",
          null,
          h("tr", null, h("th", { scope: "col" }, "Parameter"), h("th", { scope: "col" }, "Importance"), h("th", { scope: "col" }, `Correlation with ${metric}`)),
        ),
        h(
          "tbody",
          null,
          data.features.map((f) =>
            h(
              "tr",
              null,
              h("th", { scope: "row" }, f.param, f.value !== null ? h("span", { class: "muted" }, ` = ${f.value}`) : null),
              h("td", null, bar(f.importance, false)),
              h("td", null, bar(f.correlation, true)),
            ),
          ),
        ),
      ),
    );
    this.el.setAttribute("data-drawn", String(data.features.length));
    if (!this.el.hasAttribute("data-drawn-ms")) this.el.setAttribute("data-drawn-ms", String(Math.round(performance.now())));
  }
}

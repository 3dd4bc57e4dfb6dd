// What a run logged besides numbers, one card per key: images (and animated images), galleries,
// audio and video, tables (paged), histograms (the last one, and all of them over steps), and the
// other W&B media named with a download. A key logged at many steps gets a step slider. Files are
// fetched with the page's token and shown from blob: addresses (the CSP allows no other source).

import { errorBox, getBlob, getJSON } from "../api";
import { base, chart, markDrawn, type Chart } from "../charts";
import { h, replace } from "../dom";
import { num, text } from "../format";
import { palette } from "../theme";

export interface MediaRef {
  _type: string;
  path?: string;
  caption?: string;
  width?: number;
  height?: number;
  format?: string;
  nrows?: number;
  ncols?: number;
  bins?: (number | null)[];
  values?: (number | null)[];
  chart?: string;
  title?: string;
  table?: MediaRef;
}

export interface MediaKey {
  key: string;
  type: string;
  last: MediaRef | MediaRef[];
}

export interface RunFiles {
  folder: string | null;
  host: string | null;
  here: boolean;
}

interface StepsAnswer {
  key: string;
  total: number;
  steps: [number, MediaRef | MediaRef[]][];
}

interface TablePage {
  columns: string[];
  total: number;
  offset: number;
  rows: unknown[][];
}

const TABLE_ROWS = 25;

export class MediaPanel {
  readonly element: HTMLElement;
  private readonly urls: string[] = [];

  constructor(
    private readonly runPath: string,
    private readonly keys: MediaKey[],
    private readonly files: RunFiles,
  ) {
    this.element = h("div", { id: "media", class: "media-cards" });
  }

  render(): void {
    if (!this.keys.length) {
      replace(this.element, h("p", { class: "muted" }, "No images, tables, histograms or other media logged."));
      return;
    }
    const away =
      !this.files.here && this.keys.some((k) => k.type !== "histogram")
        ? h(
            "p",
            { class: "notice-text", id: "media-away" },
            this.files.folder
              ? `The run's files are on ${this.files.host ?? "its agent's machine"} in ${this.files.folder}; this dashboard's machine cannot read them, so only what the run logged about them is shown.`
              : "The run's agent did not say where its files are, so only what the run logged about them is shown.",
          )
        : null;
    replace(this.element, away, this.keys.map((k) => this.card(k)));
    this.element.setAttribute("data-keys", String(this.keys.length));
  }

  private card(item: MediaKey): HTMLElement {
    const body = h("div", { class: "media-body" });
    const stepBox = h("div", { class: "toolbar media-steps" });
    const card = h(
      "figure",
      { class: "media-card", "data-key": item.key, "data-type": item.type },
      h("figcaption", null, h("strong", null, item.key), h("span", { class: "muted small" }, ` ${item.type.replace(/-file$/, "")}`)),
      stepBox,
      body,
    );
    const show = (ref: MediaRef | MediaRef[], step: number | null) => {
      this.show(body, item, ref).catch((err) => replace(body, errorBox(err)));
      card.setAttribute("data-step", step === null ? "last" : String(step));
    };
    show(item.last, null);
    // Every step's value, for the slider (and a histogram's picture over steps).
    getJSON<StepsAnswer>(`${this.runPath}/media?key=${encodeURIComponent(item.key)}`)
      .then((answer) => {
        card.setAttribute("data-steps", String(answer.steps.length));
        if (item.type === "histogram" && answer.steps.length > 1) this.histogramOverSteps(card, answer);
        if (answer.steps.length < 2) return;
        const id = `steps-${item.key.replace(/[^\w-]/g, "_")}`;
        const label = h("output", { for: id, class: "small" });
        const slider = h("input", { type: "range", id, min: 0, max: answer.steps.length - 1, step: 1, value: answer.steps.length - 1 });
        const say = () => {
          const [step] = answer.steps[Number(slider.value)];
          label.textContent = `step ${step} (${Number(slider.value) + 1} of ${answer.steps.length}${answer.total > answer.steps.length ? `, sampled from ${answer.total}` : ""})`;
        };
        slider.addEventListener("input", say);
        slider.addEventListener("change", () => {
          const [step, ref] = answer.steps[Number(slider.value)];
          show(ref, step);
        });
        say();
        replace(stepBox, h("label", { for: id }, "Step"), slider, label);
      })
      .catch(() => undefined);
    return card;
  }

  private async blobUrl(path: string): Promise<string> {
    const blob = await getBlob(`${this.runPath}/file?path=${encodeURIComponent(path)}`);
    const url = URL.createObjectURL(blob);
    this.urls.push(url);
    return url;
  }

  private download(ref: MediaRef): HTMLElement | null {
    if (!ref.path || !this.files.here) return null;
    const path = ref.path;
    return h(
      "button",
      {
        type: "button",
        class: "ghost small",
        onclick: async () => {
          const blob = await getBlob(`${this.runPath}/file?path=${encodeURIComponent(path)}&download=1`);
          const url = URL.createObjectURL(blob);
          const a = h("a", { href: url, download: path.split("/").pop() ?? "file" });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 1000);
        },
      },
      "Download",
    );
  }

  private async show(body: HTMLElement, item: MediaKey, ref: MediaRef | MediaRef[]): Promise<void> {
    if (Array.isArray(ref)) {
      replace(body, h("div", { class: "gallery" }, await Promise.all(ref.map((r) => this.one(r, item.key)))));
      return;
    }
    replace(body, await this.one(ref, item.key));
  }

  /** One media value's view. */
  private async one(ref: MediaRef, key: string): Promise<HTMLElement> {
    const type = ref._type;
    const caption = ref.caption ? h("p", { class: "small" }, ref.caption) : null;
    if (type === "histogram") return this.histogram(ref);
    if (type === "table-file" || type === "chart") return this.table(type === "chart" ? ref.table ?? ref : ref, ref.title);
    const where = ref.path ? h("p", { class: "muted small" }, ref.path) : null;
    if (!ref.path || !this.files.here) return h("div", null, h("p", { class: "muted" }, describe(ref)), where);
    const suffix = ref.path.toLowerCase().split(".").pop() ?? "";
    if (type === "image-file" || (type === "video-file" && ["apng", "gif", "png", "webp"].includes(suffix))) {
      const img = h("img", {
        src: await this.blobUrl(ref.path),
        alt: ref.caption ?? `${key}${ref.width && ref.height ? `, ${ref.width}×${ref.height}` : ""}`,
        width: ref.width ?? null,
        height: ref.height ?? null,
        class: "media-image",
      });
      // Small pictures (a digit, a sample) are shown larger, by a whole factor, pixels kept sharp.
      if (ref.width && ref.width < 128) img.style.width = `${ref.width * Math.ceil(128 / ref.width)}px`;
      return h("div", { class: "media-one" }, img, caption);
    }
    if (type === "audio-file") return h("div", { class: "media-one" }, h("audio", { controls: true, src: await this.blobUrl(ref.path) }), caption);
    if (type === "video-file") return h("div", { class: "media-one" }, h("video", { controls: true, src: await this.blobUrl(ref.path), class: "media-image" }), caption);
    return h("div", null, h("p", { class: "muted" }, `${describe(ref)}: not shown in the dashboard.`), where, this.download(ref));
  }

  private histogram(ref: MediaRef): HTMLElement {
    const el = h("div", { class: "chart small-chart histogram" });
    const bins = ref.bins ?? [];
    const values = ref.values ?? [];
    // Bars: [left edge, right edge, count]
    const data = values.map((v, i) => [bins[i] ?? i, bins[i + 1] ?? (bins[i] ?? i) + 1, v ?? 0]);
    queueMicrotask(() => {
      const p = palette();
      const c: Chart = chart(el, "A histogram of the logged values");
      c.setOption({
        ...base(p),
        grid: { left: 48, right: 12, top: 16, bottom: 28 },
        tooltip: { show: true, trigger: "item", renderMode: "richText", confine: true },
        xAxis: { type: "value", scale: true, axisLabel: { color: p.muted, hideOverlap: true, formatter: (v: number) => num(v, 3) }, splitLine: { show: false } },
        yAxis: { type: "value", axisLabel: { color: p.muted }, splitLine: { lineStyle: { color: p.grid } } },
        series: [
          {
            type: "custom",
            data,
            encode: { x: [0, 1], y: 2 },
            renderItem: (_params: unknown, api: { value: (i: number) => number; coord: (v: number[]) => number[] }) => {
              const a = api.coord([api.value(0), api.value(2)]);
              const b = api.coord([api.value(1), 0]);
              return { type: "rect", shape: { x: a[0], y: a[1], width: Math.max(1, b[0] - a[0] - 1), height: b[1] - a[1] }, style: { fill: p.accent, opacity: 0.7 } };
            },
            tooltip: { formatter: (x: { data: number[] }) => `${num(x.data[0])} to ${num(x.data[1])}: ${num(x.data[2])}` },
          },
        ],
      });
      markDrawn(c, el);
    });
    el.setAttribute("data-bins", String(values.length));
    return el;
  }

  /** Every step's histogram as one picture: a column per step, darker where more values fell. */
  private histogramOverSteps(card: HTMLElement, answer: StepsAnswer): void {
    const el = h("div", { class: "chart histogram-steps", "data-steps": answer.steps.length });
    card.append(h("p", { class: "muted small" }, "Over steps (darker: more values):"), el);
    const p = palette();
    const cells: number[][] = [];
    answer.steps.forEach(([step, ref], i) => {
      if (Array.isArray(ref) || !ref.bins || !ref.values) return;
      const most = Math.max(1, ...ref.values.map((v) => v ?? 0));
      ref.values.forEach((v, b) => {
        const lo = ref.bins?.[b];
        const hi = ref.bins?.[b + 1];
        if (lo == null || hi == null || !v) return;
        cells.push([i, lo, hi, (v ?? 0) / most, step]);
      });
    });
    const c = chart(el, "The logged histograms over steps");
    c.setOption({
      ...base(p),
      grid: { left: 56, right: 12, top: 12, bottom: 32 },
      tooltip: { show: true, trigger: "item", renderMode: "richText", confine: true },
      xAxis: {
        type: "category",
        data: answer.steps.map(([s]) => String(s)),
        name: "step",
        nameLocation: "middle",
        nameGap: 22,
        axisLabel: { color: p.muted, hideOverlap: true },
      },
      yAxis: { type: "value", scale: true, axisLabel: { color: p.muted, formatter: (v: number) => num(v, 3) }, splitLine: { show: false } },
      series: [
        {
          type: "custom",
          data: cells,
          encode: { x: 0, y: [1, 2] },
          renderItem: (_params: unknown, api: { value: (i: number) => number; coord: (v: number[]) => number[]; size: (v: number[]) => number[] }) => {
            const top = api.coord([api.value(0), api.value(2)]);
            const bottom = api.coord([api.value(0), api.value(1)]);
            const width = api.size([1, 0])[0];
            return {
              type: "rect",
              shape: { x: top[0] - width / 2, y: top[1], width, height: Math.max(1, bottom[1] - top[1]) },
              style: { fill: p.accent, opacity: 0.1 + 0.9 * api.value(3) },
            };
          },
          tooltip: { formatter: (x: { data: number[] }) => `step ${x.data[4]}: ${num(x.data[1])} to ${num(x.data[2])}` },
        },
      ],
    });
    markDrawn(c, el);
  }

  private table(ref: MediaRef, title?: string): HTMLElement {
    const box = h("div", { class: "media-table" });
    if (!ref.path || !this.files.here) {
      box.append(h("p", { class: "muted" }, describe(ref)));
      return box;
    }
    const path = ref.path;
    const status = h("span", { class: "muted small table-status" });
    const prev = h("button", { type: "button", class: "table-prev" }, "Previous");
    const next = h("button", { type: "button", class: "table-next" }, "Next");
    const holder = h("div", { class: "scroll-x" });
    let offset = 0;
    let total = 0;
    const load = async () => {
      const page = await getJSON<TablePage>(`${this.runPath}/table?path=${encodeURIComponent(path)}&offset=${offset}&limit=${TABLE_ROWS}`);
      total = page.total;
      const rows = await Promise.all(
        page.rows.map(async (row) =>
          h("tr", null, await Promise.all(row.map(async (v) => h("td", { class: typeof v === "number" ? "num" : "" }, await this.cellView(v))))),
        ),
      );
      replace(
        holder,
        h(
          "table",
          { class: "list logged-table" },
          h("thead", null, h("tr", null, page.columns.map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, rows),
        ),
      );
      status.textContent = total ? `rows ${offset + 1}–${Math.min(total, offset + TABLE_ROWS)} of ${total.toLocaleString()}` : "no rows";
      prev.disabled = offset === 0;
      next.disabled = offset + TABLE_ROWS >= total;
      box.setAttribute("data-offset", String(offset));
      box.setAttribute("data-total", String(total));
    };
    prev.addEventListener("click", () => {
      offset = Math.max(0, offset - TABLE_ROWS);
      load().catch((err) => replace(holder, errorBox(err)));
    });
    next.addEventListener("click", () => {
      offset += TABLE_ROWS;
      load().catch((err) => replace(holder, errorBox(err)));
    });
    if (title) box.append(h("p", null, title));
    box.append(h("div", { class: "toolbar" }, prev, next, status), holder);
    load().catch((err) => replace(holder, errorBox(err)));
    return box;
  }

  /** A table cell: text, a number, or a media value (an image shown small). */
  private async cellView(value: unknown): Promise<Node | string> {
    if (value && typeof value === "object" && typeof (value as MediaRef)._type === "string") {
      const ref = value as MediaRef;
      if (ref._type === "image-file" && ref.path && this.files.here) {
        try {
          return h("img", { src: await this.blobUrl(ref.path), alt: ref.caption ?? "image", class: "cell-image" });
        } catch {
          return describe(ref);
        }
      }
      return describe(ref);
    }
    return typeof value === "number" ? num(value, 6) : text(value);
  }
}

/** A media value in a few words. */
export function describe(ref: MediaRef): string {
  const kind = ref._type.replace(/-file$/, "");
  const size = ref.width && ref.height ? ` ${ref.width}×${ref.height}` : ref.nrows !== undefined ? ` ${ref.nrows} rows × ${ref.ncols} columns` : "";
  return `${kind}${size}${ref.caption ? ` (${ref.caption})` : ""}`;
}

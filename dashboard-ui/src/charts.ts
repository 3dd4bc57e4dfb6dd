// ECharts, with only the parts the dashboard draws, on canvas (or SVG, when asked for: tests read its
// geometry, and it prints crisply); tooltips as canvas text (never HTML).

import { CustomChart, LineChart, LinesChart, ScatterChart } from "echarts/charts";
import {
  GridComponent,
  MarkLineComponent,
  ParallelComponent,
  TooltipComponent,
} from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer, SVGRenderer } from "echarts/renderers";
import { palette, type Palette } from "./theme";

echarts.use([
  CustomChart,
  LineChart,
  LinesChart,
  ScatterChart,
  GridComponent,
  MarkLineComponent,
  ParallelComponent,
  TooltipComponent,
  CanvasRenderer,
  SVGRenderer,
]);

/** "svg" when this browser asked for SVG charts (``localStorage["sweepkit-renderer"] = "svg"``). */
export function renderer(): "canvas" | "svg" {
  return localStorage.getItem("sweepkit-renderer") === "svg" ? "svg" : "canvas";
}

export type Chart = echarts.ECharts;
export type Option = echarts.EChartsCoreOption;

const charts = new Set<Chart>();
let resizeQueued = false;
window.addEventListener("resize", () => {
  if (resizeQueued) return;
  resizeQueued = true;
  requestAnimationFrame(() => {
    resizeQueued = false;
    charts.forEach((c) => c.resize());
  });
});

/** A chart in ``el``, which becomes an image for screen readers with ``label``. */
export function chart(el: HTMLElement, label: string): Chart {
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", label);
  const made = echarts.init(el, undefined, { renderer: renderer() });
  charts.add(made);
  return made;
}

export function dispose(c: Chart): void {
  charts.delete(c);
  c.dispose();
}

/** The options every chart shares: no animation, the page's colors, text-only tooltips. */
export function base(p: Palette = palette()): Option {
  return {
    animation: false,
    backgroundColor: "transparent",
    textStyle: { color: p.text, fontFamily: "inherit" },
    color: p.series,
    tooltip: { renderMode: "richText", confine: true },
  };
}

export function axisStyle(p: Palette): Record<string, unknown> {
  return {
    axisLine: { lineStyle: { color: p.muted } },
    axisLabel: { color: p.muted },
    splitLine: { lineStyle: { color: p.grid } },
    nameTextStyle: { color: p.text },
  };
}

/** Marks ``el`` drawn (for tests and the benchmark) once its chart has painted: how many times,
 *  and when last (milliseconds since the page started). */
export function markDrawn(c: Chart, el: HTMLElement): void {
  c.getZr().flush();
  el.setAttribute("data-drawn", String(Number(el.getAttribute("data-drawn") ?? "0") + 1));
  el.setAttribute("data-drawn-ms", String(Math.round(performance.now())));
}

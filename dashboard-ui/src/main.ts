// The dashboard's entry point: the theme, then the page the address names. Each page's code is its
// own chunk, loaded when needed; the sweep page's data is asked for before its chunk arrives.

import { ROOT } from "./api";
import { h, replace } from "./dom";
import { prefetch } from "./sweep/prefetch";
import { initTheme } from "./theme";

function failed(main: HTMLElement): () => void {
  return () => replace(main, h("p", { class: "error", role: "alert" }, "The dashboard's scripts could not be loaded; reload the page."));
}

function route(): void {
  initTheme(document.getElementById("theme") as HTMLButtonElement | null);
  const main = document.getElementById("main") as HTMLElement;
  let path = location.pathname;
  if (ROOT && path.startsWith(ROOT)) path = path.slice(ROOT.length);
  const sweep = /^\/sweeps\/([^/]+)\/?$/.exec(path);
  const run = /^\/runs\/([^/]+)\/?$/.exec(path);
  if (path === "/" || path === "") {
    import("./pages/sweeps").then((m) => m.sweepsPage(main), failed(main));
  } else if (sweep) {
    const id = decodeURIComponent(sweep[1]);
    const answers = prefetch(id);
    import("./pages/sweep").then((m) => m.sweepPage(main, id, answers), failed(main));
  } else if (run) {
    import("./pages/run").then((m) => m.runPage(main, decodeURIComponent(run[1])), failed(main));
  } else {
    replace(main, h("h1", null, "Not found"), h("p", null, "No page here."));
  }
}

route();

// The dashboard's entry point: the theme, then the page the address names.

import { ROOT } from "./api";
import { h, replace } from "./dom";
import { runPage } from "./pages/run";
import { sweepPage } from "./pages/sweep";
import { sweepsPage } from "./pages/sweeps";
import { initTheme } from "./theme";

function route(): void {
  initTheme(document.getElementById("theme") as HTMLButtonElement | null);
  const main = document.getElementById("main") as HTMLElement;
  let path = location.pathname;
  if (ROOT && path.startsWith(ROOT)) path = path.slice(ROOT.length);
  const sweep = /^\/sweeps\/([^/]+)\/?$/.exec(path);
  const run = /^\/runs\/([^/]+)\/?$/.exec(path);
  if (path === "/" || path === "") sweepsPage(main);
  else if (sweep) void sweepPage(main, decodeURIComponent(sweep[1]));
  else if (run) void runPage(main, decodeURIComponent(run[1]));
  else replace(main, h("h1", null, "Not found"), h("p", null, "No page here."));
}

route();

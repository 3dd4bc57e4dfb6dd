// What the sweep page's address keeps, so that a link reopens the same view: the runs compared
// (``?compare=3,7,12``) and how line charts draw (``key``, ``x``, ``log``, ``smooth``, ``outliers``).

import { MAX_COMPARED, type RunsModel } from "./model";

export function readAddress(model: RunsModel, search: string = location.search): void {
  const q = new URLSearchParams(search);
  const compare = (q.get("compare") ?? "")
    .split(",")
    .map((n) => Number(n))
    .filter((n) => Number.isInteger(n) && n > 0);
  model.selected = [...new Set(compare)].slice(0, MAX_COMPARED);
  const smooth = Number(q.get("smooth"));
  model.lines = {
    key: q.get("key") || model.lines.key,
    x: q.get("x") || model.lines.x,
    log: q.get("log") === "1",
    smoothing: Number.isFinite(smooth) ? Math.min(0.99, Math.max(0, smooth)) : 0,
    outliers: q.get("outliers") === "1",
  };
}

/** The page's address for the model's state now (replacing the current history entry). */
export function writeAddress(model: RunsModel, defaults: { key: string; x: string }): void {
  const q = new URLSearchParams();
  if (model.selected.length) q.set("compare", model.selected.join(","));
  const s = model.lines;
  if (s.key !== defaults.key) q.set("key", s.key);
  if (s.x !== defaults.x) q.set("x", s.x);
  if (s.log) q.set("log", "1");
  if (s.smoothing) q.set("smooth", String(s.smoothing));
  if (s.outliers) q.set("outliers", "1");
  const text = q.toString().replace(/%2C/g, ",");
  const url = `${location.pathname}${text ? `?${text}` : ""}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, "", url);
}

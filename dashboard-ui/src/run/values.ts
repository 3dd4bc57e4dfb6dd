// A run's config and summary as key/value lists, where long text arrives cut (the server sends its
// first characters and its size) and is shown whole only on request, in a box of its own that
// scrolls: a 10 MB logged string never makes the page itself millions of pixels tall.

import { getBlob } from "../api";
import { h, keyValues, type Child } from "../dom";
import { text } from "../format";

const CUT = "sweepkit-cut";
/** Characters of a cut text shown before its "Show all" button. */
const HEAD_SHOWN = 240;

interface Cut {
  _type: typeof CUT;
  head: string;
  size: number;
  path: (string | number)[];
}

function isCut(value: unknown): value is Cut {
  return typeof value === "object" && value !== null && (value as { _type?: unknown })._type === CUT;
}

function isMedia(value: unknown): boolean {
  const type = typeof value === "object" && value !== null ? (value as { _type?: unknown })._type : undefined;
  return typeof type === "string" && type !== CUT;
}

/** Nested groups as dotted keys; cut text and media references kept whole (they are values). */
function flat(value: Record<string, unknown>, prefix = ""): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [key, item] of Object.entries(value ?? {})) {
    const name = prefix + key;
    if (item && typeof item === "object" && !Array.isArray(item) && !isCut(item) && !isMedia(item) && Object.keys(item).length) {
      out.push(...flat(item as Record<string, unknown>, `${name}.`));
    } else {
      out.push([name, item]);
    }
  }
  return out;
}

/** A cut text: its start, its size, and a button that fetches it whole into a scrolling box. */
function cutText(value: Cut, runPath: string, where: "summary" | "config"): HTMLElement {
  const holder = h("span", { class: "long-text", "data-size": value.size });
  const show = h(
    "button",
    {
      type: "button",
      class: "show-all",
      onclick: async () => {
        show.disabled = true;
        show.textContent = "Loading…";
        try {
          const q = new URLSearchParams({ where, path: JSON.stringify(value.path) });
          const blob = await getBlob(`${runPath}/value?${q}`);
          const whole = await blob.text();
          const url = URL.createObjectURL(blob);
          holder.replaceChildren(
            h("pre", { class: "long", tabindex: 0, "aria-label": `${value.path.join(".")}, ${value.size} characters` }, whole),
            h("a", { href: url, download: `${value.path.join(".") || "value"}.txt` }, "Download"),
          );
        } catch (err) {
          show.disabled = false;
          show.textContent = `Show all ${value.size.toLocaleString()} characters`;
          holder.append(h("span", { class: "error" }, err instanceof Error ? err.message : String(err)));
        }
      },
    },
    `Show all ${value.size.toLocaleString()} characters`,
  );
  // Its first lines only: the page stays short; the rest is a click away.
  holder.append(h("span", { class: "head" }, value.head.slice(0, HEAD_SHOWN)), h("span", { class: "muted" }, " … "), show);
  return holder;
}

function mediaText(value: Record<string, unknown>): string {
  const kind = String(value._type).replace(/-file$/, "");
  return `[${kind}${value.path ? `: ${value.path}` : ""}] (see Media)`;
}

/** A run's config or summary as a definition list; long text cut, media named. */
export function valueList(value: Record<string, unknown>, label: string, runPath: string, where: "summary" | "config"): HTMLElement {
  const pairs: [string, Child][] = flat(value).map(([k, v]) => {
    if (isCut(v)) return [k, cutText(v, runPath, where)];
    if (isMedia(v)) return [k, mediaText(v as Record<string, unknown>)];
    if (Array.isArray(v) && v.length && v.every(isMedia)) return [k, `[${v.length} media] (see Media)`];
    return [k, text(v)];
  });
  return keyValues(pairs, label);
}

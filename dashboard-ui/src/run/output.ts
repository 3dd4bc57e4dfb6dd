// A run's printed output: its kept head and tail (the service keeps the first and the newest
// characters), new text appended as it comes, and a search: matches marked, the n-th of m in view,
// next and previous, or only the lines that match. Text is always text nodes and <mark> elements.

import { getJSON } from "../api";
import { h, replace } from "../dom";
import type { OutputPage } from "../types";

/** Matches marked at most (the count goes on). */
const MAX_MARKED = 2000;

export class OutputLog {
  readonly element: HTMLElement;
  readonly pre: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly count: HTMLElement;
  private readonly onlyLines: HTMLInputElement;
  private head = "";
  private tail = "";
  private skipped = 0;
  private size: number | null = null;
  private current = 0;
  private matches = 0;

  constructor(private readonly path: string) {
    this.pre = h("pre", { class: "log", id: "output", tabindex: 0, "aria-label": "Output" });
    this.search = h("input", {
      type: "search",
      id: "output-search",
      placeholder: "search the output",
      oninput: () => {
        this.current = 0;
        this.render(true);
      },
      onkeydown: (event: Event) => {
        const key = (event as KeyboardEvent).key;
        if (key === "Enter") {
          event.preventDefault();
          this.move((event as KeyboardEvent).shiftKey ? -1 : 1);
        }
      },
    });
    this.count = h("span", { class: "muted small", id: "output-count", "aria-live": "polite" });
    this.onlyLines = h("input", { type: "checkbox", id: "output-only", onchange: () => this.render(true) });
    this.element = h(
      "div",
      null,
      h(
        "div",
        { class: "toolbar" },
        h("label", { for: "output-search" }, "Search"),
        this.search,
        h("button", { type: "button", id: "output-prev", "aria-label": "Previous match", onclick: () => this.move(-1) }, "↑"),
        h("button", { type: "button", id: "output-next", "aria-label": "Next match", onclick: () => this.move(1) }, "↓"),
        this.count,
        h("label", { class: "check" }, this.onlyLines, " only matching lines"),
      ),
      this.pre,
    );
  }

  /** Reads what is new since the last read. */
  async read(): Promise<void> {
    const page = await getJSON<OutputPage>(`${this.path}/output${this.size === null ? "" : `?known=${this.size}`}`);
    const atBottom = this.pre.scrollTop + this.pre.clientHeight >= this.pre.scrollHeight - 8;
    if (page.append !== undefined) {
      if (!page.append) {
        this.size = page.size;
        return;
      }
      if (this.skipped) this.tail += page.append;
      else this.head += page.append;
      if (!this.search.value) this.pre.append(document.createTextNode(page.append));
    } else {
      this.head = page.head ?? "";
      this.tail = page.tail ?? "";
      this.skipped = page.skipped ?? 0;
    }
    this.size = page.size;
    if (page.append === undefined || this.search.value) this.render(false);
    if (!page.size) this.pre.setAttribute("data-empty", "1");
    else this.pre.removeAttribute("data-empty");
    this.pre.setAttribute("data-size", String(page.size));
    if (atBottom && !this.search.value) this.pre.scrollTop = this.pre.scrollHeight;
  }

  private parts(): { text: string; gap: boolean }[] {
    return this.skipped ? [{ text: this.head, gap: false }, { text: "", gap: true }, { text: this.tail, gap: false }] : [{ text: this.head, gap: false }];
  }

  /** Draws the output: whole, or with the search's matches marked (or only their lines). */
  private render(scroll: boolean): void {
    const query = this.search.value;
    const out: Node[] = [];
    let matches = 0;
    const needle = query.toLowerCase();
    for (const part of this.parts()) {
      if (part.gap) {
        out.push(h("span", { class: "muted" }, `\n[… ${this.skipped.toLocaleString()} characters not kept …]\n`));
        continue;
      }
      let body = part.text;
      if (query && this.onlyLines.checked) {
        body = body
          .split("\n")
          .filter((line) => line.toLowerCase().includes(needle))
          .join("\n");
        if (body) body += "\n";
      }
      if (!query) {
        out.push(document.createTextNode(body));
        continue;
      }
      const hay = body.toLowerCase();
      let at = 0;
      for (;;) {
        const found = hay.indexOf(needle, at);
        if (found < 0 || matches >= MAX_MARKED) break;
        out.push(document.createTextNode(body.slice(at, found)));
        out.push(h("mark", { class: matches === this.current ? "current" : "", "data-match": matches }, body.slice(found, found + query.length)));
        matches++;
        at = found + query.length;
      }
      out.push(document.createTextNode(body.slice(at)));
      // Count the rest without marking it.
      for (let i = hay.indexOf(needle, at); i >= 0 && needle; i = hay.indexOf(needle, i + needle.length)) matches++;
    }
    replace(this.pre, out);
    this.matches = matches;
    if (!query) this.count.textContent = "";
    else if (!matches) this.count.textContent = "no match";
    else {
      this.current = Math.min(this.current, Math.min(matches, MAX_MARKED) - 1);
      this.count.textContent = `${this.current + 1} of ${matches}${matches > MAX_MARKED ? ` (the first ${MAX_MARKED} marked)` : ""}`;
    }
    this.pre.setAttribute("data-matches", String(matches));
    if (scroll) this.reveal();
  }

  private move(by: number): void {
    const marked = Math.min(this.matches, MAX_MARKED);
    if (!marked) return;
    this.current = (this.current + by + marked) % marked;
    this.render(true);
  }

  private reveal(): void {
    const mark = this.pre.querySelector("mark.current") as HTMLElement | null;
    if (!mark) return;
    // Within the log's own box only (it is the mark's offset parent): the page does not jump.
    this.pre.scrollTop = mark.offsetTop - this.pre.clientHeight / 2;
  }
}

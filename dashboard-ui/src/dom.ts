// Building the page safely: every value from a run (names, config values, logged text) becomes a
// text node or an attribute value set through the DOM, never HTML. Nothing here parses markup.

export type Child = Node | string | number | null | undefined | false;
type Attr = string | number | boolean | null | undefined;
export type Attrs = Record<string, Attr | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (typeof value === "function") {
        el.addEventListener(key.replace(/^on/, ""), value as EventListener);
      } else if (value === true) {
        el.setAttribute(key, "");
      } else if (value !== false && value !== null && value !== undefined) {
        if (key === "style") throw new Error("inline styles are not allowed (CSP)");
        el.setAttribute(key, String(value));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function replace(el: Node, ...children: (Child | Child[])[]): void {
  clear(el);
  append(el, children);
}

/** A definition list of key/value pairs (both shown as text). */
export function keyValues(pairs: [string, Child][], label: string): HTMLElement {
  if (!pairs.length) return h("p", { class: "muted" }, "Nothing.");
  return h(
    "dl",
    { class: "kv", "aria-label": label },
    pairs.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
  );
}

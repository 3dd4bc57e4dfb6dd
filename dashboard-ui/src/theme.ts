// Light and dark: the system's choice unless the user picked one (kept in localStorage). Charts read
// their colors from the same CSS variables as the page, and redraw when the theme changes.

const KEY = "sweepkit-theme";
const listeners: (() => void)[] = [];

export function initTheme(button: HTMLButtonElement | null): void {
  const saved = localStorage.getItem(KEY);
  if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;
  const label = () => {
    if (button) button.textContent = isDark() ? "Light theme" : "Dark theme";
  };
  label();
  button?.addEventListener("click", () => {
    const next = isDark() ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem(KEY, next);
    label();
    listeners.forEach((fn) => fn());
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (!localStorage.getItem(KEY)) {
      label();
      listeners.forEach((fn) => fn());
    }
  });
}

export function isDark(): boolean {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === "dark") return true;
  if (chosen === "light") return false;
  return window.matchMedia("(prefers-color-scheme: dark)").matches;
}

export function onThemeChange(fn: () => void): void {
  listeners.push(fn);
}

export interface Palette {
  text: string;
  muted: string;
  grid: string;
  background: string;
  accent: string;
  good: string;
  bad: string;
  warn: string;
  series: string[];
  states: Record<string, string>;
  ramp: string[];
}

export function palette(): Palette {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    text: v("--text"),
    muted: v("--muted"),
    grid: v("--grid"),
    background: v("--bg"),
    accent: v("--accent"),
    good: v("--good"),
    bad: v("--bad"),
    warn: v("--warn"),
    series: [v("--s1"), v("--s2"), v("--s3"), v("--s4"), v("--s5"), v("--s6")],
    states: {
      running: v("--state-running"),
      finished: v("--state-finished"),
      killed: v("--state-killed"),
      failed: v("--state-failed"),
      crashed: v("--state-failed"),
      pending: v("--muted"),
      preempting: v("--warn"),
      preempted: v("--warn"),
    },
    ramp: [v("--ramp0"), v("--ramp1"), v("--ramp2")],
  };
}

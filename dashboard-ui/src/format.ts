// Numbers, times and values as short text.

export function num(value: unknown, digits = 4): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
    const abs = Math.abs(value);
    if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return value.toExponential(digits - 1);
    return String(Number(value.toPrecision(digits)));
  }
  return text(value);
}

/** Any value as one line of text: text as it is, everything else as JSON. */
export function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number") return num(value, 6);
  return JSON.stringify(value);
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  const hours = Math.floor(m / 60);
  return `${hours} h ${m % 60} min`;
}

export function when(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A flat list of dotted keys and values from nested objects. */
export function flatten(value: Record<string, unknown>, prefix = ""): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [key, item] of Object.entries(value ?? {})) {
    const name = prefix + key;
    if (item && typeof item === "object" && !Array.isArray(item) && Object.keys(item).length) {
      out.push(...flatten(item as Record<string, unknown>, `${name}.`));
    } else {
      out.push([name, item]);
    }
  }
  return out;
}

/** A config as YAML text (the shape users write sweep configs in). */
export function yaml(value: unknown, indent = ""): string {
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    if (value.every((v) => v === null || typeof v !== "object")) return `[${value.map(scalar).join(", ")}]`;
    return value
      .map((item) => {
        const inner = yaml(item, `${indent}  `);
        return `\n${indent}- ${inner.replace(/^\n\s*/, "")}`;
      })
      .join("");
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length) return "{}";
    return entries
      .map(([k, v]) => {
        const inner = yaml(v, `${indent}  `);
        const sep = inner.startsWith("\n") ? ":" : ": ";
        return `\n${indent}${scalarKey(k)}${sep}${inner}`;
      })
      .join("");
  }
  return scalar(value);
}

function scalarKey(key: string): string {
  return /^[A-Za-z_][\w.-]*$/.test(key) ? key : JSON.stringify(key);
}

function scalar(value: unknown): string {
  if (typeof value === "string") {
    const plain = /^[A-Za-z_./$][\w./${}:-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|~)$/i.test(value);
    return plain ? value : JSON.stringify(value);
  }
  if (value === null || value === undefined) return "null";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

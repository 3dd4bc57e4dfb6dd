// Talking to the dashboard's JSON endpoints: the mount point, the token, one clear error each.

import { h } from "./dom";

const rootMeta = document.querySelector('meta[name="sweepkit-root"]');
/** Where the dashboard is mounted ("" at the server's root). */
export const ROOT = rootMeta?.getAttribute("content") ?? "";
export const API = `${ROOT}/api/v1/dashboard`;
const TOKEN_KEY = "sweepkit-token";

export function pageUrl(path: string): string {
  return `${ROOT}${path}`;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

function headers(json: boolean): Headers {
  const out = new Headers({ Accept: "application/json" });
  const token = sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
  if (token) out.set("Authorization", `Bearer ${token}`);
  if (json) out.set("Content-Type", "application/json");
  return out;
}

async function answer(response: Response): Promise<Response> {
  if (response.ok) return response;
  let detail = `The server answered ${response.status} ${response.statusText}.`;
  try {
    const body = await response.json();
    if (body && typeof body.detail === "string") detail = body.detail;
  } catch {
    // not JSON: keep the status line
  }
  throw new ApiError(detail, response.status);
}

async function call(path: string, init: RequestInit): Promise<Response> {
  try {
    return await answer(await fetch(`${API}${path}`, { credentials: "same-origin", ...init }));
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError("The dashboard's server cannot be reached.", 0);
  }
}

export async function getJSON<T>(path: string): Promise<T> {
  return (await call(path, { headers: headers(false) })).json() as Promise<T>;
}

export async function postJSON<T>(path: string, body: unknown): Promise<T> {
  return (await call(path, { method: "POST", headers: headers(true), body: JSON.stringify(body) })).json() as Promise<T>;
}

export async function getBlob(path: string): Promise<Blob> {
  return (await call(path, { headers: headers(false) })).blob();
}

/** What a person who is asked for a token needs to know: what it is, where one comes from. */
function tokenHelp(): (string | HTMLElement)[] {
  return [
    "This sweepkit server shows its sweeps only to people with a token. Ask whoever runs the server for one; on the server's machine they make it with ",
    h("code", null, "sweepkit token create --scope read"),
    " (to watch sweeps) or ",
    h("code", null, "sweepkit token create --scope admin"),
    " (to also pause, stop and cancel them). The token is printed once; paste it here.",
  ];
}

/** The message of an error, and a form to give a token when the server asks for one. */
export function errorBox(err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof ApiError && (err.status === 401 || err.status === 403))) {
    return h("div", { class: "error", role: "alert" }, h("p", null, message));
  }
  const given = Boolean(sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY));
  const headline =
    err.status === 403
      ? "The token this browser gave does not allow this."
      : given
        ? "The token this browser gave is not accepted: give another."
        : "This dashboard needs a token to show its sweeps.";
  const box = h(
    "div",
    { class: "error", role: "alert" },
    h("p", null, h("strong", null, headline)),
    h("p", { class: "muted small" }, "The server said: ", message),
  );
  const input = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "off",
    "aria-describedby": "token-help",
  });
  const remember = h("input", { type: "checkbox", id: "remember" });
  const form = h(
    "form",
    {
      class: "token",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const value = input.value.trim();
        sessionStorage.removeItem(TOKEN_KEY);
        localStorage.removeItem(TOKEN_KEY);
        if (value) (remember.checked ? localStorage : sessionStorage).setItem(TOKEN_KEY, value);
        location.reload();
      },
    },
    h("p", { id: "token-help" }, ...tokenHelp()),
    h("label", { for: "token" }, "Token"),
    input,
    h("label", { class: "check" }, remember, " remember on this computer"),
    h("button", { type: "submit" }, "Use token"),
    h("p", { class: "muted small" }, "The token is sent with each of this page's requests to the server, and kept in this browser tab (or, when remembered, in this browser) — never in the page or its address."),
  );
  box.append(form);
  return box;
}

/** Calls ``tick`` now and then every ``ms`` while the page is visible; returns a stop function. */
export function every(ms: number, tick: () => Promise<unknown>): () => void {
  let timer = 0;
  let stopped = false;
  const loop = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try {
        await tick();
      } catch {
        // the page shows its own errors; keep polling
      }
    }
    if (!stopped) timer = window.setTimeout(loop, ms);
  };
  timer = window.setTimeout(loop, ms);
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

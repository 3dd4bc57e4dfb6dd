// A sweep's header: its facts (state, method, metric, best, runs, agents) and its controls. Which
// actions the sweep's state allows comes from the server (``actions``); whether this viewer may use
// them at all, from ``/access`` (a read-only token sees them disabled, with the reason next to them).

import { errorBox, getJSON, postJSON } from "../api";
import { badge, byState, progress, schedulerBadge } from "../common";
import { h, replace } from "../dom";
import { num, when } from "../format";
import type { SchedulerView, SweepSummary } from "../types";

/** Where the sweep's scheduler runs, when it was last heard from, and how to start one. */
function schedulerLine(s: SchedulerView): string {
  if (s.state === "waiting") return `start it with ${s.command}`;
  const where = `${s.host}, pid ${s.pid}, last heard from ${when(s.seen_at)}`;
  return s.state === "gone" ? `${where}: start ${s.command} again` : where;
}

const ACTIONS: Record<string, { label: string; asks: string }> = {
  pause: { label: "Pause", asks: "Pause the sweep? Agents start no new run until it is resumed; running runs go on." },
  resume: { label: "Resume", asks: "Resume the sweep? Agents start runs again." },
  stop: { label: "Stop", asks: "Stop the sweep? No new run starts; running runs finish." },
  cancel: {
    label: "Cancel",
    asks: "Cancel the sweep? No new run starts and every running run is asked to stop. It cannot be resumed.",
  },
};

export interface Access {
  control: boolean;
  reason: string | null;
}

export class SweepHeader {
  readonly facts: HTMLElement;
  readonly controls: HTMLElement;
  readonly status: HTMLElement;
  readonly errors: HTMLElement;
  readonly dialog: HTMLDialogElement;
  private readonly readOnly: HTMLElement;
  private readonly dialogText: HTMLElement;
  private readonly confirmButton: HTMLButtonElement;
  private pending: string | null = null;
  private access: Access = { control: true, reason: null };
  private last: SweepSummary | null = null;

  constructor(private readonly path: string) {
    this.facts = h("dl", { class: "facts" });
    this.controls = h("div", { class: "controls", role: "group", "aria-label": "Sweep controls" });
    this.readOnly = h("p", { class: "muted small read-only", id: "read-only", hidden: true });
    this.status = h("p", { class: "status", role: "status", "aria-live": "polite" });
    this.errors = h("div");
    this.dialogText = h("p", { id: "confirm-text" });
    this.confirmButton = h("button", { type: "submit", value: "yes", id: "confirm-yes", class: "danger" }, "Confirm");
    this.dialog = h(
      "dialog",
      { id: "confirm", "aria-labelledby": "confirm-text" },
      h(
        "form",
        { method: "dialog" },
        this.dialogText,
        h("div", { class: "buttons" }, h("button", { type: "submit", value: "no", id: "confirm-no" }, "Keep it as it is"), this.confirmButton),
      ),
    );
    this.dialog.addEventListener("close", () => this.confirmed());
  }

  /** Everything the header puts on the page, in order. */
  parts(): HTMLElement[] {
    return [this.facts, this.controls, this.readOnly, this.status, this.errors, this.dialog];
  }

  /** Asks the server whether this viewer may control sweeps. */
  async loadAccess(): Promise<void> {
    try {
      this.access = await getJSON<Access>("/access");
    } catch {
      this.access = { control: true, reason: null }; // a server without /access: controls answer for themselves
    }
    if (this.last) this.draw(this.last);
  }

  private async confirmed(): Promise<void> {
    const action = this.pending;
    this.pending = null;
    if (this.dialog.returnValue !== "yes" || !action) return;
    this.status.textContent = `${ACTIONS[action].label}…`;
    try {
      const summary = await postJSON<SweepSummary>(`${this.path}/control`, { action });
      this.status.textContent = `Sweep is ${summary.state}.`;
      this.draw(summary);
    } catch (err) {
      this.status.textContent = "";
      replace(this.errors, errorBox(err));
    }
  }

  draw(s: SweepSummary): void {
    this.last = s;
    const metric = s.metric;
    replace(
      this.facts,
      h("div", null, h("dt", null, "State"), h("dd", { id: "sweep-state" }, badge(s.state), s.state_reason ? h("span", { class: "muted" }, ` ${s.state_reason}`) : null)),
      h("div", null, h("dt", null, "Method"), h("dd", null, s.method)),
      h("div", null, h("dt", null, "Metric"), h("dd", null, metric ? `${metric.name} (${metric.goal})` : "none")),
      h("div", null, h("dt", null, "Best"), h("dd", { id: "sweep-best" }, metric ? num(s.best) || "–" : "–")),
      h("div", null, h("dt", null, "Runs"), h("dd", null, progress(s.run_count, s.planned_runs), " ", byState(s.runs_by_state))),
      s.scheduler ? h("div", null, h("dt", null, "Scheduler"), h("dd", { id: "sweep-scheduler" }, schedulerBadge(s.scheduler), " ", h("span", { class: "muted" }, schedulerLine(s.scheduler)))) : null,
      h("div", null, h("dt", null, "Live agents"), h("dd", { id: "sweep-agents" }, h("a", { href: "#agents" }, String(s.live_agents)))),
      h("div", null, h("dt", null, "Created"), h("dd", null, when(s.created_at))),
      h("div", null, h("dt", null, "ID"), h("dd", null, h("code", null, s.id))),
    );
    const { control } = this.access;
    const reason = (this.access.reason ?? "this token may not control sweeps").replace(/[.\s]+$/, "");
    replace(
      this.controls,
      Object.entries(ACTIONS).map(([action, info]) => {
        const allowed = s.actions.includes(action);
        const why = !control ? `Read-only: ${reason}` : allowed ? "" : `Not possible while the sweep is ${s.state}`;
        return h(
          "button",
          {
            type: "button",
            id: `control-${action}`,
            class: action === "cancel" ? "danger" : "",
            disabled: !control || !allowed,
            title: why || null,
            "aria-describedby": control ? null : "read-only",
            onclick: () => {
              this.pending = action;
              this.dialogText.textContent = info.asks;
              this.confirmButton.textContent = info.label;
              replace(this.errors);
              this.dialog.showModal();
            },
          },
          info.label,
        );
      }),
    );
    this.readOnly.hidden = control;
    if (!control) {
      replace(
        this.readOnly,
        "Read-only: ",
        reason,
        ". Pausing, resuming, stopping and cancelling need a token with the admin scope (",
        h("code", null, "sweepkit token create --scope admin"),
        ", on the server's machine).",
      );
    }
  }
}

// What the status bar item says for the server's state and the running quick test. Pure.
import type { QuickTestStatus } from "./protocol";

export type ServerState = "starting" | "running" | "stopped" | "missing" | "error";

export interface StatusView {
  text: string;
  tooltip: string;
  /** "error" or "warning" tints the item; undefined leaves the default colours. */
  severity?: "error" | "warning";
}

const SERVER_TEXT: Record<ServerState, { icon: string; label: string; severity?: "error" | "warning" }> = {
  starting: { icon: "$(loading~spin)", label: "starting" },
  running: { icon: "$(check)", label: "ready" },
  stopped: { icon: "$(circle-slash)", label: "stopped", severity: "warning" },
  missing: { icon: "$(warning)", label: "server not found", severity: "error" },
  error: { icon: "$(error)", label: "server error", severity: "error" },
};

export function formatPercent(percent: number | undefined): string {
  if (percent === undefined || !Number.isFinite(percent)) {
    return "";
  }
  return ` ${Math.round(Math.min(100, Math.max(0, percent)))}%`;
}

export function statusView(server: ServerState, test?: QuickTestStatus): StatusView {
  const s = SERVER_TEXT[server];
  const base: StatusView = {
    text: `${s.icon} sflow`,
    tooltip: `sflow language server: ${s.label}`,
  };
  if (s.severity) {
    base.severity = s.severity;
    base.text = `${s.icon} sflow: ${s.label}`;
  }
  if (!test) {
    return base;
  }
  const detail = test.message ? ` — ${test.message}` : "";
  switch (test.status) {
    case "PENDING":
      return { ...base, text: `$(clock) sflow: quick test queued`, tooltip: `${base.tooltip}\nQuick test ${test.testId} is queued${detail}` };
    case "RUNNING":
      return {
        ...base,
        text: `$(sync~spin) sflow: quick test${formatPercent(test.percent)}`,
        tooltip: `${base.tooltip}\nQuick test ${test.testId} is running${detail}\nClick to cancel it.`,
      };
    case "COMPLETED":
      return { ...base, text: `$(pass) sflow: quick test done`, tooltip: `${base.tooltip}\nQuick test ${test.testId} completed${detail}` };
    case "FAILED":
      return { ...base, text: `$(error) sflow: quick test failed`, tooltip: `${base.tooltip}\nQuick test ${test.testId} failed${detail}`, severity: "error" };
    case "CANCELLED":
      return { ...base, text: `$(circle-slash) sflow: quick test cancelled`, tooltip: `${base.tooltip}\nQuick test ${test.testId} was cancelled${detail}` };
  }
}

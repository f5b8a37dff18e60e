// The sflow server contract as the client sees it: command ids, argument shapes and result types.
// Pure types and guards; no `vscode` import.

/** Commands the server executes through workspace/executeCommand (and offers as code lenses). */
export const ServerCommands = {
  generateCode: "sflow.generateCode",
  runQuickTest: "sflow.runQuickTest",
  cancelQuickTest: "sflow.cancelQuickTest",
  screen: "sflow.screen",
  restoreSession: "sflow.restoreSession",
  showHistory: "sflow.showHistory",
} as const;

/** The custom notification the server sends while a quick test runs. */
export const QuickTestStatusNotification = "sflow/quickTestStatus";

export type QuickTestState = "PENDING" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";

export interface QuickTestStatus {
  testId: string;
  status: QuickTestState;
  percent?: number;
  message?: string;
  reportPath?: string;
}

export interface GenerateCodeResult {
  path: string;
  code?: string;
  validationStatus?: string;
}

export interface QuickTestResult {
  testId: string;
  status: QuickTestState;
  strategy?: string;
  test?: string;
  config?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  series?: { dates?: string[]; equity?: (number | null)[]; benchmark?: (number | null)[]; drawdown?: (number | null)[] };
  trades?: Record<string, unknown>[];
  error?: string;
}

export interface RunQuickTestResponse {
  testId: string;
  status: QuickTestState;
  reportPath?: string;
  result?: QuickTestResult;
  message?: string;
}

export interface ScreenRow {
  ticker: string;
  passed: boolean;
  score: number | null;
  classification?: string | null;
}

export interface ScreenResult {
  runId: string;
  rows: ScreenRow[];
  date?: string;
  strategy?: string;
}

export interface RestoreSessionResult {
  text: string;
  savedAt: string;
}

export interface HistoryResult {
  generations: Record<string, unknown>[];
  quickTests: Record<string, unknown>[];
}

/** Metric keys whose presence marks a bare metrics summary (the server's `metrics_summary`). */
const SUMMARY_KEYS = ["annualized_return", "information_ratio", "max_drawdown", "cumulative_return", "trade_count"];

/**
 * The report to render from a quick test's `result`, which is either the full result JSON or only its
 * metrics summary (a flat record of numbers); undefined when there is nothing to show.
 */
export function toQuickTestResult(value: unknown, testId: string, status: QuickTestState): QuickTestResult | undefined {
  if (!isRecord(value)) {
    return undefined;
  }
  if (isRecord(value.metrics) || isRecord(value.series) || Array.isArray(value.trades)) {
    return { ...(value as Partial<QuickTestResult>), testId: typeof value.testId === "string" ? value.testId : testId, status: typeof value.status === "string" ? (value.status as QuickTestState) : status };
  }
  if (SUMMARY_KEYS.some((k) => k in value)) {
    return { testId, status, metrics: value };
  }
  return undefined;
}

/** Whether a report holds everything the full report page shows (metrics and series). */
export function isFullReport(r: QuickTestResult | undefined): boolean {
  return !!r && isRecord(r.metrics) && isRecord(r.series);
}

/** Files that may hold the full result JSON of a report at `reportPath` (itself, or a sibling .json). */
export function reportJsonCandidates(reportPath: string): string[] {
  if (/\.json$/i.test(reportPath)) {
    return [reportPath];
  }
  const stem = reportPath.replace(/\.[^./\\]+$/, "");
  const dir = reportPath.replace(/[^/\\]*$/, "");
  return [...new Set([`${stem}.json`, `${dir}result.json`, `${dir}report.json`])];
}

export const TERMINAL_STATES: readonly QuickTestState[] = ["COMPLETED", "FAILED", "CANCELLED"];

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isQuickTestStatus(value: unknown): value is QuickTestStatus {
  return isRecord(value) && typeof value.testId === "string" && typeof value.status === "string";
}

export function isGenerateCodeResult(value: unknown): value is GenerateCodeResult {
  return isRecord(value) && typeof value.path === "string" && value.path.length > 0;
}

export function isRunQuickTestResponse(value: unknown): value is RunQuickTestResponse {
  return isRecord(value) && typeof value.testId === "string" && typeof value.status === "string";
}

export function isScreenResult(value: unknown): value is ScreenResult {
  return isRecord(value) && Array.isArray(value.rows);
}

export function isRestoreSessionResult(value: unknown): value is RestoreSessionResult {
  return isRecord(value) && typeof value.text === "string";
}

export function isHistoryResult(value: unknown): value is HistoryResult {
  return isRecord(value) && (Array.isArray(value.generations) || Array.isArray(value.quickTests));
}

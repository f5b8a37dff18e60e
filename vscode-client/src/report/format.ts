// Labels and number formats for quick-test metrics, trades and config values. Pure.

export type ValueKind = "percent" | "ratio" | "integer" | "money" | "number";

interface MetricSpec {
  label: string;
  kind: ValueKind;
  /** Coloured by sign (gains green, losses red); counts and rates are not. */
  signed?: boolean;
}

/** Known metrics in display order; unknown keys are shown after them with the key as label. */
export const METRICS: Record<string, MetricSpec> = {
  annualized_return: { label: "Annualized return", kind: "percent", signed: true },
  cumulative_return: { label: "Cumulative return", kind: "percent", signed: true },
  information_ratio: { label: "Information ratio", kind: "ratio", signed: true },
  max_drawdown: { label: "Max drawdown", kind: "percent", signed: true },
  mean: { label: "Mean daily return", kind: "percent", signed: true },
  std: { label: "Daily return std", kind: "percent" },
  excess_annualized_return: { label: "Excess annualized return", kind: "percent", signed: true },
  excess_information_ratio: { label: "Excess information ratio", kind: "ratio", signed: true },
  excess_max_drawdown: { label: "Excess max drawdown", kind: "percent", signed: true },
  turnover: { label: "Turnover", kind: "percent" },
  win_rate: { label: "Win rate", kind: "percent" },
  trade_count: { label: "Trades", kind: "integer" },
  fill_rate: { label: "Fill rate", kind: "percent" },
};

export const CONFIG_LABELS: Record<string, string> = {
  start: "Start",
  end: "End",
  universe: "Universe",
  benchmark: "Benchmark",
  account: "Account",
  open_cost: "Open cost",
  close_cost: "Close cost",
  deal_price: "Deal price",
};

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export function isNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function group(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function formatNumber(v: number, digits: number): string {
  const fixed = Math.abs(v).toFixed(digits);
  const [i = "0", f] = fixed.split(".");
  const sign = v < 0 && Number(fixed) !== 0 ? "-" : "";
  return sign + group(i) + (f ? `.${f}` : "");
}

/** Any JSON value as display text: strings as they are, objects as JSON, null/undefined as `fallback`. */
export function textOf(v: unknown, fallback = ""): string {
  if (v === null || v === undefined) {
    return fallback;
  }
  if (typeof v === "string") {
    return v;
  }
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") {
    return v.toString();
  }
  return JSON.stringify(v);
}

export function formatValue(v: unknown, kind: ValueKind): string {
  if (!isNumber(v)) {
    return textOf(v, "—");
  }
  switch (kind) {
    case "percent":
      return `${formatNumber(v * 100, 2)}%`;
    case "ratio":
      return formatNumber(v, 3);
    case "integer":
      return formatNumber(Math.round(v), 0);
    case "money":
      return formatNumber(v, 2);
    case "number":
      return Number.isInteger(v) ? formatNumber(v, 0) : String(Number(v.toPrecision(6)));
  }
}

/** Turns an unknown key such as `sortino_ratio` into a row label: the key itself, as the contract asks. */
export interface MetricRow {
  key: string;
  label: string;
  value: string;
  raw: unknown;
  signed: boolean;
}

export function metricRows(metrics: Record<string, unknown>): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const [key, spec] of Object.entries(METRICS)) {
    if (key in metrics) {
      rows.push({ key, label: spec.label, value: formatValue(metrics[key], spec.kind), raw: metrics[key], signed: spec.signed ?? false });
    }
  }
  for (const [key, raw] of Object.entries(metrics)) {
    if (!(key in METRICS)) {
      rows.push({ key, label: key, value: formatValue(raw, "number"), raw, signed: false });
    }
  }
  return rows;
}

export function configRows(config: Record<string, unknown>): { label: string; value: string }[] {
  const rows: { label: string; value: string }[] = [];
  const kinds: Record<string, ValueKind> = { account: "money", open_cost: "number", close_cost: "number" };
  for (const [key, label] of Object.entries(CONFIG_LABELS)) {
    if (key in config) {
      rows.push({ label, value: formatValue(config[key], kinds[key] ?? "number") });
    }
  }
  for (const [key, raw] of Object.entries(config)) {
    if (!(key in CONFIG_LABELS)) {
      rows.push({ label: key, value: formatValue(raw, "number") });
    }
  }
  return rows;
}

// Builds the webview pages: the quick-test report (metrics, config, equity/benchmark and drawdown
// charts, trades), screen results, history and plain messages. Pure: returns HTML strings with a strict
// content security policy (no scripts, styles only by nonce, no network) and no external assets.
import type { HistoryResult, QuickTestResult, ScreenResult } from "../protocol";
import { isRecord } from "../protocol";
import { growthOrRaw, renderLineChart } from "./charts";
import { configRows, escapeHtml, formatNumber, formatValue, isNumber, metricRows, textOf } from "./format";

export interface PageOptions {
  /** Nonce of the page's one <style> element (a fresh random value per render). */
  nonce: string;
}

export const MAX_TRADES = 500;

export function contentSecurityPolicy(nonce: string): string {
  return `default-src 'none'; style-src 'nonce-${nonce}'; img-src data:; font-src 'none'; script-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'; frame-src 'none'`;
}

const STYLE = `
body { font-family: var(--vscode-font-family, sans-serif); font-size: var(--vscode-font-size, 13px);
  color: var(--vscode-foreground, #333); background: var(--vscode-editor-background, #fff); padding: 0 20px 24px; }
h1 { font-size: 1.5em; margin: 16px 0 4px; }
h2 { font-size: 1.15em; margin: 22px 0 8px; border-bottom: 1px solid var(--vscode-panel-border, #8884); padding-bottom: 4px; }
.subtitle { color: var(--vscode-descriptionForeground, #777); margin: 0 0 8px; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.85em; font-weight: 600;
  background: var(--vscode-badge-background, #ddd); color: var(--vscode-badge-foreground, #333); }
.status-FAILED, .status-error { background: var(--vscode-inputValidation-errorBackground, #f88); }
.grid { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid var(--vscode-panel-border, #8882); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.pos { color: var(--vscode-testing-iconPassed, #2a2); }
.neg { color: var(--vscode-testing-iconFailed, #c33); }
.note, .empty { color: var(--vscode-descriptionForeground, #777); }
.error { color: var(--vscode-errorForeground, #c33); white-space: pre-wrap; }
.chart { max-width: 900px; display: block; margin: 8px 0; }
.chart-title { font-weight: 600; fill: currentColor; font-size: 13px; }
.chart-tick, .chart-legend, .chart-empty { fill: currentColor; font-size: 11px; opacity: 0.8; }
.chart-grid { stroke: currentColor; stroke-opacity: 0.12; }
.chart-axis { stroke: currentColor; stroke-opacity: 0.5; }
.chart-line { stroke-width: 1.6; fill: none; }
.chart-line-0 { stroke: var(--vscode-charts-blue, #1a85ff); }
.chart-line-1 { stroke: var(--vscode-charts-orange, #d18616); }
.chart-line-2 { stroke: var(--vscode-charts-red, #e51400); }
.chart-area.chart-line-2 { fill: var(--vscode-charts-red, #e51400); fill-opacity: 0.18; stroke: none; }
`;

export function page(title: string, body: string, opts: PageOptions): string {
  const nonce = escapeHtml(opts.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function signClass(v: unknown): string {
  return isNumber(v) ? (v > 0 ? "pos" : v < 0 ? "neg" : "") : "";
}

function table(headers: string[], rows: string[][], numeric: boolean[] = []): string {
  const head = headers.map((h, i) => `<th${numeric[i] ? ' class="num"' : ""}>${escapeHtml(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.join("")}</tr>`).join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function cell(text: string, cls = ""): string {
  return `<td${cls ? ` class="${cls}"` : ""}>${escapeHtml(text)}</td>`;
}

function percentAxis(v: number): string {
  return `${formatNumber(v * 100, Math.abs(v) < 0.1 ? 1 : 0)}%`;
}

/** The full quick-test report. */
export function renderReportHtml(result: QuickTestResult, opts: PageOptions): string {
  const name = [result.strategy, result.test].filter(Boolean).join(" / ") || "Quick test";
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(name)}</h1>`);
  const cfg = isRecord(result.config) ? result.config : {};
  const span = cfg.start !== undefined || cfg.end !== undefined ? `${textOf(cfg.start, "?")} → ${textOf(cfg.end, "?")}` : "";
  parts.push(
    `<p class="subtitle"><span class="status status-${escapeHtml(result.status)}">${escapeHtml(result.status)}</span> ` +
      `quick test ${escapeHtml(result.testId)}${span ? ` · ${escapeHtml(span)}` : ""}</p>`,
  );
  if (result.error) {
    parts.push(`<p class="error">${escapeHtml(result.error)}</p>`);
  }

  const metrics = isRecord(result.metrics) ? result.metrics : {};
  const mrows = metricRows(metrics);
  const crows = configRows(cfg);
  parts.push('<div class="grid">');
  parts.push(
    `<section id="metrics"><h2>Metrics</h2>${
      mrows.length
        ? table(
            ["Metric", "Value"],
            mrows.map((r) => [`<td data-key="${escapeHtml(r.key)}">${escapeHtml(r.label)}</td>`, cell(r.value, r.signed ? `num ${signClass(r.raw)}`.trim() : "num")]),
            [false, true],
          )
        : '<p class="empty">No metrics.</p>'
    }</section>`,
  );
  if (crows.length) {
    parts.push(
      `<section id="config"><h2>Configuration</h2>${table(["Setting", "Value"], crows.map((r) => [cell(r.label), cell(r.value, "num")]), [false, true])}</section>`,
    );
  }
  parts.push("</div>");

  const series = isRecord(result.series) ? result.series : {};
  const dates = Array.isArray(series.dates) ? series.dates.map(String) : [];
  const equity = Array.isArray(series.equity) ? series.equity : [];
  const bench = Array.isArray(series.benchmark) ? series.benchmark : [];
  const dd = Array.isArray(series.drawdown) ? series.drawdown : [];
  // Account values are drawn as growth of 1 so equity and benchmark share an axis; series that are
  // already returns (starting at 0) are drawn as they are.
  const eq = growthOrRaw(equity);
  const bm = growthOrRaw(bench);
  const bothGrowth = eq.normalized && (bm.normalized || !bench.length);
  const chartSeries = [{ name: "Strategy", values: bothGrowth ? eq.values : equity.map((v) => (isNumber(v) ? v : null)), cssClass: "chart-line-0" }];
  if (bench.length) {
    chartSeries.push({ name: "Benchmark", values: bothGrowth ? bm.values : bench.map((v) => (isNumber(v) ? v : null)), cssClass: "chart-line-1" });
  }
  parts.push('<section id="charts"><h2>Equity</h2>');
  parts.push(
    renderLineChart({
      title: bothGrowth ? "Equity vs benchmark (growth of 1)" : "Equity vs benchmark",
      dates,
      series: chartSeries,
      yFormat: (v) => formatNumber(v, 2),
    }),
  );
  parts.push(
    renderLineChart({
      title: "Drawdown",
      dates,
      series: [{ name: "Drawdown", values: dd, cssClass: "chart-line-2" }],
      yFormat: percentAxis,
      area: true,
      height: 180,
    }),
  );
  parts.push("</section>");

  const trades = Array.isArray(result.trades) ? result.trades.filter(isRecord) : [];
  parts.push(`<section id="trades"><h2>Trades (${trades.length})</h2>`);
  if (trades.length) {
    const shown = trades.slice(0, MAX_TRADES);
    parts.push(
      table(
        ["Instrument", "Entry", "Exit", "Entry price", "Exit price", "Amount", "Return", "Reason"],
        shown.map((t) => [
          cell(textOf(t.instrument, "")),
          cell(textOf(t.entry_date, "")),
          cell(textOf(t.exit_date, "—")),
          cell(formatValue(t.entry_price, "money"), "num"),
          cell(formatValue(t.exit_price, "money"), "num"),
          cell(formatValue(t.amount, "number"), "num"),
          cell(formatValue(t.return, "percent"), `num ${signClass(t.return)}`.trim()),
          cell(textOf(t.reason, "")),
        ]),
        [false, false, false, true, true, true, true, false],
      ),
    );
    if (trades.length > shown.length) {
      parts.push(`<p class="note">Showing the first ${shown.length} of ${trades.length} trades.</p>`);
    }
  } else {
    parts.push('<p class="empty">No trades.</p>');
  }
  parts.push("</section>");
  return page(`Quick test: ${name}`, parts.join("\n"), opts);
}

/** Screen results: one row per ticker. */
export function renderScreenHtml(result: ScreenResult, opts: PageOptions): string {
  const rows = result.rows.filter(isRecord);
  const passed = rows.filter((r) => r.passed).length;
  const title = `Screen${result.strategy ? `: ${result.strategy}` : ""}`;
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="subtitle">run ${escapeHtml(result.runId)}${result.date ? ` · ${escapeHtml(result.date)}` : ""} · ${passed} of ${rows.length} passed</p>`,
    rows.length
      ? table(
          ["Ticker", "Passed", "Score", "Classification"],
          rows.map((r) => [
            cell(textOf(r.ticker)),
            cell(r.passed ? "yes" : "no", r.passed ? "pos" : ""),
            cell(formatValue(r.score, "number"), "num"),
            cell(textOf(r.classification)),
          ]),
          [false, false, true, false],
        )
      : '<p class="empty">No rows.</p>',
  ].join("\n");
  return page(title, body, opts);
}

/** A history cell: nested metrics as "Label value · …" (first four), anything else as text. */
function historyValue(v: unknown): string {
  if (isRecord(v)) {
    return metricRows(v)
      .slice(0, 4)
      .map((r) => `${r.label} ${r.value}`)
      .join(" · ");
  }
  return formatValue(v, "number");
}

function genericTable(items: Record<string, unknown>[]): string {
  if (!items.length) {
    return '<p class="empty">Nothing yet.</p>';
  }
  const keys: string[] = [];
  for (const it of items) {
    for (const k of Object.keys(it)) {
      if (!keys.includes(k)) {
        keys.push(k);
      }
    }
  }
  const numeric = keys.map((k) => items.every((it) => it[k] === undefined || it[k] === null || isNumber(it[k])));
  return table(
    keys,
    items.map((it) => keys.map((k, i) => cell(historyValue(it[k]), numeric[i] ? "num" : ""))),
    numeric,
  );
}

/** Code generations and quick tests of a document. */
export function renderHistoryHtml(history: HistoryResult, docName: string, opts: PageOptions): string {
  const gens = Array.isArray(history.generations) ? history.generations.filter(isRecord) : [];
  const tests = Array.isArray(history.quickTests) ? history.quickTests.filter(isRecord) : [];
  const body = [
    `<h1>History of ${escapeHtml(docName)}</h1>`,
    `<section id="generations"><h2>Code generations (${gens.length})</h2>${genericTable(gens)}</section>`,
    `<section id="quick-tests"><h2>Quick tests (${tests.length})</h2>${genericTable(tests)}</section>`,
  ].join("\n");
  return page(`sflow history: ${docName}`, body, opts);
}

export function renderMessageHtml(title: string, message: string, opts: PageOptions, isError = false): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p class="${isError ? "error" : "note"}">${escapeHtml(message)}</p>`, opts);
}

// Unit tests: the quick-test report, screen and history pages (content, CSP, escaping, no network).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import type { QuickTestResult } from "../../src/protocol";
import { growthOrRaw, niceTicks, normalize, renderLineChart, sampleIndexes } from "../../src/report/charts";
import { escapeHtml, formatValue, metricRows } from "../../src/report/format";
import {
  contentSecurityPolicy,
  MAX_TRADES,
  renderHistoryHtml,
  renderMessageHtml,
  renderReportHtml,
  renderScreenHtml,
} from "../../src/report/html";

const FIXTURE = path.resolve(__dirname, "../../../test/fixtures/quick-test-result.json");
const fixture = (): QuickTestResult => JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as QuickTestResult;
const opts = { nonce: "abc123" };

/** Every http(s) URL in a page: a webview report must load nothing from the network. */
function urls(html: string): string[] {
  return html.match(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/gi) ?? [];
}

function assertSafePage(html: string): void {
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(csp, "CSP meta tag present");
  assert.match(csp[1] ?? "", /default-src 'none'/);
  assert.match(csp[1] ?? "", /script-src 'none'/);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<[^>]*\son[a-z]+=/i, "no inline event handlers");
  assert.doesNotMatch(html, /<[^>]*\sstyle=/i, "no inline style attributes (the CSP blocks them)");
  assert.deepEqual(urls(html), []);
  assert.match(html, /<style nonce="abc123">/);
}

describe("renderReportHtml", () => {
  const html = renderReportHtml(fixture(), opts);
  it("is a safe page: CSP, no scripts, no network URLs", () => {
    assertSafePage(html);
  });
  it("shows the known metrics with labels and formats", () => {
    assert.match(html, /<td data-key="annualized_return">Annualized return<\/td><td class="num pos">12\.34%<\/td>/);
    assert.match(html, /<td data-key="information_ratio">Information ratio<\/td><td class="num pos">1\.052<\/td>/);
    assert.match(html, /<td data-key="trade_count">Trades<\/td><td class="num">12<\/td>/);
    assert.match(html, /Max drawdown<\/td><td class="num neg">-\d+\.\d\d%/);
  });
  it("shows unknown metrics with the key as label", () => {
    assert.match(html, /<td data-key="sortino_ratio">sortino_ratio<\/td><td class="num">1\.41<\/td>/);
  });
  it("shows the config, both charts and the trades", () => {
    assert.match(html, /Account<\/td><td class="num">100,000,000\.00<\/td>/);
    assert.equal((html.match(/<svg class="chart"/g) ?? []).length, 2);
    assert.match(html, /class="chart-line chart-line-0"[^>]*points="[\d., ]+"/);
    assert.match(html, /class="chart-line chart-line-1"/);
    assert.match(html, /class="chart-area chart-line-2"/);
    assert.match(html, /Trades \(12\)/);
    assert.match(html, /<td>SH600000<\/td>/);
    assert.match(html, /<td>stop_loss<\/td>/);
  });
  it("escapes everything that comes from the result", () => {
    const evil = { ...fixture(), strategy: "<img src=x onerror=alert(1)>", metrics: { "<b>k</b>": "<script>" } };
    const page = renderReportHtml(evil, opts);
    assertSafePage(page);
    assert.ok(!page.includes("<img"));
    assert.match(page, /&lt;img src=x onerror=alert\(1\)&gt;/);
    assert.match(page, /&lt;b&gt;k&lt;\/b&gt;/);
  });
  it("survives a minimal result (no series, trades or metrics)", () => {
    const page = renderReportHtml({ testId: "t", status: "FAILED", error: "boom" }, opts);
    assertSafePage(page);
    assert.match(page, /No metrics\./);
    assert.match(page, /No data/);
    assert.match(page, /No trades\./);
    assert.match(page, /class="error">boom</);
  });
  it("draws return series that start at 0 as they are", () => {
    const r = fixture();
    r.series = { dates: ["2021-01-04", "2021-01-05", "2021-01-06"], equity: [0, 0.01, 0.03], benchmark: [0, -0.01, 0.02], drawdown: [0, 0, 0] };
    const page = renderReportHtml(r, opts);
    assert.match(page, /aria-label="Equity vs benchmark"/);
    assert.match(page, /class="chart-line chart-line-0" fill="none" points="[\d.]+,[\d.]+ [\d.]+,[\d.]+ [\d.]+,[\d.]+"/);
  });
  it("draws account values as growth of 1", () => {
    assert.match(renderReportHtml(fixture(), opts), /aria-label="Equity vs benchmark \(growth of 1\)"/);
  });
  it("caps the trade list", () => {
    const r = fixture();
    const t = r.trades?.[0] ?? {};
    r.trades = Array.from({ length: MAX_TRADES + 7 }, () => t);
    const page = renderReportHtml(r, opts);
    assert.match(page, new RegExp(`Showing the first ${MAX_TRADES} of ${MAX_TRADES + 7} trades`));
    assert.equal((page.match(/<td>SH600000<\/td>/g) ?? []).length, MAX_TRADES);
  });
});

describe("other pages", () => {
  it("renders screen rows", () => {
    const html = renderScreenHtml(
      { runId: "r1", date: "2021-12-30", rows: [{ ticker: "SH600000", passed: true, score: 0.25, classification: "BUY" }, { ticker: "SZ000001", passed: false, score: null }] },
      opts,
    );
    assertSafePage(html);
    assert.match(html, /1 of 2 passed/);
    assert.match(html, /<td>SH600000<\/td><td class="pos">yes<\/td><td class="num">0\.25<\/td><td>BUY<\/td>/);
  });
  it("renders history tables with the union of keys", () => {
    const html = renderHistoryHtml(
      { generations: [{ id: "g1", codeHash: "ab" }, { id: "g2", validationStatus: "passed" }], quickTests: [] },
      "a.sflow",
      opts,
    );
    assertSafePage(html);
    assert.match(html, /<th>id<\/th><th>codeHash<\/th><th>validationStatus<\/th>/);
    assert.match(html, /Quick tests \(0\)[\s\S]*Nothing yet/);
    const tests = renderHistoryHtml(
      { generations: [], quickTests: [{ testId: "t1", metrics: { annualized_return: 0.1, max_drawdown: -0.05 } }] },
      "a.sflow",
      opts,
    );
    assert.match(tests, /<td>Annualized return 10\.00% · Max drawdown -5\.00%<\/td>/);
  });
  it("renders messages escaped", () => {
    const html = renderMessageHtml("Oops", "<x>", opts, true);
    assertSafePage(html);
    assert.match(html, /class="error">&lt;x&gt;</);
  });
  it("has a CSP that forbids everything but nonce styles and data images", () => {
    assert.equal(
      contentSecurityPolicy("n"),
      "default-src 'none'; style-src 'nonce-n'; img-src data:; font-src 'none'; script-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'; frame-src 'none'",
    );
  });
});

describe("format and charts", () => {
  it("formats values by kind", () => {
    assert.equal(formatValue(0.12345, "percent"), "12.35%");
    assert.equal(formatValue(-0.0000001, "percent"), "0.00%");
    assert.equal(formatValue(1234567.891, "money"), "1,234,567.89");
    assert.equal(formatValue(null, "ratio"), "—");
    assert.equal(formatValue("x", "ratio"), "x");
    assert.equal(formatValue(1 / 3, "number"), "0.333333");
    assert.equal(escapeHtml(`<"'&>`), "&lt;&quot;&#39;&amp;&gt;");
  });
  it("orders known metrics first, unknown after", () => {
    assert.deepEqual(metricRows({ zeta: 1, win_rate: 0.5, annualized_return: 0.1 }).map((r) => r.label), [
      "Annualized return",
      "Win rate",
      "zeta",
    ]);
  });
  it("samples long series and keeps both ends", () => {
    const idx = sampleIndexes(10000, 600);
    assert.ok(idx.length <= 600);
    assert.equal(idx[0], 0);
    assert.equal(idx[idx.length - 1], 9999);
    assert.deepEqual(sampleIndexes(3, 600), [0, 1, 2]);
  });
  it("normalizes to the first positive value", () => {
    assert.deepEqual(normalize([null, 2, 4, null]), [null, 1, 2, null]);
    assert.deepEqual(normalize([0, -1]), [null, null]);
    assert.deepEqual(growthOrRaw([0, -1, null]), { values: [0, -1, null], normalized: false });
    assert.deepEqual(growthOrRaw([2, 3]), { values: [1, 1.5], normalized: true });
  });
  it("makes nice ticks", () => {
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(niceTicks(3, 3), [3]);
  });
  it("breaks lines at gaps", () => {
    const svg = renderLineChart({ title: "t", dates: ["a", "b", "c", "d", "e"], series: [{ name: "s", values: [1, 2, null, 3, 4], cssClass: "chart-line-0" }] });
    assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  });
});

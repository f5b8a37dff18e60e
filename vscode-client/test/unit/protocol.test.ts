// Unit tests: reading the server's quick-test answers (full result, metrics summary, report paths).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isFullReport, reportJsonCandidates, toQuickTestResult } from "../../src/protocol";

describe("toQuickTestResult", () => {
  it("keeps a full result and fills in a missing id and status", () => {
    const r = toQuickTestResult({ metrics: { win_rate: 0.5 }, series: { dates: [] } }, "t1", "COMPLETED");
    assert.ok(r);
    assert.equal(r.testId, "t1");
    assert.equal(r.status, "COMPLETED");
    assert.ok(isFullReport(r));
  });
  it("wraps a bare metrics summary", () => {
    const r = toQuickTestResult({ annualized_return: 0.1, max_drawdown: -0.2 }, "t2", "COMPLETED");
    assert.deepEqual(r, { testId: "t2", status: "COMPLETED", metrics: { annualized_return: 0.1, max_drawdown: -0.2 } });
    assert.ok(!isFullReport(r));
  });
  it("rejects what is not a result", () => {
    assert.equal(toQuickTestResult(null, "t", "FAILED"), undefined);
    assert.equal(toQuickTestResult("x", "t", "FAILED"), undefined);
    assert.equal(toQuickTestResult({ foo: 1 }, "t", "FAILED"), undefined);
  });
});

describe("reportJsonCandidates", () => {
  it("uses a JSON report as it is", () => {
    assert.deepEqual(reportJsonCandidates("/r/qt-1.json"), ["/r/qt-1.json"]);
  });
  it("looks beside an HTML report", () => {
    assert.deepEqual(reportJsonCandidates("/r/qt-1.html"), ["/r/qt-1.json", "/r/result.json", "/r/report.json"]);
    assert.deepEqual(reportJsonCandidates("/r/qt-1/report.html"), ["/r/qt-1/report.json", "/r/qt-1/result.json"]);
  });
});

// Unit tests: the status bar text for server states and quick-test progress.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPercent, statusView } from "../../src/status";

describe("statusView", () => {
  it("shows the server state", () => {
    assert.equal(statusView("running").text, "$(check) sflow");
    assert.equal(statusView("running").severity, undefined);
    assert.match(statusView("missing").text, /server not found/);
    assert.equal(statusView("missing").severity, "error");
    assert.match(statusView("starting").text, /loading~spin/);
  });
  it("shows a running quick test's percent and offers cancel", () => {
    const v = statusView("running", { testId: "t1", status: "RUNNING", percent: 41.6, message: "2021-03-01" });
    assert.equal(v.text, "$(sync~spin) sflow: quick test 42%");
    assert.match(v.tooltip, /t1 is running — 2021-03-01/);
    assert.match(v.tooltip, /cancel/);
  });
  it("shows terminal states", () => {
    assert.match(statusView("running", { testId: "t", status: "COMPLETED" }).text, /done/);
    assert.equal(statusView("running", { testId: "t", status: "FAILED" }).severity, "error");
    assert.match(statusView("running", { testId: "t", status: "CANCELLED" }).text, /cancelled/);
    assert.match(statusView("running", { testId: "t", status: "PENDING" }).text, /queued/);
  });
  it("clamps percents", () => {
    assert.equal(formatPercent(undefined), "");
    assert.equal(formatPercent(NaN), "");
    assert.equal(formatPercent(140), " 100%");
    assert.equal(formatPercent(-3), " 0%");
  });
});

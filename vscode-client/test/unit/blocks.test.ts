// Unit tests: finding the strategy/test block under the cursor.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blockAt, findBlocks, quickTestTargetAt, strategyAt } from "../../src/blocks";

const TEXT = `# header
strategy golden_cross "Golden" {
    fast = sma($close, period=5)
}

test last_year for golden_cross {
    period 1Y
}
strategy other {
}
`;

describe("blocks", () => {
  it("finds every header with its line", () => {
    assert.deepEqual(findBlocks(TEXT), [
      { kind: "strategy", name: "golden_cross", line: 1 },
      { kind: "test", name: "last_year", strategy: "golden_cross", line: 5 },
      { kind: "strategy", name: "other", line: 8 },
    ]);
  });
  it("picks the block at or above the cursor, else the first", () => {
    assert.equal(blockAt(TEXT, 0)?.name, "golden_cross");
    assert.equal(blockAt(TEXT, 2)?.name, "golden_cross");
    assert.equal(blockAt(TEXT, 6)?.name, "last_year");
    assert.equal(blockAt(TEXT, 9)?.name, "other");
    assert.equal(blockAt("", 0), undefined);
  });
  it("maps a test block to its strategy for code generation", () => {
    assert.equal(strategyAt(TEXT, 6), "golden_cross");
    assert.equal(strategyAt(TEXT, 9), "other");
    assert.equal(quickTestTargetAt(TEXT, 6), "last_year");
    assert.equal(quickTestTargetAt(TEXT, 2), "golden_cross");
  });
  it("handles CRLF line ends", () => {
    assert.equal(blockAt(TEXT.replace(/\n/g, "\r\n"), 6)?.name, "last_year");
  });
});

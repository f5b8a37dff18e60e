// Finds the `strategy` and `test` blocks of a .sflow text by their header lines, so a command run
// from the palette can name the block under the cursor. Pure; the server does the real parsing.

export interface Block {
  kind: "strategy" | "test";
  name: string;
  /** For a test block: the strategy it runs. */
  strategy?: string;
  /** 0-based line of the header. */
  line: number;
}

const HEADER = /^\s*(strategy|test)\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+for\s+([A-Za-z_][A-Za-z0-9_]*))?/;

export function findBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  text.split(/\r?\n/).forEach((lineText, line) => {
    const m = HEADER.exec(lineText);
    if (m) {
      const kind = m[1] === "strategy" ? "strategy" : "test";
      const block: Block = { kind, name: m[2] ?? "", line };
      if (kind === "test" && m[3]) {
        block.strategy = m[3];
      }
      blocks.push(block);
    }
  });
  return blocks;
}

/** The block whose header is at or above `line` (the last one above it), or the first block. */
export function blockAt(text: string, line: number): Block | undefined {
  const blocks = findBlocks(text);
  let found: Block | undefined;
  for (const b of blocks) {
    if (b.line <= line) {
      found = b;
    }
  }
  return found ?? blocks[0];
}

/** The strategy to generate for the block at `line`: the block itself, or the test's strategy. */
export function strategyAt(text: string, line: number): string | undefined {
  const b = blockAt(text, line);
  if (!b) {
    return undefined;
  }
  return b.kind === "strategy" ? b.name : b.strategy;
}

/** The name to quick-test at `line`: a test block's name, or a strategy's name. */
export function quickTestTargetAt(text: string, line: number): string | undefined {
  return blockAt(text, line)?.name;
}

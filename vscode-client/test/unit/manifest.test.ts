// Unit tests: package.json, grammar, snippets and language configuration agree with the code.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { SETTINGS_QUERY } from "../../src/serverCommand";

const ROOT = path.resolve(__dirname, "../../..");
const read = (p: string): string => fs.readFileSync(path.join(ROOT, p), "utf8");
interface Manifest {
  name: string;
  publisher: string;
  main: string;
  contributes: {
    commands: { command: string }[];
    configuration: { properties: Record<string, unknown> };
    languages: { id: string; extensions: string[]; configuration: string }[];
    grammars: { path: string; scopeName: string }[];
    snippets: { path: string }[];
  };
}
const pkg = JSON.parse(read("package.json")) as Manifest;

describe("manifest", () => {
  it("registers exactly the contributed commands", () => {
    const src = read("src/commands.ts");
    const registered = [...src.matchAll(/reg\("([\w.]+)"/g)].map((m) => m[1]).sort();
    const contributed = pkg.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(registered, contributed);
    for (const id of contributed) {
      assert.ok(!/^sflow\.(generateCode|runQuickTest|cancelQuickTest|screen|restoreSession|showHistory)$/.test(id), `${id} would clash with the server's command`);
    }
  });
  it("declares every setting the client reads", () => {
    const src = read("src/serverCommand.ts");
    const read_ = [...src.matchAll(/get\("([\w.]+)"\)/g)].map((m) => `sflow.${m[1] ?? ""}`);
    assert.ok(read_.length >= 9);
    for (const key of read_) {
      assert.ok(key in pkg.contributes.configuration.properties, `${key} is contributed`);
    }
  });
  it("opens the settings editor on this extension's id", () => {
    assert.equal(SETTINGS_QUERY, `@ext:${pkg.publisher}.${pkg.name}`);
  });
  it("points at files that exist and parse", () => {
    const lang = pkg.contributes.languages[0];
    assert.equal(lang?.id, "sflow");
    assert.deepEqual(lang.extensions, [".sflow"]);
    const conf = JSON.parse(read(lang.configuration)) as { comments: { lineComment: string }; wordPattern: string };
    assert.equal(conf.comments.lineComment, "#");
    const word = new RegExp(conf.wordPattern, "g");
    assert.deepEqual("x = sma($close, 2021-12-30, 1_000.5)".match(word), ["x", "sma", "$close", "2021-12-30", "1_000.5"]);
    const grammar = JSON.parse(read(pkg.contributes.grammars[0]?.path ?? "")) as { scopeName: string };
    assert.equal(grammar.scopeName, "source.sflow");
    const snippets = JSON.parse(read(pkg.contributes.snippets[0]?.path ?? "")) as Record<string, { prefix: string[] }>;
    assert.ok(Object.values(snippets).some((s) => s.prefix.includes("strategy")));
    assert.ok(Object.values(snippets).some((s) => s.prefix.includes("test")));
    assert.equal(pkg.main, "./dist/extension.js");
  });
  it("references no network asset", () => {
    for (const f of ["package.json", "language-configuration.json", "syntaxes/sflow.tmLanguage.json", "snippets/sflow.code-snippets"]) {
      assert.doesNotMatch(read(f), /https?:\/\//, f);
    }
  });
});

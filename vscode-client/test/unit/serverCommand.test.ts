// Unit tests: settings → the language server's command line, environment and initialization options.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildServerLaunch,
  expandHome,
  initializationOptions,
  missingServerMessage,
  normalizeSettings,
  resolveExecutable,
} from "../../src/serverCommand";

const settings = (values: Record<string, unknown>) => normalizeSettings((k) => values[k]);

describe("normalizeSettings", () => {
  it("applies defaults for missing or wrongly typed values", () => {
    const s = settings({ "server.args": "nope", diagnosticsDebounceMs: -3, "trace.server": "loud", "server.env": [1] });
    assert.equal(s.command, "sflow-lsp");
    assert.equal(s.python, "");
    assert.deepEqual(s.args, []);
    assert.deepEqual(s.env, {});
    assert.equal(s.diagnosticsDebounceMs, 300);
    assert.equal(s.trace, "off");
  });
  it("keeps valid values, trimmed", () => {
    const s = settings({
      "server.python": " /opt/py/bin/python ",
      "server.args": ["--log-level", "debug", 3],
      "server.env": { A: "1", B: 2 },
      databaseUrl: "sqlite:////tmp/x.db",
      diagnosticsDebounceMs: 50,
      "trace.server": "verbose",
    });
    assert.equal(s.python, "/opt/py/bin/python");
    assert.deepEqual(s.args, ["--log-level", "debug"]);
    assert.deepEqual(s.env, { A: "1" });
    assert.equal(s.databaseUrl, "sqlite:////tmp/x.db");
    assert.equal(s.diagnosticsDebounceMs, 50);
    assert.equal(s.trace, "verbose");
  });
});

describe("buildServerLaunch", () => {
  it("runs sflow-lsp --stdio by default", () => {
    const l = buildServerLaunch(settings({}), { PATH: "/usr/bin" }, "/home/u");
    assert.equal(l.kind, "command");
    assert.equal(l.command, "sflow-lsp");
    assert.deepEqual(l.args, ["--stdio"]);
    assert.equal(l.env.PATH, "/usr/bin");
    assert.equal(l.display, "sflow-lsp --stdio");
  });
  it("runs <python> -m sflow.server --stdio when a Python is configured", () => {
    const l = buildServerLaunch(settings({ "server.python": "~/venv/bin/python", "server.command": "ignored" }), {}, "/home/u");
    assert.equal(l.kind, "python");
    assert.equal(l.command, "/home/u/venv/bin/python");
    assert.deepEqual(l.args, ["-m", "sflow.server", "--stdio"]);
  });
  it("appends extra args once and never duplicates --stdio", () => {
    const l = buildServerLaunch(settings({ "server.command": "/x/sflow-lsp", "server.args": ["--stdio", "--log", "a b"] }), {}, "/h");
    assert.deepEqual(l.args, ["--stdio", "--log", "a b"]);
    assert.equal(l.display, "/x/sflow-lsp --stdio --log 'a b'");
  });
  it("passes database, user and qlib data through the environment; explicit env wins", () => {
    const l = buildServerLaunch(
      settings({ databaseUrl: "postgresql://db/sflow", userId: "alice", qlibDataPath: "~/qd", "server.env": { SFLOW_USER: "bob" } }),
      { SFLOW_DATABASE_URL: "old", UNSET: undefined },
      "/home/u",
    );
    assert.equal(l.env.SFLOW_DATABASE_URL, "postgresql://db/sflow");
    assert.equal(l.env.SFLOW_USER, "bob");
    assert.equal(l.env.SFLOW_QLIB_DATA, "/home/u/qd");
    assert.equal(l.env.PYTHONUNBUFFERED, "1");
    assert.ok(!("UNSET" in l.env));
  });
  it("leaves the inherited environment alone when settings are empty", () => {
    const l = buildServerLaunch(settings({}), { SFLOW_DATABASE_URL: "sqlite:///a.db" }, "/h");
    assert.equal(l.env.SFLOW_DATABASE_URL, "sqlite:///a.db");
    assert.ok(!("SFLOW_USER" in l.env));
  });
});

describe("initializationOptions", () => {
  it("uses the sflow section's camelCase keys", () => {
    const o = initializationOptions(settings({ databaseUrl: "d", qlibDataPath: "q", userId: "u", diagnosticsDebounceMs: 10, "trace.server": "messages" }));
    assert.deepEqual(o, { databaseUrl: "d", qlibDataPath: "q", userId: "u", diagnosticsDebounceMs: 10, trace: { server: "messages" } });
  });
});

describe("resolveExecutable", () => {
  const files = new Set(["/usr/local/bin/sflow-lsp", "/opt/py/bin/python", "C:\\Py\\Scripts\\sflow-lsp.EXE"]);
  const exists = (f: string) => files.has(f);
  it("looks a bare name up on PATH in order", () => {
    assert.equal(resolveExecutable("sflow-lsp", { PATH: "/usr/bin::/usr/local/bin" }, exists, "linux"), "/usr/local/bin/sflow-lsp");
  });
  it("returns undefined when not on PATH", () => {
    assert.equal(resolveExecutable("sflow-lsp", { PATH: "/usr/bin" }, exists, "linux"), undefined);
    assert.equal(resolveExecutable("", { PATH: "/usr/local/bin" }, exists, "linux"), undefined);
  });
  it("checks a path directly, without PATH", () => {
    assert.equal(resolveExecutable("/opt/py/bin/python", {}, exists, "linux"), "/opt/py/bin/python");
    assert.equal(resolveExecutable("/opt/py/bin/python3", { PATH: "/opt/py/bin" }, exists, "linux"), undefined);
  });
  it("tries PATHEXT on Windows", () => {
    assert.equal(resolveExecutable("sflow-lsp", { Path: "C:\\Py\\Scripts", PATHEXT: ".EXE;.CMD" }, exists, "win32"), "C:\\Py\\Scripts\\sflow-lsp.EXE");
  });
});

describe("expandHome and missingServerMessage", () => {
  it("expands ~ and ${userHome}", () => {
    assert.equal(expandHome("~", "/h"), "/h");
    assert.equal(expandHome("~/a", "/h"), "/h/a");
    assert.equal(expandHome("${userHome}/b", "/h"), "/h/b");
    assert.equal(expandHome("/abs/~x", "/h"), "/abs/~x");
  });
  it("names the setting to change", () => {
    const py = buildServerLaunch(settings({ "server.python": "/nope/python" }), {}, "/h");
    assert.match(missingServerMessage(py), /sflow\.server\.python/);
    assert.match(missingServerMessage(py), /\/nope\/python/);
    const cmd = buildServerLaunch(settings({}), {}, "/h");
    assert.match(missingServerMessage(cmd), /sflow-lsp.*not found on PATH/);
    const abs = buildServerLaunch(settings({ "server.command": "/opt/x/sflow-lsp" }), {}, "/h");
    assert.match(missingServerMessage(abs), /"\/opt\/x\/sflow-lsp" was not found\. /);
  });
});

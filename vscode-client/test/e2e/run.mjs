// End-to-end test of the extension in a real VS Code: installs the built .vsix into code-server, opens a
// scratch folder of .sflow files in headless Chromium (playwright-core) and checks what a user sees.
// Server-dependent steps run only with SFLOW_E2E_SERVER=1 (and SFLOW_E2E_PYTHON = a Python with sflow).
// Screenshots of every step go to <repo>/.artifacts/vscode-e2e/<no-server|mock|server>/. Exit code 1 when any step fails.
//
// Environment:
//   SFLOW_CODE_SERVER_ENTRY  code-server's out/node/entry.js (default: the cache of scripts/vscode-e2e-install.sh)
//   SFLOW_E2E_VSIX           the extension package (default: vscode-client/sflow.vsix)
//   SFLOW_E2E_CHROMIUM       browser executable (default: /usr/bin/chromium)
//   SFLOW_E2E_SERVER=1       also run the steps that need the sflow language server
//   SFLOW_E2E_SERVER=mock    the same steps against test/e2e/mock_server.py (a contract stand-in)
//   SFLOW_E2E_PYTHON         Python that has sflow installed (default: <repo>/.venv/bin/python)
//   SFLOW_E2E_QLIB_DATA      qlib data for the quick test (default: `sflow data demo` into the scratch folder)
//   SFLOW_E2E_KEEP=1         keep the scratch folder
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLIENT = path.resolve(HERE, "../..");
const REPO = path.resolve(CLIENT, "..");
const MODE = process.env.SFLOW_E2E_SERVER === "mock" ? "mock" : process.env.SFLOW_E2E_SERVER === "1" ? "server" : "no-server";
const ARTIFACTS = path.join(REPO, ".artifacts", "vscode-e2e", MODE);
const CS_VERSION = process.env.SFLOW_CODE_SERVER_VERSION ?? "4.100.3";
const ENTRY =
  process.env.SFLOW_CODE_SERVER_ENTRY ??
  path.join(process.env.SFLOW_E2E_CACHE ?? path.join(os.homedir(), ".cache", "sflow-e2e"),
    `code-server-${CS_VERSION}`, "node_modules", "code-server", "out", "node", "entry.js");
const VSIX = process.env.SFLOW_E2E_VSIX ?? path.join(CLIENT, "sflow.vsix");
const CHROMIUM = process.env.SFLOW_E2E_CHROMIUM ?? "/usr/bin/chromium";
// "1": the real server (SFLOW_E2E_PYTHON -m sflow.server); "mock": test/e2e/mock_server.py, a stand-in
// that speaks the same contract, to exercise the client's server-dependent paths on their own.
const MOCK = MODE === "mock";
const WITH_SERVER = MODE !== "no-server";
const PYTHON = process.env.SFLOW_E2E_PYTHON ?? path.join(REPO, ".venv", "bin", "python");

const GOLDEN = `# Golden cross with an RSI filter
strategy golden_cross "Golden cross on CSI300" {
    universe  csi300
    benchmark SH000300

    fast   = sma($close, period=5)
    slow   = sma($close, period=20)
    rsi14  = rsi($close, period=14)
    golden = cross_above(fast, slow)
    m      = macd($close)
    hot    = qlib("Mean($close, 5) / Ref($close, 5)")

    buy  = signal(golden and rsi14 < 70, score=fast / slow - 1)
    sell = signal(cross_below(fast, slow) or m.hist < 0)
    book = topk(buy, sell, k=30, n_drop=5)
    stop_loss(book, pct=0.08)
    take_profit(book, pct=0.25)
}

test last_quarter for golden_cross {
    period     3M          # counted back from the last trading day of the data
    account    100_000_000
    open_cost  0.0005
    close_cost 0.0015
}
`;

const BROKEN = `# An unknown template: the server reports it with a did-you-mean
strategy broken "Typo" {
    universe csi300
    fast = smaa($close, period=5)
    buy  = signal(fast > 0)
    book = topk(buy, k=10, n_drop=2)
}
`;

const COMPLETION = `strategy typing "Completion playground" {
    universe csi300

}
`;

/** Template names the server library has (DESIGN §4); completion must offer some of them. */
const TEMPLATES = ["sma", "ema", "wma", "std", "rsi", "macd", "bollinger", "atr", "roc", "momentum", "volume_ratio",
  "highest", "lowest", "ref", "delta", "zscore", "cross_above", "cross_below", "rising", "falling", "between",
  "signal", "topk", "equal_weight", "stop_loss", "trailing_stop", "take_profit"];

const results = [];
let stepNo = 0;
let page;

function log(msg) {
  process.stdout.write(`${msg}\n`);
}

async function screenshot(name) {
  if (!page) {
    return;
  }
  try {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
  } catch (err) {
    log(`# screenshot ${name} failed: ${err.message}`);
  }
}

/** Runs one named check; a failure is recorded and the run goes on. */
async function step(name, fn) {
  stepNo += 1;
  const id = `${String(stepNo).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase()}`;
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    log(`ok ${stepNo} - ${name} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  } catch (err) {
    results.push({ name, ok: false, error: String(err?.message ?? err) });
    log(`not ok ${stepNo} - ${name}\n  # ${String(err?.message ?? err).split("\n").join("\n  # ")}`);
  }
  await screenshot(id);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Thrown inside a waitFor callback to stop waiting at once. */
class Abort extends Error {}

async function waitFor(fn, what, timeoutMs, intervalMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) {
        return v;
      }
    } catch (err) {
      if (err instanceof Abort) {
        throw err;
      }
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${last.message})` : ""}`);
}

function expect(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

/** A PATH without any directory that holds sflow-lsp, so the "server missing" path is exercised. */
function pathWithoutServer() {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((d) => d && !fs.existsSync(path.join(d, "sflow-lsp")))
    .join(path.delimiter);
}

async function runPalette(title) {
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+Shift+P");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(`>${title}`);
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
  await row.waitFor({ state: "visible", timeout: 10000 });
  await page.keyboard.press("Enter");
}

/** Closes every editor and group, so the next file opens alone. */
async function closeAllEditors() {
  await runPalette("View: Close All Editor Groups");
  // Unsaved scratch edits: do not save them.
  const dontSave = page.locator(".monaco-dialog-box .monaco-button", { hasText: /Don't Save/ });
  if (await dontSave.first().isVisible({ timeout: 1500 }).catch(() => false)) {
    await dontSave.first().click();
  }
  await page.waitForTimeout(300);
}

async function openFile(name) {
  const row = page.locator(".explorer-folders-view .monaco-list-row", { hasText: name }).first();
  if (await row.count()) {
    await row.click();
  } else {
    await page.keyboard.press("Control+P");
    await page.keyboard.type(name);
    await page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().waitFor({ timeout: 10000 });
    await page.keyboard.press("Enter");
  }
  await page.locator(".editor-group-container.active .tabs-container .tab.active", { hasText: name }).first().waitFor({ timeout: 15000 });
  await page.locator(".editor-instance .monaco-editor .view-lines").first().waitFor({ timeout: 15000 });
}

/** The text and colour of every coloured run in the visible editor lines. */
async function editorRuns() {
  return page.evaluate(() => {
    const editor = document.querySelector(".editor-group-container.active .monaco-editor .view-lines");
    if (!editor) {
      return [];
    }
    return [...editor.querySelectorAll(".view-line span span")].map((s) => ({
      text: (s.textContent ?? "").replace(/\u00a0/g, " "),
      color: getComputedStyle(s).color,
      cls: s.className,
    }));
  });
}

/** The frame of a webview whose document contains `text`. */
async function webviewFrameWith(text) {
  for (const frame of page.frames()) {
    try {
      if (frame === page.mainFrame()) {
        continue;
      }
      if ((await frame.locator(`text=${text}`).count()) > 0) {
        return frame;
      }
    } catch {
      // A frame that navigated away while we looked.
    }
  }
  return undefined;
}

async function statusItemText() {
  return page.evaluate(() => {
    const item = [...document.querySelectorAll(".statusbar-item")].find((e) => e.id.endsWith("sflow.status"));
    return item ? `${item.textContent ?? ""}|${item.innerHTML}` : "";
  });
}

async function main() {
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  expect(fs.existsSync(ENTRY), `code-server not found at ${ENTRY} (run scripts/vscode-e2e-install.sh)`);
  expect(fs.existsSync(VSIX), `extension package not found at ${VSIX} (run npm run package)`);
  expect(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sflow-e2e-"));
  const dirs = Object.fromEntries(
    ["home", "user-data", "extensions", "workspace", "profile", "xdg-config", "xdg-data", "xdg-cache"].map((d) => [d, path.join(scratch, d)]),
  );
  for (const d of Object.values(dirs)) {
    fs.mkdirSync(d, { recursive: true });
  }
  const ws = dirs.workspace;
  fs.writeFileSync(path.join(ws, "golden_cross.sflow"), GOLDEN);
  fs.writeFileSync(path.join(ws, "broken.sflow"), BROKEN);
  fs.writeFileSync(path.join(ws, "completion.sflow"), COMPLETION);
  fs.copyFileSync(path.join(CLIENT, "test", "fixtures", "quick-test-result.json"), path.join(ws, "quick-test-result.json"));

  const env = {
    ...process.env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs["xdg-config"],
    XDG_DATA_HOME: dirs["xdg-data"],
    XDG_CACHE_HOME: dirs["xdg-cache"],
    SFLOW_HOME: path.join(scratch, "sflow-home"),
  };
  delete env.VSCODE_IPC_HOOK_CLI;
  if (!WITH_SERVER) {
    env.PATH = pathWithoutServer();
  }

  const settings = {
    "security.workspace.trust.enabled": false,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.welcomePage.walkthroughs.openOnInstall": false,
    "workbench.enableExperiments": false,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.commandCenter.enabled": false,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "extensions.ignoreRecommendations": true,
    "git.enabled": false,
    "editor.codeLens": true,
    "editor.minimap.enabled": false,
    "editor.semanticHighlighting.enabled": false,
    "files.autoSave": "off",
  };
  if (MOCK) {
    expect(fs.existsSync(PYTHON), `SFLOW_E2E_PYTHON ${PYTHON} (a Python with pygls) does not exist`);
    // The server command does not exist yet: a later step creates it and points the setting at it,
    // which must restart the client without a reload.
    Object.assign(settings, { "sflow.server.command": path.join(scratch, "not-installed-yet", "sflow-lsp"), "sflow.trace.server": "messages" });
  } else if (WITH_SERVER) {
    expect(fs.existsSync(PYTHON), `SFLOW_E2E_PYTHON ${PYTHON} does not exist`);
    let qlibData = process.env.SFLOW_E2E_QLIB_DATA;
    if (!qlibData) {
      qlibData = path.join(scratch, "qlib-data");
      const sflowCli = path.join(path.dirname(PYTHON), "sflow");
      log(`# sflow data demo ${qlibData}`);
      const r = spawnSync(sflowCli, ["data", "demo", qlibData], { env, encoding: "utf8", timeout: 600000 });
      fs.writeFileSync(path.join(ARTIFACTS, "demo-data.log"), `${r.stdout ?? ""}\n${r.stderr ?? ""}`);
      if (r.status !== 0) {
        log(`# sflow data demo failed (${r.status}); the quick-test step will fail`);
      }
    }
    Object.assign(settings, {
      "sflow.server.python": PYTHON,
      "sflow.databaseUrl": `sqlite:///${path.join(scratch, "sflow.db")}`,
      "sflow.qlibDataPath": qlibData,
      "sflow.userId": "e2e",
      "sflow.trace.server": "messages",
    });
  }
  const settingsFile = path.join(dirs["user-data"], "User", "settings.json");
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  fs.writeFileSync(settingsFile, JSON.stringify(settings, null, 2));

  const common = ["--extensions-dir", dirs.extensions, "--user-data-dir", dirs["user-data"]];
  log(`# installing ${path.relative(REPO, VSIX)} into code-server ${CS_VERSION}`);
  const inst = spawnSync(process.execPath, [ENTRY, ...common, "--install-extension", VSIX, "--force"], { env, encoding: "utf8", timeout: 120000 });
  fs.writeFileSync(path.join(ARTIFACTS, "install-extension.log"), `${inst.stdout}\n${inst.stderr}`);
  expect(inst.status === 0, `--install-extension failed: ${inst.stderr || inst.stdout}`);

  const port = await freePort();
  const csLog = fs.openSync(path.join(ARTIFACTS, "code-server.log"), "w");
  const cs = spawn(
    process.execPath,
    [ENTRY, "--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check",
      "--disable-workspace-trust", "--disable-getting-started-override", ...common, ws],
    { env, stdio: ["ignore", csLog, csLog], detached: true },
  );
  let browser;
  const cleanup = async () => {
    try {
      await browser?.close();
    } catch {
      // already gone
    }
    try {
      process.kill(-cs.pid, "SIGTERM");
    } catch {
      // already gone
    }
    if (process.env.SFLOW_E2E_KEEP !== "1") {
      fs.rmSync(scratch, { recursive: true, force: true });
    } else {
      log(`# scratch kept: ${scratch}`);
    }
  };
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      void screenshot("interrupted")
        .then(cleanup)
        .then(() => process.exit(130));
    });
  }

  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/healthz`)).ok, "code-server /healthz", 60000);
    browser = await chromium.launchPersistentContext(dirs.profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    const consoleLog = [];
    page.on("console", (m) => consoleLog.push(`[${m.type()}] ${m.text()}`));

    await step("workbench loads", async () => {
      await page.goto(`${base}/?folder=${encodeURIComponent(ws)}`);
      await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
      await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "golden_cross.sflow" }).first().waitFor({ timeout: 30000 });
    });

    await step("open golden_cross.sflow", async () => {
      await openFile("golden_cross.sflow");
    });

    await step("language mode is sflow", async () => {
      const mode = page.locator('[id="status.editor.mode"]');
      await waitFor(async () => (await mode.textContent())?.trim() === "sflow", 'status bar language "sflow"', 20000);
    });

    if (!WITH_SERVER) {
      await step("missing server: a clear message with a Configure action", async () => {
        const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "sflow-lsp" }).first();
        await toast.waitFor({ state: "visible", timeout: 20000 });
        const text = (await toast.textContent()) ?? "";
        expect(/not found on PATH/.test(text), `message: ${text}`);
        expect(/sflow\.server\.python/.test(text), "message names the setting");
        const status = await statusItemText();
        expect(/server not found/.test(status), `status bar: ${status}`);
        await toast.locator(".monaco-button", { hasText: "Configure" }).click();
        await page.locator(".settings-editor").waitFor({ state: "visible", timeout: 15000 });
        await waitFor(async () => /Python interpreter that has/.test((await page.locator(".settings-editor").textContent()) ?? ""),
          "the sflow.server.python setting in the settings editor", 15000);
      });
    }

    await step("tokens are coloured by the sflow grammar", async () => {
      await openFile("golden_cross.sflow");
      const runs = await waitFor(async () => {
        const r = await editorRuns();
        return new Set(r.map((x) => x.color)).size >= 5 ? r : undefined;
      }, "at least 5 token colours", 20000);
      const colorOf = (pred, what) => {
        const run = runs.find(pred);
        expect(run, `no run for ${what}`);
        return run.color;
      };
      // The editor's default foreground (bracket pairs and operators may have colours of their own).
      const plain = await page.evaluate(() => {
        const lines = document.querySelector(".editor-group-container.active .monaco-editor .view-lines");
        return lines ? getComputedStyle(lines).color : "";
      });
      const comment = colorOf((r) => r.text.startsWith("# Golden cross"), "the comment");
      const keyword = colorOf((r) => r.text.trim() === "strategy", "strategy");
      const title = colorOf((r) => r.text.includes("Golden cross on CSI300"), "the title string");
      const template = colorOf((r) => r.text.trim() === "sma", "sma(");
      const number = colorOf((r) => r.text.trim() === "0.08", "0.08");
      const field = colorOf((r) => r.text.includes("$close"), "$close");
      const setting = colorOf((r) => r.text.trim() === "universe", "universe");
      const colours = { plain, comment, keyword, title, template, number, field, setting };
      log(`# colours: ${JSON.stringify(colours)}`);
      for (const [k, v] of Object.entries(colours)) {
        if (k !== "plain") {
          expect(v !== plain, `${k} has the plain text colour ${v}`);
        }
      }
      expect(new Set([comment, keyword, title, template, number]).size === 5,
        `comment, keyword, string, template and number should differ: ${JSON.stringify(colours)}`);
    });

    await step("token inspector shows sflow scopes", async () => {
      const sma = page.locator(".editor-group-container.active .view-lines .view-line span span", { hasText: /^sma$/ }).first();
      await sma.click();
      await runPalette("Developer: Inspect Editor Tokens and Scopes");
      const widget = page.locator(".token-inspect-widget");
      await widget.waitFor({ state: "visible", timeout: 10000 });
      const text = await widget.textContent();
      expect(/entity\.name\.function\.template\.sflow/.test(text ?? ""), `scopes shown: ${text}`);
      expect(/source\.sflow/.test(text ?? ""), "source.sflow scope shown");
    });

    await step("report webview renders a saved quick-test result", async () => {
      await openFile("quick-test-result.json");
      await runPalette("sflow: Open Quick-Test Report (JSON)");
      const frame = await waitFor(() => webviewFrameWith("Annualized return"), "the report webview", 30000);
      const body = (await frame.locator("body").textContent()) ?? "";
      expect(body.includes("12.34%"), "annualized return 12.34% shown");
      expect(body.includes("sortino_ratio"), "an unknown metric is shown by its key");
      expect((await frame.locator("svg.chart polyline").count()) >= 3, "equity, benchmark and drawdown lines drawn");
      expect((await frame.locator("#trades tbody tr").count()) === 12, "12 trades listed");
      await frame.locator("#charts").scrollIntoViewIfNeeded();
    });

    if (WITH_SERVER) {
      if (MOCK) {
        await step("changing the server setting in the Settings UI restarts the server", async () => {
          await waitFor(async () => /server not found/.test(await statusItemText()), "status bar: server not found", 20000);
          const wrapper = path.join(scratch, "bin", "sflow-mock-lsp");
          fs.mkdirSync(path.dirname(wrapper), { recursive: true });
          fs.writeFileSync(wrapper, `#!/bin/sh\nexec "${PYTHON}" "${path.join(HERE, "mock_server.py")}" "$@"\n`, { mode: 0o755 });
          await runPalette("Preferences: Open Settings (UI)");
          const editor = page.locator(".settings-editor");
          await editor.waitFor({ state: "visible", timeout: 15000 });
          await page.keyboard.type("sflow.server.command");
          const item = editor.locator(".setting-item", { hasText: "Command that starts the language server" }).first();
          await item.waitFor({ state: "visible", timeout: 15000 });
          const input = item.locator("input").first();
          await input.fill(wrapper);
          await input.press("Tab");
          await waitFor(async () => /codicon-check/.test(await statusItemText()), "status bar item ready after the change", 60000);
          await closeAllEditors();
        });
      }

      await step("server starts: status bar shows ready", async () => {
        await openFile("golden_cross.sflow");
        await waitFor(async () => /codicon-check/.test(await statusItemText()), "status bar item ready", 60000);
      });

      await step("diagnostic for an unknown template in the Problems panel", async () => {
        await openFile("broken.sflow");
        await page.keyboard.press("Control+Shift+M");
        const panel = page.locator(".markers-panel");
        await panel.waitFor({ state: "visible", timeout: 15000 });
        await waitFor(async () => /smaa/.test((await panel.textContent()) ?? ""), "a problem mentioning smaa", 30000);
      });

      await step("completion after '= ' lists templates", async () => {
        await openFile("completion.sflow");
        try {
          const line3 = page.locator(".editor-group-container.active .view-lines .view-line").nth(2);
          await line3.click();
          await page.keyboard.press("End");
          await page.keyboard.type("    x = ");
          await page.keyboard.press("Control+Space");
          const widget = page.locator(".suggest-widget");
          await widget.waitFor({ state: "visible", timeout: 20000 });
          const labels = () => widget.locator(".monaco-list-row .label-name").allTextContents();
          // The list is long and virtualised: some templates are on screen, then "sm" narrows it to sma.
          await waitFor(async () => (await labels()).filter((l) => TEMPLATES.includes(l)).length >= 2,
            "two or more templates among the suggestions", 20000);
          await page.keyboard.type("sm");
          await waitFor(async () => (await labels()).includes("sma"), "sma after typing sm", 10000);
          await screenshot(`${String(stepNo).padStart(2, "0")}-completion-widget`);
          await page.keyboard.press("Escape");
        } finally {
          await runPalette("File: Revert File");
        }
      });

      await step("hover shows a template's docs", async () => {
        await openFile("golden_cross.sflow");
        const sma = page.locator(".editor-group-container.active .view-lines .view-line span span", { hasText: /^sma$/ }).first();
        await sma.hover();
        const hover = page.locator(".monaco-hover:visible").first();
        await waitFor(async () => ((await hover.textContent()) ?? "").length > 20, "a hover with text", 20000);
        const text = (await hover.textContent()) ?? "";
        expect(/sma|moving average/i.test(text), `hover: ${text}`);
      });

      await step("Generate Python code lens opens the generated module", async () => {
        await closeAllEditors();
        await openFile("golden_cross.sflow");
        const lens = page.locator(".codelens-decoration a", { hasText: /Generate Python/ }).first();
        await lens.waitFor({ state: "visible", timeout: 30000 });
        await lens.click();
        await page.locator(".tabs-container .tab.active", { hasText: /\.py\b/ }).waitFor({ timeout: 60000 });
        await waitFor(async () => /qlib/.test((await editorRuns()).map((r) => r.text).join("")), "qlib in the generated module", 15000);
      });

      await step("Run quick test code lens shows the report with metrics", async () => {
        await closeAllEditors();
        await openFile("golden_cross.sflow");
        // The lens over the test block (the last one in the file).
        const lens = page.locator(".codelens-decoration a", { hasText: /Run quick test/i }).last();
        await lens.waitFor({ state: "visible", timeout: 30000 });
        await lens.click();
        await waitFor(async () => /quick test/.test(await statusItemText()), "quick-test progress in the status bar", 60000).catch(() => {
          log("# (no quick-test state seen in the status bar)");
        });
        const errorToast = page.locator(".notifications-toasts .notification-toast", { hasText: /sflow: |executeCommand failed|not available/i });
        const frame = await waitFor(async () => {
          if (await errorToast.count()) {
            const message = await errorToast.first().locator(".notification-list-item-message").textContent();
            throw new Abort(`the extension reported: ${message ?? ""}`);
          }
          const f = await webviewFrameWith("Annualized return");
          return f && /golden_cross/.test((await f.locator("h1").textContent()) ?? "") ? f : undefined;
        }, "the quick-test report webview", MOCK ? 30000 : 600000, 1000);
        const body = (await frame.locator("#metrics").textContent()) ?? "";
        expect(/Information ratio/.test(body) && /Max drawdown/.test(body), `metrics: ${body}`);
      });
    }

    fs.writeFileSync(path.join(ARTIFACTS, "browser-console.log"), consoleLog.join("\n"));
  } finally {
    await cleanup();
  }
}

try {
  await main();
} catch (err) {
  results.push({ name: "setup", ok: false, error: String(err?.message ?? err) });
  log(`not ok - setup\n  # ${err?.stack ?? err}`);
}
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
fs.mkdirSync(ARTIFACTS, { recursive: true });
fs.writeFileSync(path.join(ARTIFACTS, "results.json"), JSON.stringify({ server: MOCK ? "mock" : WITH_SERVER ? "sflow" : "none", results }, null, 2));
log(`# e2e${MOCK ? " (mock server)" : WITH_SERVER ? " (with server)" : ""}: ${passed} passed, ${failed} failed; screenshots in ${path.relative(REPO, ARTIFACTS)}/`);
process.exit(failed ? 1 : 0);

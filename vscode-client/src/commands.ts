// The extension's commands (palette, editor menus, status bar) and the handling of server command
// results: open the generated module, show the quick-test report, screen results, drafts and history.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as vscode from "vscode";
import { blockAt, strategyAt } from "./blocks";
import type { ServerManager } from "./client";
import type { Panels } from "./panels";
import type { QuickTestResult, QuickTestStatus, RunQuickTestResponse } from "./protocol";
import {
  isFullReport,
  isGenerateCodeResult,
  isHistoryResult,
  isRecord,
  isRestoreSessionResult,
  isRunQuickTestResponse,
  isScreenResult,
  reportJsonCandidates,
  ServerCommands,
  TERMINAL_STATES,
  toQuickTestResult,
} from "./protocol";
import { renderHistoryHtml, renderReportHtml, renderScreenHtml } from "./report/html";
import type { SflowStatusBar } from "./statusBar";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

export class Commands {
  /** Quick tests started from this window whose report has not been shown yet. */
  private readonly awaitingReport = new Set<string>();
  /** Terminal statuses that arrived before the command's response (kept briefly, by test id). */
  private readonly finishedEarly = new Map<string, QuickTestStatus>();

  constructor(
    private readonly server: ServerManager,
    private readonly panels: Panels,
    private readonly status: SflowStatusBar,
    private readonly output: vscode.OutputChannel,
  ) {}

  register(context: vscode.ExtensionContext): void {
    const reg = (id: string, fn: (...args: unknown[]) => Promise<void> | void): void => {
      context.subscriptions.push(
        vscode.commands.registerCommand(id, async (...args: unknown[]) => {
          try {
            await fn(...args);
          } catch (err) {
            this.fail(err);
          }
        }),
      );
    };
    reg("sflow.client.generatePython", (uri) => this.generatePython(uri));
    reg("sflow.client.runQuickTest", (uri) => this.runQuickTest(uri));
    reg("sflow.client.cancelQuickTest", (testId) => this.cancelQuickTest(testId));
    reg("sflow.client.screen", (uri) => this.screen(uri));
    reg("sflow.client.restoreSession", (uri) => this.restoreSession(uri));
    reg("sflow.client.showHistory", (uri) => this.showHistory(uri));
    reg("sflow.client.openReport", (uri) => this.openReport(uri));
    reg("sflow.client.restartServer", () => this.server.restart());
    reg("sflow.client.showOutput", () => {
      this.output.show(true);
    });
  }

  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.output.appendLine(`[client] ${message}`);
    void vscode.window.showErrorMessage(`sflow: ${message}`, "Show Output").then((c) => {
      if (c) {
        this.output.show(true);
      }
    });
  }

  /** The sflow document to act on: the given URI, else the active editor's. */
  private async target(uri: unknown): Promise<{ doc: vscode.TextDocument; line: number }> {
    const active = vscode.window.activeTextEditor;
    if (uri instanceof vscode.Uri && uri.toString() !== active?.document.uri.toString()) {
      return { doc: await vscode.workspace.openTextDocument(uri), line: 0 };
    }
    if (!active || active.document.languageId !== "sflow") {
      throw new Error("open a .sflow file first");
    }
    return { doc: active.document, line: active.selection.active.line };
  }

  async generatePython(uri: unknown): Promise<void> {
    const { doc, line } = await this.target(uri);
    const name = strategyAt(doc.getText(), line);
    const args: unknown[] = [doc.uri.toString(), ...(name ? [name] : [])];
    const result = await this.server.execute(ServerCommands.generateCode, args);
    await this.handleResult(ServerCommands.generateCode, args, result);
  }

  async runQuickTest(uri: unknown): Promise<void> {
    const { doc, line } = await this.target(uri);
    // [uri, strategy, test?]: what the server's own code lenses send (a strategy name is also what a
    // server that takes "test or strategy" in the second place accepts).
    const block = blockAt(doc.getText(), line);
    const strategy = strategyAt(doc.getText(), line);
    const args: unknown[] = [doc.uri.toString(), ...(strategy ? [strategy] : [])];
    if (block?.kind === "test" && strategy) {
      args.push(block.name);
    }
    this.status.setQuickTest({ testId: "…", status: "PENDING", message: block?.name ?? "" });
    let result: unknown;
    try {
      result = await this.server.execute(ServerCommands.runQuickTest, args);
    } catch (err) {
      this.status.setQuickTest({ testId: "…", status: "FAILED", message: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    await this.handleResult(ServerCommands.runQuickTest, args, result);
  }

  async cancelQuickTest(testId: unknown): Promise<void> {
    let id = typeof testId === "string" ? testId : this.status.activeTest?.testId;
    if (!id || id === "…") {
      id = await vscode.window.showInputBox({ prompt: "Id of the quick test to cancel" });
    }
    if (!id) {
      return;
    }
    await this.server.execute(ServerCommands.cancelQuickTest, [id]);
    void vscode.window.setStatusBarMessage(`sflow: cancel requested for quick test ${id}`, 5000);
  }

  async screen(uri: unknown): Promise<void> {
    const { doc, line } = await this.target(uri);
    const name = strategyAt(doc.getText(), line);
    const date = await vscode.window.showInputBox({
      prompt: "Screen date (YYYY-MM-DD); empty for the last trading day of the data",
      validateInput: (v) => (v === "" || DATE.test(v) ? undefined : "Use YYYY-MM-DD"),
    });
    if (date === undefined) {
      return;
    }
    const args: unknown[] = [doc.uri.toString(), name ?? null, ...(date ? [date] : [])];
    const result = await this.server.execute(ServerCommands.screen, args);
    await this.handleResult(ServerCommands.screen, args, result);
  }

  async restoreSession(uri: unknown): Promise<void> {
    const { doc } = await this.target(uri);
    const args: unknown[] = [doc.uri.toString()];
    const result = await this.server.execute(ServerCommands.restoreSession, args);
    await this.handleResult(ServerCommands.restoreSession, args, result);
  }

  async showHistory(uri: unknown): Promise<void> {
    const { doc } = await this.target(uri);
    const args: unknown[] = [doc.uri.toString()];
    const result = await this.server.execute(ServerCommands.showHistory, args);
    await this.handleResult(ServerCommands.showHistory, args, result);
  }

  /** Shows a saved quick-test result JSON (the active JSON editor, the given file, or one picked). */
  async openReport(uri: unknown): Promise<void> {
    let text: string | undefined;
    const active = vscode.window.activeTextEditor?.document;
    if (uri instanceof vscode.Uri) {
      text = (await vscode.workspace.openTextDocument(uri)).getText();
    } else if (active && (active.languageId === "json" || active.fileName.toLowerCase().endsWith(".json"))) {
      text = active.getText();
    } else {
      const picked = await vscode.window.showOpenDialog({ filters: { "Quick-test result": ["json"] }, canSelectMany: false });
      if (!picked?.[0]) {
        return;
      }
      text = (await vscode.workspace.openTextDocument(picked[0])).getText();
    }
    const report = toQuickTestResult(JSON.parse(text), "?", "COMPLETED");
    if (!report) {
      throw new Error("not a quick-test result (it needs metrics, series or trades)");
    }
    this.panels.show("report", `Quick test: ${report.test ?? report.strategy ?? report.testId}`, (o) => renderReportHtml(report, o));
  }

  /** Before a server command runs through the client (a code lens or code action click). */
  onCommandStart(command: string): void {
    if (command === ServerCommands.runQuickTest) {
      this.status.setQuickTest({ testId: "…", status: "PENDING" });
    }
  }

  /** After a server command that ran through the client: act on its result, report failures. */
  async onCommandResult(command: string, args: unknown[], result: unknown): Promise<void> {
    try {
      await this.handleResult(command, args, result);
    } catch (err) {
      this.fail(err);
    }
  }

  /** A server command failed (the language client has already shown the server's error). */
  onCommandError(command: string, err: unknown): void {
    if (command === ServerCommands.runQuickTest) {
      this.status.setQuickTest({ testId: "…", status: "FAILED", message: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Acts on the result of a server command, however it was invoked (palette or code lens). */
  private async handleResult(command: string, args: unknown[], result: unknown): Promise<void> {
    switch (command) {
      case ServerCommands.generateCode:
        return this.openGenerated(result);
      case ServerCommands.runQuickTest:
        return this.onQuickTestResponse(result);
      case ServerCommands.screen:
        if (isScreenResult(result)) {
          this.panels.show("screen", "sflow screen", (o) => renderScreenHtml(result, o));
        }
        return;
      case ServerCommands.restoreSession:
        return this.offerDraft(args, result);
      case ServerCommands.showHistory:
        if (isHistoryResult(result)) {
          const name = typeof args[0] === "string" ? path.basename(vscode.Uri.parse(args[0]).path) : "document";
          this.panels.show("history", `sflow history: ${name}`, (o) => renderHistoryHtml(result, name, o));
        }
        return;
      default:
        return;
    }
  }

  private async openGenerated(result: unknown): Promise<void> {
    if (!isGenerateCodeResult(result)) {
      if (isRecord(result) && typeof result.code === "string") {
        const doc = await vscode.workspace.openTextDocument({ language: "python", content: result.code });
        await vscode.window.showTextDocument(doc, vscode.ViewColumn.Beside);
        return;
      }
      throw new Error("the server returned no generated module");
    }
    const target = vscode.Uri.file(result.path);
    if (typeof result.code === "string" && !(await exists(target))) {
      // The server named the module without writing it: write what it generated.
      await vscode.workspace.fs.writeFile(target, Buffer.from(result.code, "utf8"));
    }
    const doc = await vscode.workspace.openTextDocument(target);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false });
    const validation = result.validationStatus ?? "";
    if (validation && !/(^|\.)(passed|valid|ok|success)$/i.test(validation)) {
      void vscode.window.showWarningMessage(`sflow: generated ${path.basename(result.path)} — validation: ${validation}`);
    } else {
      vscode.window.setStatusBarMessage(`sflow: generated ${path.basename(result.path)}`, 5000);
    }
  }

  private async onQuickTestResponse(result: unknown): Promise<void> {
    if (result === undefined || result === null) {
      // The request failed and the language client has shown the server's error.
      this.status.setQuickTest({ testId: "…", status: "FAILED" });
      return;
    }
    if (!isRunQuickTestResponse(result)) {
      throw new Error("the server returned no quick test");
    }
    const response: RunQuickTestResponse = result;
    const status: QuickTestStatus = { testId: response.testId, status: response.status };
    if (response.message) {
      status.message = response.message;
    }
    if (response.reportPath) {
      status.reportPath = response.reportPath;
    }
    this.status.setQuickTest(status);
    if (response.result || TERMINAL_STATES.includes(response.status)) {
      await this.showQuickTest(response.testId, response.status, response.result, response.reportPath, response.message);
    } else {
      const early = this.finishedEarly.get(response.testId);
      if (early) {
        // The terminal notification overtook the response.
        this.finishedEarly.delete(response.testId);
        this.status.setQuickTest(early);
        await this.showQuickTest(early.testId, early.status, undefined, early.reportPath, early.message);
        return;
      }
      // Still queued or running: the report follows with the terminal sflow/quickTestStatus.
      this.awaitingReport.add(response.testId);
    }
  }

  /** Handles the server's sflow/quickTestStatus notification. */
  onQuickTestStatus(status: QuickTestStatus): void {
    this.status.setQuickTest(status);
    if (!TERMINAL_STATES.includes(status.status)) {
      return;
    }
    if (this.awaitingReport.delete(status.testId)) {
      this.showQuickTest(status.testId, status.status, undefined, status.reportPath, status.message).catch((e: unknown) => {
        this.fail(e);
      });
    } else {
      this.finishedEarly.set(status.testId, status);
      setTimeout(() => this.finishedEarly.delete(status.testId), 60000);
    }
  }

  private async showQuickTest(
    testId: string,
    state: string,
    result: unknown,
    reportPath: string | undefined,
    message: string | undefined,
  ): Promise<void> {
    if (state === "CANCELLED") {
      void vscode.window.showInformationMessage(`sflow: quick test ${testId} was cancelled`);
      return;
    }
    const status = state as QuickTestResult["status"];
    let report = toQuickTestResult(result, testId, status);
    if (!isFullReport(report) && reportPath) {
      // The full result JSON: the report file itself, or a sibling of an HTML report.
      for (const candidate of reportJsonCandidates(reportPath)) {
        try {
          const full = toQuickTestResult(JSON.parse(await fs.readFile(candidate, "utf8")), testId, status);
          if (full) {
            report = full;
            break;
          }
        } catch {
          // not there or not JSON: try the next one
        }
      }
    }
    if (state === "FAILED" && !report?.metrics) {
      throw new Error(`quick test ${testId} failed${message ? `: ${message}` : report?.error ? `: ${report.error}` : ""}`);
    }
    if (!report) {
      if (reportPath) {
        const open = await vscode.window.showInformationMessage(`sflow: quick test ${testId} finished: ${reportPath}`, "Open Report");
        if (open) {
          await vscode.commands.executeCommand("vscode.open", vscode.Uri.file(reportPath));
        }
        return;
      }
      throw new Error(`quick test ${testId} finished without a result`);
    }
    const title = `Quick test: ${report.test ?? report.strategy ?? testId}`;
    const shown = report;
    this.panels.show("report", title, (o) => renderReportHtml(shown, o));
  }

  private async offerDraft(args: unknown[], result: unknown): Promise<void> {
    if (!isRestoreSessionResult(result)) {
      void vscode.window.showInformationMessage("sflow: no saved draft for this file");
      return;
    }
    const uriText = typeof args[0] === "string" ? args[0] : undefined;
    const choice = await vscode.window.showInformationMessage(
      `sflow: a draft of this file was saved at ${result.savedAt}.`,
      "Replace Editor Contents",
      "Open Beside",
    );
    if (choice === "Open Beside") {
      const draft = await vscode.workspace.openTextDocument({ language: "sflow", content: result.text });
      await vscode.window.showTextDocument(draft, vscode.ViewColumn.Beside);
    } else if (choice === "Replace Editor Contents" && uriText) {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uriText));
      const edit = new vscode.WorkspaceEdit();
      edit.replace(doc.uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), result.text);
      await vscode.workspace.applyEdit(edit);
    }
  }
}

// The status bar item: the language server's state and the running quick test's progress.
import * as vscode from "vscode";
import type { QuickTestStatus } from "./protocol";
import { TERMINAL_STATES } from "./protocol";
import type { ServerState } from "./status";
import { statusView } from "./status";

export class SflowStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private server: ServerState = "starting";
  private test: QuickTestStatus | undefined;
  private clearTimer: NodeJS.Timeout | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem("sflow.status", vscode.StatusBarAlignment.Left, 10);
    this.item.name = "sflow";
    this.render();
    this.item.show();
  }

  get serverState(): ServerState {
    return this.server;
  }

  /** The quick test that is queued or running, if any. */
  get activeTest(): QuickTestStatus | undefined {
    return this.test && !TERMINAL_STATES.includes(this.test.status) ? this.test : undefined;
  }

  setServerState(state: ServerState): void {
    this.server = state;
    this.render();
  }

  setQuickTest(status: QuickTestStatus): void {
    if (this.clearTimer) {
      clearTimeout(this.clearTimer);
      this.clearTimer = undefined;
    }
    this.test = status;
    this.render();
    if (TERMINAL_STATES.includes(status.status)) {
      // A finished test stays visible for a while, then the item shows the server state again.
      this.clearTimer = setTimeout(() => {
        this.test = undefined;
        this.render();
      }, 15000);
    }
  }

  private render(): void {
    const view = statusView(this.server, this.test);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    this.item.command = this.activeTest ? "sflow.client.cancelQuickTest" : "sflow.client.showOutput";
  }

  dispose(): void {
    if (this.clearTimer) {
      clearTimeout(this.clearTimer);
    }
    this.item.dispose();
  }
}

// Webview panels for the report, screen and history pages: one panel per kind, reused and revealed.
// Scripts are disabled and no local resources are allowed; the HTML carries its own CSP.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import type { PageOptions } from "./report/html";

export type PanelKind = "report" | "screen" | "history";

export class Panels implements vscode.Disposable {
  private readonly panels = new Map<PanelKind, vscode.WebviewPanel>();

  /** Shows `render(options)` in the panel of `kind`, creating it beside the editor if needed. */
  show(kind: PanelKind, title: string, render: (opts: PageOptions) => string): vscode.WebviewPanel {
    let panel = this.panels.get(kind);
    if (!panel) {
      panel = vscode.window.createWebviewPanel(
        `sflow.${kind}`,
        title,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
        { enableScripts: false, enableCommandUris: false, localResourceRoots: [], retainContextWhenHidden: false },
      );
      this.panels.set(kind, panel);
      panel.onDidDispose(() => this.panels.delete(kind));
    }
    panel.title = title;
    panel.webview.html = render({ nonce: randomBytes(16).toString("base64") });
    panel.reveal(undefined, false);
    return panel;
  }

  dispose(): void {
    for (const p of this.panels.values()) {
      p.dispose();
    }
    this.panels.clear();
  }
}

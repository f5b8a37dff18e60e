// Entry point of the sflow VS Code extension: wires the output channel, status bar, language client,
// commands and webview panels together, and restarts the server when its settings change.
import * as vscode from "vscode";
import { ServerManager } from "./client";
import { Commands } from "./commands";
import { Panels } from "./panels";
import { RESTART_KEYS } from "./serverCommand";
import { SflowStatusBar } from "./statusBar";

let manager: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("sflow");
  const status = new SflowStatusBar();
  const panels = new Panels();
  // The server manager and the commands need each other: the hooks reach the commands late.
  const hooks: { commands?: Commands } = {};
  manager = new ServerManager(output, status, {
    onCommandStart: (command) => {
      hooks.commands?.onCommandStart(command);
    },
    onCommandError: (command, err) => {
      hooks.commands?.onCommandError(command, err);
    },
    onCommandResult: async (command, args, result) => hooks.commands?.onCommandResult(command, args, result),
    onQuickTestStatus: (s) => {
      hooks.commands?.onQuickTestStatus(s);
    },
  });
  const commands = new Commands(manager, panels, status, output);
  hooks.commands = commands;
  commands.register(context);
  context.subscriptions.push(output, status, panels, manager);

  let timer: NodeJS.Timeout | undefined;
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!RESTART_KEYS.some((k) => e.affectsConfiguration(k))) {
        return;
      }
      if (timer) {
        clearTimeout(timer);
      }
      // Settings often change several keys in a row: restart once.
      timer = setTimeout(() => {
        void manager?.restart();
      }, 500);
    }),
    {
      dispose: () => {
        clearTimeout(timer);
      },
    },
  );
  const version = (context.extension.packageJSON as { version?: string }).version ?? "?";
  output.appendLine(`[client] sflow extension ${version} activated`);
  await manager.start();
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
  manager = undefined;
}

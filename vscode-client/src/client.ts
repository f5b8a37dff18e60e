// Starts, stops and restarts the sflow language server (vscode-languageclient, stdio), and tells the
// user what to do when the server executable is missing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as vscode from "vscode";
import type { LanguageClientOptions, Middleware, ServerOptions } from "vscode-languageclient/node";
import { LanguageClient, State } from "vscode-languageclient/node";
import type { QuickTestStatus } from "./protocol";
import { isQuickTestStatus, QuickTestStatusNotification } from "./protocol";
import {
  buildServerLaunch,
  initializationOptions,
  missingServerMessage,
  normalizeSettings,
  resolveExecutable,
  SETTINGS_QUERY,
} from "./serverCommand";
import type { SflowStatusBar } from "./statusBar";

export interface ServerHooks {
  /** Called before a server command runs through the client (code lenses, code actions). */
  onCommandStart(command: string): void;
  /** Called when such a command's request fails. */
  onCommandError(command: string, err: unknown): void;
  /** Called with the result of every server command run through the client (code lenses included). */
  onCommandResult(command: string, args: unknown[], result: unknown): Promise<void>;
  onQuickTestStatus(status: QuickTestStatus): void;
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    fs.accessSync(file, process.platform === "win32" ? fs.constants.F_OK : fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly status: SflowStatusBar,
    private readonly hooks: ServerHooks,
  ) {}

  get languageClient(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  async start(): Promise<void> {
    if (this.starting) {
      return this.starting;
    }
    this.starting = this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const config = vscode.workspace.getConfiguration("sflow");
    const settings = normalizeSettings((key) => config.get(key));
    const launch = buildServerLaunch(settings, process.env, os.homedir());
    const resolved = resolveExecutable(launch.command, launch.env, isExecutableFile);
    if (!resolved) {
      const message = missingServerMessage(launch);
      this.output.appendLine(`[client] ${message}`);
      this.status.setServerState("missing");
      void vscode.window.showErrorMessage(message, "Configure", "Show Output").then((choice) => {
        if (choice === "Configure") {
          void vscode.commands.executeCommand("workbench.action.openSettings", SETTINGS_QUERY);
        } else if (choice === "Show Output") {
          this.output.show(true);
        }
      });
      return;
    }
    this.output.appendLine(`[client] starting: ${launch.display}`);
    this.status.setServerState("starting");

    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const serverOptions: ServerOptions = {
      command: resolved,
      args: launch.args,
      options: { env: launch.env, ...(cwd ? { cwd } : {}) },
    };
    const hooks = this.hooks;
    const middleware: Middleware = {
      executeCommand: async (command, args, next) => {
        hooks.onCommandStart(command);
        let result: unknown;
        try {
          result = await next(command, args);
        } catch (err) {
          hooks.onCommandError(command, err);
          throw err;
        }
        await hooks.onCommandResult(command, args, result);
        return result;
      },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: "file", language: "sflow" },
        { scheme: "untitled", language: "sflow" },
      ],
      outputChannel: this.output,
      initializationOptions: initializationOptions(settings),
      synchronize: { configurationSection: "sflow" },
      middleware,
    };
    const client = new LanguageClient("sflow", "sflow language server", serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((e) => {
      if (this.client !== client) {
        return;
      }
      this.status.setServerState(
        e.newState === State.Running ? "running" : e.newState === State.Starting ? "starting" : "stopped",
      );
    });
    client.onNotification(QuickTestStatusNotification, (params: unknown) => {
      if (isQuickTestStatus(params)) {
        hooks.onQuickTestStatus(params);
      }
    });
    try {
      await client.start();
      this.output.appendLine("[client] server running");
    } catch (err) {
      this.status.setServerState("error");
      const message = `sflow: the language server failed to start: ${err instanceof Error ? err.message : String(err)}`;
      this.output.appendLine(`[client] ${message}`);
      void vscode.window.showErrorMessage(message, "Show Output", "Configure").then((choice) => {
        if (choice === "Show Output") {
          this.output.show(true);
        } else if (choice === "Configure") {
          void vscode.commands.executeCommand("workbench.action.openSettings", SETTINGS_QUERY);
        }
      });
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.output.appendLine(`[client] stop: ${err instanceof Error ? err.message : String(err)}`);
      }
      await client.dispose();
    }
    this.status.setServerState("stopped");
  }

  async restart(): Promise<void> {
    this.output.appendLine("[client] restarting the server");
    await this.starting;
    await this.stop();
    await this.start();
  }

  /** Sends workspace/executeCommand for a server command; rejects when the server is not running. */
  async execute(command: string, args: unknown[]): Promise<unknown> {
    const client = this.languageClient;
    if (!client) {
      throw new Error(
        this.status.serverState === "missing"
          ? "the sflow language server is not installed or not configured (see the sflow.server settings)"
          : "the sflow language server is not running",
      );
    }
    return client.sendRequest("workspace/executeCommand", { command, arguments: args });
  }

  dispose(): void {
    void this.stop();
  }
}

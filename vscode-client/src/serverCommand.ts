// Turns the extension's settings into the language server's command line, environment and
// initialization options. Pure: no `vscode` import, so it is unit-tested directly.
import * as path from "node:path";

/** The `sflow.*` settings the client reads (defaults applied by `normalizeSettings`). */
export interface SflowSettings {
  python: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  databaseUrl: string;
  qlibDataPath: string;
  userId: string;
  diagnosticsDebounceMs: number;
  trace: "off" | "messages" | "verbose";
}

export interface ServerLaunch {
  /** Executable as configured (maybe a bare name looked up on PATH). */
  command: string;
  args: string[];
  env: Record<string, string>;
  /** "python" when started as `<python> -m sflow.server`, else "command". */
  kind: "python" | "command";
  /** One line for the output channel and error messages. */
  display: string;
}

export const DEFAULT_COMMAND = "sflow-lsp";

/** The settings editor query that lists this extension's settings (`@ext:<publisher>.<name>`). */
export const SETTINGS_QUERY = "@ext:sflow.sflow";

/** Settings keys whose change needs a server restart. */
export const RESTART_KEYS = [
  "sflow.server",
  "sflow.databaseUrl",
  "sflow.qlibDataPath",
  "sflow.userId",
  "sflow.diagnosticsDebounceMs",
];

type Getter = (key: string) => unknown;

function str(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value.trim() : fallback;
}

/** Reads and validates the settings through `get` (e.g. a WorkspaceConfiguration's `get`). */
export function normalizeSettings(get: Getter): SflowSettings {
  const args = get("server.args");
  const env = get("server.env");
  const debounce = get("diagnosticsDebounceMs");
  const trace = get("trace.server");
  return {
    python: str(get("server.python")),
    command: str(get("server.command")) || DEFAULT_COMMAND,
    args: Array.isArray(args) ? args.filter((a): a is string => typeof a === "string") : [],
    env:
      env !== null && typeof env === "object" && !Array.isArray(env)
        ? Object.fromEntries(
            Object.entries(env as Record<string, unknown>)
              .filter((e): e is [string, string] => typeof e[1] === "string"),
          )
        : {},
    databaseUrl: str(get("databaseUrl")),
    qlibDataPath: str(get("qlibDataPath")),
    userId: str(get("userId")),
    diagnosticsDebounceMs:
      typeof debounce === "number" && Number.isFinite(debounce) && debounce >= 0 ? debounce : 300,
    trace: trace === "messages" || trace === "verbose" ? trace : "off",
  };
}

/** Expands a leading `~` and `${userHome}`, the two forms users type into path settings. */
export function expandHome(p: string, home: string): string {
  if (p === "~") {
    return home;
  }
  if (p.startsWith("~/") || p.startsWith("~\\")) {
    return path.join(home, p.slice(2));
  }
  return p.split("${userHome}").join(home);
}

/** What the server reads at `initialize` (the same keys as the `sflow` configuration section). */
export function initializationOptions(s: SflowSettings): Record<string, unknown> {
  return {
    databaseUrl: s.databaseUrl,
    qlibDataPath: s.qlibDataPath,
    userId: s.userId,
    diagnosticsDebounceMs: s.diagnosticsDebounceMs,
    trace: { server: s.trace },
  };
}

/** The server's command line and environment for these settings. */
export function buildServerLaunch(
  s: SflowSettings,
  baseEnv: Record<string, string | undefined>,
  home: string,
): ServerLaunch {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(baseEnv)) {
    if (v !== undefined) {
      env[k] = v;
    }
  }
  // Unbuffered output so the server's stderr reaches the output channel as it happens.
  env.PYTHONUNBUFFERED = "1";
  if (s.databaseUrl) {
    env.SFLOW_DATABASE_URL = s.databaseUrl;
  }
  if (s.userId) {
    env.SFLOW_USER = s.userId;
  }
  if (s.qlibDataPath) {
    env.SFLOW_QLIB_DATA = expandHome(s.qlibDataPath, home);
  }
  Object.assign(env, s.env);

  const python = s.python ? expandHome(s.python, home) : "";
  const kind = python ? "python" : "command";
  const command = python || expandHome(s.command, home);
  const extra = s.args.filter((a) => a !== "--stdio");
  const args = python ? ["-m", "sflow.server", "--stdio", ...extra] : ["--stdio", ...extra];
  return { command, args, env, kind, display: [command, ...args].map(quoteArg).join(" ") };
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function isPath(command: string): boolean {
  return command.includes("/") || command.includes("\\");
}

/**
 * Finds `command` the way a shell would: a path (absolute or with a separator) must exist;
 * a bare name is looked up on PATH (with PATHEXT on Windows). Returns the full path or undefined.
 */
export function resolveExecutable(
  command: string,
  env: Record<string, string | undefined>,
  isExecutable: (file: string) => boolean,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (!command) {
    return undefined;
  }
  const win = platform === "win32";
  const paths = win ? path.win32 : path.posix;
  const exts = win ? ["", ...(env.PATHEXT ?? ".EXE;.CMD;.BAT;.COM").split(";").filter(Boolean)] : [""];
  const hasSep = command.includes("/") || (win && command.includes("\\"));
  if (hasSep || paths.isAbsolute(command)) {
    for (const ext of exts) {
      if (isExecutable(command + ext)) {
        return command + ext;
      }
    }
    return undefined;
  }
  const pathVar = env.PATH ?? env.Path ?? "";
  for (const dir of pathVar.split(win ? ";" : ":")) {
    if (!dir) {
      continue;
    }
    for (const ext of exts) {
      const candidate = paths.join(dir, command + ext);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** The message shown when the server executable cannot be found. */
export function missingServerMessage(launch: ServerLaunch): string {
  return launch.kind === "python"
    ? `sflow: the Python interpreter "${launch.command}" (setting sflow.server.python) was not found. ` +
        "Point it at a Python that has sflow installed."
    : `sflow: the language server command "${launch.command}" was not found${isPath(launch.command) ? "" : " on PATH"}. ` +
        "Install sflow (pip install sflow) or set sflow.server.python to a Python that has it.";
}

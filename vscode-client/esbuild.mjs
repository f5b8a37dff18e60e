// Bundles the extension (src/extension.ts and vscode-languageclient) into one file: dist/extension.js.
import * as esbuild from "esbuild";

const production = process.argv.includes("--production") || process.env.NODE_ENV === "production";

await esbuild.build({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "dist/extension.js",
  external: ["vscode"],
  format: "cjs",
  platform: "node",
  target: "node18",
  sourcemap: !production,
  minify: production,
  logLevel: "warning",
});

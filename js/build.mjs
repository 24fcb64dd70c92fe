// Build the widget bundles: `npm run build` (→ runcomfy_nb/static/) or `node js/build.mjs OUTDIR`.
// Output is deterministic (pinned esbuild, fixed options, paths relative to the repo), so
// tests/test_js.py can check that the committed bundles match a fresh build byte for byte.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.resolve(process.argv[2] || path.join(repo, "runcomfy_nb", "static"));

await mkdir(outdir, { recursive: true });
await esbuild.build({
  absWorkingDir: repo,
  entryPoints: { jobview: "js/jobview.js", form: "js/form.js", sweepview: "js/sweepview.js", compare: "js/compare.js",
                 history: "js/history.js" },
  outdir,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  splitting: false, // anywidget loads each module on its own: no chunks to import
  minify: false, // small enough; readable in diffs and in the browser's devtools
  sourcemap: false,
  legalComments: "none",
  charset: "utf8",
  banner: { js: "// Built from js/ by `npm run build` (esbuild). Do not edit: edit js/ and rebuild." },
  logLevel: "warning",
});
// One stylesheet for every widget: the shared rules, then the grid's and compare's (js/sweep.css), so no rule is
// shipped twice and a page with several kinds of widget adds it once (shared_module.py keys it by its digest).
const shared = await readFile(path.join(repo, "js", "widgets.css"), "utf8");
const sweep = await readFile(path.join(repo, "js", "sweep.css"), "utf8");
await writeFile(path.join(outdir, "widgets.css"), `${shared}\n${sweep}`);
console.log(`built jobview.js, form.js, sweepview.js, compare.js, history.js, widgets.css → ${path.relative(process.cwd(), outdir) || "."}`);

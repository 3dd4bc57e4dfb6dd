// Builds the dashboard's browser side into the Python package (src/sweepkit/dashboard/static):
// app.js and app.css bundled and minified by esbuild, index.html copied. The output depends only on
// the sources and package-lock.json, so CI rebuilds it and fails when it differs from the committed files.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "sweepkit", "dashboard", "static");
// Everything in the folder is made here: start from nothing, so it holds exactly what this build makes.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: !process.env.SWEEPKIT_UI_DEBUG,
  legalComments: "linked",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  logLevel: "warning",
};
await build({
  ...common,
  entryPoints: { app: join(here, "src", "main.ts") },
  outdir: out,
  format: "esm",
  splitting: true, // each page's code (and the charts) in its own chunk, loaded when needed
  chunkNames: "chunk-[hash]",
  define: { "process.env.NODE_ENV": '"production"' },
});
await build({ ...common, entryPoints: [join(here, "src", "style.css")], outfile: join(out, "app.css") });
for (const name of ["index.html", "favicon.svg"]) copyFileSync(join(here, "src", name), join(out, name));

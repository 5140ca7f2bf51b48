// Bundle every entry in src/ (one file per page) into the Python package's static folder.
import { build } from "esbuild";
import { readdirSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeWorldMap } from "./world-map.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "parley", "web", "static", "build");
mkdirSync(out, { recursive: true });
const entries = readdirSync(join(here, "src")).filter((f) => f.endsWith(".js")).map((f) => join(here, "src", f));

await build({
  entryPoints: entries,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["es2019"],
  outdir: out,
  logLevel: "warning",
  legalComments: "linked",
});
const mapped = writeWorldMap(out);
console.log(`frontend: built ${entries.length} bundle(s) and a map of ${mapped} countries into ${out}`);

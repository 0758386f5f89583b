// `npm run build`: web/src (TypeScript) and web/static into web/dist, the folder CMake embeds.
//   dist/index.html            static/index.html (checked for inline script and style)
//   dist/assets/*.js           tsc's output (native ES modules, no bundler)
//   dist/assets/<other static> style.css, icons
// The output depends on the sources only (no timestamps, no hashes), because dist/ is committed
// as the fallback for builds without npm.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const final = join(web, "dist");
// Built beside dist/ and swapped in at the end: a failed build leaves the committed dist/ alone.
const dist = join(web, ".dist-tmp");
const assets = join(dist, "assets");
const stat = join(web, "static");

rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const tsc = join(web, "node_modules", "typescript", "bin", "tsc");
const compiled = spawnSync(process.execPath, [tsc, "-p", join(web, "tsconfig.json"), "--outDir", assets], {
  stdio: "inherit",
});
if (compiled.status !== 0) {
  console.error("web build: tsc failed");
  process.exit(compiled.status ?? 1);
}

const modules = readdirSync(assets).filter((f) => f.endsWith(".js")).sort();
if (!modules.includes("app.js")) {
  console.error("web build: tsc wrote no assets/app.js");
  process.exit(1);
}

for (const file of readdirSync(stat).sort()) {
  if (file === "index.html") continue;
  copyFileSync(join(stat, file), join(assets, file));
}

// The server's Content-Security-Policy allows no inline script, handler or style: a page that
// needs one would fail in the browser, so it fails here first.
const page = readFileSync(join(stat, "index.html"), "utf8");
const inline = [
  [/<script(?![^>]*\bsrc=)[^>]*>/i, "an inline <script>"],
  [/\son[a-z]+\s*=/i, "an inline event handler (on...=)"],
  [/\sstyle\s*=/i, "an inline style attribute"],
  [/<style[\s>]/i, "a <style> element"],
];
for (const [pattern, what] of inline) {
  if (pattern.test(page)) {
    console.error(`web build: static/index.html has ${what}; the Content-Security-Policy forbids it`);
    process.exit(1);
  }
}
writeFileSync(join(dist, "index.html"), page);
rmSync(final, { recursive: true, force: true });
renameSync(dist, final);
console.log(`web build: dist/index.html and ${readdirSync(join(final, "assets")).length} assets`);

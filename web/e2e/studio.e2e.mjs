#!/usr/bin/env node
// End-to-end test of `impasto serve` in a real browser (Debian's Chromium, headless, driven by
// playwright-core): upload a photo and a style through the page, start an optimisation, watch
// its progress and live preview, see the result, re-run it with a change, rate the pair, and see
// the ranking change. The server has a token, as a server off loopback would need: the page is
// opened once with ?token=, which the server swaps for an HttpOnly cookie; no other request may
// carry the token in its address. The page must run under the server's Content-Security-Policy:
// any violation fails the test.
//
//   node web/e2e/studio.e2e.mjs <path to the impasto binary>
//
// Environment:
//   IMPASTO_SCREENSHOT_DIR  write the README's screenshots there (studio-*.png)
//   IMPASTO_E2E_CONTENT     a photo to upload (default: a synthetic PNG made here)
//   IMPASTO_E2E_STYLE       a style image to upload (default: a synthetic PNG made here)
//   IMPASTO_E2E_SIZE        output long side of the two jobs (default 96; larger for nicer screenshots)
//   IMPASTO_E2E_ITERATIONS  their iterations, at one scale (default 30)
//   IMPASTO_E2E_SERVER_ARGS extra arguments for `impasto serve`, split on spaces
//   IMPASTO_E2E_TIMEOUT_S   the whole test's limit (default 600)
//   IMPASTO_E2E_KEEP=1      keep the data folder; IMPASTO_E2E_VERBOSE=1: the server's output, stacks
//   CHROMIUM                the browser (default /usr/bin/chromium)
// Exit: 0 passed, 1 failed, 77 skipped (no Chromium, no playwright-core, no VGG weights).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { contentPng, stylePng } from "./png.mjs";

const SKIP = 77;
const started = Date.now();
const log = (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`);

class Skip extends Error {}

const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const binary = process.argv[2] ? resolve(process.argv[2]) : "";
const screenshotDir = process.env.IMPASTO_SCREENSHOT_DIR ? resolve(process.env.IMPASTO_SCREENSHOT_DIR) : "";
const timeoutS = Number(process.env.IMPASTO_E2E_TIMEOUT_S || 600);
const token = randomBytes(12).toString("hex");
const jobSize = String(Number(process.env.IMPASTO_E2E_SIZE || 96));
const jobIterations = String(Number(process.env.IMPASTO_E2E_ITERATIONS || 30));

let server = null;
let browser = null;
let dataDir = "";

async function main() {
  if (!binary || !existsSync(binary)) {
    throw new Error(`usage: node studio.e2e.mjs <impasto binary>; '${process.argv[2] ?? ""}' does not exist`);
  }
  if (!existsSync(chromiumPath)) throw new Skip(`no Chromium at ${chromiumPath} (apt install chromium)`);
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch {
    throw new Skip("playwright-core is not installed (run `npm ci` in web/)");
  }

  dataDir = mkdtempSync(join(tmpdir(), "impasto-e2e-"));
  const contentFile = process.env.IMPASTO_E2E_CONTENT || join(dataDir, "e2e-photo.png");
  const styleFile = process.env.IMPASTO_E2E_STYLE || join(dataDir, "e2e-painting.png");
  if (!process.env.IMPASTO_E2E_CONTENT) writeFileSync(contentFile, contentPng());
  if (!process.env.IMPASTO_E2E_STYLE) writeFileSync(styleFile, stylePng());
  if (screenshotDir) mkdirSync(screenshotDir, { recursive: true });

  const base = await startServer(join(dataDir, "studio"));
  log(`server at ${base}`);

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 940 }, deviceScaleFactor: 1 });
  context.setDefaultTimeout(30_000);
  // Reported from inside the page: a CSP violation fires this event (and logs a console error).
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
    });
  });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !/status of 400/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on("response", (response) => {
    // 400: the deliberate bad request below; 404: none is expected (previews are asked for by seq).
    if (response.status() >= 401) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  const streams = new Set();
  let tokenInAddress = 0;
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.endsWith("/events")) streams.add(url.pathname);
    if (url.origin !== new URL(base).origin && url.protocol !== "data:") problems.push(`request off the server: ${url}`);
    else if (url.search.includes(token) || url.searchParams.has("token")) {
      // Only the first page load may carry it; the server answers with a cookie and a redirect.
      if (tokenInAddress++ > 0 || url.pathname !== "/") problems.push(`the token in an address: ${url.pathname}`);
    }
  });

  // 1. The page loads with the token, which becomes a cookie, and reads its defaults.
  const landing = await page.goto(`${base}/?token=${token}`);
  const headers = landing ? await landing.allHeaders() : {};
  check(/script-src 'self'/.test(headers["content-security-policy"] ?? ""), "the page has no Content-Security-Policy");
  check(headers["x-content-type-options"] === "nosniff", "the page lacks X-Content-Type-Options: nosniff");
  check(!new URL(page.url()).searchParams.has("token"), `the address still holds the token: ${page.url()}`);
  const cookies = await context.cookies(base);
  const cookie = cookies.find((c) => c.name.startsWith("impasto_studio_"));
  check(cookie, `no studio cookie after ?token=: ${JSON.stringify(cookies.map((c) => c.name))}`);
  check(cookie.httpOnly && cookie.sameSite === "Strict", `the cookie is not HttpOnly and SameSite=Strict: ${JSON.stringify(cookie)}`);
  check(!cookie.value.includes(token), "the cookie holds the token itself");
  await page.waitForSelector('#app[data-ready="true"]');
  const defaultsSize = await page.getByTestId("param-size").inputValue();
  const api = await apiFromPage(page);
  const defaults = await api("/api/defaults");
  check(defaultsSize === String(defaults.optimisation.defaults.size), `size field shows ${defaultsSize}, not the default`);
  log(`page ready; optimisation default size ${defaultsSize}`);

  // 1b. The method tabs and the fast models show their examples, as /api/defaults names them.
  await checkExamples(page, defaults);

  // 2. Upload the photo and the painting through the page's file inputs.
  await page.getByTestId("content-file").setInputFiles(contentFile);
  await page.waitForSelector('[data-testid="content-option"].selected');
  await page.getByTestId("style-file").setInputFiles(styleFile);
  await page.waitForSelector('[data-testid="style-option"].selected');
  const images = await api("/api/images");
  check(images.uploads.length === 2, `expected 2 uploads, the server has ${images.uploads.length}`);
  log("uploaded the photo and the painting");

  // 3. A bad value: the server's message is shown, naming the parameter.
  await page.getByTestId("param-size").fill("5");
  await page.getByTestId("start-job").click();
  const notice = page.getByTestId("notice-error").last();
  await notice.waitFor();
  const noticeText = await notice.innerText();
  check(/size/.test(noticeText), `the error notice does not name the parameter: ${noticeText}`);
  await notice.getByRole("button").click();
  log(`bad size refused: ${noticeText.replace(/\s+/g, " ").trim()}`);

  // 4. A quick optimisation: 96 px, one scale, 30 iterations.
  await page.getByTestId("param-size").fill(jobSize);
  await page.getByTestId("param-schedule").fill("");
  await page.getByTestId("param-iterations").fill(jobIterations);
  await shot(page, "studio-create.png");
  await page.getByTestId("start-job").click();
  const first = await newestJob(page);
  log(`job ${first} started`);
  const card1 = page.locator(`[data-testid="job-card"][data-job-id="${first}"]`);
  const previewOrDone = await waitForJob(page, first, async () => {
    const fraction = Number((await card1.getByTestId("job-progress").getAttribute("data-fraction")) ?? 0);
    const preview = await card1.getByTestId("job-preview").count();
    const state = await card1.getAttribute("data-state");
    return (fraction > 0 && preview > 0) || state === "done" ? (state === "done" ? "done" : "preview") : null;
  });
  if (previewOrDone === "preview") {
    const text = await card1.getByTestId("job-progress-text").innerText();
    const losses = await card1.getByTestId("job-losses").innerText();
    log(`progress: ${text} | ${losses}`);
    check(/iteration \d+\/\d+/.test(text), `no iteration in the progress text: ${text}`);
    await shot(page, "studio-running.png");
  } else {
    log("warning: the job ended before a preview arrived; no running screenshot");
  }
  await waitForDone(page, api, first);
  // The card may have only just put the image in: wait for it to load or fail.
  const result1 = await card1.getByTestId("job-result").evaluate((img) =>
    img.complete
      ? [img.complete, img.naturalWidth]
      : new Promise((resolve) => {
          img.addEventListener("load", () => resolve([true, img.naturalWidth]));
          img.addEventListener("error", () => resolve([false, 0]));
        }),
  );
  check(result1[0] && result1[1] > 0, `the result image did not load; the browser saw:\n  ${problems.join("\n  ")}`);
  log(`job ${first} done, result ${result1[1]} px wide`);

  // Its downloads: the PNG and the JSON sidecar.
  const downloads = await page.evaluate(async (id) => {
    const card = document.querySelector(`[data-job-id="${id}"]`);
    const get = async (testid) => {
      const r = await fetch(card.querySelector(`[data-testid="${testid}"]`).href);
      return { status: r.status, type: r.headers.get("content-type"), disposition: r.headers.get("content-disposition"), body: await r.text() };
    };
    return { image: await get("job-download"), sidecar: await get("job-sidecar") };
  }, first);
  check(downloads.image.status === 200 && /image\/png/.test(downloads.image.type), "the PNG download failed");
  check(/attachment/.test(downloads.image.disposition ?? ""), "the PNG download is not an attachment");
  check(downloads.sidecar.status === 200, "the sidecar download failed");
  JSON.parse(downloads.sidecar.body);

  // 5. Re-run it with a change: a heavier style weight.
  await card1.getByTestId("job-rerun").click();
  await page.getByTestId("rerun-banner").waitFor();
  check((await page.getByTestId("param-size").inputValue()) === jobSize, "the re-run form is not pre-filled");
  const styleWeight = Number(await page.getByTestId("param-style_weight").inputValue());
  await page.getByTestId("param-style_weight").fill(String(styleWeight * 20));
  await page.getByTestId("start-job").click();
  const second = await newestJob(page, first);
  log(`job ${second} (re-run of ${first}, style_weight ${styleWeight * 20}) started`);
  const job2 = await waitForDone(page, api, second);
  check(job2.parent === first, `the re-run's parent is ${job2.parent}, not ${first}`);
  await page.locator(`[data-job-id="${second}"] [data-testid="job-result"]`).waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, "studio-results.png");
  log(`job ${second} done`);

  // 6. Compare the two and vote; the ranking takes the vote.
  const before = await api("/api/ranking");
  await page.getByTestId("tab-compare").click();
  await page.getByTestId("compare-image-a").waitFor();
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid^="compare-image-"]')].every((img) => img.complete && img.naturalWidth > 0),
  );
  const votesShown = await page.getByTestId("ranking-votes").getAttribute("data-votes");
  check(Number(votesShown) === before.votes, `the ranking shows ${votesShown} votes, the server has ${before.votes}`);
  await shot(page, "studio-compare.png");
  const winnerJob = await page.getByTestId("compare-side-a").getAttribute("data-job-id");
  await page.getByTestId("vote-a").click();
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid="ranking-votes"]')?.getAttribute("data-votes") === String(n),
    before.votes + 1,
  );
  const winner = await api(`/api/jobs/${winnerJob}`);
  const rows = await page.getByTestId("ranking-row").evaluateAll((trs) =>
    trs.map((tr) => ({ key: tr.dataset.settingsKey, comparisons: Number(tr.dataset.comparisons) })),
  );
  check(rows.length === 2, `expected 2 ranked settings, got ${rows.length}`);
  check(rows[0].key === winner.settings_key, "the winner of the vote is not ranked first");
  check(rows.every((row) => row.comparisons === 1), "each setting should have been compared once");
  log(`voted for ${winnerJob}; ranking: ${rows.map((r) => r.key).join(" > ")}`);
  await page.getByTestId("compare-status").waitFor({ state: "attached" });
  await page.waitForTimeout(900); // the next pair (the same two) loads after the vote
  await shot(page, "studio-ranking.png");

  const csv = await page.evaluate(async () => {
    const text = async (testid) => (await fetch(document.querySelector(`[data-testid="${testid}"]`).href)).text();
    return { votes: await text("export-votes"), ranking: await text("export-ranking") };
  });
  check(csv.votes.trim().split("\n").length === 2, `votes.csv should have a header and 1 vote:\n${csv.votes}`);
  check(csv.ranking.trim().split("\n").length === 3, `ranking.csv should have a header and 2 rows:\n${csv.ranking}`);

  check(streams.has(`/api/jobs/${first}/events`), "the page did not watch the job over its event stream");
  check(problems.length === 0, `the browser saw problems:\n  ${problems.join("\n  ")}`);

  // The policy is enforced, and a violation would have been seen: an injected inline script is
  // blocked and reported.
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.__inlineRan = true";
    document.head.appendChild(script);
  });
  await page.waitForTimeout(300);
  check(!(await page.evaluate(() => window.__inlineRan === true)), "an inline script ran: the CSP is not enforced");
  check(problems.some((p) => /CSP violation|Content Security Policy/.test(p)), "a CSP violation went unnoticed");
  log("passed");
}

// Each tab of a method with examples shows one, loaded and with alt text; the fast method's picker
// shows every model's, and a model chosen there is chosen in the form, its styles' examples shown.
// Without examples (none made) there is no picture and nothing to load.
async function checkExamples(page, defaults) {
  const models = defaults.fast.models ?? [];
  const withExamples = {
    optimisation: (defaults.optimisation.examples ?? []).length > 0,
    fast: defaults.fast.available && models.some((m) => (m.examples ?? []).length > 0),
    arbitrary: defaults.arbitrary.available && (defaults.arbitrary.examples ?? []).length > 0,
  };
  const loaded = async () =>
    page.waitForFunction(() =>
      [...document.querySelectorAll('img[data-testid="example-image"]')].every((img) => img.complete && img.naturalWidth > 0),
    );
  await loaded();
  for (const [method, expected] of Object.entries(withExamples)) {
    const images = page.getByTestId(`method-${method}`).locator("img");
    check((await images.count()) === (expected ? 1 : 0), `the ${method} tab should ${expected ? "" : "not "}show an example`);
    if (!expected) continue;
    const src = new URL(await images.getAttribute("src"), page.url()).pathname;
    check(src.startsWith("/api/examples/"), `the ${method} tab's example comes from ${src}`);
    check(((await images.getAttribute("alt")) ?? "").length > 10, `the ${method} tab's example has no alt text`);
  }
  if (!withExamples.fast) {
    log("no fast-model examples on this server; the tabs show none");
    return;
  }
  await page.getByTestId("method-fast").click();
  await page.getByTestId("model-picker").waitFor();
  check((await page.getByTestId("model-choice").count()) === models.length, "the picker does not list every fast model");
  // The model with the most examples (a StyleBank or multi-style one), chosen from the picker.
  const model = [...models].sort((a, b) => (b.examples ?? []).length - (a.examples ?? []).length)[0];
  await page.locator(`[data-testid="model-choice"][data-model="${model.name}"]`).click();
  await page.waitForSelector(`[data-testid="model-choice"][data-model="${model.name}"].selected`);
  check((await page.getByTestId("param-model").inputValue()) === model.name, `choosing ${model.name} in the picker did not set the model`);
  if (model.examples.length > 1) {
    const shown = await page.getByTestId("examples-fast").locator("figure").count();
    check(shown === model.examples.length, `${model.name}: ${shown} style examples shown, ${model.examples.length} offered`);
  }
  const tabSrc = await page.getByTestId("method-fast").locator("img").getAttribute("src");
  check(tabSrc === model.examples[0].url, `the fast tab does not show ${model.name}'s example: ${tabSrc}`);
  await loaded();
  await shot(page, "studio-examples.png");
  await page.getByTestId("method-optimisation").click();
  await page.getByTestId("param-preset").waitFor();
  log(`examples: tabs ${Object.keys(withExamples).filter((m) => withExamples[m]).join(", ")}; ${models.length} models in the picker`);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// The server's JSON, fetched by the page (same origin: the cookie carries the token).
async function apiFromPage(page) {
  return async (path) =>
    page.evaluate(async (p) => {
      const r = await fetch(p);
      if (!r.ok) throw new Error(`${p}: HTTP ${r.status} ${await r.text()}`);
      return r.json();
    }, path);
}

async function newestJob(page, other = "") {
  const handle = await page.waitForFunction((skip) => {
    const card = [...document.querySelectorAll('[data-testid="job-card"]')].find((c) => c.dataset.jobId !== skip);
    return card?.dataset.jobId ?? null;
  }, other);
  return handle.jsonValue();
}

// Polls `probe` until it returns a value; fails early when the job fails.
async function waitForJob(page, id, probe, limitMs = 240_000) {
  const end = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    const state = await page.locator(`[data-job-id="${id}"]`).getAttribute("data-state");
    if (state === "failed" || state === "cancelled") {
      const error = await page.locator(`[data-job-id="${id}"] [data-testid="job-error"]`).innerText();
      if (/weights/.test(error)) throw new Skip(`the VGG weights are not installed: ${error}`);
      throw new Error(`job ${id} ${state}: ${error}`);
    }
    if (Date.now() > end) throw new Error(`job ${id} is still ${state} after ${limitMs / 1000} s`);
    await page.waitForTimeout(150);
  }
}

async function waitForDone(page, api, id) {
  const card = page.locator(`[data-job-id="${id}"]`);
  await waitForJob(page, id, async () => ((await card.getAttribute("data-state")) === "done" ? "done" : null));
  const job = await api(`/api/jobs/${id}`);
  check(job.state === "done" && job.result, `the page shows ${id} done, the server says ${job.state}`);
  return job;
}

async function shot(page, name) {
  if (!screenshotDir) return;
  await page.waitForTimeout(250); // let images decode and transitions settle
  await page.evaluate(() => document.querySelectorAll(".notice-info").forEach((n) => n.remove()));
  await page.screenshot({ path: join(screenshotDir, name) });
  log(`screenshot ${join(screenshotDir, name)}`);
}

function startServer(data) {
  const extra = (process.env.IMPASTO_E2E_SERVER_ARGS || "").split(" ").filter(Boolean);
  const args = ["serve", "--host", "127.0.0.1", "--port", "0", "--data", data, "--token", token, "--workers", "1", ...extra];
  log(`${binary} ${args.join(" ").replace(token, "<token>")}`);
  server = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  server.stderr.on("data", (d) => {
    stderr += d;
    if (process.env.IMPASTO_E2E_VERBOSE) process.stderr.write(d);
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not say it was listening in 60 s:\n${stderr}`)), 60_000);
    createInterface({ input: server.stdout }).on("line", (line) => {
      if (process.env.IMPASTO_E2E_VERBOSE) console.log(`server: ${line}`);
      const match = /listening on (http:\/\/[^/\s]+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    });
    server.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((r) => server.once("exit", r));
  server.kill("SIGTERM");
  const killed = setTimeout(() => server.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killed);
}

async function cleanup() {
  await browser?.close().catch(() => {});
  await stopServer().catch(() => {});
  if (dataDir && !process.env.IMPASTO_E2E_KEEP) rmSync(dataDir, { recursive: true, force: true });
  else if (dataDir) log(`kept ${dataDir}`);
}

const watchdog = setTimeout(async () => {
  console.error(`FAIL: the test ran past ${timeoutS} s`);
  await cleanup();
  process.exit(1);
}, timeoutS * 1000);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await cleanup();
    process.exit(1);
  });
}

let code = 0;
try {
  await main();
} catch (error) {
  if (error instanceof Skip) {
    console.log(`SKIP: ${error.message}`);
    code = SKIP;
  } else {
    console.error(`FAIL: ${error instanceof Error ? error.message : error}`);
    if (process.env.IMPASTO_E2E_VERBOSE && error instanceof Error) console.error(error.stack);
    code = 1;
  }
}
clearTimeout(watchdog);
await cleanup();
log(code === 0 ? "studio e2e: ok" : code === SKIP ? "studio e2e: skipped" : "studio e2e: failed");
process.exit(code);

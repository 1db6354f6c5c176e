/**
 * The browser demo (examples/browser/) end to end: builds the bundle into a temp dir, serves
 * the page with COOP/COEP, loads it in headless Chromium, waits for the training steps and
 * checks from `window.__tessera_state` that the loss fell and nothing failed; saves a
 * screenshot in the temp dir. Where Chromium offers a software WebGPU adapter (SwiftShader), the
 * first step's loss on WebGPU is compared with the CPU's.
 *
 * Skips itself (saying why) when no Chromium is installed (`.ci/run` installs Debian's).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { bundle } from "../../tools/bundle.ts";
import { serveExample } from "../../examples/browser/serve.ts";
import { findChromium, launchChromium, type Page } from "./_chromium.ts";

const EXE = findChromium();
if (!EXE) {
  console.log("tests/browser/page_test.ts: no chromium found (apt-get install chromium); skipped");
}

/** What the page keeps in `window.__tessera_state` (examples/browser/main.js). */
interface PageState {
  backend: string | null;
  detail: string | null;
  threading: string | null;
  crossOriginIsolated: boolean;
  workerCrossOriginIsolated?: boolean;
  losses: number[];
  accuracy: number | null;
  evals: number;
  done: boolean;
  errors: string[];
  workerEntries: number | null;
}

const STEPS = 40;

async function runPage(page: Page, timeoutMs: number): Promise<PageState> {
  await page.waitFor(
    "globalThis.__tessera_state && (__tessera_state.done || __tessera_state.errors.length)",
    timeoutMs,
  );
  return await page.evaluate<PageState>("__tessera_state");
}

function pageErrors(page: Page): string[] {
  return page.log.filter((l) => l.kind === "exception" || l.level === "error").map((l) => l.text);
}

/**
 * Builds the bundle into a temp dir, serves the demo from it, starts Chromium with `args` and
 * runs `body`; then closes everything and removes the temp dir (kept when `body` fails, for
 * its screenshot).
 */
async function withDemo(
  args: string[],
  body: (open: (query: string) => Promise<Page>, tmp: string) => Promise<void>,
): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "tessera-browser-" });
  try {
    await bundle({ outDir: join(tmp, "dist"), check: false, dts: false, log: () => {} });
    await using server = await serveExample({ distDir: join(tmp, "dist") });
    await using browser = await launchChromium(EXE!, args);
    await body((query) => browser.newPage(server.page + query), tmp);
  } catch (e) {
    console.error(`kept ${tmp} (screenshots, bundle)`);
    throw e;
  }
  await Deno.remove(tmp, { recursive: true });
}

Deno.test({
  name: "browser demo: trains in headless Chromium, loss falls, no errors",
  ignore: !EXE,
  fn: () =>
    withDemo([], async (open, tmp) => {
      const page = await open(`?steps=${STEPS}&evalEvery=20`);
      const st = await runPage(page, 25_000);
      const shot = await page.screenshot();
      await Deno.writeFile(join(tmp, "demo.png"), shot);

      assert.deepEqual(st.errors, [], "the page reported errors");
      assert.deepEqual(pageErrors(page), [], "the page logged errors");
      assert.equal(st.done, true);
      assert.equal(st.losses.length, STEPS);
      assert.ok(st.losses.every(Number.isFinite));
      const hasAdapter = await page.evaluate<boolean>(
        "(async () => !!(navigator.gpu && await navigator.gpu.requestAdapter()))()",
      );
      assert.equal(st.backend, hasAdapter ? "webgpu" : "cpu", `detail: ${st.detail}`);
      const first = st.losses[0]!, last5 = st.losses.slice(-5);
      const tail = last5.reduce((a, b) => a + b, 0) / last5.length;
      assert.ok(first > 2 && first < 2.6, `first loss ${first} (≈ ln 10 at init)`);
      assert.ok(tail < 0.75 * first, `loss did not fall: first ${first}, last five ${last5}`);
      assert.equal(st.evals, 2);
      assert.ok(st.accuracy! > 0.5, `test accuracy ${st.accuracy}`);
      // COOP/COEP make the page (and its worker) cross-origin isolated, so the CPU backend
      // runs large matmuls on module Web Workers sharing its WebAssembly memory.
      assert.equal(st.crossOriginIsolated, true);
      assert.equal(st.workerCrossOriginIsolated, true);
      if (st.backend === "cpu") {
        assert.match(st.threading!, /^(web: \d+ threads|single) \(/);
        // With threads, the evaluation's 500×784 @ 784×128 product is split across them.
        if (st.threading!.startsWith("web")) assert.ok(st.workerEntries! > 0, "workers idle");
      }
      assert.ok(shot.length > 1000 && shot[1] === 0x50, "screenshot is a PNG");
      // Functions that take a file path say so in a browser (no Deno namespace there).
      const fsError = await page.evaluate<string>(
        `import("/dist/tessera.js").then((t) => t.readSafetensorsFile("w.safetensors"))
          .then(() => "no error", (e) => e.name + ": " + e.message)`,
      );
      assert.match(fsError, /^TesseraError: readSafetensorsFile: needs a file system \(Deno\)/);
    }),
});

Deno.test({
  name: "browser demo: on Chromium's WebGPU (SwiftShader) the first loss matches the CPU's",
  ignore: !EXE,
  fn: () =>
    withDemo(["--enable-unsafe-webgpu"], async (open, tmp) => {
      const cpu = await open("?backend=cpu&steps=1&evalEvery=1");
      const hasAdapter = await cpu.evaluate<boolean>(
        "(async () => !!(navigator.gpu && await navigator.gpu.requestAdapter()))()",
      );
      if (!hasAdapter) {
        console.log("no WebGPU adapter in Chromium (--enable-unsafe-webgpu); webgpu path skipped");
        return;
      }
      const cpuState = await runPage(cpu, 15_000);
      const gpu = await open("?backend=webgpu&steps=10&evalEvery=10");
      const gpuState = await runPage(gpu, 120_000);
      await Deno.writeFile(join(tmp, "webgpu.png"), await gpu.screenshot());
      assert.deepEqual([...cpuState.errors, ...gpuState.errors], []);
      assert.deepEqual([...pageErrors(cpu), ...pageErrors(gpu)], []);
      assert.equal(cpuState.backend, "cpu");
      assert.equal(gpuState.backend, "webgpu");
      assert.equal(gpuState.losses.length, 10);
      const [c, g] = [cpuState.losses[0]!, gpuState.losses[0]!];
      assert.ok(Math.abs(c - g) <= 1e-5 * c, `first loss: cpu ${c}, webgpu ${g}`);
      assert.ok(gpuState.losses.at(-1)! < 0.75 * g, `webgpu loss did not fall: ${gpuState.losses}`);
    }),
});

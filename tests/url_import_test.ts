/**
 * tessera must work when imported by URL (no deno.json, no lockfile, no local files): these
 * tests serve the repository over loopback HTTP and run modules from it in a subprocess.
 */

import assert from "node:assert/strict";
import { REPO_ROOT, serveRepo } from "./_serve.ts";

/** A line examples/quickstart.ts prints; keep in step with the example. */
const QUICKSTART_LINE = "grad: [2, 4, 6]";

/** Runs `deno run <flags> <url>` as a user without a config or lockfile would. */
async function runByUrl(
  url: string,
  flags: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const origin = new URL(url).origin;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-lock", "--no-prompt", `--reload=${origin}`, ...flags, url],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("examples/quickstart.ts runs when imported by URL", async () => {
  await using server = await serveRepo();
  const { code, stdout, stderr } = await runByUrl(`${server.origin}/examples/quickstart.ts`, [
    `--allow-import=${server.host}`,
  ]);
  assert.equal(code, 0, `quickstart failed:\n${stderr}`);
  assert.ok(
    stdout.split("\n").some((l) => l.trim() === QUICKSTART_LINE),
    `expected a line "${QUICKSTART_LINE}" in:\n${stdout}`,
  );
});

Deno.test("data/mod.ts imported by URL loads the shipped sample with fetch", async () => {
  // No --allow-read: the system data set is invisible, so the loader must fall back to the
  // sample next to data/fashion_mnist.ts, which is now an http: URL.
  const probe = `
    import { loadFashionMnist } from "../data/mod.ts";
    const d = await loadFashionMnist({ split: "test", limit: 10 });
    console.log(JSON.stringify({ count: d.count, labels: [...d.labels], source: d.source }));
  `;
  await using server = await serveRepo({
    "/__probe__/load_sample.ts": { body: probe, type: "application/typescript; charset=utf-8" },
  });
  const { code, stdout, stderr } = await runByUrl(`${server.origin}/__probe__/load_sample.ts`, [
    `--allow-import=${server.host}`,
    `--allow-net=${server.host}`,
  ]);
  assert.equal(code, 0, `probe failed:\n${stderr}`);
  const out = JSON.parse(stdout);
  assert.equal(out.count, 10);
  assert.deepEqual(out.labels, [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
  assert.equal(out.source, `${server.origin}/data/sample/fashion-mnist/`);
});

Deno.test("nn/mod.ts and models/mod.ts train by URL with no permission but --allow-import", async () => {
  // The README says the core needs no other permission: a trainStep loop and a ViT spec.
  const probe = `
    import { random, tensor } from "../mod.ts";
    import { adamw, createTrainState, crossEntropy, initLinear, linear, trainStep } from "../nn/mod.ts";
    import { VIT_PRESETS } from "../models/mod.ts";
    const x = random.normal(random.key(1), [6, 4]);
    const y = tensor([0, 1, 2, 0, 1, 2], { dtype: "int32" });
    const opt = adamw({ lr: 0.1 });
    const step = trainStep((p, x, y) => crossEntropy(linear(p, x), y), opt);
    let state = createTrainState(initLinear(random.key(0), { inFeatures: 4, outFeatures: 3 }), opt);
    const losses = [];
    for (let i = 0; i < 5; i++) {
      const out = step(state, x, y);
      state = out.state;
      losses.push(await out.loss.item());
      out.loss.dispose();
    }
    console.log(JSON.stringify({ falls: losses[4] < losses[0], presets: Object.keys(VIT_PRESETS).length > 0 }));
  `;
  await using server = await serveRepo({
    "/__probe__/train.ts": { body: probe, type: "application/typescript; charset=utf-8" },
  });
  const { code, stdout, stderr } = await runByUrl(`${server.origin}/__probe__/train.ts`, [
    `--allow-import=${server.host}`,
  ]);
  assert.equal(code, 0, `probe failed:\n${stderr}`);
  assert.deepEqual(JSON.parse(stdout), { falls: true, presets: true });
});

Deno.test("the test server serves only repository files", async () => {
  await using server = await serveRepo();
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${server.origin}${path}`, init);
    await res.body?.cancel();
    return res;
  };
  const ok = await get("/data/idx.ts");
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("content-type"), "application/typescript; charset=utf-8");
  assert.equal((await get("/data/sample/fashion-mnist/README.md")).status, 200);
  for (
    const bad of [
      "/../etc/passwd",
      "/..%2f..%2fetc%2fpasswd",
      "/%2e%2e/etc/passwd",
      "/.git/HEAD",
      "/data",
      "/nope.ts",
      "/%E0%A4%A",
    ]
  ) {
    const { status } = await get(bad);
    assert.ok(status === 404 || status === 400, `${bad} gave ${status}`);
  }
  assert.equal((await get("/data/idx.ts", { method: "POST", body: "x" })).status, 405);
});

/** The `serve` task's command from deno.json, as `deno run` arguments. */
async function serveTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const task: string = config.tasks.serve;
  assert.match(task, /^deno run [^|;&]+$/, `the serve task should be one deno run: ${task}`);
  return task.split(/\s+/).slice(1);
}

Deno.test("deno task serve: the documented server serves the checkout for import by URL", async () => {
  // Runs the task's own command (not `deno task`, whose child would outlive a kill) with port 0.
  const server = new Deno.Command(Deno.execPath(), {
    args: [...(await serveTaskArgs()), "--port", "0"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(server.stderr).text();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    // Wait for the "Serving … at <origin>/" line (or the server's exit; 60 s at most).
    const SERVING = /^Serving .* at (http:\/\/127\.0\.0\.1:(\d+))\/$/m;
    const giveUp = setTimeout(() => server.kill("SIGTERM"), 60_000);
    let out = "";
    while (!SERVING.test(out)) {
      const { value, done } = await lines.read();
      if (done) break;
      out += value;
    }
    clearTimeout(giveUp);
    const m = SERVING.exec(out);
    assert.ok(m, `no "Serving … at http://127.0.0.1:<port>/" line in:\n${JSON.stringify(out)}`);
    const [origin, host] = [m[1]!, `127.0.0.1:${m[2]}`];
    const res = await fetch(`${origin}/nn/train_state.ts`);
    assert.equal(res.headers.get("content-type"), "application/typescript; charset=utf-8");
    await res.body?.cancel();
    const { code, stdout, stderr: err } = await runByUrl(`${origin}/examples/quickstart.ts`, [
      `--allow-import=${host}`,
    ]);
    assert.equal(code, 0, `quickstart by URL failed:\n${err}`);
    assert.ok(stdout.includes(QUICKSTART_LINE), stdout);
  } finally {
    try {
      server.kill("SIGTERM");
    } catch { /* already exited */ }
    await lines.cancel();
    await server.status;
    await stderr;
  }
});

/**
 * tessera must work when imported by URL (no deno.json, no lockfile, no local files): these
 * tests serve the repository over loopback HTTP and run modules from it in a subprocess.
 */

import assert from "node:assert/strict";
import { serveRepo } from "./_serve.ts";

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

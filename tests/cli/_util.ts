/**
 * Helpers of the CLI tests: the bundled sample's path, a tiny finetune configuration, a
 * subprocess runner for `train.ts`, a temp dir for the length of a test, a run's training
 * losses and the check that they fell, an XML well-formedness check for the SVG plots, and
 * checkpoint bytes and the kill-and-resume check for the resume tests.
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { dispose, Tensor } from "../../mod.ts";
import { readMetrics } from "../../trainer/metrics.ts";
import { captureIO } from "../../trainer/io.ts";
import { main } from "../../cli/main.ts";

/** The Fashion-MNIST sample shipped in the repository. */
export const SAMPLE = fromFileUrl(new URL("../../data/sample/fashion-mnist", import.meta.url));

/** train.ts, absolute. */
export const TRAIN_TS = fromFileUrl(new URL("../../train.ts", import.meta.url));

/** A tiny ViT and batch: `--dim 16 --depth 2 --heads 2 --batch 32`. */
export const TINY_VIT = ["--dim", "16", "--depth", "2", "--heads", "2", "--batch", "32"];

/** Flags of a tiny, fast finetune run on a few hundred sample images. */
export function tinyRun(out: string, extra: string[] = []): string[] {
  return [
    "finetune",
    "--data",
    SAMPLE,
    "--train-limit",
    "320",
    "--test-limit",
    "200",
    ...TINY_VIT,
    "--out",
    out,
    ...extra,
  ];
}

/** Runs `deno run -A train.ts args…`; returns the exit code and both streams. */
export async function runTrain(
  args: string[],
  opts: { env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TRAIN_TS, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...opts.env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Runs `f(dir)` in a fresh temp dir and removes it afterwards, whether `f` succeeds or not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withTempDir } from "./_util.ts";
 * let seen = "";
 * await withTempDir(async (dir) => void (seen = dir));
 * await assert.rejects(Deno.stat(seen), Deno.errors.NotFound);
 * ```
 */
export async function withTempDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The `loss` of every `train` record of the run directory `out`'s metrics.jsonl, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainLosses, withTempDir } from "./_util.ts";
 * await withTempDir(async (dir) => {
 *   const recs = [{ type: "config" }, { type: "train", step: 1, loss: 2 }, { type: "eval", step: 1 }];
 *   await Deno.writeTextFile(`${dir}/metrics.jsonl`, recs.map((r) => JSON.stringify(r)).join("\n"));
 *   assert.deepEqual(await trainLosses(dir), [2]);
 * });
 * ```
 */
export async function trainLosses(out: string): Promise<number[]> {
  const recs = await readMetrics(`${out}/metrics.jsonl`);
  return recs.filter((r) => r.type === "train").map((r) => r.loss as number);
}

/**
 * Throws unless the mean of the last `k` losses is below the mean of the first `k` by more
 * than `margin` (default 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertLossFalls } from "./_util.ts";
 * assertLossFalls([3, 2, 1], 1);
 * assert.throws(() => assertLossFalls([3, 2, 1], 1, 2), /loss did not fall/);
 * ```
 */
export function assertLossFalls(loss: number[], k: number, margin = 0): void {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(loss.slice(-k)) < mean(loss.slice(0, k)) - margin, `loss did not fall: ${loss}`);
}

/**
 * Throws unless `xml` is one well-formed element tree: balanced tags, quoted attributes, no
 * stray `<` or `&`, and a single root.
 */
export function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  const re =
    /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos|#\d+);)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(xml))) {
    if (m[0] === "<" || m[0] === "&") {
      throw new Error(
        `malformed XML at ${m.index}: ${JSON.stringify(xml.slice(m.index, m.index + 40))}`,
      );
    }
    const [, close, name, , selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at ${m.index}`);
    } else {
      if (stack.length === 0) roots++;
      if (!selfClose) stack.push(name!);
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.join("> <")}>`);
  if (roots !== 1) throw new Error(`expected one root element, found ${roots}`);
}

/**
 * The bytes of every tensor (and the step, RNG key and other leaves) of a checkpoint, by
 * tree path: two runs agree bit for bit when these maps are equal.
 */
export async function checkpointBytes(path: string): Promise<Map<string, Uint8Array>> {
  const ck = await loadCheckpoint(path);
  const out = new Map<string, Uint8Array>();
  const walk = (x: unknown, p: string) => {
    if (x instanceof Tensor) {
      const d = x.dataSync();
      out.set(p, new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice());
    } else if (x && typeof x === "object") {
      for (const [k, v] of Object.entries(x)) walk(v, p ? `${p}.${k}` : k);
    } else out.set(p, new TextEncoder().encode(JSON.stringify(x)));
  };
  walk({ params: ck.params, opt: ck.optState }, "");
  out.set("step", new TextEncoder().encode(String(ck.step)));
  out.set("rng", new Uint8Array((await ck.rngKey!.data()).buffer.slice(0)));
  dispose([ck.params, ck.optState, ck.rngKey]);
  return out;
}

/**
 * Throws unless the latest checkpoints of the run directories `full` and `part` hold the same
 * leaves with the same bytes ({@link checkpointBytes}); returns `full`'s.
 *
 * @example
 * ```ts ignore
 * import { assertSameCheckpoint } from "./_util.ts";
 * const leaves = await assertSameCheckpoint(`${dir}/full`, `${dir}/part`);
 * ```
 */
export async function assertSameCheckpoint(
  full: string,
  part: string,
): Promise<Map<string, Uint8Array>> {
  const a = await checkpointBytes(`${full}/ckpt_latest.safetensors`);
  const b = await checkpointBytes(`${part}/ckpt_latest.safetensors`);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [k, v] of a) assert.deepEqual(b.get(k), v, `${k} differs after resume`);
  return a;
}

/** What {@link assertResumeIdentical} ran: both run directories, the checkpoint, the finals. */
export interface ResumeCheck {
  full: string;
  part: string;
  /** The leaves of the (identical) latest checkpoints. */
  leaves: Map<string, Uint8Array>;
  /** The last stdout lines (final records) of the uninterrupted and of the resumed run. */
  finals: [string | undefined, string | undefined];
}

/**
 * The kill-and-resume check of a training command: `argv(out, extra)` run to the end into
 * `dir/full` (exit 0); again into `dir/part` with `--stop-after stopAfter` (exit 130 and the
 * resume hint); `command --resume dir/part` to the end (exit 0, resuming at `stopAfter`); then
 * the two latest checkpoints must hold the same bytes ({@link assertSameCheckpoint}).
 *
 * @example
 * ```ts ignore
 * import { assertResumeIdentical, tinyRun } from "./_util.ts";
 * await assertResumeIdentical("finetune", (out, extra) => tinyRun(out, ["--steps", "4", ...extra]), dir, 2);
 * ```
 */
export async function assertResumeIdentical(
  command: string,
  argv: (out: string, extra: string[]) => string[],
  dir: string,
  stopAfter: number,
): Promise<ResumeCheck> {
  const full = `${dir}/full`, part = `${dir}/part`;
  const io1 = captureIO();
  assert.equal(await main(argv(full, []), io1), 0, io1.stderr);
  const io2 = captureIO();
  const stopped = await main(argv(part, ["--stop-after", String(stopAfter)]), io2);
  assert.equal(stopped, 130, io2.stderr);
  assert.match(io2.stderr, new RegExp(`resume with: deno run -A train\\.ts ${command} --resume `));
  const io3 = captureIO();
  assert.equal(await main([command, "--resume", part], io3), 0, io3.stderr);
  assert.match(io3.stderr, new RegExp(`resuming at step ${stopAfter}`));
  const leaves = await assertSameCheckpoint(full, part);
  return { full, part, leaves, finals: [io1.stdout.at(-1), io3.stdout.at(-1)] };
}

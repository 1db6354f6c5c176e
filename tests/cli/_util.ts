/**
 * Helpers of the CLI tests: the bundled sample's path, a tiny finetune configuration, a
 * subprocess runner for `train.ts`, and an XML well-formedness check for the SVG plots.
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { dispose, Tensor } from "../../mod.ts";

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

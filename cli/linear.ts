/**
 * `train.ts linear`: the original baseline job, softmax regression on Fashion-MNIST pixels
 * with plain SGD (about 2 s on the CPU backend). Progress on stderr, one JSON line of final
 * metrics on stdout.
 * @module
 */
import {
  add,
  argmax,
  cast,
  div,
  equal,
  logSoftmax,
  matmul,
  mean,
  mul,
  neg,
  oneHot,
  scope,
  sub,
  sum,
  type Tensor,
  tensor,
  treeMap,
  valueAndGrad,
  zeros,
} from "../mod.ts";
import { loadFashionMnist } from "../data/fashion_mnist.ts";
import { intFlag, limitFlag, numFlag, parseFlags, UsageError } from "./args.ts";
import type { CliIO } from "./io.ts";

/** `--help` of `linear`. */
export const LINEAR_HELP = `train.ts linear — softmax regression on Fashion-MNIST (the baseline)

Usage: deno run -A train.ts linear [flags]

Flags:
  --steps N            SGD steps (default 500)
  --batch N            batch size (default 128)
  --lr X               learning rate (default 0.1)
  --train-limit N|all  training images to use (default 4000)
  --test-limit N|all   test images to evaluate (default 1000)
  --data DIR           folder with the Fashion-MNIST .gz IDX files
                       (default: /usr/share/datasets/fashion-mnist, else the bundled sample)
  --seed N             shuffling seed (default 0)
  --log-every N        progress line every N steps (default 50)
  -h, --help           this help

Prints progress on stderr and one JSON line of final metrics on stdout.`;

/**
 * Options of the `linear` job.
 *
 * @example
 * ```ts
 * import { parseLinearArgs } from "./linear.ts";
 * const o = parseLinearArgs(["--steps", "10"]);
 * console.log(o !== "help" && o.steps); // 10
 * ```
 */
export interface LinearOptions {
  /** SGD steps. */
  steps: number;
  /** Batch size. */
  batch: number;
  /** Learning rate. */
  lr: number;
  /** Training images (null = all). */
  trainLimit: number | null;
  /** Test images (null = all). */
  testLimit: number | null;
  /** Data folder. */
  data?: string;
  /** Shuffling seed. */
  seed: number;
  /** Progress period. */
  logEvery: number;
}

/** Parses `linear` flags ({@link UsageError} on anything wrong). */
export function parseLinearArgs(argv: string[]): LinearOptions | "help" {
  const v = parseFlags(argv, {
    steps: { type: "string" },
    batch: { type: "string" },
    lr: { type: "string" },
    "train-limit": { type: "string" },
    "test-limit": { type: "string" },
    data: { type: "string" },
    seed: { type: "string" },
    "log-every": { type: "string" },
    help: { type: "boolean", short: "h" },
  }) as Record<string, string | undefined> & { help?: boolean };
  if (v.help) return "help";
  const int = (k: string, def: number, min = 1) =>
    v[k] === undefined ? def : intFlag(k, v[k]!, { min });
  return {
    steps: int("steps", 500),
    batch: int("batch", 128),
    lr: v.lr === undefined ? 0.1 : numFlag("lr", v.lr, { min: 0, above: true }),
    trainLimit: v["train-limit"] === undefined ? 4000 : limitFlag("train-limit", v["train-limit"]),
    testLimit: v["test-limit"] === undefined ? 1000 : limitFlag("test-limit", v["test-limit"]),
    ...(v.data !== undefined ? { data: v.data } : {}),
    seed: int("seed", 0, 0),
    logEvery: int("log-every", 50),
  };
}

/** Fashion-MNIST pixel statistics (spec: mean 0.2860, std 0.3530 of the train split). */
const MEAN = 0.2860, STD = 0.3530;

function normalise(images: Uint8Array, idx: ArrayLike<number>): Tensor {
  const out = new Float32Array(idx.length * 784);
  for (let i = 0; i < idx.length; i++) {
    const src = idx[i]! * 784;
    for (let j = 0; j < 784; j++) out[i * 784 + j] = (images[src + j]! / 255 - MEAN) / STD;
  }
  return tensor(out, { shape: [idx.length, 784] });
}

function labelsOf(labels: Uint8Array, idx: ArrayLike<number>): Tensor {
  return tensor(Int32Array.from(idx, (i) => labels[i]!), { shape: [idx.length] });
}

/** Seeded Fisher–Yates shuffle of 0..n-1 (mulberry32). */
function shuffled(n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

type Params = { weight: Tensor; bias: Tensor };

/** Mean cross-entropy of a linear softmax classifier. */
function loss(params: Params, x: Tensor, y: Tensor): Tensor {
  const logits = add(matmul(x, params.weight), params.bias);
  const picked = sum(mul(logSoftmax(logits, -1), oneHot(y, 10)), -1);
  return neg(mean(picked));
}

async function load(opts: LinearOptions, split: "train" | "test", limit: number | null) {
  try {
    return await loadFashionMnist({ split, dir: opts.data, limit: limit ?? undefined });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new UsageError(opts.data === undefined ? msg : `--data ${opts.data}: ${msg}`);
  }
}

/** Runs the job; returns the final metrics. */
export async function trainLinear(
  opts: LinearOptions,
  io: CliIO,
): Promise<Record<string, number | string>> {
  const t0 = performance.now();
  const trainSet = await load(opts, "train", opts.trainLimit);
  const testSet = await load(opts, "test", opts.testLimit);
  io.err(`data: ${trainSet.count} train / ${testSet.count} test images from ${trainSet.source}\n`);
  let params: Params = { weight: zeros([784, 10]), bias: zeros([10]) };
  const step = valueAndGrad(loss);
  const perEpoch = Math.max(1, Math.floor(trainSet.count / opts.batch));
  let order = shuffled(trainSet.count, opts.seed);
  let lastLoss = NaN;
  for (let s = 0; s < opts.steps; s++) {
    const epoch = Math.floor(s / perEpoch), b = s % perEpoch;
    if (b === 0 && s > 0) order = shuffled(trainSet.count, opts.seed + epoch);
    const idx = order.subarray(b * opts.batch, (b + 1) * opts.batch);
    const [next, l] = scope(() => {
      const [value, grads] = step(
        params,
        normalise(trainSet.images, idx),
        labelsOf(trainSet.labels, idx),
      );
      const updated = treeMap((p, g) => sub(p, mul(g, opts.lr)), params, grads as Params);
      return [updated, value] as const;
    });
    for (const p of Object.values(params)) p.dispose();
    params = next;
    lastLoss = await l.item();
    l.dispose();
    if ((s + 1) % opts.logEvery === 0 || s === opts.steps - 1) {
      io.err(`linear step ${s + 1}/${opts.steps}  epoch ${epoch}  loss ${lastLoss.toFixed(4)}\n`);
    }
  }
  const accuracy = await scope(() => {
    const all = Int32Array.from({ length: testSet.count }, (_, i) => i);
    const logits = add(matmul(normalise(testSet.images, all), params.weight), params.bias);
    const hits = cast(equal(argmax(logits, -1), labelsOf(testSet.labels, all)), "float32");
    return div(sum(hits), testSet.count);
  }).item();
  for (const p of Object.values(params)) p.dispose();
  return {
    job: "softmax-regression",
    steps: opts.steps,
    train_loss: Number(lastLoss.toFixed(5)),
    test_accuracy: Number(accuracy.toFixed(4)),
    train_images: trainSet.count,
    test_images: testSet.count,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
  };
}

/** The `linear` command. */
export async function linearCommand(argv: string[], io: CliIO): Promise<number> {
  const opts = parseLinearArgs(argv);
  if (opts === "help") {
    io.out(LINEAR_HELP);
    return 0;
  }
  io.out(JSON.stringify(await trainLinear(opts, io)));
  return 0;
}

/**
 * tessera's command line. For now the main job trains a softmax-regression classifier on
 * Fashion-MNIST (real data from Debian's `dataset-fashion-mnist` when installed, else the
 * sample shipped in `data/sample/`); later issues grow it into pretrain/finetune/detect.
 *
 * Run: `deno run -A train.ts --help`. Progress goes to stderr, the final metrics JSON to
 * stdout.
 * @module
 */
import { parseArgs } from "node:util";
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
} from "./mod.ts";
import { loadFashionMnist } from "./data/fashion_mnist.ts";

const HELP = `tessera train — softmax regression on Fashion-MNIST

Usage: deno run -A train.ts [options]

Options:
  --steps N        SGD steps (default 500)
  --batch N        batch size (default 128)
  --lr X           learning rate (default 0.1)
  --train-limit N  training images to use (default 4000)
  --test-limit N   test images to evaluate (default 1000)
  --data DIR       folder with the Fashion-MNIST .gz IDX files
                   (default: /usr/share/datasets/fashion-mnist, else the bundled sample)
  --seed N         shuffling seed (default 0)
  --log-every N    progress line every N steps (default 50)
  -h, --help       show this help

Prints progress on stderr and one JSON line of final metrics on stdout.`;

/** Parsed command-line options. */
export interface TrainOptions {
  steps: number;
  batch: number;
  lr: number;
  trainLimit: number;
  testLimit: number;
  data?: string;
  seed: number;
  logEvery: number;
}

function intFlag(name: string, v: string | undefined, def: number, min = 1): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`--${name} must be an integer >= ${min}, got "${v}"`);
  }
  return n;
}

/** Parses argv into options (throws on unknown flags or bad values). */
export function parseTrainArgs(argv: string[]): TrainOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      steps: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      "train-limit": { type: "string" },
      "test-limit": { type: "string" },
      data: { type: "string" },
      seed: { type: "string" },
      "log-every": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const lr = values.lr === undefined ? 0.1 : Number(values.lr);
  if (!(lr > 0)) throw new Error(`--lr must be a positive number, got "${values.lr}"`);
  return {
    steps: intFlag("steps", values.steps, 500),
    batch: intFlag("batch", values.batch, 128),
    lr,
    trainLimit: intFlag("train-limit", values["train-limit"], 4000),
    testLimit: intFlag("test-limit", values["test-limit"], 1000),
    ...(values.data ? { data: values.data } : {}),
    seed: intFlag("seed", values.seed, 0, 0),
    logEvery: intFlag("log-every", values["log-every"], 50),
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

/** Runs the job; returns the final metrics. */
export async function train(opts: TrainOptions): Promise<Record<string, number | string>> {
  const t0 = performance.now();
  const trainSet = await loadFashionMnist({
    split: "train",
    dir: opts.data,
    limit: opts.trainLimit,
  });
  const testSet = await loadFashionMnist({ split: "test", dir: opts.data, limit: opts.testLimit });
  console.error(
    `data: ${trainSet.count} train / ${testSet.count} test images from ${trainSet.source}`,
  );
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
      console.error(`step ${s + 1}/${opts.steps}  epoch ${epoch}  loss ${lastLoss.toFixed(4)}`);
    }
  }
  const accuracy = await scope(() => {
    const all = Int32Array.from({ length: testSet.count }, (_, i) => i);
    const logits = add(matmul(normalise(testSet.images, all), params.weight), params.bias);
    const hits = cast(equal(argmax(logits, -1), labelsOf(testSet.labels, all)), "float32");
    return div(sum(hits), testSet.count);
  }).item();
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

if (import.meta.main) {
  let opts: TrainOptions | "help";
  try {
    opts = parseTrainArgs(Deno.args);
  } catch (e) {
    console.error(`train: ${e instanceof Error ? e.message : e}\n\n${HELP}`);
    Deno.exit(2);
  }
  if (opts === "help") {
    console.log(HELP);
  } else {
    console.log(JSON.stringify(await train(opts)));
  }
}

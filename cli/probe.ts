/**
 * `train.ts probe`: linear probe of a frozen ViT encoder on Fashion-MNIST. The encoder comes
 * from a `pretrain` or `finetune` checkpoint (`--init`), or is randomly initialised
 * (`--init none`, the "random features" control). Features of one block are extracted once in
 * eval mode ({@link extractFeatures}), average-pooled over the patch tokens (or the CLS token), and a multinomial
 * logistic regression ({@link trainSoftmaxRegression}: standardised features, weight decay,
 * L-BFGS to convergence) is trained on them. Progress on stderr, one JSON line on stdout.
 * @module
 */
import { dispose, random } from "../mod.ts";
import { initVit, type VitConfig } from "../models/vit.ts";
import { extractFeatures } from "../models/encoder_features.ts";
import type { FashionMnist } from "../data/fashion_mnist.ts";
import { selectBackend } from "../trainer/backend.ts";
import { loadSplits } from "./fmnist.ts";
import {
  adjust,
  choice,
  type CommandFlags,
  group,
  helpText,
  int,
  type OptionsOf,
  parseCommand,
  path,
  preset,
  row,
  UsageError,
} from "../trainer/flags.ts";
import { BACKEND, DATA, FIT, MODEL, OPTIM, TEST } from "./flag_groups.ts";

import type { CliIO } from "../trainer/io.ts";
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from "../data/fashion_mnist_stats.ts";
import { cliVitConfig, loadInitEncoder } from "../trainer/models.ts";
import { fitAndScore } from "./fit_and_score.ts";

const MEAN = FASHION_MNIST_MEAN[0]!, STD = FASHION_MNIST_STD[0]!;

const RANDOM = "With --init none only (a random encoder of that shape)";
const FLAGS = [
  ...group("Encoder", [
    row(
      "init",
      "PATH|none",
      path("a checkpoint file, a run directory or none"),
      null,
      "pretrain/finetune checkpoint or run directory; none = random encoder",
    ),
    row("layer", "L", int({ min: 1 }), null, "block 1..depth", {
      none: "the last, with the final norm",
    }),
    row("pool", "avg|cls", choice(["avg", "cls"]), "avg", "patch-token mean or the CLS token"),
  ]),
  ...DATA,
  ...adjust(TEST, { testLimit: { default: null, none: "all" } }),
  ...FIT,
  ...BACKEND,
  ...group("Run", [
    row("out", "DIR", path("a directory"), null, "also write the result to DIR/probe.json"),
    preset("smoke", "quick check", {
      trainLimit: 200,
      testLimit: 100,
      maxIter: 20,
      layer: 1,
    }),
  ]),
  ...adjust([...MODEL.slice(0, 6), OPTIM[7]], {
    seed: { help: "init seed" },
  }).map((f) => ({ ...f, group: RANDOM })),
] as const;

/**
 * The flag table of `probe`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommand } from "../trainer/flags.ts";
 * import { PROBE } from "./probe.ts";
 * const p = parseCommand(PROBE, ["--init", "none", "--layer", "2"]);
 * assert.ok(p !== "help");
 * assert.deepEqual([p.options.init, p.options.layer, p.options.testLimit], ["none", 2, null]);
 * ```
 */
export const PROBE: CommandFlags<typeof FLAGS> = {
  name: "probe",
  title: "linear probe of a frozen ViT encoder on Fashion-MNIST",
  usage: "--init <checkpoint file | run dir | none> [flags]",
  intro:
    "Features of block L, average-pooled over the patch tokens, are extracted once; a softmax\n" +
    "regression (standardised features, weight decay, L-BFGS to convergence) is trained on them.",
  flags: FLAGS,
  exclusive: [["train-subset", "train-limit"]],
  footer: "Prints progress on stderr and one JSON line of results on stdout.",
};

/** Options of a probe run. */
export type ProbeOptions = OptionsOf<typeof FLAGS>;

/**
 * Parses `probe` flags ({@link UsageError} on anything wrong, `--init` required).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProbeArgs } from "./probe.ts";
 * const o = parseProbeArgs(["--init", "none"]);
 * assert.ok(o !== "help" && o.testLimit === null && o.trainLimit === 4000);
 * ```
 */
export function parseProbeArgs(argv: string[]): (ProbeOptions & { init: string }) | "help" {
  const p = parseCommand(PROBE, argv);
  if (p === "help") return p;
  const { init } = p.options;
  if (init === null) {
    throw new UsageError("--init is required: a checkpoint file, a run directory or none");
  }
  const shaped = FLAGS.find((f) => f.group === RANDOM && f.key in p.given);
  if (init !== "none" && shaped) {
    throw new UsageError(`--${shaped.flag} only applies with --init none`);
  }
  return { ...p.options, init };
}

async function encoderOf(o: ProbeOptions & { init: string }) {
  if (o.init !== "none") return await loadInitEncoder(o.init);
  const config: VitConfig = {
    ...cliVitConfig(o.model, o, { dropPath: 0, numClasses: 0 }),
    classToken: o.clsToken,
    fcNorm: false,
  };
  const key = random.key(o.seed);
  const params = initVit(key, config);
  key.dispose();
  return { params, config, method: "random", step: 0, path: "none" };
}

/** Runs the probe; returns the result record (also printed by {@link probeCommand}). */
export async function runProbe(
  o: ProbeOptions & { init: string },
  io: CliIO,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const backend = await selectBackend(o.backend, o.threads);
  const encoder = await encoderOf(o);
  try {
    const { params, config } = encoder;
    const layer = o.layer ?? config.depth;
    if (layer > config.depth) {
      throw new UsageError(`--layer ${layer} is beyond the encoder's depth ${config.depth}`);
    }
    if (o.pool === "cls" && !params.cls_token) {
      throw new UsageError("--pool cls: the encoder has no CLS token");
    }
    const { train, test } = await loadSplits(o);
    io.err(
      `probe: ${encoder.method} encoder (${o.init}, step ${encoder.step}; dim ${config.embedDim}, ` +
        `depth ${config.depth}) on ${backend}; block ${layer}, ${o.pool} pooling; ` +
        `${train.count} train / ${test.count} test images from ${train.source}\n`,
    );
    const feats = async (split: FashionMnist, name: string) => {
      let last = 0;
      return await extractFeatures(params, config, split.images, {
        layer,
        pool: o.pool,
        mean: MEAN,
        std: STD,
        onBatch: (done) => {
          if (done - last >= 2000 || done === split.count) {
            io.err(`probe: ${name} features ${done}/${split.count}\n`);
            last = done;
          }
        },
      });
    };
    const xTrain = await feats(train, "train"), xTest = await feats(test, "test");
    const fit = await fitAndScore(
      { x: xTrain, labels: train.labels },
      { x: xTest, labels: test.labels },
      { label: "probe", ...o },
      io,
    );
    const result = {
      command: "probe",
      init: o.init,
      method: encoder.method,
      step: encoder.step,
      layer,
      depth: config.depth,
      pool: o.pool,
      feature_dim: config.embedDim,
      train_images: train.count,
      test_images: test.count,
      ...fit,
      seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
      backend,
    };
    if (o.out !== null) {
      await Deno.mkdir(o.out, { recursive: true });
      await Deno.writeTextFile(`${o.out}/probe.json`, JSON.stringify(result) + "\n");
    }
    return result;
  } finally {
    dispose(encoder.params);
  }
}

/** The `probe` command. */
export async function probeCommand(argv: string[], io: CliIO): Promise<number> {
  const opts = parseProbeArgs(argv);
  if (opts === "help") {
    io.out(helpText(PROBE));
    return 0;
  }
  io.out(JSON.stringify(await runProbe(opts, io)));
  return 0;
}

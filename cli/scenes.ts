/**
 * `train.ts scenes`: writes the FMNIST-Scenes data set (COCO detection/instance ground truth,
 * RGB and semantic label PNGs, meta.json with pixel hashes) under `--out`. Progress on stderr,
 * one JSON line (the meta data's counts and hashes) on stdout.
 * @module
 */
import { parseArgs } from "node:util";
import type { CliIO } from "./io.ts";
import { generateScenes } from "../data/scenes/generate.ts";
import { SCENES_VERSIONS } from "../data/scenes/scene.ts";

/** `--help` of `scenes`. */
export const SCENES_HELP = `train.ts scenes — generate the FMNIST-Scenes data set

Usage: deno run -A train.ts scenes --version tiny|small --out DIR

Writes DIR/fmnist-scenes-<version>/: images/{train,val}/*.png (RGB),
semantic/{train,val}/*.png (1-channel, ADE-style: 0 ring, 1 background, 2..11 classes),
annotations/instances_{train,val}.json (COCO, RLE masks) and meta.json (SHA-256 of the
decoded pixels). Deterministic: the same version gives the same hashes everywhere.

Flags:
  --version tiny|small  tiny: 64², 160 train / 40 val (under a second, from the bundled
                        sample); small: 128², 8,000 / 1,000 (minutes; needs the full
                        Fashion-MNIST, apt-get install dataset-fashion-mnist)
  --out DIR             parent folder (created)
  --data DIR            folder with the Fashion-MNIST .gz IDX files
  -h, --help            this help`;

/**
 * Runs `scenes` with its flags; returns the exit code (2 on bad usage, naming the flag).
 *
 * @param argv the flags after `scenes`
 * @param io where output goes
 * @returns the exit code
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "./io.ts";
 * import { scenesCommand } from "./scenes.ts";
 * const io = captureIO();
 * assert.equal(await scenesCommand(["--version", "huge", "--out", "x"], io), 2);
 * assert.match(io.stderr, /--version: "huge" is not one of tiny, small/);
 * ```
 */
export async function scenesCommand(argv: string[], io: CliIO): Promise<number> {
  const usage = (msg: string) => {
    io.err(`train.ts scenes: ${msg}\nRun "deno run -A train.ts scenes --help" for usage.\n`);
    return 2;
  };
  let values: { version?: string; out?: string; data?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        version: { type: "string" },
        out: { type: "string" },
        data: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
  if (values.help) {
    io.out(SCENES_HELP);
    return 0;
  }
  if (values.version === undefined) return usage("--version is required (tiny or small)");
  if (values.version !== "tiny" && values.version !== "small") {
    return usage(`--version: ${JSON.stringify(values.version)} is not one of tiny, small`);
  }
  if (values.out === undefined || values.out === "") return usage("--out DIR is required");
  const version = SCENES_VERSIONS[values.version];
  let last = -1;
  const meta = await generateScenes(version, values.out, {
    fashionMnistDir: values.data,
    onProgress: (done, total) => {
      const pct = Math.floor((100 * done) / total);
      if (io.isTerminal) {
        const w = 30, fill = Math.round((w * done) / total);
        io.err(
          `\rscenes ${version.name} [${"#".repeat(fill)}${".".repeat(w - fill)}] ${done}/${total}`,
        );
        if (done === total) io.err("\n");
      } else if (pct >= last + 10 || done === total) {
        last = pct;
        io.err(`scenes ${version.name}: ${done}/${total} images\n`);
      }
    },
  });
  io.out(
    JSON.stringify({ out: `${values.out}/fmnist-scenes-${version.name}`, splits: meta.splits }),
  );
  return 0;
}

/**
 * The `scenes` entry of `train.ts`'s command table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCENES_COMMAND } from "./scenes.ts";
 * assert.match(SCENES_COMMAND.summary, /FMNIST-Scenes/);
 * ```
 */
export const SCENES_COMMAND = {
  summary: "generate the FMNIST-Scenes detection/segmentation set (--version tiny|small)",
  run: scenesCommand,
};

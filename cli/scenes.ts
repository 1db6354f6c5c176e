/**
 * `train.ts scenes`: writes the FMNIST-Scenes data set (COCO detection/instance ground truth,
 * RGB and semantic label PNGs, meta.json with pixel hashes) under `--out`. Its flags are the
 * {@link SCENES} table. Progress on stderr, one JSON line (the meta data's counts and hashes) on
 * stdout.
 * @module
 */
import {
  choice,
  type CommandFlags,
  group,
  type OptionsOf,
  path,
  row,
  UsageError,
} from "../trainer/flags.ts";
import { parseOrHelp } from "./train_command.ts";
import { DATA } from "./flag_groups.ts";
import type { CliIO } from "../trainer/io.ts";
import { generateScenes } from "../data/scenes/generate.ts";
import { SCENES_VERSIONS } from "../data/scenes/scene.ts";

const VERSIONS = ["tiny", "small"] as const;

const FLAGS = [
  ...group("Scenes", [
    row(
      "version",
      "tiny|small",
      choice(VERSIONS),
      null,
      "required: tiny (64², 160/40 images, 1 s) | small (128², 8,000/1,000)",
    ),
    row("out", "DIR", path("a directory"), null, "required: parent folder (created)"),
  ]),
  { ...DATA[0], group: "Scenes" },
] as const;

/**
 * The flag table of `scenes`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommand } from "../trainer/flags.ts";
 * import { SCENES } from "./scenes.ts";
 * const p = parseCommand(SCENES, ["--version", "tiny", "--out", "x"]);
 * assert.ok(p !== "help");
 * assert.deepEqual([p.options.version, p.options.out, p.options.data], ["tiny", "x", null]);
 * ```
 */
export const SCENES: CommandFlags<typeof FLAGS> = {
  name: "scenes",
  title: "generate the FMNIST-Scenes data set",
  usage: "--version tiny|small --out DIR [--data DIR]",
  intro: "Writes DIR/fmnist-scenes-<version>/: images/{train,val}/*.png (RGB),\n" +
    "semantic/{train,val}/*.png (1-channel, ADE-style: 0 ring, 1 background, 2..11 classes),\n" +
    "annotations/instances_{train,val}.json (COCO, RLE masks) and meta.json (SHA-256 of the\n" +
    "decoded pixels). Deterministic: the same version gives the same hashes everywhere.\n" +
    "tiny works from the bundled sample; small needs the full Fashion-MNIST\n" +
    "(apt-get install dataset-fashion-mnist).",
  flags: FLAGS,
};

/** Options of `scenes`. */
export type ScenesOptions = OptionsOf<typeof FLAGS>;

/**
 * Runs `scenes` with its flags; returns the exit code (a mistake is a {@link UsageError}
 * naming the flag, exit 2 through `main`).
 *
 * @param argv the flags after `scenes`
 * @param io where output goes
 * @returns the exit code
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { captureIO } from "../trainer/io.ts";
 * import { scenesCommand } from "./scenes.ts";
 * await assert.rejects(scenesCommand(["--version", "huge", "--out", "x"], captureIO()), {
 *   message: '--version must be one of tiny, small, got "huge"',
 * });
 * ```
 */
export async function scenesCommand(argv: string[], io: CliIO): Promise<number> {
  const p = parseOrHelp(SCENES, argv, io);
  if (!p) return 0;
  const o = p.options;
  if (o.version === null) throw new UsageError("--version is required (tiny or small)");
  if (o.out === null) throw new UsageError("--out DIR is required");
  const version = SCENES_VERSIONS[o.version];
  let last = -1;
  const meta = await generateScenes(version, o.out, {
    fashionMnistDir: o.data ?? undefined,
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
  io.out(JSON.stringify({ out: `${o.out}/fmnist-scenes-${version.name}`, splits: meta.splits }));
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

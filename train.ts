/**
 * tessera's command line: `deno run -A train.ts <command> [flags]` (`deno task train`).
 *
 * - `finetune` (default): a ViT classifier on Fashion-MNIST — checkpoints, `--resume`, metrics
 *   JSONL and SVG plots in `runs/<name>/`, Ctrl-C writes a checkpoint and exits 130.
 * - `linear`: the softmax-regression baseline.
 *
 * With no arguments it runs the main job (`finetune` with its defaults). Progress goes to
 * stderr, the final metrics JSON to stdout; `--help` lists commands, `<command> --help` flags.
 * The commands live in `cli/`.
 * @module
 */
import { main } from "./cli/main.ts";

export { COMMANDS, main } from "./cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

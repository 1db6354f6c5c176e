/**
 * The replica of `train.ts … --dist sim:W`: runs the command line in this Worker with its sim
 * collectives installed; rank 0 prints, the others are quiet. Returns the exit code.
 * @module
 */
import type { Collectives } from "../distributed/mod.ts";
import { quietIO, withCollectives } from "../trainer/dist.ts";
import { denoIO } from "../trainer/io.ts";
import { main } from "./main.ts";

/** Runs `train.ts argv…` as replica `coll.rank`. */
export default function replica(coll: Collectives, input: { argv: string[] }): Promise<number> {
  return withCollectives(coll, () => main(input.argv, coll.rank === 0 ? denoIO() : quietIO));
}

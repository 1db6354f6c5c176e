/**
 * Seeds and run counts for the property-based autodiff tests. `TESSERA_SEED` replays a run
 * (the seed in use is printed when the test file loads); `FC_RUNS` sets runs per property.
 * @module
 */

function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env
  }
}

function envInt(name: string): number | undefined {
  const v = envGet(name);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got "${v}"`);
  return n;
}

/** The base seed of this process (from `TESSERA_SEED`, else random). */
export const SEED: number = envInt("TESSERA_SEED") ?? Math.floor(Math.random() * 2 ** 31);

/** Runs per property (`FC_RUNS`, default `fallback`). */
export function fcRuns(fallback: number): number {
  return envInt("FC_RUNS") ?? fallback;
}

/** `TESSERA_RUN_IGNORED=1` also runs the rows marked `ignore` (known bugs). */
export const RUN_IGNORED: boolean = envGet("TESSERA_RUN_IGNORED") === "1";

/** A per-test seed derived from the base seed and the test's name (FNV-1a). */
export function seedFor(name: string): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Prints the seed once per test file so a failure can be replayed. */
export function announceSeed(file: string): void {
  console.log(
    `${file}: TESSERA_SEED=${SEED} (replay: TESSERA_SEED=${SEED} deno test -A tests/autodiff/)`,
  );
}

/**
 * Reads a reference-fixture file (tests/fixtures/*.safetensors, made by tools/make_*fixtures.py):
 * each metadata key `case:<name>` describes one case as JSON `{op, args, inputs, outputs}`;
 * the tensors are stored as `<name>/<input or output>`.
 * @module
 */
import { decodeSafetensors, type SafetensorsEntry } from "../../tensor/safetensors.ts";

/** One fixture case: the op, its arguments and the names of its stored inputs and outputs. */
export interface FixtureCase {
  op: string;
  args: Record<string, unknown>;
  inputs: string[];
  outputs: string[];
}

/** The stored tensors (by `<case>/<tensor>` name) and every case of fixture file `name`. */
export function loadFixtureFile(name: string): {
  entries: Record<string, SafetensorsEntry>;
  cases: [string, FixtureCase][];
} {
  const bytes = Deno.readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
  const { entries, metadata } = decodeSafetensors(bytes);
  const cases: [string, FixtureCase][] = Object.entries(metadata)
    .filter(([k]) => k.startsWith("case:"))
    .map(([k, v]) => [k.slice(5), JSON.parse(v) as FixtureCase]);
  return { entries, cases };
}

/** Test helper: every byte of every tensor leaf of a pytree, by dotted path (bit-identity checks). */
import { treeFlatten } from "../../autodiff/mod.ts";

/** The raw bytes of each leaf: equal records mean equal bits, -0 and NaN payloads included. */
export async function bytes(tree: unknown): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [path, t] of Object.entries(treeFlatten(tree))) {
    const d = await t.data();
    out[path] = [...new Uint8Array(d.buffer, d.byteOffset, d.byteLength)];
  }
  return out;
}

/** Comparing two runs' checkpoints: bit equality and the largest parameter difference. */
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { dispose, Tensor } from "../../mod.ts";

function floats(x: unknown, p: string, out: Map<string, Float32Array>) {
  if (x instanceof Tensor) out.set(p, x.dataSync() as Float32Array);
  else if (x && typeof x === "object") {
    for (const [k, v] of Object.entries(x)) floats(v, p ? `${p}.${k}` : k, out);
  }
}

/** `{ identical, maxAbs, maxRel }` over the float leaves of the two checkpoints' params. */
export async function ckptDiff(a: string, b: string) {
  const [ca, cb] = [await loadCheckpoint(a), await loadCheckpoint(b)];
  const [fa, fb] = [new Map<string, Float32Array>(), new Map<string, Float32Array>()];
  floats(ca.params, "", fa), floats(cb.params, "", fb);
  let identical = fa.size === fb.size, maxAbs = 0, maxRel = 0;
  for (const [k, x] of fa) {
    const y = fb.get(k)!;
    for (let i = 0; i < x.length; i++) {
      if (!Object.is(x[i], y[i])) identical = false;
      const d = Math.abs(x[i]! - y[i]!);
      maxAbs = Math.max(maxAbs, d);
      maxRel = Math.max(maxRel, d / Math.max(1e-3, Math.abs(x[i]!)));
    }
  }
  dispose([ca.params, ca.optState, ca.rngKey, cb.params, cb.optState, cb.rngKey]);
  return { identical, maxAbs, maxRel };
}

if (import.meta.main) console.log(await ckptDiff(Deno.args[0]!, Deno.args[1]!));

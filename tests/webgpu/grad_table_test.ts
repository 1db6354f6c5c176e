/**
 * The property-based gradient table (tests/autodiff/_grad_rows.ts) on the webgpu backend, in
 * float32: every row's functions are built and differentiated on webgpu tensors and checked with
 * `checkGrad(…, { dtype: "keep" })` (JVP vs central differences and VJP vs JVP, float32 step and
 * tolerances: ε = 1e-3, tol 2e-2), first order. Seeds are fixed per row (set `FC_RUNS` for more
 * cases); rows that need float64 are skipped.
 */
import fc from "fast-check";
import * as T from "../../mod.ts";
import { caseArb, COMPOSITE_ROWS, PRIMITIVE_ROWS, type Row } from "../autodiff/_grad_rows.ts";
import { noGpu } from "./_setup.ts";

function runs(): number {
  try {
    return Number(Deno.env.get("FC_RUNS") ?? "") || 2;
  } catch {
    return 2;
  }
}

function fixedSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h | 0;
}

async function checkRow(row: Row): Promise<void> {
  await fc.assert(
    fc.asyncProperty(caseArb(row), fc.nat(), async ({ setup, values }, dirSeed) => {
      const prev = T.getBackend().name;
      T.setBackend("webgpu");
      try {
        await T.scope(async () => {
          const args = values.map((v, i) =>
            T.tensor(Float32Array.from(v), { shape: setup.shapes[i]! })
          );
          await T.checkGrad(setup.fn, args, {
            order: 1,
            modes: ["fwd", "rev"],
            seed: dirSeed,
            dtype: "keep",
          });
        });
      } finally {
        T.setBackend(prev);
      }
    }),
    { numRuns: runs(), seed: fixedSeed(row.name) },
  );
}

/** Rows whose functions build float64 constants (float64 does not exist on webgpu). */
const NEEDS_F64 = new Set(["oneHot (constant multiplier)"]);

for (const row of [...PRIMITIVE_ROWS, ...COMPOSITE_ROWS]) {
  Deno.test({
    name: `webgpu grad table: ${row.name}`,
    ignore: noGpu || (row.ignore ?? false) || /float64/.test(row.name) || NEEDS_F64.has(row.name),
    fn: () => checkRow(row),
  });
}

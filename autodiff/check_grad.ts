/**
 * `checkGrad`: JAX's numerical gradient check, public so research code can verify its own
 * rules. One random input direction `v` and output cotangent `u`:
 *  - fwd: `jvp(f, x, v)` must match the central difference `(f(x+εv) − f(x−εv)) / 2ε`;
 *  - rev: `⟨vjp(f, x)(u), v⟩` must match `⟨u, J v⟩` (numerically, and against the JVP when
 *    both modes are checked);
 *  - order k > 1 recurses on `x ↦ jvp(f, x, v)` and `x ↦ vjp(f, x)(u)`.
 * @module
 */
import { add, cast, div, mul, sub } from "../tensor/ops/elementwise.ts";
import { sum } from "../tensor/ops/reduce.ts";
import { fromTyped } from "../tensor/creation.ts";
import { arrayFor, type DType, isFloat } from "../tensor/dtype.ts";
import { TesseraError } from "../tensor/errors.ts";
import { scope } from "../tensor/memory.ts";
import { Tensor } from "../tensor/tensor.ts";
import { jvp, vjp } from "./transforms.ts";
import { treeLeaves, treeMap } from "./tree.ts";

/** Options of {@link checkGrad}. */
export interface CheckGradOptions {
  /** Highest derivative order to check (default 1). */
  order?: number;
  /** Modes to check (default both). */
  modes?: readonly ("fwd" | "rev")[];
  /** Finite-difference step (default 1e-4 in float64, 1e-3 in float32). */
  eps?: number;
  /** Absolute tolerance (default 1e-5 in float64, 2e-2 in float32). */
  atol?: number;
  /** Relative tolerance (default as atol). */
  rtol?: number;
  /** Seed of the random directions (default 0). */
  seed?: number;
  /**
   * Dtype the check runs in: `"float64"` (default where the backend has it) casts float32
   * inputs up so finite differences are accurate; `"keep"` uses the inputs as they are.
   */
  dtype?: "float64" | "keep";
}

type Fn = (...args: unknown[]) => unknown;

/** Small seeded generator for the random directions (independent of tessera's PRNG). */
function makeRandn(seed: number): () => number {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

function randLike(t: Tensor, randn: () => number): Tensor {
  const a = arrayFor(t.dtype, t.size);
  for (let i = 0; i < a.length; i++) a[i] = randn();
  return fromTyped(a, t.shape, t.dtype, t.backend.name);
}

async function values(tree: unknown): Promise<number[][]> {
  return await Promise.all(treeLeaves(tree).map(async (t) => Array.from(await t.data())));
}

function inner(a: unknown, b: unknown): Tensor | null {
  const la = treeLeaves(a), lb = treeLeaves(b);
  let acc: Tensor | null = null;
  la.forEach((x, i) => {
    const term = sum(mul(x, lb[i]!));
    acc = acc ? add(acc, term) : term;
  });
  return acc;
}

interface Tol {
  atol: number;
  rtol: number;
  eps: number;
}

function compare(what: string, got: number[][], want: number[][], tol: Tol): void {
  got.forEach((g, leaf) => {
    const w = want[leaf]!;
    let worst = -1, worstExcess = 0;
    for (let i = 0; i < g.length; i++) {
      const err = Math.abs(g[i]! - w[i]!);
      const allowed = tol.atol + tol.rtol * Math.abs(w[i]!);
      const bad = !(err <= allowed) && !(Number.isNaN(g[i]!) && Number.isNaN(w[i]!));
      if (bad && (worst < 0 || err - allowed > worstExcess)) {
        [worst, worstExcess] = [i, err - allowed];
      }
    }
    if (worst >= 0) {
      throw new TesseraError(
        "checkGrad",
        `${what} mismatch in output ${leaf} at element ${worst}: got ${g[worst]}, expected ${
          w[worst]
        } (|diff| ${
          Math.abs(g[worst]! - w[worst]!).toExponential(3)
        } > atol ${tol.atol} + rtol ${tol.rtol}·|expected|)`,
      );
    }
  });
}

function numericJvp(f: Fn, args: unknown[], dirs: unknown[], eps: number): unknown {
  const shifted = (s: number) =>
    args.map((a, i) => treeMap((x, v) => add(x, mul(v, s)), a, dirs[i]));
  const hi = f(...shifted(eps)), lo = f(...shifted(-eps));
  return treeMap((h, l) => div(sub(h, l), 2 * eps), hi, lo);
}

async function checkAt(
  f: Fn,
  args: unknown[],
  order: number,
  modes: readonly string[],
  tol: Tol,
  randn: () => number,
  label: string,
): Promise<void> {
  const dirs = args.map((a) => treeMap((x) => randLike(x, randn), a));
  const [out, num] = scope(() => {
    const o = f(...args);
    return [o, numericJvp(f, args, dirs, tol.eps)];
  });
  const numVals = await values(num);
  if (modes.includes("fwd")) {
    const [, tan] = jvp(f, args, dirs);
    compare(`${label}JVP vs finite differences`, await values(tan), numVals, tol);
  }
  if (modes.includes("rev")) {
    const ct = treeMap((o) => randLike(o, randn), out);
    const [, pullback] = vjp(f, ...args);
    const cts = pullback(ct);
    const lhs = (await values(inner(cts, dirs)))[0] ?? [0];
    const rhs = (await values(inner(ct, num)))[0] ?? [0];
    compare(`${label}VJP ⟨vjp(u), v⟩ vs finite differences ⟨u, Jv⟩`, [lhs], [rhs], tol);
    if (modes.includes("fwd")) {
      const [, tan] = jvp(f, args, dirs);
      const viaJvp = (await values(inner(ct, tan)))[0] ?? [0];
      compare(`${label}VJP ⟨vjp(u), v⟩ vs JVP ⟨u, jvp(v)⟩`, [lhs], [viaJvp], tol);
    }
    if (order > 1) {
      const fVjp = (...xs: unknown[]) => vjp(f, ...xs)[1](ct);
      await checkAt(fVjp, args, order - 1, modes, tol, randn, `${label}(order ${order} rev) `);
    }
  }
  if (order > 1 && modes.includes("fwd")) {
    const fJvp = (...xs: unknown[]) => jvp(f, xs, dirs)[1];
    await checkAt(fJvp, args, order - 1, modes, tol, randn, `${label}(order ${order} fwd) `);
  }
}

/**
 * Checks the derivatives of `f` at `args` numerically (see module docs); throws a
 * `TesseraError` naming the failing check, element and values when a derivative is wrong.
 * `f` takes the args (tensors or pytrees of float tensors) and returns a tensor or pytree.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkGrad, customVjp, mul, sin, tensor, type Tensor } from "../mod.ts";
 * await checkGrad((x: Tensor) => mul(sin(x), x), [tensor([0.3, -1.2])], { order: 2 }); // passes
 * const wrong = customVjp(
 *   sin,
 *   (x: Tensor): [Tensor, Tensor] => [sin(x), x],
 *   (x: Tensor, g: Tensor) => [mul(g, sin(x))], // wrong: should be cos
 * );
 * await assert.rejects(checkGrad(wrong, [tensor([0.3])]), /checkGrad: VJP .* mismatch/);
 * ```
 */
export async function checkGrad(
  // deno-lint-ignore no-explicit-any
  f: (...args: any[]) => unknown,
  args: readonly unknown[],
  opts: CheckGradOptions = {},
): Promise<void> {
  if (typeof f !== "function") throw new TesseraError("checkGrad", "f must be a function");
  if (!Array.isArray(args)) {
    throw new TesseraError("checkGrad", "args must be an array of arguments");
  }
  const order = opts.order ?? 1;
  if (!Number.isInteger(order) || order < 1) {
    throw new TesseraError("checkGrad", `order must be >= 1, got ${order}`);
  }
  const modes = opts.modes ?? ["fwd", "rev"];
  const leaves = treeLeaves(args);
  if (leaves.length === 0) throw new TesseraError("checkGrad", "args contain no tensors");
  for (const t of leaves) {
    if (!isFloat(t.dtype)) {
      throw new TesseraError("checkGrad", `cannot check gradients of ${t.dtype} inputs`);
    }
  }
  const up = (opts.dtype ?? "float64") === "float64" &&
    leaves.every((t) => t.backend.supportsDtype("float64"));
  const dtype: DType = up ? "float64" : leaves[0]!.dtype;
  const f64 = dtype === "float64";
  const tol: Tol = {
    eps: opts.eps ?? (f64 ? 1e-4 : 1e-3),
    atol: opts.atol ?? (f64 ? 1e-5 : 2e-2),
    rtol: opts.rtol ?? opts.atol ?? (f64 ? 1e-5 : 2e-2),
  };
  const randn = makeRandn(opts.seed ?? 0);
  await scope(async () => {
    const xs = args.map((a) => treeMap((t) => (up ? cast(t, "float64") : t), a));
    await checkAt(f as Fn, xs, order, modes, tol, randn, "");
  });
}

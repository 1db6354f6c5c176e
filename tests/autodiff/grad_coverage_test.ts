/**
 * The gradient table is keyed to `PRIMS`: every primitive says how its derivative is checked,
 * and a primitive with no entry fails — at `deno check` (the table is a `Record<Prim, …>`) and
 * here at run time, naming it. An entry is one of:
 *
 * - `rows`: gradient-table rows (tests/autodiff/_grad_rows*.ts) whose function binds the
 *   primitive, checked by `checkGrad` in grad_table_test.ts (order 2 rows also exercise the
 *   primitives their VJPs bind, e.g. conv2d's row covers conv2dWeightGrad);
 * - `zero`: a differentiable primitive whose derivative is zero; the probe's gradient and
 *   tangent are asserted to be exactly 0 (the tie/kink conventions are in grad_table_test.ts);
 * - `nonFloat`: the output is integer or bool, so it never becomes a tracer and no rule runs;
 *   the probe's output dtype is asserted;
 * - `throws`: no derivative exists; differentiating the probe must throw "not differentiable".
 */
import assert from "node:assert/strict";
import {
  argmax,
  argmin,
  argsort,
  bitwiseAnd,
  bitwiseOr,
  bitwiseXor,
  ceil,
  equal,
  floor,
  grad,
  greater,
  greaterEqual,
  jvp,
  less,
  lessEqual,
  logicalAnd,
  logicalNot,
  logicalOr,
  logicalXor,
  maxPool2dIndices,
  nmsPadded,
  notEqual,
  onesLike,
  random,
  round,
  scope,
  shiftLeft,
  shiftRightLogical,
  sign,
  stopGradient,
  sum,
  type Tensor,
  tensor,
} from "../../mod.ts";
import { bind } from "../../tensor/dispatch.ts";
import { reshape } from "../../tensor/ops/reshaping.ts";
import {
  type Differentiable,
  type ElementwiseOp,
  OP_INFO,
  type Prim,
  PRIM_INFO,
  PRIMS,
} from "../../tensor/primitives.ts";
import { COMPOSITE_ROWS, PRIMITIVE_ROWS } from "./_grad_rows.ts";

type Probe = (x: Tensor) => Tensor;
type Coverage =
  | { rows: readonly string[] }
  | { zero: Probe }
  | { nonFloat: Probe }
  | { throws: Probe };

const i32 = (v: number[]) => tensor(v, { dtype: "int32" });
const gt0 = (x: Tensor) => greater(x, 0);
const boxes = () => tensor([[0, 0, 2, 2], [0, 0, 2, 1.9], [3, 3, 4, 4]]);

/**
 * What the table is keyed by: each primitive, except that the `unary` and `binary` families
 * have a row per op (their ops differ in how they are differentiated).
 */
type Key = Exclude<Prim, "unary" | "binary"> | ElementwiseOp;

/** The keys `PRIMS` implies, in order: the ops of a family with per-op facts, else the name. */
function keysOf(prims: readonly Prim[]): string[] {
  return prims.flatMap((p) => {
    const perOp = PRIM_INFO[p].opInfo;
    return perOp ? Object.keys(perOp) : [p];
  });
}

/** How a key is differentiated: its op's row in OP_INFO, else its primitive's record. */
function differentiable(key: string): Differentiable {
  return key in OP_INFO
    ? OP_INFO[key as ElementwiseOp].differentiable
    : PRIM_INFO[key as Prim].differentiable;
}

/**
 * How each primitive (each op of `unary` and `binary`) has its derivative checked. Every
 * primitive has an entry (a `Record`, so `deno check` fails without one); an elementwise op
 * with a derivative may leave its entry out: it is then checked by the gradient-table row
 * named after it ({@link coverageOf}), and fails without one.
 */
export const GRAD_COVERAGE:
  & Record<Exclude<Key, ElementwiseOp>, Coverage>
  & {
    readonly [O in ElementwiseOp]?: Coverage;
  } = {
    sign: { zero: sign },
    floor: { zero: floor },
    ceil: { zero: ceil },
    round: { zero: round },
    logicalNot: { nonFloat: (x) => logicalNot(gt0(x)) },
    pow: { rows: ["pow", "pow (exponent exactly 0)"] },
    compare: {
      nonFloat: (x) =>
        [equal(x, x), notEqual(x, 0), less(x, 0), lessEqual(x, 0), gt0(x)]
          .reduce((acc, c) => logicalOr(acc, c), greaterEqual(x, 0)),
    },
    logical: {
      nonFloat: (x) => logicalXor(logicalAnd(gt0(x), gt0(x)), logicalOr(gt0(x), gt0(x))),
    },
    bitwise: {
      nonFloat: () => {
        const a = bitwiseXor(bitwiseAnd(i32([6]), i32([3])), bitwiseOr(i32([6]), i32([3])));
        return shiftRightLogical(shiftLeft(a, i32([1])), i32([1]));
      },
    },
    reduce: { rows: ["sum", "max", "min"] },
    argReduce: { nonFloat: (x) => logicalAnd(equal(argmax(x), 0), equal(argmin(x), 0)) },
    where: { rows: ["where"] },
    cumsum: { rows: ["cumsum"] },
    matmul: { rows: ["matmul", "einsum"] },
    reshape: { rows: ["reshape", "flatten", "squeeze", "expandDims"] },
    permute: { rows: ["permute", "transpose"] },
    broadcastTo: { rows: ["broadcastTo"] },
    slice: { rows: ["slice", "split"] },
    flip: { rows: ["flip"] },
    pad: { rows: ["pad"] },
    concat: { rows: ["concat", "stack"] },
    gather: { rows: ["gather", "takeAlongAxis", "sort"] },
    scatterAdd: { rows: ["scatterAdd"] },
    cast: { rows: ["cast float32→float64", "cast float64→float32→float64"] },
    bitcast: { throws: (x) => bind("bitcast", [x], { dtype: "float32" }) },
    argsort: { nonFloat: (x) => argsort(x) },
    randomBits: { nonFloat: () => random.bits(random.key(0), [2]) },
    stopGradient: { zero: stopGradient },
    conv2d: { rows: ["conv2d"] },
    convTranspose2d: { rows: ["convTranspose2d"] },
    // conv2d's VJP binds it; the order-2 conv rows differentiate through it.
    conv2dWeightGrad: { rows: ["conv2d", "convTranspose2d"] },
    maxPool2d: { rows: ["maxPool2d"] },
    maxPool2dArgmax: { nonFloat: (x) => maxPool2dIndices(reshape(x, [1, 1, 1, 3]), [1, 2]) },
    resample2d: { rows: ["avgPool2d", "adaptiveAvgPool2d", "interpolate"] },
    roiAlign: { rows: ["roiAlign"] },
    // roiAlign's VJP binds it; the order-2 roiAlign row differentiates through it.
    roiAlignGrad: { rows: ["roiAlign"] },
    nmsKeep: { nonFloat: () => nmsPadded(boxes(), tensor([0.9, 0.8, 0.7]), 0.5).indices },
  };

type Written = Partial<Record<string, Coverage>>;

/** The entry of `key`: written, or for an elementwise op with a derivative its own row. */
function coverageOf(key: string, written: Written = GRAD_COVERAGE): Coverage | undefined {
  const c = written[key];
  if (c || !(key in OP_INFO)) return c;
  return OP_INFO[key as ElementwiseOp].differentiable === "rule" ? { rows: [key] } : undefined;
}

const ROW_NAMES = new Set([...PRIMITIVE_ROWS, ...COMPOSITE_ROWS].map((r) => r.name));

/** What fails the coverage check: keys without an entry, and rows an entry names that are missing. */
function uncovered(written: Written, rows: ReadonlySet<string>): string[] {
  return keysOf(PRIMS).flatMap((k) => {
    const c = coverageOf(k, written);
    if (!c) return [`${k}: no entry`];
    if (!("rows" in c)) return [];
    if (c.rows.length === 0) return [`${k}: empty row list`];
    return c.rows.filter((r) => !rows.has(r)).map((r) => `${k}: no gradient-table row "${r}"`);
  });
}

Deno.test("grad coverage: every primitive in PRIMS has an entry, and nothing else does", () => {
  const keys = keysOf(PRIMS);
  const missing = uncovered(GRAD_COVERAGE, ROW_NAMES);
  assert.deepEqual(missing, [], `primitives not covered: ${missing.join("; ")}`);
  const extra = Object.keys(GRAD_COVERAGE).filter((p) => !keys.includes(p));
  assert.deepEqual(extra, [], `entries for names that are not primitives: ${extra.join(", ")}`);
});

Deno.test("grad coverage: each entry's kind is the one PRIM_INFO states", () => {
  const kind = (c: Coverage) =>
    "rows" in c ? "rule" : "zero" in c ? "zero" : "nonFloat" in c ? "nonFloat" : "none";
  for (const k of keysOf(PRIMS)) {
    assert.equal(kind(coverageOf(k)!), differentiable(k), k);
  }
});

Deno.test("grad coverage: zero / non-float / not-differentiable entries hold", async () => {
  const x = () => tensor(Float64Array.from([0.25, -1.5, 2.75]));
  for (const [prim, c] of Object.entries(GRAD_COVERAGE)) {
    await scope(async () => {
      if ("zero" in c) {
        const g = grad((t: Tensor) => sum(c.zero(t)))(x());
        assert.deepEqual(Array.from(await g.data()), [0, 0, 0], `${prim}: gradient not zero`);
        const [, tan] = jvp(c.zero, [x()], [onesLike(x())]);
        assert.deepEqual(Array.from(await tan.data()), [0, 0, 0], `${prim}: tangent not zero`);
      } else if ("nonFloat" in c) {
        const out = await Promise.resolve(c.nonFloat(x()));
        assert.ok(
          out.dtype === "bool" || out.dtype === "int32" || out.dtype === "uint32",
          `${prim}: output dtype ${out.dtype} is float, so it needs a gradient row`,
        );
      } else if ("throws" in c) {
        const f32 = tensor([0.25, -1.5]);
        assert.throws(
          () => grad((t: Tensor) => sum(c.throws(t)))(f32),
          new RegExp(`${prim}: not differentiable`),
        );
      }
    });
  }
});

Deno.test("grad coverage: the check fails for a primitive or op without an entry or row", () => {
  const written: Written = { ...GRAD_COVERAGE };
  delete written.matmul;
  delete written.floor; // a zero op has no default: it needs its probe
  const rows = new Set(ROW_NAMES);
  rows.delete("erf"); // an op with a derivative is checked by its own row
  assert.deepEqual(uncovered(written, rows), [
    'erf: no gradient-table row "erf"',
    "floor: no entry",
    "matmul: no entry",
  ]);
});

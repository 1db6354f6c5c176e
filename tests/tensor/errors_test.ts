/**
 * Bad input → TesseraError whose message starts with the op name and names the offending
 * shapes, dtypes, axes or indices: an explicit table for every public op (_error_cases.ts,
 * known library bugs registered as ignored tests), then fast-check
 * properties over random invalid argument combinations (seed printed; replay with
 * TESSERA_SEED=<seed>).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as T from "../../mod.ts";
import { expectError, seedFor } from "../_helpers.ts";
import { bugs, cases } from "./_error_cases.ts";

const f = (...s: number[]) => T.zeros(s);

Deno.test("errors: the issue's matmul example, exactly", () => {
  T.scope(() => {
    const e = expectError(() => T.matmul(f(2, 3), f(4, 5)), "matmul");
    assert.equal(e.message, "matmul: inner dimensions differ: [2,3] @ [4,5]");
    assert.equal(e.name, "TesseraError");
    assert.equal(e.op, "matmul");
  });
});

for (const [k, [op, call, ...parts]] of cases.entries()) {
  Deno.test(`errors: ${op} #${k}: ${parts.map(String).join(" | ")}`, () => {
    T.scope(() => void expectError(call, op, ...parts));
  });
}

Deno.test("errors: async readers reject with TesseraError", async () => {
  await assert.rejects(() => T.zeros([2]).item(), T.TesseraError, "item: needs a 1-element");
  const t = f(2, 3);
  t.dispose();
  await assert.rejects(() => t.data(), T.TesseraError, "used after dispose");
  await assert.rejects(() => T.toBackend(f(1), "nope"), T.TesseraError);
});

// Former bugs (fixed; see _error_cases.ts), kept as regression tests.
for (const [name, op, call, ...parts] of bugs) {
  Deno.test({
    name: `errors: regression: ${name}`,
    fn: () => T.scope(() => void expectError(call, op, ...parts)),
  });
}

// ---------------------------------------------------------------------------------------------
// Properties: random invalid arguments always throw a TesseraError naming the op.

/** Calls `fn` and checks it throws a TesseraError whose message starts with `op: `. */
function throwsTessera(op: string, fn: () => unknown): void {
  let err: unknown = null;
  T.scope(() => {
    try {
      fn();
    } catch (e) {
      err = e;
      return;
    }
    throw new Error(`${op}: returned a result for invalid input`);
  });
  if (!(err instanceof T.TesseraError)) throw new Error(`${op}: threw ${String(err)}`);
  if (!err.message.startsWith(`${op}: `)) {
    throw new Error(`message "${err.message}" does not start with "${op}: "`);
  }
}

function property<Ts>(name: string, p: fc.IRawProperty<Ts>): void {
  Deno.test(`errors: property: ${name}`, () => {
    fc.assert(p, { seed: seedFor(name), numRuns: 150 });
  });
}

const dim = fc.integer({ min: 1, max: 4 });
const shapeArb = fc.array(dim, { minLength: 0, maxLength: 4 });
const broadcastable = (a: number[], c: number[]) => {
  for (let i = 1; i <= Math.min(a.length, c.length); i++) {
    const x = a[a.length - i]!, y = c[c.length - i]!;
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
};
const incompatible = fc.tuple(shapeArb, shapeArb).filter(([a, c]) => !broadcastable(a, c));

const BINARY: [string, (a: T.Tensor, c: T.Tensor) => T.Tensor, T.DType][] = [
  ["add", T.add, "float32"],
  ["sub", T.sub, "float32"],
  ["mul", T.mul, "float32"],
  ["div", T.div, "float32"],
  ["pow", T.pow, "float32"],
  ["maximum", T.maximum, "int32"],
  ["minimum", T.minimum, "uint32"],
  ["equal", T.equal, "bool"],
  ["notEqual", T.notEqual, "float32"],
  ["less", T.less, "int32"],
  ["lessEqual", T.lessEqual, "float32"],
  ["greater", T.greater, "uint32"],
  ["greaterEqual", T.greaterEqual, "float32"],
  ["logicalAnd", T.logicalAnd, "bool"],
  ["logicalOr", T.logicalOr, "bool"],
  ["logicalXor", T.logicalXor, "bool"],
  ["bitwiseAnd", T.bitwiseAnd, "int32"],
  ["bitwiseOr", T.bitwiseOr, "uint32"],
  ["bitwiseXor", T.bitwiseXor, "int32"],
  ["shiftLeft", T.shiftLeft, "uint32"],
  ["shiftRightLogical", T.shiftRightLogical, "int32"],
];
const opIdx = fc.integer({ min: 0, max: BINARY.length - 1 });

property(
  "binary ops reject shapes that do not broadcast",
  fc.property(opIdx, incompatible, fc.boolean(), (k, [sa, sb], swap) => {
    const [op, fn, dtype] = BINARY[k]!;
    const [x, y] = swap ? [sb, sa] : [sa, sb];
    throwsTessera(op, () => fn(T.zeros(x, { dtype }), T.zeros(y, { dtype })));
  }),
);

const DTYPES: T.DType[] = ["float32", "float64", "int32", "uint32", "bool"];
const dtypePair = fc.tuple(fc.constantFrom(...DTYPES), fc.constantFrom(...DTYPES))
  .filter(([p, q]) => p !== q);
property(
  "binary ops, matmul, concat, where and scatterAdd reject mixed dtypes",
  fc.property(opIdx, dtypePair, shapeArb, fc.nat(4), (k, [da, db], s, which) => {
    const x = () => T.zeros([2, ...s], { dtype: da }), y = () => T.zeros([2, ...s], { dtype: db });
    if (which === 0) throwsTessera(BINARY[k]![0], () => BINARY[k]![1](x(), y()));
    if (which === 1) throwsTessera("matmul", () => T.matmul(x(), T.transpose(y())));
    if (which === 2) throwsTessera("concat", () => T.concat([x(), y()]));
    if (which === 3) throwsTessera("where", () => T.where(T.full([2], true), x(), y()));
    if (which === 4 && da !== "bool") {
      throwsTessera("scatterAdd", () => T.scatterAdd(x(), T.zeros([2], { dtype: "int32" }), y()));
    }
  }),
);

property(
  "matmul rejects mismatched inner or batch dimensions",
  fc.property(shapeArb, dim, dim, dim, dim, fc.boolean(), (batch, m, k, n, extra, transB) => {
    const a = () => T.zeros([...batch, m, k]);
    const bShape = transB ? [...batch, n, k + extra] : [...batch, k + extra, n];
    throwsTessera("matmul", () => T.matmul(a(), T.zeros(bShape), { transB }));
    if (batch.length > 0 && batch[0]! > 1) {
      const bb = [batch[0]! + 1, ...batch.slice(1), k, n];
      throwsTessera("matmul", () => T.matmul(a(), T.zeros(bb)));
    }
  }),
);

property(
  "concat and where reject incompatible shapes",
  fc.property(shapeArb, dim, fc.nat(3), incompatible, (s, d, ax, [sa, sb]) => {
    const a = [2, ...s], c = [...a];
    const axis = ax % a.length, other = (axis + 1) % a.length;
    c[other] = c[other]! + d;
    if (a.length > 1) throwsTessera("concat", () => T.concat([T.zeros(a), T.zeros(c)], axis));
    throwsTessera("concat", () => T.concat([T.zeros(a), T.zeros([...a, 1])], 0));
    throwsTessera("where", () => T.where(T.full(sa, true), T.zeros(sb), 0));
  }),
);

const AXIS_OPS: [string, (x: T.Tensor, axis: number) => unknown][] = [
  ["sum", (x, a) => T.sum(x, a)],
  ["max", (x, a) => T.max(x, [a])],
  ["min", (x, a) => T.min(x, a, true)],
  ["mean", (x, a) => T.mean(x, a)],
  ["variance", (x, a) => T.variance(x, a)],
  ["logsumexp", (x, a) => T.logsumexp(x, a)],
  ["argmax", (x, a) => T.argmax(x, a)],
  ["argmin", (x, a) => T.argmin(x, a)],
  ["softmax", (x, a) => T.softmax(x, a)],
  ["logSoftmax", (x, a) => T.logSoftmax(x, a)],
  ["cumsum", (x, a) => T.cumsum(x, a)],
  ["argsort", (x, a) => T.argsort(x, a)],
  ["topk", (x, a) => T.topk(x, 1, a)],
  ["flip", (x, a) => T.flip(x, a)],
  ["gather", (x, a) => T.gather(x, T.zeros([1], { dtype: "int32" }), a)],
  ["split", (x, a) => T.split(x, 1, a)],
  ["concat", (x, a) => T.concat([x, x], a)],
  ["transpose", (x, a) => T.transpose(T.expandDims(x, 0), a < 0 ? a - 1 : a + 1, 0)],
  ["squeeze", (x, a) => T.squeeze(x, a)],
];
property(
  "axis arguments out of range are rejected",
  fc.property(
    fc.integer({ min: 0, max: AXIS_OPS.length - 1 }),
    fc.array(dim, { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 0, max: 5 }),
    fc.boolean(),
    (k, s, off, negative) => {
      const [op, fn] = AXIS_OPS[k]!;
      const axis = negative ? -s.length - 1 - off : s.length + off;
      throwsTessera(op, () => fn(T.zeros(s), axis));
    },
  ),
);

property(
  "indices out of range are rejected by gather, scatterAdd, takeAlongAxis and oneHot",
  fc.property(
    fc.array(dim, { minLength: 1, maxLength: 3 }),
    fc.nat(2),
    fc.array(fc.integer({ min: -6, max: 9 }), { minLength: 1, maxLength: 5 }),
    fc.nat(3),
    (s, ax, idx, which) => {
      const axis = ax % s.length, n = s[axis]!;
      fc.pre(idx.some((v) => v < 0 || v >= n));
      const ind = () => T.tensor(idx, { dtype: "int32" });
      if (which === 0) throwsTessera("gather", () => T.gather(T.zeros(s), ind(), axis));
      if (which === 1) {
        const upd = [...s.slice(0, axis), idx.length, ...s.slice(axis + 1)];
        throwsTessera("scatterAdd", () => T.scatterAdd(T.zeros(s), ind(), T.zeros(upd), axis));
      }
      if (which === 2) {
        const is = s.map((_, i) => (i === axis ? idx.length : 1));
        throwsTessera(
          "takeAlongAxis",
          () => T.takeAlongAxis(T.zeros(s), T.reshape(ind(), is), axis),
        );
      }
      if (which === 3) {
        throwsTessera("oneHot", () => T.oneHot(ind(), n));
      }
    },
  ),
);

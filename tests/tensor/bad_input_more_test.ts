/**
 * Property-based bad-input suite, continued (issue 20): random ops, vision ops, slicing,
 * padding, reshaping and indexing with random (often invalid) parameters. The contract is the
 * one of bad_input_test.ts: a correct, finite result or a TesseraError naming the public op.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as T from "../../mod.ts";
import { allFinite, attempt, filled, finiteValue, junk, property, values } from "./_bad_input.ts";

const R = T.random;
// deno-lint-ignore no-explicit-any
const loose = (x: unknown): any => x;
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

const smallInt = fc.integer({ min: -3, max: 5 });
const param = fc.oneof(
  { weight: 6, arbitrary: smallInt },
  { weight: 1, arbitrary: junk },
);

// ---------------------------------------------------------------------------------------------
// Random ops: any shape, key, bounds and dtype.

const shapeOrJunk = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>([1e6, 1e6], [NaN], [-1], 3, null, "2") },
);
property(
  "random ops with any shape, key and bounds",
  fc.property(shapeOrJunk, param, param, fc.boolean(), (s, lo, hi, badKey) => {
    T.scope(() => {
      const k = badKey ? loose(T.zeros([2])) : R.key(7);
      const ok = Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0) &&
        size(s) < 2 ** 31 && !badKey;
      const calls: [string, () => T.Tensor][] = [
        ["uniform", () => R.uniform(k, loose(s))],
        ["normal", () => R.normal(k, loose(s))],
        ["gumbel", () => R.gumbel(k, loose(s))],
        ["truncatedNormal", () => R.truncatedNormal(k, loose(lo), loose(hi), loose(s))],
        ["bits", () => R.bits(k, loose(s))],
        ["randint", () => R.randint(k, loose(s), loose(lo), loose(hi))],
        ["bernoulli", () => R.bernoulli(k, 0.5, loose(s))],
      ];
      for (const [op, call] of calls) {
        const r = attempt(op, call);
        if (op === "uniform" || op === "normal" || op === "gumbel" || op === "bits") {
          assert.equal(r.ok, ok, `${op}(${String(s)}, bad key ${badKey})`);
        }
        if (r.ok) {
          assert.deepEqual(r.value.shape, s ?? []); // a null shape is the default []
          const v = values(r.value);
          if (op !== "gumbel") assert.ok(allFinite(v), `${op} gave a non-finite value`);
          if (op === "randint") {
            // maxval <= minval gives minval (JAX)
            const [a, b] = [lo as number, Math.max(hi as number, (lo as number) + 1)];
            assert.ok(v.every((x) => x >= a && x < b), `randint(${lo}, ${hi}) gave ${v}`);
          }
        }
      }
      attempt("permutation", () => R.permutation(k, loose(lo)));
      attempt("split", () => R.split(k, loose(lo)));
      attempt("foldIn", () => R.foldIn(k, loose(hi)));
      attempt("categorical", () => R.categorical(k, filled([2, 3], [0, 1, NaN]), loose(lo)));
    });
  }),
);

// ---------------------------------------------------------------------------------------------
// Vision ops: any kernel, stride, padding, dilation, size.

property(
  "conv2d, pooling and interpolate with any parameters",
  fc.property(
    fc.tuple(
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 0, max: 5 }),
    ),
    param,
    param,
    param,
    fc.array(finiteValue, { minLength: 1, maxLength: 6 }),
    (nch, a, b, c, vals) => {
      const [n, ch, hw] = nch;
      T.scope(() => {
        const x = filled([n, ch, hw, hw], vals);
        const w = filled([2, ch, 2, 2], vals);
        const results: unknown[] = [];
        const push = <R>(op: string, fn: () => R) => {
          const r = attempt(op, fn);
          if (r.ok) results.push(r.value);
        };
        push("conv2d", () => T.conv2d(x, w, null, loose({ stride: a, padding: b, dilation: c })));
        push(
          "convTranspose2d",
          () => T.convTranspose2d(x, T.transpose(w, 0, 1), null, loose({ stride: a, padding: b })),
        );
        push("maxPool2d", () => T.maxPool2d(x, loose(a), loose({ stride: b, padding: c })));
        push("avgPool2d", () => T.avgPool2d(x, loose(a), loose({ stride: b, padding: c })));
        push("adaptiveAvgPool2d", () => T.adaptiveAvgPool2d(x, loose(a)));
        push("interpolate", () => T.interpolate(x, loose({ size: a })));
        push("interpolate", () => T.interpolate(x, loose({ scaleFactor: b, mode: "bilinear" })));
        for (const t of results) {
          assert.ok(t instanceof T.Tensor);
          assert.ok(allFinite(values(t)), "non-finite result from finite input");
        }
      });
    },
  ),
  80,
);

// ---------------------------------------------------------------------------------------------
// Slicing, padding, reshaping, indexing with any specs.

const specEntry = fc.oneof(
  { weight: 3, arbitrary: smallInt },
  { weight: 2, arbitrary: fc.tuple(smallInt, smallInt) },
  { weight: 2, arbitrary: fc.tuple(smallInt, smallInt, smallInt) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(null, [null, 2], [0, null, -1], NaN, "a", [0.5]),
  },
);
property(
  "slice, pad, reshape, gather, takeAlongAxis and einsum with any specs",
  fc.property(
    fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
    fc.array(specEntry, { maxLength: 3 }),
    fc.array(smallInt, { maxLength: 4 }),
    fc.array(fc.integer({ min: -4, max: 4 }), { maxLength: 3 }),
    fc.constantFrom(
      "ij->ji",
      "ij,jk->ik",
      "i,i->",
      "ii->i",
      "ij->",
      "ab,bc",
      "->",
      "i->ii",
      "ij,ij->ij",
    ),
    (s, specs, dims, idx, eq) => {
      T.scope(() => {
        const x = filled(s, [1, 2, 3, 4, 5]);
        const r1 = attempt("slice", () => T.slice(x, loose(specs)));
        if (r1.ok) assert.ok(allFinite(values(r1.value)));
        const pads = s.map((_, i) => [dims[i] ?? 0, dims[i + 1] ?? 0]);
        const r2 = attempt("pad", () => T.pad(x, loose(pads)));
        if (r2.ok) {
          assert.deepEqual(r2.value.shape, s.map((d, i) => d + pads[i]![0]! + pads[i]![1]!));
        }
        const r3 = attempt("reshape", () => T.reshape(x, dims));
        if (r3.ok) assert.equal(r3.value.size, x.size);
        const ind = T.tensor(idx, { dtype: "int32" });
        const r4 = attempt("gather", () => T.gather(x, ind, 0));
        assert.equal(r4.ok, idx.every((v) => v >= 0 && v < s[0]!));
        const r5 = attempt(
          "takeAlongAxis",
          () => T.takeAlongAxis(x, T.reshape(ind, [idx.length, ...s.slice(1).map(() => 1)]), 0),
        );
        if (r5.ok) assert.ok(allFinite(values(r5.value)));
        const ops = eq.includes(",") ? [x, x] : [x];
        const r6 = attempt("einsum", () => T.einsum(eq, ...ops));
        if (r6.ok) assert.ok(allFinite(values(r6.value)));
        attempt("permute", () => T.permute(x, dims));
        attempt("split", () => T.split(x, loose(dims.length ? dims : 0), 0));
        attempt("broadcastTo", () => T.broadcastTo(x, dims));
        attempt("sumToShape", () => T.sumToShape(x, dims));
        attempt("squeeze", () => T.squeeze(x, loose(dims)));
      });
    },
  ),
  120,
);

/**
 * Matrix products: `matmul` (batched, broadcasting, transpose flags) and `einsum`.
 * @module
 */
import { fmtShape, TesseraError } from "../errors.ts";
import { bind } from "../dispatch.ts";
import { sizeOf } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { composite, expectTensor } from "./_util.ts";
import { permute, reshape } from "./reshaping.ts";
import { sum } from "./reduce.ts";

/** Transpose flags for {@link matmul}. */
export interface MatmulOptions {
  /** Use the transpose of `a`'s last two dimensions. */
  transA?: boolean;
  /** Use the transpose of `b`'s last two dimensions. */
  transB?: boolean;
}

/**
 * Matrix product with NumPy semantics: batch dimensions broadcast; a 1-D operand is treated
 * as a row (left) or column (right) vector and that dimension is removed from the result.
 * Transposes requested by flags cost nothing extra.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmul, tensor } from "../../mod.ts";
 * const a = tensor([[1, 2], [3, 4]]);
 * assert.deepEqual(await matmul(a, tensor([1, 1])).toArray(), [3, 7]);
 * assert.deepEqual(matmul(a, a, { transB: true }).shape, [2, 2]);
 * ```
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  opts ??= {};
  return composite(() => {
    expectTensor("matmul", a, "a");
    expectTensor("matmul", b, "b");
    if (a.ndim === 0 || b.ndim === 0) {
      throw new TesseraError(
        "matmul",
        `operands must have rank >= 1: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`,
      );
    }
    const transA = opts.transA ?? false, transB = opts.transB ?? false;
    const vecA = a.ndim === 1, vecB = b.ndim === 1;
    if (vecA || vecB) {
      const ka = vecA ? a.shape[0]! : a.shape[a.ndim - (transA ? 2 : 1)]!;
      const kb = vecB ? b.shape[0]! : b.shape[b.ndim - (transB ? 1 : 2)]!;
      if (ka !== kb) {
        throw new TesseraError(
          "matmul",
          `inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`,
        );
      }
    }
    const a2 = vecA ? reshape(a, [1, a.shape[0]!]) : a;
    const b2 = vecB ? reshape(b, [b.shape[0]!, 1]) : b;
    const out = bind("matmul", [a2, b2], {
      transA: vecA ? false : transA,
      transB: vecB ? false : transB,
    });
    if (!vecA && !vecB) return out;
    const s = [...out.shape];
    if (vecB) s.splice(s.length - 1, 1);
    if (vecA) s.splice(s.length - (vecB ? 1 : 2), 1);
    return reshape(out, s);
  });
}

interface Term {
  labels: string[];
  t: Tensor;
}

function parse(eq: string, operands: readonly Tensor[]): { inputs: string[][]; output: string[] } {
  const clean = eq.replace(/\s+/g, "");
  const [lhs, rhs] = clean.split("->") as [string, string | undefined];
  const specs = lhs.split(",");
  if (specs.length !== operands.length) {
    throw new TesseraError(
      "einsum",
      `equation "${eq}" names ${specs.length} operands, got ${operands.length}`,
    );
  }
  // Expand "..." into fresh upper-case labels, right-aligned like broadcasting.
  const maxEll = Math.max(
    0,
    ...specs.map((s, i) => (s.includes("...") ? operands[i]!.ndim - (s.length - 3) : 0)),
  );
  const ell = Array.from({ length: maxEll }, (_, i) => String.fromCharCode(65 + i));
  const inputs = specs.map((s, i) => {
    if (!/^[a-z]*(\.\.\.)?[a-z]*$/.test(s)) {
      throw new TesseraError("einsum", `bad operand spec "${s}" in "${eq}"`);
    }
    const n = operands[i]!.ndim - (s.length - (s.includes("...") ? 3 : 0));
    if (n < 0 || (!s.includes("...") && n !== 0)) {
      throw new TesseraError(
        "einsum",
        `spec "${s}" does not match operand ${i} of shape ${fmtShape(operands[i]!.shape)}`,
      );
    }
    const [pre, post] = s.split("...") as [string, string | undefined];
    return [...pre, ...ell.slice(maxEll - n), ...(post ?? "")];
  });
  for (const [i, labels] of inputs.entries()) {
    if (new Set(labels).size !== labels.length) {
      throw new TesseraError(
        "einsum",
        `repeated index in operand ${i} ("${specs[i]}") is not supported`,
      );
    }
  }
  let output: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    inputs.flat().forEach((l) => counts.set(l, (counts.get(l) ?? 0) + 1));
    output = [
      ...ell,
      ...[...counts].filter(([l, c]) => c === 1 && l >= "a").map(([l]) => l).sort(),
    ];
  } else {
    if (!/^[a-z]*(\.\.\.)?[a-z]*$/.test(rhs)) {
      throw new TesseraError("einsum", `bad output spec "${rhs}"`);
    }
    const [pre, post] = rhs.split("...") as [string, string | undefined];
    output = rhs.includes("...") ? [...pre, ...ell, ...(post ?? "")] : [...rhs];
    const all = new Set(inputs.flat());
    for (const l of output) {
      if (!all.has(l)) throw new TesseraError("einsum", `output index "${l}" not in inputs`);
    }
    if (new Set(output).size !== output.length) {
      throw new TesseraError("einsum", `repeated output index in "${rhs}"`);
    }
  }
  return { inputs, output };
}

function sumOut(term: Term, keep: Set<string>): Term {
  const axes = term.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return term;
  return { labels: term.labels.filter((l) => keep.has(l)), t: sum(term.t, axes) };
}

function contract(a: Term, b: Term, keep: Set<string>, size: Map<string, number>): Term {
  const inB = new Set(b.labels), inA = new Set(a.labels);
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const con = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const aFree = a.labels.filter((l) => !inB.has(l));
  const bFree = b.labels.filter((l) => !inA.has(l));
  const dims = (ls: string[]) => ls.map((l) => size.get(l)!);
  const order = (t: Term, ls: string[]) => permute(t.t, ls.map((l) => t.labels.indexOf(l)));
  const at = reshape(order(a, [...batch, ...aFree, ...con]), [
    ...dims(batch),
    sizeOf(dims(aFree)),
    sizeOf(dims(con)),
  ]);
  const bt = reshape(order(b, [...batch, ...con, ...bFree]), [
    ...dims(batch),
    sizeOf(dims(con)),
    sizeOf(dims(bFree)),
  ]);
  const out = reshape(bind("matmul", [at, bt], { transA: false, transB: false }), [
    ...dims(batch),
    ...dims(aFree),
    ...dims(bFree),
  ]);
  return { labels: [...batch, ...aFree, ...bFree], t: out };
}

/**
 * Einstein summation over any number of operands (`"ij,jk->ik"`, `"b...d,bd->b..."`,
 * implicit output when `->` is omitted). Pairs are contracted left to right with batched
 * matmul; indices used by one operand only are summed first. Index sizes must agree exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { einsum, ones } from "../../mod.ts";
 * assert.deepEqual(einsum("bij,bjk->bik", ones([2, 3, 4]), ones([2, 4, 5])).shape, [2, 3, 5]);
 * assert.equal(await einsum("ij->", ones([2, 3])).item(), 6);
 * ```
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  return composite(() => {
    if (typeof equation !== "string") {
      throw new TesseraError("einsum", "first argument must be the equation string");
    }
    operands.forEach((t, i) => expectTensor("einsum", t, `operand ${i}`));
    if (operands.length === 0) throw new TesseraError("einsum", "needs at least one operand");
    const dt = operands[0]!.dtype;
    for (const [i, t] of operands.entries()) {
      if (t.dtype !== dt) {
        throw new TesseraError(
          "einsum",
          `dtypes differ: operand 0 is ${dt}, operand ${i} is ${t.dtype}`,
        );
      }
    }
    const { inputs, output } = parse(equation, operands);
    const size = new Map<string, number>();
    inputs.forEach((labels, i) =>
      labels.forEach((l, j) => {
        const d = operands[i]!.shape[j]!;
        const prev = size.get(l);
        if (prev !== undefined && prev !== d) {
          throw new TesseraError(
            "einsum",
            `index "${l}" has sizes ${prev} and ${d} in "${equation}"`,
          );
        }
        size.set(l, d);
      })
    );
    const terms: Term[] = inputs.map((labels, i) => ({ labels, t: operands[i]! }));
    const needed = (from: number): Set<string> =>
      new Set([...output, ...terms.slice(from).flatMap((t) => t.labels)]);
    let acc = sumOut(terms[0]!, needed(1));
    for (let i = 1; i < terms.length; i++) {
      const keep = needed(i + 1);
      const rhs = sumOut(terms[i]!, new Set([...keep, ...acc.labels]));
      acc = contract(sumOut(acc, new Set([...keep, ...rhs.labels])), rhs, keep, size);
    }
    acc = sumOut(acc, new Set(output));
    return permute(acc.t, output.map((l) => acc.labels.indexOf(l)));
  });
}

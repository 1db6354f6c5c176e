/**
 * The shared op suite's value ops (see _op_suite.ts): creation, elementwise math, comparisons,
 * logical and bitwise ops, casts and reductions.
 * @module
 */
import assert from "node:assert/strict";
import * as T from "../../mod.ts";
import { type Ctx, i32, u32 } from "./_op_suite_ctx.ts";

const { tensor } = T;

/** Round half to even, the reference for `round`. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Registers creation, elementwise, cast and reduction tests. */
export function registerValueOps({ test, ex, backend }: Ctx): void {
  test("creation: zeros, ones, full, zerosLike, onesLike", async () => {
    await ex(T.zeros([2, 3]), [[0, 0, 0], [0, 0, 0]], { dtype: "float32" });
    await ex(T.ones([2], { dtype: "int32" }), [1, 1], { dtype: "int32" });
    await ex(T.full([2, 1], 7.5), [[7.5], [7.5]], { dtype: "float32" });
    await ex(T.full([3], -4, { dtype: "int32" }), [-4, -4, -4], { dtype: "int32" });
    await ex(T.full([2], true), [true, true], { dtype: "bool" });
    await ex(T.full([], 2), 2, { dtype: "float32" });
    await ex(T.zeros([0, 3]), [], { shape: [0, 3] });
    await ex(T.zerosLike(i32([5, 6])), [0, 0], { dtype: "int32" });
    await ex(T.onesLike(tensor([false])), [true], { dtype: "bool" });
    assert.equal(T.zeros([1]).backend.name, backend);
  });

  test("creation: arange and linspace", async () => {
    await ex(T.arange(4), [0, 1, 2, 3], { dtype: "float32" });
    await ex(T.arange(2, 5), [2, 3, 4]);
    await ex(T.arange(5, 0, -2), [5, 3, 1]);
    await ex(T.arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75]);
    await ex(T.arange(-3, 3, 2, { dtype: "int32" }), [-3, -1, 1], { dtype: "int32" });
    await ex(T.arange(5, 0), [], { shape: [0] });
    await ex(T.linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
    await ex(T.linspace(3, 7, 1), [3]);
    await ex(T.linspace(0, 1, 0), [], { shape: [0] });
    await ex(T.linspace(0, 0.3, 4), [0, 0.1, 0.2, Math.fround(0.3)], { rtol: 0, atol: 1e-7 });
  });

  test("creation: eye", async () => {
    await ex(T.eye(2), [[1, 0], [0, 1]]);
    await ex(T.eye(2, 3, 1), [[0, 1, 0], [0, 0, 1]]);
    await ex(T.eye(3, 2, -1), [[0, 0], [1, 0], [0, 1]]);
    await ex(T.eye(2, 2, 0, { dtype: "int32" }), [[1, 0], [0, 1]], { dtype: "int32" });
  });

  test("creation: tensor from nested arrays, scalars and typed arrays", async () => {
    await ex(tensor([[1, 2, 3], [4, 5, 6]]), [[1, 2, 3], [4, 5, 6]], { dtype: "float32" });
    await ex(tensor(5), 5, { dtype: "float32" });
    await ex(tensor(true), true, { dtype: "bool" });
    await ex(tensor([[true], [false]]), [[true], [false]], { dtype: "bool" });
    await ex(tensor([]), [], { shape: [0], dtype: "float32" });
    await ex(tensor([[[]]]), [], { shape: [1, 1, 0] });
    await ex(tensor([1, 2], { dtype: "int32" }), [1, 2], { dtype: "int32" });
    await ex(tensor(new Float32Array([1.5, 2])), [1.5, 2], { dtype: "float32" });
    await ex(tensor(new Int32Array([-1, 2])), [-1, 2], { dtype: "int32" });
    await ex(tensor(new Uint32Array([1, 2, 3, 4]), { shape: [2, 2] }), [[1, 2], [3, 4]], {
      dtype: "uint32",
    });
    await ex(tensor(new Uint8Array([1, 0])), [true, false], { dtype: "bool" });
    await ex(tensor(new Int32Array([3, 4]), { dtype: "float32" }), [3, 4], { dtype: "float32" });
    await ex(T.fromArray([1, 2, 3, 4], { shape: [2, 2] }), [[1, 2], [3, 4]]);
    await ex(tensor([0.1, 1e39, -Infinity, NaN]), [Math.fround(0.1), Infinity, -Infinity, NaN], {
      rtol: 0,
      atol: 0,
    });
  });

  test("creation: input arrays are copied; data() returns a copy", async () => {
    const src = new Float32Array([1, 2]);
    const t = tensor(src);
    src[0] = 99;
    const d = await t.data();
    d[1] = 77;
    await ex(t, [1, 2]);
  });

  const xs = [-2.5, -1, -0.5, 0, 0.5, 1, 2, 3.7];
  const pos = [0.01, 0.5, 1, 2, 10, 1e4];
  const unary: [string, (x: T.Tensor) => T.Tensor, (x: number) => number, number[]][] = [
    ["neg", T.neg, (x) => -x, xs],
    ["abs", T.abs, Math.abs, xs],
    ["sign", T.sign, Math.sign, xs],
    ["exp", T.exp, Math.exp, xs],
    ["log", T.log, Math.log, pos],
    ["log1p", T.log1p, Math.log1p, [-0.5, 1e-7, 0.5, 3, 1e4]],
    ["expm1", T.expm1, Math.expm1, [-2, -1e-7, 1e-7, 0.5, 3]],
    ["sqrt", T.sqrt, Math.sqrt, pos],
    ["rsqrt", T.rsqrt, (x) => 1 / Math.sqrt(x), pos],
    ["reciprocal", T.reciprocal, (x) => 1 / x, [-4, -0.5, 0.25, 3, 1e4]],
    ["sin", T.sin, Math.sin, xs],
    ["cos", T.cos, Math.cos, xs],
    ["tanh", T.tanh, Math.tanh, [...xs, -20, 20]],
    ["floor", T.floor, Math.floor, xs],
    ["ceil", T.ceil, Math.ceil, xs],
    ["round", T.round, roundHalfEven, [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.6, -2.4, 0.49999997]],
  ];
  test("elementwise: float unary ops against Math", async () => {
    for (const [name, f, ref, inp] of unary) {
      const want = inp.map((x) => ref(Math.fround(x)));
      await ex(f(tensor(inp)), want, { dtype: "float32" }).catch((e) => {
        throw new Error(`${name}: ${e.message}`);
      });
    }
    const erfIn = [-3, -1, -0.5, 0, 0.5, 1, 2];
    const erfWant = [
      -0.9999779095030014,
      -0.8427007929497149,
      -0.5204998778130465,
      0,
      0.5204998778130465,
      0.8427007929497149,
      0.9953222650189527,
    ];
    await ex(T.erf(tensor(erfIn)), erfWant);
    await ex(T.stopGradient(tensor([1, -2])), [1, -2]);
  });

  test("elementwise: IEEE special values", async () => {
    await ex(T.log(tensor([0, -1, Infinity])), [-Infinity, NaN, Infinity]);
    await ex(T.sqrt(tensor([-1, Infinity])), [NaN, Infinity]);
    await ex(T.reciprocal(tensor([0, -0])), [Infinity, -Infinity]);
    await ex(T.rsqrt(tensor([0])), [Infinity]);
    await ex(T.exp(tensor([-Infinity, Infinity, 1000])), [0, Infinity, Infinity]);
    await ex(T.tanh(tensor([-Infinity, Infinity])), [-1, 1]);
    await ex(T.add(tensor([NaN, Infinity]), tensor([1, -Infinity])), [NaN, NaN]);
    await ex(T.div(tensor([1, -1, 0]), 0), [Infinity, -Infinity, NaN]);
    await ex(T.sign(tensor([NaN])), [NaN]);
  });

  test("elementwise: integer unary ops and logicalNot", async () => {
    await ex(T.neg(i32([-3, 0, 5])), [3, 0, -5], { dtype: "int32" });
    await ex(T.abs(i32([-3, 0, 5])), [3, 0, 5], { dtype: "int32" });
    await ex(T.sign(i32([-3, 0, 5])), [-1, 0, 1], { dtype: "int32" });
    await ex(T.abs(u32([4294967295, 0])), [4294967295, 0], { dtype: "uint32" });
    await ex(T.logicalNot(tensor([true, false])), [false, true], { dtype: "bool" });
  });

  const a = () => tensor([[1, 2, 3], [4, 5, 6]]);
  test("elementwise: binary arithmetic with broadcasting and scalars", async () => {
    const b = tensor([10, 20, 30]), c = tensor([[1], [2]]);
    await ex(T.add(a(), b), [[11, 22, 33], [14, 25, 36]]);
    await ex(T.sub(a(), c), [[0, 1, 2], [2, 3, 4]]);
    await ex(T.mul(c, b), [[10, 20, 30], [20, 40, 60]]);
    await ex(T.div(a(), 2), [[0.5, 1, 1.5], [2, 2.5, 3]]);
    await ex(T.div(1, tensor([4, -8])), [0.25, -0.125]);
    await ex(T.sub(10, tensor([1, 2])), [9, 8]);
    await ex(T.add(tensor(1), a()), [[2, 3, 4], [5, 6, 7]]);
    await ex(T.add(tensor([1]), true), [2]);
    await ex(T.pow(tensor([2, 3, 4]), tensor([[2], [0.5]])), [
      [4, 9, 16],
      [Math.SQRT2, Math.sqrt(3), 2],
    ]);
    await ex(T.pow(tensor([0, 5]), 0), [1, 1]);
    await ex(T.maximum(a(), 3.5), [[3.5, 3.5, 3.5], [4, 5, 6]]);
    await ex(T.minimum(c, b), [[1, 1, 1], [2, 2, 2]]);
    await ex(T.maximum(tensor([1, NaN]), tensor([NaN, 0])), [NaN, NaN]);
    await ex(T.minimum(tensor([1, NaN]), 0), [0, NaN]);
    await ex(T.add(T.zeros([0, 3]), b), [], { shape: [0, 3] });
  });

  test("elementwise: pow with a negative base and integer exponent", async () => {
    await ex(T.pow(tensor([-2, -2, -8]), tensor([2, 3, 1 / 3])), [4, -8, NaN]);
  });

  test("elementwise: int32/uint32 arithmetic wraps", async () => {
    await ex(T.add(i32([2147483647, 1]), 1), [-2147483648, 2], { dtype: "int32" });
    await ex(T.mul(i32([65536, -3]), 65536), [0, -196608]);
    await ex(T.sub(u32([1, 5]), 2), [4294967295, 3], { dtype: "uint32" });
    await ex(T.maximum(i32([-5, 3]), i32([[0], [4]])), [[0, 3], [4, 4]]);
    await ex(T.minimum(u32([4294967295, 1]), 2), [2, 1]);
  });

  test("elementwise: comparisons (NaN, broadcasting, unsigned, bool)", async () => {
    const x = tensor([1, 2, NaN, 4]), y = tensor([2, 2, NaN, 3]);
    await ex(T.equal(x, y), [false, true, false, false], { dtype: "bool" });
    await ex(T.notEqual(x, y), [true, false, true, true], { dtype: "bool" });
    await ex(T.less(x, y), [true, false, false, false]);
    await ex(T.lessEqual(x, y), [true, true, false, false]);
    await ex(T.greater(x, y), [false, false, false, true]);
    await ex(T.greaterEqual(x, y), [false, true, false, true]);
    await ex(T.less(a(), tensor([[2], [6]])), [[true, false, false], [true, true, false]]);
    await ex(T.greater(i32([-1, 0, 1]), -1), [false, true, true]);
    await ex(T.greater(u32([4294967295, 0]), 1), [true, false]);
    await ex(T.equal(tensor([true, false]), true), [true, false]);
    await ex(T.less(tensor([false, true]), true), [true, false]);
  });

  test("elementwise: logical and bitwise ops", async () => {
    const p = tensor([true, true, false, false]), q = tensor([true, false, true, false]);
    await ex(T.logicalAnd(p, q), [true, false, false, false], { dtype: "bool" });
    await ex(T.logicalOr(p, q), [true, true, true, false]);
    await ex(T.logicalXor(p, q), [false, true, true, false]);
    await ex(T.logicalOr(tensor([[true], [false]]), tensor([false, false])), [
      [true, true],
      [false, false],
    ]);
    await ex(T.logicalAnd(p, true), [true, true, false, false]);
    await ex(T.bitwiseAnd(i32([6, -1]), 3), [2, 3], { dtype: "int32" });
    await ex(T.bitwiseOr(i32([4, -8]), i32([[1], [2]])), [[5, -7], [6, -6]]);
    await ex(T.bitwiseXor(i32([-1, 6]), 5), [-6, 3]);
    await ex(T.bitwiseOr(u32([0x80000000]), 1), [2147483649], { dtype: "uint32" });
    await ex(T.shiftLeft(u32([1, 0x80000001]), u32([4, 1])), [16, 2]);
    await ex(T.shiftLeft(i32([1, 3]), 33), [2, 6]);
    await ex(T.shiftRightLogical(i32([-16, 16]), 2), [1073741820, 4]);
    await ex(T.shiftRightLogical(u32([0x80000000]), 31), [1]);
  });

  test("elementwise: where and clip", async () => {
    await ex(T.where(tensor([[true], [false]]), tensor([1, 2]), 0), [[1, 2], [0, 0]]);
    await ex(T.where(tensor([true, false]), tensor([1, 2]), tensor([NaN, 5])), [1, 5]);
    await ex(T.where(tensor(true), i32([1, 2]), i32([[3], [4]])), [[1, 2], [1, 2]], {
      dtype: "int32",
    });
    await ex(T.where(tensor([false, true]), 7, tensor([1, 2])), [1, 7]);
    await ex(T.clip(tensor([-2, 0.5, 3, NaN]), 0, 1), [0, 0.5, 1, NaN]);
    await ex(T.clip(tensor([-2, 3]), 0), [0, 3]);
    await ex(T.clip(tensor([-2, 3]), undefined, 1), [-2, 1]);
    await ex(T.clip(tensor([[-2, 3], [5, 0]]), tensor([-1, 0]), tensor([[1], [4]])), [
      [-1, 1],
      [4, 0],
    ]);
    await ex(T.clip(i32([-5, 5]), -1, 1), [-1, 1], { dtype: "int32" });
  });

  test("cast: float to int truncates, saturates, NaN to 0", async () => {
    const f = tensor([2.7, -2.7, 1e10, -1e10, NaN, Infinity, -Infinity, -0.5]);
    await ex(T.cast(f, "int32"), [2, -2, 2147483647, -2147483648, 0, 2147483647, -2147483648, 0], {
      dtype: "int32",
    });
    await ex(T.cast(f, "uint32"), [2, 0, 4294967295, 0, 0, 4294967295, 0, 0], { dtype: "uint32" });
  });

  test("cast: bool, int32 <-> uint32, int -> float, identity", async () => {
    await ex(T.cast(tensor([0, 1, -2, NaN, -0]), "bool"), [false, true, true, true, false]);
    await ex(T.cast(i32([0, 3]), "bool"), [false, true], { dtype: "bool" });
    await ex(T.cast(tensor([true, false]), "float32"), [1, 0], { dtype: "float32" });
    await ex(T.cast(tensor([true, false]), "int32"), [1, 0], { dtype: "int32" });
    await ex(T.cast(i32([-1, 5]), "uint32"), [4294967295, 5], { dtype: "uint32" });
    await ex(T.cast(u32([4294967295]), "int32"), [-1], { dtype: "int32" });
    await ex(T.cast(i32([16777217, -7]), "float32"), [16777216, -7], { rtol: 0, atol: 0 });
    await ex(T.cast(u32([4294967295]), "float32"), [4294967296], { rtol: 0, atol: 0 });
    const x = tensor([1]);
    assert.equal(T.cast(x, "float32"), x);
  });

  test("bitcast between float32, int32 and uint32", async () => {
    await ex(T.bitcast(tensor([1, -2, 0]), "int32"), [1065353216, -1073741824, 0], {
      dtype: "int32",
    });
    await ex(T.bitcast(u32([0x7f800000, 0x3f800000]), "float32"), [Infinity, 1], { rtol: 0 });
    await ex(T.bitcast(i32([-1]), "uint32"), [4294967295], { dtype: "uint32" });
    const rt = T.bitcast(T.bitcast(tensor([0.1, -3.5]), "uint32"), "float32");
    await ex(rt, [Math.fround(0.1), -3.5], { rtol: 0, atol: 0 });
    await ex(T.bitcast(tensor([-0]), "uint32"), [0x80000000], { dtype: "uint32" });
  });

  const x24 = () => T.reshape(T.arange(24), [2, 3, 4]);
  test("reductions: sum with axes, keepdims, negative axes", async () => {
    await ex(T.sum(x24()), 276);
    await ex(T.sum(x24(), 0), [[12, 14, 16, 18], [20, 22, 24, 26], [28, 30, 32, 34]]);
    await ex(T.sum(x24(), -1), [[6, 22, 38], [54, 70, 86]]);
    await ex(T.sum(x24(), [0, -1]), [60, 92, 124]);
    await ex(T.sum(x24(), 1, true), [[[12, 15, 18, 21]], [[48, 51, 54, 57]]]);
    await ex(T.sum(x24(), [0, 1, 2], true), [[[276]]]);
    await ex(T.sum(x24(), []), await x24().toArray());
    await ex(T.sum(i32([[1, -2], [3, 4]]), 0), [4, 2], { dtype: "int32" });
    await ex(T.sum(T.zeros([0, 3]), 0), [0, 0, 0]);
    await ex(T.sum(tensor([Infinity, 1])), Infinity);
    await ex(T.sumToShape(T.ones([2, 3]), [1, 3]), [[2, 2, 2]]);
    await ex(T.sumToShape(T.ones([2, 3]), [3]), [2, 2, 2]);
  });

  test("reductions: max, min (NaN propagates), integers", async () => {
    const m = tensor([[1, 5, 2], [7, 0, 7]]);
    await ex(T.max(m), 7);
    await ex(T.max(m, 1), [5, 7]);
    await ex(T.min(m, 0), [1, 0, 2]);
    await ex(T.max(m, -2, true), [[7, 5, 7]]);
    await ex(T.min(m, [0, 1], true), [[0]]);
    await ex(T.max(tensor([1, NaN, 3])), NaN);
    await ex(T.min(tensor([[1, NaN], [0, 2]]), 1), [NaN, 0]);
    await ex(T.max(tensor([-Infinity, -Infinity])), -Infinity);
    await ex(T.min(i32([[3, -1], [2, 5]]), -1, true), [[-1], [2]], { dtype: "int32" });
    await ex(T.max(u32([1, 4294967295])), 4294967295, { dtype: "uint32" });
  });

  test("reductions: argmax/argmin (ties pick the first, NaN wins)", async () => {
    await ex(T.argmax(tensor([[1, 3, 3], [2, 2, 1]]), 1), [1, 0], { dtype: "int32" });
    await ex(T.argmin(tensor([[1, 1, 3], [2, 0, 0]]), -1), [0, 1], { dtype: "int32" });
    await ex(T.argmax(tensor([[1, 5], [7, 2]])), 2, { dtype: "int32" });
    await ex(T.argmax(tensor([[1, 5], [7, 2]]), undefined, true), [[2]]);
    await ex(T.argmax(tensor([[1, 5], [7, 2]]), 0, true), [[1, 0]]);
    await ex(T.argmin(tensor([[1, 5], [7, 2]]), -2), [0, 1]);
    await ex(T.argmax(i32([[1, 9], [9, 9]]), 0), [1, 0]);
    await ex(T.argmax(tensor([1, NaN, 3])), 1);
    await ex(T.argmin(tensor([1, NaN, 0])), 1);
    await ex(T.argmax(tensor([-Infinity, -Infinity])), 0);
  });

  test("reductions: cumsum (axis, reverse, integers)", async () => {
    const m = tensor([[1, 2, 3], [4, 5, 6]]);
    await ex(T.cumsum(m), [[1, 3, 6], [4, 9, 15]]);
    await ex(T.cumsum(m, 0), [[1, 2, 3], [5, 7, 9]]);
    await ex(T.cumsum(m, -2, { reverse: true }), [[5, 7, 9], [4, 5, 6]]);
    await ex(T.cumsum(m, 1, { reverse: true }), [[6, 5, 3], [15, 11, 6]]);
    await ex(T.cumsum(i32([1, 2, 3]), 0, { reverse: true }), [6, 5, 3], { dtype: "int32" });
    await ex(T.cumsum(tensor([1, Infinity, 2])), [1, Infinity, Infinity]);
  });

  test("reductions: mean and variance(correction)", async () => {
    await ex(T.mean(tensor([1, 2, 3, 4])), 2.5);
    await ex(T.mean(x24(), [0, 2]), [7.5, 11.5, 15.5]);
    await ex(T.mean(tensor([[1, 2, 3], [4, 5, 6]]), -1, true), [[2], [5]]);
    await ex(T.variance(tensor([1, 2, 3, 4])), 1.25);
    await ex(T.variance(tensor([[1, 2, 3, 4]]), 1, { correction: 1 }), [5 / 3]);
    await ex(T.variance(T.reshape(T.arange(8), [2, 2, 2]), [0, 2], { keepdims: true }), [
      [[4.25], [4.25]],
    ]);
    await ex(T.variance(tensor([[1, 3], [2, 2]]), 0, { correction: 1 }), [0.5, 0.5]);
    await ex(T.variance(tensor([1e4 + 1, 1e4 + 3])), 1, { loose: true });
  });

  test("reductions: logsumexp (stable, -inf rows, +inf)", async () => {
    await ex(T.logsumexp(tensor([0, 0])), Math.LN2);
    await ex(T.logsumexp(tensor([[0, 0], [1, 1]]), 1, true), [[Math.LN2], [1 + Math.LN2]]);
    await ex(T.logsumexp(tensor([1000, 1000])), 1000 + Math.LN2);
    await ex(T.logsumexp(tensor([-1000, -1000])), -1000 + Math.LN2);
    await ex(T.logsumexp(tensor([[-Infinity, -Infinity], [-Infinity, 0]]), 1), [-Infinity, 0]);
    await ex(T.logsumexp(T.full([2, 2, 2], -Infinity), [1, 2], true), [[[-Infinity]], [[
      -Infinity,
    ]]]);
    await ex(T.logsumexp(tensor([Infinity, 0])), Infinity);
    await ex(T.logsumexp(x24(), 0), await T.log(T.sum(T.exp(x24()), 0)).toArray());
  });
}

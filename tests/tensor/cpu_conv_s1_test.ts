/**
 * The stride-1 tap-GEMM convolutions of tensor/cpu/vision_conv_s1.ts beyond what
 * cpu_blas_test.ts compares through the public ops: the weight gradient's image chunks
 * (accumulated with beta = 1) give the one-chunk result, and the path is only taken where it
 * applies. Ignored where no BLAS library is installed.
 */
import assert from "node:assert/strict";
import { cpuFastPathInfo } from "../../mod.ts";
import { type Conv2dParams, convGeometry } from "../../tensor/vision_params.ts";
import { conv2dWeightGradStride1, stride1Applies } from "../../tensor/cpu/vision_conv_s1.ts";
import { rng } from "../_helpers.ts";

const HAVE_BLAS = cpuFastPathInfo().blas.active;
const P: Conv2dParams = { stride: [1, 1], padding: [1, 2], dilation: [1, 1], groups: 1 };

Deno.test({
  name: "stride-1 conv weight gradient: image chunks accumulate to the one-chunk result",
  ignore: !HAVE_BLAS,
  fn() {
    const r = rng(31);
    const q = convGeometry([3, 16, 5, 6], [3, 16, 5, 8], 3, 3, P);
    assert.ok(stride1Applies(q, "float64"));
    const x = Float64Array.from({ length: 3 * 16 * 30 }, () => r() - 0.5);
    const dy = Float64Array.from({ length: 3 * 16 * 40 }, () => r() - 0.5);
    const one = conv2dWeightGradStride1(x, dy, q, "float64");
    const chunked = conv2dWeightGradStride1(x, dy, q, "float64", 1); // one image per chunk
    assert.equal(chunked.length, 16 * 16 * 9);
    for (let i = 0; i < one.length; i++) {
      assert.ok(Math.abs(one[i]! - chunked[i]!) < 1e-12, `@${i}: ${one[i]} vs ${chunked[i]}`);
    }
  },
});

Deno.test({
  name: "stride-1 conv path: not taken for strides, groups, few channels or inexact sizes",
  ignore: !HAVE_BLAS,
  fn() {
    const g = (xs: number[], ys: number[], k: number, p: Partial<Conv2dParams> = {}) =>
      convGeometry(xs, ys, k, k, { ...P, padding: [1, 1], ...p });
    assert.ok(stride1Applies(g([1, 16, 6, 6], [1, 16, 6, 6], 3), "float32"));
    assert.ok(!stride1Applies(g([1, 16, 6, 6], [1, 16, 6, 6], 3), "int32"));
    assert.ok(!stride1Applies(g([1, 8, 6, 6], [1, 16, 6, 6], 3), "float32"));
    assert.ok(!stride1Applies(g([1, 16, 6, 6], [1, 16, 3, 3], 3, { stride: [2, 2] }), "float32"));
    assert.ok(!stride1Applies(g([1, 16, 6, 6], [1, 16, 6, 6], 3, { groups: 2 }), "float32"));
    assert.ok(!stride1Applies(g([1, 16, 6, 6], [1, 16, 6, 6], 1), "float32")); // sizes inexact
    // convTranspose2d: padding 3 > (k − 1)·d would need a negative pad of its input.
    const big = g([1, 16, 4, 4], [1, 16, 8, 8], 3, { padding: [3, 3] });
    assert.ok(stride1Applies(big, "float32"));
    assert.ok(!stride1Applies(big, "float32", true));
  },
});

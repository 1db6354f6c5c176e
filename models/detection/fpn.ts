/**
 * Feature Pyramid Network neck (methods.md §12; torchvision `FeaturePyramidNetwork` with
 * `LastLevelMaxPool`): lateral 1×1 convs (`inner_blocks`), top-down nearest upsampling to each
 * finer map's exact size, 3×3 output convs (`layer_blocks`), and P6 = max-pool k1 s2 of the
 * coarsest output. No norm or activation. torchvision 0.14 wraps each conv in a
 * `Conv2dNormActivation`, so its `inner_blocks.i.0.weight` is `inner_blocks.i.weight` here.
 * @module
 */
import { add, interpolate, maxPool2d, type Tensor, TesseraError } from "../../tensor/mod.ts";
import {
  initFromSpec,
  type Initializer,
  type Spec,
  xavierUniformInit,
  zerosInit,
} from "../../nn/init.ts";
import { convLayer, type ConvLayerParams, convLayerSpec } from "../../nn/conv.ts";

/**
 * Parameters of {@link fpn} (torchvision names, one entry per input level, finest first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FpnParams, initFpn } from "./fpn.ts";
 * import { random } from "../../mod.ts";
 * const p: FpnParams = initFpn(random.key(0), { inChannels: [4, 4], outChannels: 8 });
 * assert.deepEqual(p.layer_blocks[1]!.weight.shape, [8, 8, 3, 3]);
 * ```
 */
export interface FpnParams {
  /** Lateral 1×1 convs `[out, in_i, 1, 1]`. */
  inner_blocks: ConvLayerParams[];
  /** Output 3×3 convs `[out, out, 3, 3]`. */
  layer_blocks: ConvLayerParams[];
}

/**
 * Configuration of the FPN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FpnConfig } from "./fpn.ts";
 * const c: FpnConfig = { inChannels: [384, 384, 384, 384], outChannels: 256 };
 * assert.equal(c.extraPool ?? true, true);
 * ```
 */
export interface FpnConfig {
  /** Channels of each input map, finest first. */
  inChannels: readonly number[];
  /** Channels of every output map (256 in the spec). */
  outChannels: number;
  /** Append P6 = max-pool k1 s2 of the last output (default true). */
  extraPool?: boolean;
  /** Conv weight init (default xavier-uniform as mmdet; torchvision uses kaiming-uniform a=1). */
  weightInit?: Initializer;
}

/**
 * Spec of the FPN's parameters (biases zero).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fpnSpec } from "./fpn.ts";
 * import { countParams } from "../../nn/init.ts";
 * assert.equal(countParams(fpnSpec({ inChannels: [2], outChannels: 4 })), 2 * 4 + 4 + 4 * 4 * 9 + 4);
 * ```
 */
export function fpnSpec(config: FpnConfig): Spec<FpnParams> {
  const ins = config.inChannels, out = config.outChannels;
  if (!Array.isArray(ins) || ins.length < 1) {
    throw new TesseraError("fpnSpec", `inChannels must be a non-empty array, got ${String(ins)}`);
  }
  const weightInit = config.weightInit ?? xavierUniformInit();
  const conv = (c: number, k: number) =>
    convLayerSpec({ inChannels: c, outChannels: out, kernel: k, weightInit, biasInit: zerosInit });
  return {
    inner_blocks: ins.map((c) => conv(c, 1)),
    layer_blocks: ins.map(() => conv(out, 3)),
  };
}

/**
 * Initialises the FPN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initFpn } from "./fpn.ts";
 * import { random } from "../../mod.ts";
 * assert.equal(initFpn(random.key(0), { inChannels: [3, 3, 3], outChannels: 4 }).inner_blocks.length, 3);
 * ```
 */
export function initFpn(key: Tensor, config: FpnConfig): FpnParams {
  return initFromSpec(key, fpnSpec(config)) as FpnParams;
}

/**
 * Runs the FPN on maps `[N, C_i, H_i, W_i]` (finest first) → outputs `[N, out, H_i, W_i]`,
 * plus P6 `[N, out, ⌈H/2⌉, ⌈W/2⌉]` of the last one when `extraPool` (default true).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fpn, initFpn } from "./fpn.ts";
 * import { ones, random } from "../../mod.ts";
 * const p = initFpn(random.key(0), { inChannels: [2, 2], outChannels: 4 });
 * const out = fpn(p, [ones([1, 2, 8, 10]), ones([1, 2, 4, 5])]);
 * assert.deepEqual(out.map((t) => t.shape), [[1, 4, 8, 10], [1, 4, 4, 5], [1, 4, 2, 3]]);
 * ```
 */
export function fpn(
  params: FpnParams,
  maps: readonly Tensor[],
  opts: { extraPool?: boolean } = {},
): Tensor[] {
  const n = params.inner_blocks.length;
  if (maps.length !== n || params.layer_blocks.length !== n) {
    throw new TesseraError(
      "fpn",
      `expected ${n} input maps (one per inner block), got ${maps.length}`,
    );
  }
  let last = convLayer(params.inner_blocks[n - 1]!, maps[n - 1]!);
  const results = [convLayer(params.layer_blocks[n - 1]!, last, { padding: 1 })];
  for (let i = n - 2; i >= 0; i--) {
    const lateral = convLayer(params.inner_blocks[i]!, maps[i]!);
    const size: [number, number] = [lateral.shape[2]!, lateral.shape[3]!];
    last = add(lateral, interpolate(last, { size, mode: "nearest" }));
    results.unshift(convLayer(params.layer_blocks[i]!, last, { padding: 1 }));
  }
  if (opts.extraPool ?? true) results.push(maxPool2d(results[n - 1]!, 1, { stride: 2 }));
  return results;
}

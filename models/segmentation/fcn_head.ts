/**
 * mmseg's auxiliary `FCNHead` (methods.md §13): on the stride-16 map, `numConvs` 3×3
 * ConvModules (`convs.i`), no input concat, Dropout2d, `conv_seg`.
 * @module
 */
import { type Tensor, TesseraError } from "../../tensor/mod.ts";
import { convLayer, type ConvLayerParams } from "../../nn/conv.ts";
import { initFromSpec, type Spec } from "../../nn/init.ts";
import {
  convModule,
  type ConvModuleParams,
  convModuleSpec,
  type ConvModuleState,
  convModuleState,
  convSegSpec,
  dropout2d,
} from "./conv_module.ts";
import type { DecodeHeadOptions } from "./uper_head.ts";

/**
 * Configuration of the FCNHead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FcnHeadConfig } from "./fcn_head.ts";
 * const c: FcnHeadConfig = { inChannels: 768, channels: 256, numClasses: 150 };
 * assert.equal(c.numConvs ?? 1, 1);
 * ```
 */
export interface FcnHeadConfig {
  /** Input channels (the ViT width). */
  inChannels: number;
  /** Head width (256 in the BEiT config). */
  channels: number;
  /** Output classes. */
  numClasses: number;
  /** Number of 3×3 ConvModules (default 1). */
  numConvs?: number;
}

/**
 * Parameters of the FCNHead (mmseg names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FcnHeadParams, initFcnHead } from "./fcn_head.ts";
 * import { random } from "../../mod.ts";
 * const p: FcnHeadParams = initFcnHead(random.key(0), { inChannels: 4, channels: 2, numClasses: 3 });
 * assert.deepEqual(p.convs[0]!.conv.weight.shape, [2, 4, 3, 3]);
 * ```
 */
export interface FcnHeadParams {
  /** The 3×3 ConvModules. */
  convs: ConvModuleParams[];
  /** 1×1 classifier. */
  conv_seg: ConvLayerParams;
}

/**
 * BatchNorm statistics of the FCNHead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initFcnHeadState } from "./fcn_head.ts";
 * assert.equal(initFcnHeadState({ inChannels: 4, channels: 2, numClasses: 3, numConvs: 2 }).convs.length, 2);
 * ```
 */
export interface FcnHeadState {
  /** Of `convs`. */
  convs: ConvModuleState[];
}

function numConvs(op: string, c: FcnHeadConfig): number {
  const n = c.numConvs ?? 1;
  if (!Number.isInteger(n) || n < 1) {
    throw new TesseraError(op, `numConvs must be a positive integer, got ${n}`);
  }
  return n;
}

/**
 * Spec of the FCNHead's parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fcnHeadSpec } from "./fcn_head.ts";
 * import { countParams } from "../../nn/init.ts";
 * assert.equal(countParams(fcnHeadSpec({ inChannels: 1, channels: 2, numClasses: 3 })), 2 * 9 + 4 + 3 * 2 + 3);
 * ```
 */
export function fcnHeadSpec(config: FcnHeadConfig): Spec<FcnHeadParams> {
  const n = numConvs("fcnHeadSpec", config);
  const convs = Array.from(
    { length: n },
    (_, i) => convModuleSpec(i === 0 ? config.inChannels : config.channels, config.channels, 3),
  );
  return { convs, conv_seg: convSegSpec(config.channels, config.numClasses) };
}

/**
 * Initialises the FCNHead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initFcnHead } from "./fcn_head.ts";
 * import { random } from "../../mod.ts";
 * assert.deepEqual(initFcnHead(random.key(0), { inChannels: 4, channels: 2, numClasses: 3 }).conv_seg.weight.shape, [3, 2, 1, 1]);
 * ```
 */
export function initFcnHead(key: Tensor, config: FcnHeadConfig): FcnHeadParams {
  return initFromSpec(key, fcnHeadSpec(config)) as FcnHeadParams;
}

/**
 * Fresh BatchNorm statistics of the FCNHead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initFcnHeadState } from "./fcn_head.ts";
 * assert.deepEqual(initFcnHeadState({ inChannels: 4, channels: 2, numClasses: 3 }).convs[0]!.bn.running_mean.shape, [2]);
 * ```
 */
export function initFcnHeadState(config: FcnHeadConfig): FcnHeadState {
  const n = numConvs("initFcnHeadState", config);
  return { convs: Array.from({ length: n }, () => convModuleState(config.channels)) };
}

/**
 * FCNHead forward on one map `[B, D, h, w]` → logits `[B, K, h, w]` and the BN state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fcnHead, initFcnHead, initFcnHeadState } from "./fcn_head.ts";
 * import { ones, random } from "../../mod.ts";
 * const cfg = { inChannels: 4, channels: 2, numClasses: 3 };
 * const { logits } = fcnHead(initFcnHead(random.key(0), cfg), initFcnHeadState(cfg), ones([1, 4, 5, 6]));
 * assert.deepEqual(logits.shape, [1, 3, 5, 6]);
 * ```
 */
export function fcnHead(
  params: FcnHeadParams,
  state: FcnHeadState,
  x: Tensor,
  opts: DecodeHeadOptions = {},
): { logits: Tensor; state: FcnHeadState } {
  if (state.convs.length !== params.convs.length) {
    throw new TesseraError(
      "fcnHead",
      `state has ${state.convs.length} convs, params ${params.convs.length}`,
    );
  }
  let h = x;
  const convs = params.convs.map((p, i) => {
    const r = convModule(p, state.convs[i]!, h, { train: opts.train });
    h = r.y;
    return r.state;
  });
  const dropped = dropout2d(h, { rate: opts.dropout ?? 0.1, train: opts.train, key: opts.key });
  return { logits: convLayer(params.conv_seg, dropped), state: { convs } };
}

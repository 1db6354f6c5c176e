/**
 * mmseg's `UPerHead` (methods.md §13) on four maps at strides 4, 8, 16, 32: the pyramid pooling
 * module (PPM) on the stride-32 map, 1×1 lateral ConvModules, top-down bilinear fusion, 3×3 FPN
 * ConvModules, concat at stride 4 → 3×3 `fpn_bottleneck` → Dropout2d → `conv_seg`.
 * Parameter names as mmseg's state dict, except that `psp_modules.i.1` (a Sequential of the
 * pool and the ConvModule) is `psp_modules.i` here.
 * @module
 */
import { adaptiveAvgPool2d, add, concat, type Tensor, TesseraError } from "../../tensor/mod.ts";
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
  resizeBilinear,
} from "./conv_module.ts";

/**
 * Configuration of the UperHead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { UperHeadConfig } from "./uper_head.ts";
 * const c: UperHeadConfig = { inChannels: 768, channels: 768, numClasses: 150 };
 * assert.deepEqual(c.poolScales ?? [1, 2, 3, 6], [1, 2, 3, 6]);
 * ```
 */
export interface UperHeadConfig {
  /** Channels of every input map (the ViT width D). */
  inChannels: number;
  /** Head width C. */
  channels: number;
  /** Output classes. */
  numClasses: number;
  /** PPM pool sizes (default [1, 2, 3, 6]). */
  poolScales?: readonly number[];
}

/**
 * Parameters of the UperHead (mmseg names).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperHead, type UperHeadParams } from "./uper_head.ts";
 * import { random } from "../../mod.ts";
 * const p: UperHeadParams = initUperHead(random.key(0), { inChannels: 4, channels: 6, numClasses: 3 });
 * assert.deepEqual(p.bottleneck.conv.weight.shape, [6, 4 + 4 * 6, 3, 3]);
 * ```
 */
export interface UperHeadParams {
  /** One 1×1 ConvModule per pool scale. */
  psp_modules: ConvModuleParams[];
  /** 3×3 ConvModule on [x, PPM branches]. */
  bottleneck: ConvModuleParams;
  /** 1×1 ConvModules on maps 0..2. */
  lateral_convs: ConvModuleParams[];
  /** 3×3 ConvModules on the fused laterals 0..2. */
  fpn_convs: ConvModuleParams[];
  /** 3×3 ConvModule on the concatenated four levels. */
  fpn_bottleneck: ConvModuleParams;
  /** 1×1 classifier. */
  conv_seg: ConvLayerParams;
}

/**
 * BatchNorm running statistics of the UperHead, with the params' structure (no `conv_seg`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperHeadState } from "./uper_head.ts";
 * const s = initUperHeadState({ inChannels: 4, channels: 6, numClasses: 3 });
 * assert.equal(s.psp_modules.length, 4);
 * ```
 */
export interface UperHeadState {
  /** Per pool scale. */
  psp_modules: ConvModuleState[];
  /** Of `bottleneck`. */
  bottleneck: ConvModuleState;
  /** Of `lateral_convs`. */
  lateral_convs: ConvModuleState[];
  /** Of `fpn_convs`. */
  fpn_convs: ConvModuleState[];
  /** Of `fpn_bottleneck`. */
  fpn_bottleneck: ConvModuleState;
}

function check(op: string, c: UperHeadConfig): readonly number[] {
  for (
    const [name, v] of [["inChannels", c.inChannels], ["channels", c.channels], [
      "numClasses",
      c.numClasses,
    ]] as const
  ) {
    if (!Number.isInteger(v) || v < 1) {
      throw new TesseraError(op, `${name} must be a positive integer, got ${v}`);
    }
  }
  const scales = c.poolScales ?? [1, 2, 3, 6];
  if (scales.length === 0 || scales.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new TesseraError(op, `poolScales must be positive integers, got [${scales}]`);
  }
  return scales;
}

/**
 * Spec of the UperHead's parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uperHeadSpec } from "./uper_head.ts";
 * assert.deepEqual(uperHeadSpec({ inChannels: 4, channels: 2, numClasses: 5 }).conv_seg.weight.shape, [5, 2, 1, 1]);
 * ```
 */
export function uperHeadSpec(config: UperHeadConfig): Spec<UperHeadParams> {
  const scales = check("uperHeadSpec", config);
  const { inChannels: d, channels: c } = config;
  const three = <T>(f: () => T) => [f(), f(), f()];
  return {
    psp_modules: scales.map(() => convModuleSpec(d, c, 1)),
    bottleneck: convModuleSpec(d + scales.length * c, c, 3),
    lateral_convs: three(() => convModuleSpec(d, c, 1)),
    fpn_convs: three(() => convModuleSpec(c, c, 3)),
    fpn_bottleneck: convModuleSpec(4 * c, c, 3),
    conv_seg: convSegSpec(c, config.numClasses),
  };
}

/**
 * Initialises the UperHead (convs PyTorch's default, BN 1/0, `conv_seg` N(0, 0.01²)).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperHead } from "./uper_head.ts";
 * import { random } from "../../mod.ts";
 * assert.equal(initUperHead(random.key(0), { inChannels: 4, channels: 2, numClasses: 5, poolScales: [1, 2] }).psp_modules.length, 2);
 * ```
 */
export function initUperHead(key: Tensor, config: UperHeadConfig): UperHeadParams {
  return initFromSpec(key, uperHeadSpec(config)) as UperHeadParams;
}

/**
 * Fresh BatchNorm statistics of the UperHead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperHeadState } from "./uper_head.ts";
 * assert.equal(initUperHeadState({ inChannels: 4, channels: 2, numClasses: 5 }).lateral_convs.length, 3);
 * ```
 */
export function initUperHeadState(config: UperHeadConfig): UperHeadState {
  const scales = check("initUperHeadState", config);
  const c = config.channels;
  const three = () => [0, 1, 2].map(() => convModuleState(c));
  return {
    psp_modules: scales.map(() => convModuleState(c)),
    bottleneck: convModuleState(c),
    lateral_convs: three(),
    fpn_convs: three(),
    fpn_bottleneck: convModuleState(c),
  };
}

/**
 * Options of the decode heads' forward passes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DecodeHeadOptions } from "./uper_head.ts";
 * import { random } from "../../mod.ts";
 * const o: DecodeHeadOptions = { train: true, key: random.key(0) };
 * assert.equal(o.train, true);
 * ```
 */
export interface DecodeHeadOptions {
  /** BN batch statistics + Dropout2d (default false: eval). */
  train?: boolean;
  /** PRNG key of the dropout (train mode). */
  key?: Tensor;
  /** Dropout2d rate (default 0.1). */
  dropout?: number;
  /** UperHead only: the PPM pool sizes it was built with (default [1, 2, 3, 6]). */
  poolScales?: readonly number[];
}

/**
 * UperHead forward on maps `[B, D, ·, ·]` at strides 4, 8, 16, 32 → logits `[B, K, H/4, W/4]`
 * and the BN state (updated in train mode).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initUperHead, initUperHeadState, uperHead } from "./uper_head.ts";
 * import { ones, random } from "../../mod.ts";
 * const cfg = { inChannels: 4, channels: 4, numClasses: 3 };
 * const maps = [16, 8, 4, 2].map((s) => ones([1, 4, s, s]));
 * const { logits } = uperHead(initUperHead(random.key(0), cfg), initUperHeadState(cfg), maps);
 * assert.deepEqual(logits.shape, [1, 3, 16, 16]);
 * ```
 */
export function uperHead(
  params: UperHeadParams,
  state: UperHeadState,
  maps: readonly Tensor[],
  opts: DecodeHeadOptions = {},
): { logits: Tensor; state: UperHeadState } {
  if (maps.length !== 4) throw new TesseraError("uperHead", `expected 4 maps, got ${maps.length}`);
  const scales = opts.poolScales ?? [1, 2, 3, 6];
  if (scales.length !== params.psp_modules.length) {
    throw new TesseraError(
      "uperHead",
      `poolScales [${scales}] do not match the ${params.psp_modules.length} PPM branches`,
    );
  }
  const train = opts.train;
  const size = (t: Tensor) => [t.shape[2]!, t.shape[3]!] as [number, number];
  // PPM on the stride-32 map.
  const x = maps[3]!;
  const psp: ConvModuleState[] = [];
  const branches = params.psp_modules.map((p, i) => {
    const r = convModule(p, state.psp_modules[i]!, adaptiveAvgPool2d(x, scales[i]!), { train });
    psp.push(r.state);
    return resizeBilinear(r.y, size(x));
  });
  const bott = convModule(params.bottleneck, state.bottleneck, concat([x, ...branches], 1), {
    train,
  });
  // Laterals and top-down fusion.
  const lat: ConvModuleState[] = [];
  const laterals = params.lateral_convs.map((p, i) => {
    const r = convModule(p, state.lateral_convs[i]!, maps[i]!, { train });
    lat.push(r.state);
    return r.y;
  });
  laterals.push(bott.y);
  for (let i = 3; i > 0; i--) {
    laterals[i - 1] = add(laterals[i - 1]!, resizeBilinear(laterals[i]!, size(laterals[i - 1]!)));
  }
  const fpn: ConvModuleState[] = [];
  const outs = params.fpn_convs.map((p, i) => {
    const r = convModule(p, state.fpn_convs[i]!, laterals[i]!, { train });
    fpn.push(r.state);
    return r.y;
  });
  outs.push(laterals[3]!);
  const top = size(outs[0]!);
  const fused = concat(outs.map((o) => resizeBilinear(o, top)), 1);
  const fb = convModule(params.fpn_bottleneck, state.fpn_bottleneck, fused, { train });
  const dropped = dropout2d(fb.y, { rate: opts.dropout ?? 0.1, train, key: opts.key });
  return {
    logits: convLayer(params.conv_seg, dropped),
    state: {
      psp_modules: psp,
      bottleneck: bott.state,
      lateral_convs: lat,
      fpn_convs: fpn,
      fpn_bottleneck: fb.state,
    },
  };
}

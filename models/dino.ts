/**
 * DINO (methods.md §9): student and teacher ViTs with the DINO projection head (3-layer MLP
 * with GELU → bottleneck → L2-normalise → weight-normalised last layer), the multi-crop
 * cross-entropy between the centred, sharpened teacher outputs of the global crops and the
 * student outputs of every other crop, the centre's EMA update from teacher global outputs,
 * the teacher-temperature warm-up, the EMA teacher with the cosine momentum schedule,
 * per-tensor gradient clipping and the first-epoch freezing of the last layer (the training
 * pieces are in `dino_train.ts`).
 *
 * The head's `last_layer` holds `weight_v` `[K, bottleneck]` and, only when the norm is
 * trainable (`normLastLayer: false`), `weight_g` `[K, 1]`; with norm freezing (default, as in
 * DINO) g ≡ 1 and is not a parameter.
 * @module
 */
import {
  add,
  concat,
  div,
  gelu,
  logSoftmax,
  matmul,
  mean,
  mul,
  softmax,
  split,
  sqrt,
  stopGradient,
  sub,
  sum,
  type Tensor,
  TesseraError,
} from "../tensor/mod.ts";
import { initFromSpec, onesInit, ParamSpec, type Spec, truncNormalInit } from "../nn/init.ts";
import { linear, type LinearParams, linearSpec } from "../nn/linear.ts";
import { l2Normalize } from "../nn/losses.ts";
import { foldKey, repeatKey } from "../nn/row_keys.ts";
import { initEma } from "../nn/optim/ema.ts";
import { type VitConfig, vitForwardFeatures, vitHead, type VitParams, vitSpec } from "./vit.ts";

/**
 * DINO configuration (defaults: DINO's ViT recipe).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DinoConfig } from "./dino.ts";
 * const c: DinoConfig = {
 *   backbone: { imgSize: 16, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 16, depth: 1, numHeads: 2 },
 *   outDim: 64, hiddenDim: 32, bottleneckDim: 16,
 * };
 * assert.equal(c.studentTemp, undefined); // unset fields take their defaults (studentTemp 0.1)
 * ```
 */
export interface DinoConfig {
  /** The ViT backbone (CLS token output after the final norm; `numClasses` is ignored). */
  backbone: VitConfig;
  /** K, prototypes of the last layer (65536 in DINO). */
  outDim: number;
  /** Hidden width of the head MLP (default 2048). */
  hiddenDim?: number;
  /** Bottleneck width (default 256). */
  bottleneckDim?: number;
  /** Linear layers of the head MLP (default 3). */
  nlayers?: number;
  /** Freeze the weight-norm magnitude g at 1 (default true). */
  normLastLayer?: boolean;
  /** Student temperature (default 0.1). */
  studentTemp?: number;
  /** Centre EMA momentum (default 0.9). */
  centerMomentum?: number;
}

/**
 * Head parameters: `mlp` (the Linear layers) and `last_layer` (`weight_v`, optional `weight_g`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DinoHeadParams } from "./dino.ts";
 * const f = (h: DinoHeadParams) => h.mlp.length;
 * assert.equal(typeof f, "function");
 * ```
 */
export interface DinoHeadParams {
  /** The MLP's Linear layers (GELU between them). */
  mlp: LinearParams[];
  /** Weight-normalised last layer: direction `weight_v` `[K, bottleneck]`, magnitude `weight_g` `[K, 1]` when trainable. */
  last_layer: { weight_v: Tensor; weight_g?: Tensor };
}

/**
 * Student or teacher parameters: the ViT's plus `dino_head`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initDino, type DinoParams } from "./dino.ts";
 * import { random } from "../mod.ts";
 * const { student }: { student: DinoParams } = initDino(random.key(0), {
 *   backbone: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 },
 *   outDim: 16, hiddenDim: 8, bottleneckDim: 4,
 * });
 * assert.deepEqual(student.dino_head.last_layer.weight_v.shape, [16, 4]);
 * ```
 */
export type DinoParams = VitParams & { dino_head: DinoHeadParams };

function backboneConfig(c: DinoConfig): VitConfig {
  return { ...c.backbone, numClasses: 0, globalPool: "token", fcNorm: false };
}

/**
 * Parameter spec of one DINO network (backbone + head; head linears trunc-normal 0.02).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dinoSpec } from "./dino.ts";
 * const s = dinoSpec({ backbone: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, outDim: 16, hiddenDim: 8, bottleneckDim: 4 });
 * assert.deepEqual(s.dino_head.mlp.map((l) => l.weight.shape), [[8, 8], [8, 8], [4, 8]]);
 * ```
 */
export function dinoSpec(config: DinoConfig): Spec<DinoParams> {
  const bb = backboneConfig(config), dtype = bb.dtype;
  const hid = config.hiddenDim ?? 2048, bot = config.bottleneckDim ?? 256;
  const nl = Math.max(config.nlayers ?? 3, 1);
  const dims = nl === 1 ? [bb.embedDim, bot] : [bb.embedDim, ...Array(nl - 1).fill(hid), bot];
  const tn = truncNormalInit(0.02);
  const last: Spec<DinoHeadParams["last_layer"]> = {
    weight_v: new ParamSpec([config.outDim, bot], tn, dtype),
  };
  if (config.normLastLayer === false) {
    last.weight_g = new ParamSpec([config.outDim, 1], onesInit, dtype);
  }
  return {
    ...vitSpec(bb),
    dino_head: {
      mlp: dims.slice(1).map((o, i) =>
        linearSpec({ inFeatures: dims[i]!, outFeatures: o, weightInit: tn, dtype })
      ),
      last_layer: last,
    },
  } as Spec<DinoParams>;
}

/**
 * Initialises the student and the teacher (an exact copy; it never receives gradients).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initDino } from "./dino.ts";
 * import { random } from "../mod.ts";
 * const { student, teacher } = initDino(random.key(0), { backbone: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, outDim: 16, hiddenDim: 8, bottleneckDim: 4 });
 * assert.equal(
 *   (await student.pos_embed!.toArray()).toString() === (await teacher.pos_embed!.toArray()).toString(),
 *   true,
 * );
 * ```
 */
export function initDino(
  key: Tensor,
  config: DinoConfig,
): { student: DinoParams; teacher: DinoParams } {
  const student = initFromSpec(key, dinoSpec(config)) as DinoParams;
  return { student, teacher: initEma(student) };
}

/**
 * The DINO head on backbone features `[B, D]` → `[B, K]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dinoHead, initDino } from "./dino.ts";
 * import { ones, random } from "../mod.ts";
 * const { student } = initDino(random.key(0), { backbone: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, outDim: 16, hiddenDim: 8, bottleneckDim: 4 });
 * assert.deepEqual(dinoHead(student.dino_head, ones([3, 8])).shape, [3, 16]);
 * ```
 */
export function dinoHead(head: DinoHeadParams, x: Tensor): Tensor {
  let h = x;
  head.mlp.forEach((l, i) => {
    h = linear(l, h);
    if (i < head.mlp.length - 1) h = gelu(h);
  });
  h = l2Normalize(h);
  const v = head.last_layer.weight_v;
  let w = div(v, sqrt(sum(mul(v, v), 1, true)));
  if (head.last_layer.weight_g) w = mul(w, head.last_layer.weight_g);
  return matmul(h, w, { transB: true });
}

/**
 * Network outputs `[B, K]` for each crop: crops of equal size (consecutive) are batched into
 * one backbone pass, the CLS token after the final norm goes through the head.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dinoForward, initDino } from "./dino.ts";
 * import { ones, random } from "../mod.ts";
 * const config = { backbone: { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 8, depth: 1, numHeads: 2 }, outDim: 16, hiddenDim: 8, bottleneckDim: 4 };
 * const { student } = initDino(random.key(0), config);
 * const outs = dinoForward(student, [ones([2, 1, 8, 8]), ones([2, 1, 8, 8]), ones([2, 1, 4, 4])], config);
 * assert.equal(outs.length, 3);
 * assert.deepEqual(outs[2]!.shape, [2, 16]);
 * ```
 */
export function dinoForward(
  params: DinoParams,
  crops: readonly Tensor[],
  config: DinoConfig,
  opts: { train?: boolean; key?: Tensor } = {},
): Tensor[] {
  const bb = backboneConfig(config);
  const outs: Tensor[] = [];
  let start = 0, group = 0;
  while (start < crops.length) {
    const [h, w] = [crops[start]!.shape[2], crops[start]!.shape[3]];
    let end = start + 1;
    while (end < crops.length && crops[end]!.shape[2] === h && crops[end]!.shape[3] === w) end++;
    const x = end - start > 1 ? concat(crops.slice(start, end), 0) : crops[start]!;
    const key = opts.key ? repeatKey(foldKey(opts.key, group++), end - start) : undefined;
    const f = vitForwardFeatures(params, x, bb, { train: opts.train, key });
    const y = dinoHead(params.dino_head, vitHead(params, f.tokens, bb));
    outs.push(...(end - start > 1 ? split(y, end - start, 0) : [y]));
    start = end;
  }
  return outs;
}

/**
 * DINO's multi-crop loss: for teacher view i (the global crops) and student view v ≠ i,
 * `mean_batch(−Σ softmax((t_i − c)/τ_t) · log_softmax(s_v/τ_s))`, averaged over the
 * `nGlobal·(nCrops − 1)` pairs (teacher probabilities are constants). Student outputs list the
 * global crops first, in the teacher's order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dinoLoss } from "./dino.ts";
 * import { tensor, zeros } from "../mod.ts";
 * const t = [tensor([[1, 0]]), tensor([[0, 1]])];
 * const s = [tensor([[0, 0]]), tensor([[0, 0]]), tensor([[0, 0]])];
 * const r = dinoLoss(s, t, zeros([1, 2]), { teacherTemp: 0.04 });
 * assert.equal(r.terms, 4);
 * assert.equal((await r.loss.item()).toFixed(4), "0.6931");
 * ```
 */
export function dinoLoss(
  studentOut: readonly Tensor[],
  teacherOut: readonly Tensor[],
  center: Tensor,
  opts: { teacherTemp: number | Tensor; studentTemp?: number },
): { loss: Tensor; terms: number } {
  const ng = teacherOut.length;
  if (studentOut.length < ng) {
    throw new TesseraError("dinoLoss", `${studentOut.length} student crops < ${ng} global crops`);
  }
  const st = opts.studentTemp ?? 0.1;
  const logp = studentOut.map((s) => logSoftmax(div(s, st), -1));
  const probs = teacherOut.map((t) =>
    stopGradient(softmax(div(sub(t, center), opts.teacherTemp), -1))
  );
  let total: Tensor | null = null, terms = 0;
  probs.forEach((q, i) => {
    logp.forEach((lp, v) => {
      if (v === i) return;
      const term = mean(sum(mul(q, lp), -1));
      total = total ? sub(total, term) : sub(0, term);
      terms++;
    });
  });
  if (!total) throw new TesseraError("dinoLoss", "no (teacher, student) pair: need ≥ 2 crops");
  return { loss: div(total, terms), terms };
}

/**
 * The centre's EMA update, `c ← m·c + (1 − m)·mean(teacher global outputs)` (over all global
 * crops and the batch; raw teacher logits), done after the loss.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { updateCenter } from "./dino.ts";
 * import { tensor, zeros } from "../mod.ts";
 * assert.deepEqual(
 *   await updateCenter(zeros([1, 2]), [tensor([[1, 2], [3, 4]])]).toArray(),
 *   [[Math.fround(0.2), Math.fround(0.3)]],
 * );
 * ```
 */
export function updateCenter(
  center: Tensor,
  teacherOut: readonly Tensor[],
  momentum = 0.9,
): Tensor {
  const batchMean = mean(stopGradient(concat([...teacherOut], 0)), 0, true);
  return add(mul(center, momentum), mul(batchMean, 1 - momentum));
}

/**
 * Region proposal network logic (torchvision `RegionProposalNetwork`, methods.md §12) on the
 * head's flattened outputs (`rpnHead`): proposal filtering (per-level top-k by objectness,
 * decode, clip, drop tiny boxes, NMS per level, top-k per image; no gradient), training
 * targets (IoU matching 0.7/0.3 with low-quality matches, box-coder targets, balanced sampling
 * under a PRNG key) and the losses (BCE on sampled anchors, smooth-L1 β = 1/9 on sampled
 * positives divided by the number of sampled anchors).
 * @module
 */
import {
  add,
  batchedNms,
  clipBoxes,
  concat,
  div,
  gather,
  greaterEqual,
  logicalAnd,
  random,
  reshape,
  scope,
  sigmoid,
  slice,
  split,
  stack,
  stopGradient,
  sub,
  type Tensor,
  tensor,
  TesseraError,
  topk,
} from "../../tensor/mod.ts";
import { binaryCrossEntropyWithLogits, smoothL1Loss } from "../../nn/losses.ts";
import type { Anchors } from "./anchors.ts";
import { type BoxCoderOptions, decodeBoxes, encodeBoxes } from "./box_coder.ts";
import { assignTargets, type MatcherOptions } from "./matcher.ts";
import { sampleFgBg, type SamplerOptions } from "./sampler.ts";

/**
 * Options of {@link filterProposals} (torchvision's test-time defaults 1000/1000; training uses
 * 2000 before NMS).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProposalOptions } from "./rpn.ts";
 * const train: ProposalOptions = { preNmsTopN: 2000, postNmsTopN: 1000 };
 * assert.equal(train.nmsThresh ?? 0.7, 0.7);
 * ```
 */
export interface ProposalOptions {
  /** Top-scoring anchors kept per level before NMS (default 1000). */
  preNmsTopN?: number;
  /** Proposals kept per image after NMS (default 1000). */
  postNmsTopN?: number;
  /** NMS IoU threshold, per level (default 0.7). */
  nmsThresh?: number;
  /** Boxes with a side below this are dropped (default 1e-3, torchvision). */
  minSize?: number;
  /** Proposals with a sigmoid score below this are dropped (default 0). */
  scoreThresh?: number;
  /** Box coder (default weights 1, 1, 1, 1). */
  coder?: BoxCoderOptions;
}

/**
 * Proposals of one image.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Proposals } from "./rpn.ts";
 * const count = (p: Proposals) => p.boxes.shape[0];
 * assert.equal(typeof count, "function");
 * ```
 */
export interface Proposals {
  /** `[K, 4]` boxes in image coordinates, by descending score. */
  boxes: Tensor;
  /** `[K]` sigmoid objectness. */
  scores: Tensor;
}

function posInt(op: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) {
    throw new TesseraError(op, `${name} must be a positive integer, got ${v}`);
  }
  return v;
}

/**
 * Proposals per image from objectness `[N, T]` and deltas `[N, T, 4]` over `anchors` (T rows,
 * `perLevel` counts), for images of `imageSizes` `[[h, w], …]` (unpadded sizes, for clipping).
 * Carries no gradient. Async: the number of surviving boxes is read back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filterProposals } from "./rpn.ts";
 * import { generateAnchors } from "./anchors.ts";
 * import { tensor, zeros } from "../../mod.ts";
 * const anchors = generateAnchors([32, 32], [[2, 2]], { sizes: [[16]], aspectRatios: [[1]] });
 * const [p] = await filterProposals(tensor([[4, 3, 2, 1]]), zeros([1, 4, 4]), anchors, [[32, 32]]);
 * assert.deepEqual(await p!.boxes.toArray(), [[0, 0, 8, 8], [8, 0, 24, 8], [0, 8, 8, 24], [8, 8, 24, 24]]);
 * ```
 */
export async function filterProposals(
  objectness: Tensor,
  deltas: Tensor,
  anchors: Anchors,
  imageSizes: readonly (readonly [number, number])[],
  opts: ProposalOptions = {},
): Promise<Proposals[]> {
  opts ??= {};
  const op = "filterProposals";
  const pre = posInt(op, "preNmsTopN", opts.preNmsTopN ?? 1000);
  const post = posInt(op, "postNmsTopN", opts.postNmsTopN ?? 1000);
  const thresh = opts.nmsThresh ?? 0.7, minSize = opts.minSize ?? 1e-3;
  const scoreThresh = opts.scoreThresh ?? 0;
  const [n, t] = objectness.shape as [number, number];
  if (
    objectness.ndim !== 2 || deltas.ndim !== 3 || deltas.shape[0] !== n ||
    deltas.shape[1] !== t || deltas.shape[2] !== 4 || anchors.boxes.shape[0] !== t ||
    imageSizes.length !== n
  ) {
    throw new TesseraError(
      op,
      `need objectness [N, T], deltas [N, T, 4], T anchors and N image sizes; got ` +
        `[${objectness.shape}], [${deltas.shape}], ${anchors.boxes.shape[0]} anchors, ` +
        `${imageSizes.length} sizes`,
    );
  }
  const out: Proposals[] = [];
  for (let i = 0; i < n; i++) {
    const cand = scope(() => {
      const obj = reshape(stopGradient(slice(objectness, [i])), [t]);
      const del = reshape(stopGradient(slice(deltas, [i])), [t, 4]);
      const idx: Tensor[] = [];
      const lvl: number[] = [];
      let off = 0;
      anchors.perLevel.forEach((m, l) => {
        const k = Math.min(pre, m);
        const top = topk(slice(obj, [[off, off + m]]), k).indices;
        idx.push(off ? add(top, off) : top);
        for (let j = 0; j < k; j++) lvl.push(l);
        off += m;
      });
      const sel = concat(idx, 0);
      const boxes = clipBoxes(
        decodeBoxes(gather(del, sel, 0), gather(anchors.boxes, sel, 0), opts.coder),
        imageSizes[i]!,
      );
      const scores = sigmoid(gather(obj, sel, 0));
      const [x1, y1, x2, y2] = split(boxes, 4, 1) as Tensor[];
      const ok = logicalAnd(
        logicalAnd(greaterEqual(sub(x2!, x1!), minSize), greaterEqual(sub(y2!, y1!), minSize)),
        greaterEqual(reshape(scores, [-1, 1]), scoreThresh),
      );
      return { boxes, scores, ok: reshape(ok, [-1]), lvl };
    });
    const okHost = await cand.ok.data();
    const keepIdx: number[] = [];
    okHost.forEach((v, j) => v && keepIdx.push(j));
    const result = await scope(async () => {
      const be = objectness.backend.name;
      const k = tensor(Int32Array.from(keepIdx), { shape: [keepIdx.length], backend: be });
      const b = gather(cand.boxes, k, 0), s = gather(cand.scores, k, 0);
      const lv = tensor(Int32Array.from(keepIdx.map((j) => cand.lvl[j]!)), {
        shape: [keepIdx.length],
        backend: be,
      });
      const kept = await batchedNms(b, s, lv, thresh);
      const top = kept.shape[0]! > post ? slice(kept, [[0, post]]) : kept;
      return { boxes: gather(b, top, 0), scores: gather(s, top, 0) };
    });
    cand.boxes.dispose(), cand.scores.dispose(), cand.ok.dispose();
    out.push(result);
  }
  return out;
}

/**
 * RPN training targets of a batch (stacked over images).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RpnTargets } from "./rpn.ts";
 * const sampled = (r: RpnTargets) => r.pos.shape[0]! + r.neg.shape[0]!;
 * assert.equal(typeof sampled, "function");
 * ```
 */
export interface RpnTargets {
  /** `[N, T]`: 1 foreground, 0 background, −1 ignored. */
  labels: Tensor;
  /** `[N, T, 4]`: box-coder targets from each anchor to its matched GT. */
  regression: Tensor;
  /** int32: sampled foreground indices into the flattened `[N·T]` anchors. */
  pos: Tensor;
  /** int32: sampled background indices into the flattened `[N·T]` anchors. */
  neg: Tensor;
}

/**
 * Labels, regression targets and the balanced sample for anchors `[T, 4]` and each image's
 * GT boxes `[G_i, 4]` (key split per image).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rpnTargets } from "./rpn.ts";
 * import { random, tensor } from "../../mod.ts";
 * const anchors = tensor([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 9, 10]]);
 * const r = await rpnTargets(random.key(0), anchors, [tensor([[0, 0, 10, 10]])]);
 * assert.deepEqual(await r.labels.toArray(), [[1, 0, 1]]);
 * assert.deepEqual(await r.pos.toArray(), [0, 2]);
 * ```
 */
export async function rpnTargets(
  key: Tensor,
  anchors: Tensor,
  gtBoxes: readonly Tensor[],
  opts: { matcher?: MatcherOptions; sampler?: SamplerOptions; coder?: BoxCoderOptions } = {},
): Promise<RpnTargets> {
  opts ??= {};
  const t = anchors.shape[0]!;
  const keys = random.splitKeys(key, Math.max(1, gtBoxes.length));
  const labels: Tensor[] = [], regression: Tensor[] = [], pos: Tensor[] = [], neg: Tensor[] = [];
  for (let i = 0; i < gtBoxes.length; i++) {
    const a = assignTargets(gtBoxes[i]!, anchors, opts.matcher);
    labels.push(a.labels);
    regression.push(encodeBoxes(anchors, a.matchedBoxes, opts.coder));
    a.matchedBoxes.dispose(), a.matches.dispose();
    const s = await sampleFgBg(keys[i]!, a.labels, opts.sampler);
    pos.push(s.pos), neg.push(s.neg);
  }
  keys.forEach((k) => k.dispose());
  const out = scope(() => ({
    labels: stack(labels, 0),
    regression: stack(regression, 0),
    pos: concat(pos.map((p, i) => add(p, i * t)), 0),
    neg: concat(neg.map((p, i) => add(p, i * t)), 0),
  }));
  const kept = new Set(Object.values(out));
  for (const x of [...labels, ...regression, ...pos, ...neg]) if (!kept.has(x)) x.dispose();
  return out;
}

/**
 * RPN losses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RpnLosses } from "./rpn.ts";
 * const total = (l: RpnLosses) => [l.objectness, l.boxReg];
 * assert.equal(typeof total, "function");
 * ```
 */
export interface RpnLosses {
  /** BCE-with-logits, mean over sampled anchors. */
  objectness: Tensor;
  /** Smooth-L1 (β = 1/9) summed over sampled positives, divided by the sampled count. */
  boxReg: Tensor;
}

/**
 * torchvision's `RegionProposalNetwork.compute_loss` for objectness `[N, T]`, deltas
 * `[N, T, 4]` and {@link RpnTargets}. `beta` 0 gives the L1 of mmdet/detectron2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rpnLoss } from "./rpn.ts";
 * import { tensor, zeros } from "../../mod.ts";
 * const l = rpnLoss(zeros([1, 2]), zeros([1, 2, 4]), {
 *   labels: tensor([[1, 0]]), regression: zeros([1, 2, 4]),
 *   pos: tensor([0], { dtype: "int32" }), neg: tensor([1], { dtype: "int32" }),
 * });
 * assert.ok(Math.abs(await l.objectness.item() - Math.LN2) < 1e-6);
 * assert.equal(await l.boxReg.item(), 0);
 * ```
 */
export function rpnLoss(
  objectness: Tensor,
  deltas: Tensor,
  targets: RpnTargets,
  opts: { beta?: number } = {},
): RpnLosses {
  opts ??= {};
  return scope(() => {
    const sampled = concat([targets.pos, targets.neg], 0);
    const count = sampled.shape[0]!;
    if (count === 0) throw new TesseraError("rpnLoss", "no sampled anchors (empty sample)");
    const obj = reshape(objectness, [-1]);
    const lab = reshape(targets.labels, [-1]);
    const lossObj = binaryCrossEntropyWithLogits(gather(obj, sampled, 0), gather(lab, sampled, 0));
    const d = gather(reshape(deltas, [-1, 4]), targets.pos, 0);
    const r = gather(reshape(targets.regression, [-1, 4]), targets.pos, 0);
    const box = smoothL1Loss(d, r, { beta: opts.beta ?? 1 / 9, reduction: "sum" });
    return { objectness: lossObj, boxReg: div(box, count) };
  });
}

/**
 * Training targets of the RoI heads (torchvision `RoIHeads.select_training_samples`,
 * methods.md §12): GT boxes appended to the proposals, IoU matching at 0.5 (no low-quality
 * matches), labels = matched GT class (0 background, −1 ignored), a balanced sample (512 at ¼
 * foreground by default) under a PRNG key, and box-coder targets with weights (10, 10, 5, 5).
 * @module
 */
import {
  boxIou,
  concat,
  equal,
  full,
  gather,
  maximum,
  random,
  scope,
  type Tensor,
  tensor,
  TesseraError,
  where,
  zeros,
} from "../../tensor/mod.ts";
import { type BoxCoderOptions, encodeBoxes } from "./box_coder.ts";
import { matchBoxes, type MatcherOptions } from "./matcher.ts";
import { sampleFgBg, type SamplerOptions } from "./sampler.ts";

/**
 * The Fast R-CNN box coder weights (torchvision `RoIHeads` default, mmdet stds 0.1/0.2).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ROI_BOX_WEIGHTS } from "./roi_targets.ts";
 * assert.deepEqual(ROI_BOX_WEIGHTS, [10, 10, 5, 5]);
 * ```
 */
export const ROI_BOX_WEIGHTS: readonly [number, number, number, number] = [10, 10, 5, 5];

/**
 * Proposals of one image matched to its GT.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProposalAssignment } from "./roi_targets.ts";
 * const n = (a: ProposalAssignment) => a.proposals.shape[0];
 * assert.equal(typeof n, "function");
 * ```
 */
export interface ProposalAssignment {
  /** `[P + G, 4]`: the proposals followed by the GT boxes. */
  proposals: Tensor;
  /** int32 `[P + G]`: matched GT index, clamped to ≥ 0 (0 without GT). */
  matched: Tensor;
  /** int32 `[P + G]`: GT class, 0 background, −1 ignored. */
  labels: Tensor;
}

/**
 * Appends the GT boxes `[G, 4]` to proposals `[P, 4]` and matches them (torchvision
 * `add_gt_proposals` + `assign_targets_to_proposals`); `gtLabels` int32 `[G]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assignProposals } from "./roi_targets.ts";
 * import { tensor } from "../../mod.ts";
 * const a = assignProposals(tensor([[0, 0, 10, 9], [30, 30, 40, 40]]), tensor([[0, 0, 10, 10]]), tensor([3], { dtype: "int32" }));
 * assert.deepEqual(await a.labels.toArray(), [3, 0, 3]);
 * ```
 */
export function assignProposals(
  proposals: Tensor,
  gtBoxes: Tensor,
  gtLabels: Tensor,
  opts: MatcherOptions = {},
): ProposalAssignment {
  opts ??= {};
  return scope(() => {
    const op = "assignProposals";
    if (gtLabels.dtype !== "int32" || gtLabels.shape[0] !== gtBoxes.shape[0]) {
      throw new TesseraError(
        op,
        `gtLabels must be int32 [${gtBoxes.shape[0]}], got ${gtLabels.dtype} [${gtLabels.shape}]`,
      );
    }
    const all = concat([proposals, gtBoxes], 0);
    const n = all.shape[0]!, be = all.backend.name;
    if (gtBoxes.shape[0] === 0) {
      const z = zeros([n], { dtype: "int32", backend: be });
      return { proposals: all, matched: z, labels: zeros([n], { dtype: "int32", backend: be }) };
    }
    const m = matchBoxes(boxIou(gtBoxes, all), {
      highThreshold: opts.highThreshold ?? 0.5,
      lowThreshold: opts.lowThreshold ?? 0.5,
      allowLowQuality: opts.allowLowQuality ?? false,
    });
    const matched = maximum(m, 0);
    const cls = gather(gtLabels, matched, 0);
    const labels = where(
      equal(m, -1),
      0,
      where(equal(m, -2), full([n], -1, { dtype: "int32", backend: be }), cls),
    );
    return { proposals: all, matched, labels };
  });
}

/**
 * Sampled training RoIs of a batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RoiTargets } from "./roi_targets.ts";
 * const count = (t: RoiTargets) => t.labels.shape[0];
 * assert.equal(typeof count, "function");
 * ```
 */
export interface RoiTargets {
  /** Per image: sampled RoIs `[R_i, 4]`, in proposal order. */
  proposals: Tensor[];
  /** Per image: int32 matched GT index of each sampled RoI. */
  matched: Tensor[];
  /** int32 `[Σ R_i]`: class of each sampled RoI (0 background). */
  labels: Tensor;
  /** `[Σ R_i, 4]`: box-coder targets to the matched GT. */
  regression: Tensor;
}

/**
 * Training RoIs for proposals and GT of each image (key split per image).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roiTargets } from "./roi_targets.ts";
 * import { random, tensor } from "../../mod.ts";
 * const t = await roiTargets(random.key(0), [tensor([[0, 0, 10, 9], [30, 30, 40, 40]])], [tensor([[0, 0, 10, 10]])], [tensor([2], { dtype: "int32" })]);
 * assert.deepEqual(await t.labels.toArray(), [2, 0, 2]);
 * assert.deepEqual(t.regression.shape, [3, 4]);
 * ```
 */
export async function roiTargets(
  key: Tensor,
  proposals: readonly Tensor[],
  gtBoxes: readonly Tensor[],
  gtLabels: readonly Tensor[],
  opts: { matcher?: MatcherOptions; sampler?: SamplerOptions; coder?: BoxCoderOptions } = {},
): Promise<RoiTargets> {
  opts ??= {};
  const op = "roiTargets";
  if (proposals.length !== gtBoxes.length || gtLabels.length !== gtBoxes.length) {
    throw new TesseraError(
      op,
      `need one proposal, GT box and GT label tensor per image, got ${proposals.length}, ` +
        `${gtBoxes.length}, ${gtLabels.length}`,
    );
  }
  const sampler = {
    batchSize: opts.sampler?.batchSize ?? 512,
    positiveFraction: opts.sampler?.positiveFraction ?? 0.25,
  };
  const coder = opts.coder ?? { weights: ROI_BOX_WEIGHTS };
  const keys = random.splitKeys(key, Math.max(1, proposals.length));
  const props: Tensor[] = [], matched: Tensor[] = [], labels: Tensor[] = [], reg: Tensor[] = [];
  for (let i = 0; i < proposals.length; i++) {
    const a = assignProposals(proposals[i]!, gtBoxes[i]!, gtLabels[i]!, opts.matcher);
    const s = await sampleFgBg(keys[i]!, a.labels, sampler);
    const idx = Int32Array.from([...await s.pos.data(), ...await s.neg.data()]).sort();
    s.pos.dispose(), s.neg.dispose();
    scope(() => {
      const k = tensor(idx, { shape: [idx.length], backend: a.proposals.backend.name });
      const p = gather(a.proposals, k, 0), m = gather(a.matched, k, 0);
      const g = gtBoxes[i]!.shape[0] ? gtBoxes[i]! : zeros([1, 4], { dtype: p.dtype });
      props.push(p), matched.push(m), labels.push(gather(a.labels, k, 0));
      reg.push(encodeBoxes(p, gather(g, m, 0), coder));
      return [...props, ...matched, ...labels, ...reg];
    });
    a.proposals.dispose(), a.matched.dispose(), a.labels.dispose();
  }
  keys.forEach((k) => k.dispose());
  const out = scope(() => ({ labels: concat(labels, 0), regression: concat(reg, 0) }));
  for (const t of [...labels, ...reg]) if (t !== out.labels && t !== out.regression) t.dispose();
  return { proposals: props, matched, ...out };
}

/**
 * Segmentation losses (methods.md §13): per-pixel cross-entropy of logits `[N, K, h, w]`
 * (bilinearly resized to the label size, align_corners=False) against int32 labels
 * `[N, H, W]` with ignore index 255, and the UperNet total `main + 0.4 · aux`.
 * @module
 */
import {
  add,
  cast,
  div,
  expandDims,
  logsumexp,
  maximum,
  mul,
  notEqual,
  squeeze,
  sub,
  sum,
  takeAlongAxis,
  type Tensor,
  TesseraError,
  where,
} from "../../tensor/mod.ts";
import { resizeBilinear } from "./conv_module.ts";

/**
 * Options of {@link segCrossEntropy}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SegLossOptions } from "./losses.ts";
 * const o: SegLossOptions = { average: "all" };
 * assert.equal(o.ignoreIndex ?? 255, 255);
 * ```
 */
export interface SegLossOptions {
  /** Label value that contributes nothing (default 255). */
  ignoreIndex?: number;
  /**
   * `"valid"` (default): mean over non-ignored pixels (mmseg's `avg_non_ignore=True`,
   * `F.cross_entropy`); `"all"`: sum over all pixels, ignored ones contributing 0 (mmseg ≤ 0.22
   * default, the BEiT configs).
   */
  average?: "valid" | "all";
}

/**
 * Per-pixel cross-entropy of `logits` `[N, K, h, w]` against `labels` `[N, H, W]` (int32);
 * the logits are resized to `H × W` first when they differ. 0 when every pixel is ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segCrossEntropy } from "./losses.ts";
 * import { tensor } from "../../mod.ts";
 * const logits = tensor([[[[2, 0]], [[0, 0]]]]); // [1, 2, 1, 2]
 * const labels = tensor([[[0, 255]]], { dtype: "int32" });
 * const l = Math.log(1 + Math.exp(-2));
 * assert.ok(Math.abs(await segCrossEntropy(logits, labels).item() - l) < 1e-6);
 * assert.ok(Math.abs(await segCrossEntropy(logits, labels, { average: "all" }).item() - l / 2) < 1e-6);
 * ```
 */
export function segCrossEntropy(
  logits: Tensor,
  labels: Tensor,
  opts: SegLossOptions = {},
): Tensor {
  const op = "segCrossEntropy";
  if (logits.ndim !== 4) {
    throw new TesseraError(op, `logits must be [N, K, h, w], got [${logits.shape}]`);
  }
  if (labels.ndim !== 3 || labels.dtype !== "int32" || labels.shape[0] !== logits.shape[0]) {
    throw new TesseraError(
      op,
      `labels must be int32 [N, H, W] with N = ${
        logits.shape[0]
      }, got ${labels.dtype} [${labels.shape}]`,
    );
  }
  const ignoreIndex = opts.ignoreIndex ?? 255;
  const average = opts.average ?? "valid";
  if (average !== "valid" && average !== "all") {
    throw new TesseraError(op, `average must be "valid" or "all", got ${String(average)}`);
  }
  const z = resizeBilinear(logits, [labels.shape[1]!, labels.shape[2]!]);
  // logsumexp_k z − z[y] on the class axis of NCHW: no transpose and no one-hot (the same
  // values and gradients as nn/losses.ts crossEntropy on NHWC, about half the work).
  const valid = notEqual(labels, ignoreIndex);
  const picked = squeeze(takeAlongAxis(z, expandDims(where(valid, labels, 0), 1), 1), 1);
  const validF = cast(valid, z.dtype);
  const total = sum(mul(sub(logsumexp(z, 1), picked), validF));
  return div(total, average === "valid" ? maximum(sum(validF), 1) : labels.size);
}

/**
 * UperNet's training loss: `segCrossEntropy(main) + auxWeight · segCrossEntropy(aux)`
 * (auxWeight default 0.4), both resized to the label size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { segCrossEntropy, uperNetLoss } from "./losses.ts";
 * import { tensor, zeros } from "../../mod.ts";
 * const labels = tensor([[[1, 0], [1, 1]]], { dtype: "int32" });
 * const main = zeros([1, 3, 2, 2]), aux = zeros([1, 3, 1, 1]);
 * const want = (1 + 0.4) * Math.log(3);
 * assert.ok(Math.abs(await uperNetLoss(main, aux, labels).item() - want) < 1e-6);
 * assert.ok(Math.abs(await segCrossEntropy(aux, labels).item() - Math.log(3)) < 1e-6);
 * ```
 */
export function uperNetLoss(
  logits: Tensor,
  auxLogits: Tensor,
  labels: Tensor,
  opts: SegLossOptions & { auxWeight?: number } = {},
): Tensor {
  const w = opts.auxWeight ?? 0.4;
  return add(
    segCrossEntropy(logits, labels, opts),
    mul(segCrossEntropy(auxLogits, labels, opts), w),
  );
}

/**
 * Loss functions with PyTorch semantics (class axis last): cross-entropy (integer labels with
 * label smoothing and an ignore index, or soft targets), binary cross-entropy with logits,
 * MSE, L1, smooth-L1 and the symmetric InfoNCE of SplitMask/MoCo v3. Each works in float32 and
 * float64 and reduces with `"mean"` (default), `"sum"` or `"none"`.
 * @module
 */
import {
  abs,
  add,
  arange,
  cast,
  div,
  exp,
  less,
  log1p,
  logSoftmax,
  matmul,
  maximum,
  mean,
  mul,
  notEqual,
  oneHot,
  sqrt,
  sub,
  sum,
  type Tensor,
  TesseraError,
  transpose,
  where,
} from "../tensor/mod.ts";

/**
 * How a per-element loss is reduced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Reduction } from "./losses.ts";
 * const r: Reduction = "sum";
 * assert.equal(r, "sum");
 * ```
 */
export type Reduction = "mean" | "sum" | "none";

function floatCheck(op: string, x: Tensor, name: string): void {
  if (x.dtype !== "float32" && x.dtype !== "float64") {
    throw new TesseraError(op, `${name} must be float32 or float64, got ${x.dtype}`);
  }
}

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new TesseraError(
      op,
      `input [${a.shape.join(", ")}] and target [${b.shape.join(", ")}] differ in shape`,
    );
  }
}

function reduce(op: string, x: Tensor, reduction: Reduction = "mean"): Tensor {
  if (reduction === "none") return x;
  if (reduction === "sum") return sum(x);
  if (reduction === "mean") return mean(x);
  throw new TesseraError(op, `reduction must be "mean", "sum" or "none", got ${reduction}`);
}

/**
 * Options of {@link crossEntropy}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CrossEntropyOptions } from "./losses.ts";
 * const o: CrossEntropyOptions = { labelSmoothing: 0.1, ignoreIndex: -100 };
 * assert.equal(o.reduction ?? "mean", "mean");
 * ```
 */
export interface CrossEntropyOptions {
  /** ε: the target becomes `(1 − ε)·y + ε/C` (default 0). */
  labelSmoothing?: number;
  /** Integer labels equal to this are skipped (default −100, PyTorch's). */
  ignoreIndex?: number;
  /** Reduction (default "mean": over non-ignored elements for integer labels). */
  reduction?: Reduction;
}

/**
 * Cross-entropy between `logits` `[..., C]` and either int32 class labels `[...]` or soft
 * target probabilities `[..., C]` (mixup/cutmix), like `F.cross_entropy` with the class axis
 * last. With integer labels, `ignoreIndex` entries contribute nothing and the mean is over the
 * rest (0 when every label is ignored, where PyTorch gives NaN).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crossEntropy } from "./losses.ts";
 * import { tensor } from "../mod.ts";
 * const logits = tensor([[2, 0, 0], [0, 0, 0]]);
 * const labels = tensor([0, -100], { dtype: "int32" });
 * assert.ok(Math.abs(await crossEntropy(logits, labels).item() - 0.23954463) < 1e-6); // (−log softmax([2, 0, 0])[0])
 * const soft = tensor([[0.5, 0.5, 0], [1, 0, 0]]);
 * assert.ok(Math.abs(await crossEntropy(logits, soft, { labelSmoothing: 0.1 }).item() - 1.1857452) < 1e-6);
 * ```
 */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  opts: CrossEntropyOptions = {},
): Tensor {
  const op = "crossEntropy";
  floatCheck(op, logits, "logits");
  if (logits.ndim < 1) throw new TesseraError(op, "logits need a class axis");
  const c = logits.shape[logits.ndim - 1]!;
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new TesseraError(op, `labelSmoothing must be in [0, 1]`);
  const logp = logSoftmax(logits, -1);
  const reduction = opts.reduction ?? "mean";
  if (target.dtype === "int32") {
    const lead = logits.shape.slice(0, -1);
    if (target.ndim !== lead.length || target.shape.some((d, i) => d !== lead[i])) {
      throw new TesseraError(
        op,
        `labels [${target.shape.join(", ")}] must have the logits' shape without the class axis [${
          lead.join(", ")
        }]`,
      );
    }
    const valid = notEqual(target, opts.ignoreIndex ?? -100);
    const oh = oneHot(where(valid, target, 0), c, { dtype: logits.dtype });
    let loss = sub(0, sum(mul(oh, logp), -1));
    if (eps > 0) loss = add(mul(loss, 1 - eps), mul(mean(logp, -1), -eps));
    const validF = cast(valid, logits.dtype);
    loss = mul(loss, validF);
    if (reduction === "none") return loss;
    const total = sum(loss);
    return reduction === "sum" ? total : div(total, maximum(sum(validF), 1));
  }
  floatCheck(op, target, "target");
  sameShape(op, logits, target);
  const t = eps > 0 ? add(mul(target, 1 - eps), eps / c) : target;
  return reduce(op, sub(0, sum(mul(t, logp), -1)), reduction);
}

/**
 * Binary cross-entropy on logits, `−[y·log σ(x) + (1 − y)·log(1 − σ(x))]`, computed stably as
 * `softplus(x) − x·y` with `softplus(x) = ½x + ½|x| + log1p(e^{−|x|})` (exact gradient
 * `σ(x) − y` everywhere, including x = 0). `posWeight` weights the positive term as PyTorch's
 * `pos_weight`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binaryCrossEntropyWithLogits } from "./losses.ts";
 * import { tensor } from "../mod.ts";
 * assert.equal(
 *   Math.abs(await binaryCrossEntropyWithLogits(tensor([0, 100]), tensor([1, 1])).item() - Math.LN2 / 2) < 1e-6,
 *   true,
 * ); // (log 2 + 0) / 2
 * ```
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  opts: { posWeight?: Tensor | number; reduction?: Reduction } = {},
): Tensor {
  const op = "binaryCrossEntropyWithLogits";
  floatCheck(op, logits, "logits");
  floatCheck(op, target, "target");
  sameShape(op, logits, target);
  const a = abs(logits);
  const tail = log1p(exp(sub(0, a)));
  const spNeg = add(sub(mul(a, 0.5), mul(logits, 0.5)), tail); // softplus(−x)
  let loss: Tensor;
  if (opts.posWeight === undefined) {
    loss = add(mul(sub(1, target), logits), spNeg);
  } else {
    const pw = opts.posWeight;
    const lw = typeof pw === "number"
      ? add(mul(target, pw - 1), 1)
      : add(mul(sub(pw, 1), target), 1);
    loss = add(mul(sub(1, target), logits), mul(lw, spNeg));
  }
  return reduce(op, loss, opts.reduction);
}

/**
 * Mean squared error `(x − y)²`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mseLoss } from "./losses.ts";
 * import { tensor } from "../mod.ts";
 * assert.ok(Math.abs(await mseLoss(tensor([1, 2]), tensor([0, 0])).item() - 2.5) < 1e-6);
 * ```
 */
export function mseLoss(
  input: Tensor,
  target: Tensor,
  opts: { reduction?: Reduction } = {},
): Tensor {
  floatCheck("mseLoss", input, "input");
  sameShape("mseLoss", input, target);
  const d = sub(input, target);
  return reduce("mseLoss", mul(d, d), opts.reduction);
}

/**
 * Mean absolute error `|x − y|`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { l1Loss } from "./losses.ts";
 * import { tensor } from "../mod.ts";
 * assert.ok(Math.abs(await l1Loss(tensor([1, -2]), tensor([0, 0])).item() - 1.5) < 1e-6);
 * ```
 */
export function l1Loss(
  input: Tensor,
  target: Tensor,
  opts: { reduction?: Reduction } = {},
): Tensor {
  floatCheck("l1Loss", input, "input");
  sameShape("l1Loss", input, target);
  return reduce("l1Loss", abs(sub(input, target)), opts.reduction);
}

/**
 * Smooth L1 (Huber divided by β): `½d²/β` where `|d| < β`, else `|d| − ½β`; β = 0 is L1
 * (PyTorch's `smooth_l1_loss`, default β = 1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smoothL1Loss } from "./losses.ts";
 * import { tensor } from "../mod.ts";
 * assert.ok(Math.abs(await smoothL1Loss(tensor([0.5, 3]), tensor([0, 0])).item() - 1.3125) < 1e-6);
 * ```
 */
export function smoothL1Loss(
  input: Tensor,
  target: Tensor,
  opts: { beta?: number; reduction?: Reduction } = {},
): Tensor {
  floatCheck("smoothL1Loss", input, "input");
  sameShape("smoothL1Loss", input, target);
  const beta = opts.beta ?? 1;
  if (!(beta >= 0)) throw new TesseraError("smoothL1Loss", `beta must be >= 0, got ${beta}`);
  const d = abs(sub(input, target));
  const loss = beta === 0
    ? d
    : where(less(d, beta), mul(mul(d, d), 0.5 / beta), sub(d, 0.5 * beta));
  return reduce("smoothL1Loss", loss, opts.reduction);
}

/**
 * Rows divided by their L2 norm, `x / max(‖x‖, eps)` (PyTorch's `F.normalize`, eps 1e-12).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { l2Normalize } from "./losses.ts";
 * import { tensor } from "../mod.ts";
 * assert.deepEqual(await l2Normalize(tensor([[3, 4]])).toArray(), [[Math.fround(0.6), Math.fround(0.8)]]);
 * ```
 */
export function l2Normalize(x: Tensor, opts: { axis?: number; eps?: number } = {}): Tensor {
  const axis = opts.axis ?? -1;
  return div(x, maximum(sqrt(sum(mul(x, x), axis, true)), opts.eps ?? 1e-12));
}

/**
 * Options of {@link infoNCE}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { InfoNCEOptions } from "./losses.ts";
 * const o: InfoNCEOptions = { temperature: 0.2 };
 * assert.equal(o.symmetric ?? true, true);
 * ```
 */
export interface InfoNCEOptions {
  /** τ (default 0.2, SplitMask). */
  temperature?: number;
  /** L2-normalise the embeddings first (default true, MoCo v3). */
  normalize?: boolean;
  /** Average the a→b and b→a losses (default true); false returns a→b only. */
  symmetric?: boolean;
  /** Multiply by 2τ as MoCo v3 does (default false). */
  scaleBy2Tau?: boolean;
}

/**
 * InfoNCE with in-batch negatives (methods.md §5): `logits = q·kᵀ/τ` for the normalised
 * embeddings `q = x_a`, `k = x_b` `[B, D]`; row i's positive is column i; the loss is the
 * cross-entropy over rows, symmetrised as `(ℓ_ab + ℓ_ba)/2`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { infoNCE } from "./losses.ts";
 * import { eye } from "../mod.ts";
 * const x = eye(3, 8); // orthonormal rows: loss = ln(1 + 2e^-5)
 * assert.ok(Math.abs(await infoNCE(x, x).item() - 0.0133858) < 1e-6);
 * ```
 */
export function infoNCE(xa: Tensor, xb: Tensor, opts: InfoNCEOptions = {}): Tensor {
  const op = "infoNCE";
  floatCheck(op, xa, "xa");
  sameShape(op, xa, xb);
  if (xa.ndim !== 2) throw new TesseraError(op, `embeddings must be [B, D], got [${xa.shape}]`);
  const tau = opts.temperature ?? 0.2;
  if (!(tau > 0)) throw new TesseraError(op, `temperature must be > 0, got ${tau}`);
  const norm = opts.normalize ?? true;
  const q = norm ? l2Normalize(xa) : xa;
  const k = norm ? l2Normalize(xb) : xb;
  const logits = div(matmul(q, k, { transB: true }), tau);
  const labels = arange(0, xa.shape[0]!, 1, { dtype: "int32", backend: xa.backend.name });
  let loss = crossEntropy(logits, labels);
  if (opts.symmetric ?? true) loss = mul(add(loss, crossEntropy(transpose(logits), labels)), 0.5);
  return opts.scaleBy2Tau ? mul(loss, 2 * tau) : loss;
}

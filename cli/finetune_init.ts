/**
 * `finetune --init`: a freshly initialised ViT classifier takes over the encoder tensors of a
 * pre-trained model (`cls_token`, `pos_embed`, `patch_embed`, `blocks`, and `norm` when the
 * classifier has one); the head and `fc_norm` keep their fresh initialisation, as in BEiT's
 * fine-tuning.
 * @module
 */
import { dispose, type Tensor } from "../mod.ts";
import type { VitParams } from "../models/vit.ts";
import { UsageError } from "./args.ts";
import type { PretrainedEncoder } from "./encoder_ckpt.ts";

/**
 * Replaces the encoder tensors of `params` by those of `pre` (shapes must match; the
 * replaced fresh tensors and the pre-trained tensors not used are freed). Returns the new tree.
 *
 * @example
 * ```ts
 * import { takeEncoder } from "./finetune_init.ts";
 * import { initVit } from "../models/vit.ts";
 * import { random } from "../mod.ts";
 * const cfg = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 3, embedDim: 8, depth: 1, numHeads: 2, globalPool: "avg" as const };
 * const enc = initVit(random.key(1), { ...cfg, numClasses: 0, fcNorm: false });
 * const p = takeEncoder(initVit(random.key(0), cfg), { params: enc, config: cfg, method: "beit", step: 0, path: "x" });
 * console.log(p.blocks[0] === enc.blocks[0], p.head !== undefined); // true true
 * ```
 */
export function takeEncoder(params: VitParams, pre: PretrainedEncoder): VitParams {
  const problems: string[] = [];
  const out: Record<string, unknown> = { ...params };
  const src = pre.params as unknown as Record<string, unknown>;
  const dst = params as unknown as Record<string, unknown>;
  const replaced: unknown[] = [], unused: unknown[] = [];
  const check = (path: string, a: unknown, b: unknown) => {
    if (a && typeof a === "object" && "shape" in a) {
      const x = a as Tensor, y = b as Tensor | undefined;
      if (!y || !("shape" in y)) problems.push(`${path}: missing in the checkpoint`);
      else if (x.shape.join() !== y.shape.join()) {
        problems.push(`${path}: model [${x.shape}], checkpoint [${y.shape}]`);
      }
      return;
    }
    if (a && typeof a === "object") {
      for (const [k, v] of Object.entries(a)) {
        check(`${path}.${k}`, v, (b as Record<string, unknown> | undefined)?.[k]);
      }
    }
  };
  for (const k of ["cls_token", "pos_embed", "patch_embed", "blocks", "norm"]) {
    if (dst[k] === undefined) {
      if (src[k] !== undefined) unused.push(src[k]);
      continue;
    }
    check(k, dst[k], src[k]);
    replaced.push(dst[k]);
    out[k] = src[k];
  }
  if (problems.length > 0) {
    dispose(pre.params);
    throw new UsageError(
      `--init ${pre.path}: the encoder does not fit the model:\n  ${problems.join("\n  ")}`,
    );
  }
  dispose([replaced, unused]);
  return out as unknown as VitParams;
}

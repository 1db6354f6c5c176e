/**
 * Encoder surgery on `train.ts` checkpoints: reading the ViT encoder out of a pre-training
 * checkpoint (BEiT, SplitMask: the model minus `mask_token`, `lm_head` and `decoder`; DINO: the
 * **teacher** backbone, as DINO evaluates it) or a fine-tuning one (minus `head` and
 * `fc_norm`), and putting it into a freshly initialised ViT classifier (the head and `fc_norm`
 * keep their fresh initialisation, as in BEiT's fine-tuning). Used by `finetune --init` and
 * `probe --init`; every problem is a {@link TesseraError} naming the file.
 * @module
 */
import { dispose, type Tensor, TesseraError } from "../tensor/mod.ts";
import { decodeCheckpoint } from "../nn/checkpoint.ts";
import type { VitConfig, VitParams } from "./vit.ts";
import { hostFs } from "../tensor/host_fs.ts";

/**
 * An encoder read from a checkpoint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encoderFromCheckpoint, type PretrainedEncoder } from "./encoder_checkpoint.ts";
 * import { ones } from "../tensor/mod.ts";
 * const encoder = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 2, depth: 0, numHeads: 1 };
 * const w = ones([2, 1, 4, 4]), b = ones([2]);
 * const e: PretrainedEncoder = encoderFromCheckpoint(
 *   { patch_embed: { proj: { weight: w, bias: b } }, blocks: [] },
 *   { command: "finetune", encoder },
 *   "ft.safetensors",
 * );
 * assert.equal(e.method, "finetune");
 * assert.equal(e.config.numClasses, 0);
 * w.dispose(), b.dispose();
 * ```
 */
export interface PretrainedEncoder {
  /** Encoder parameters (ViT names: `cls_token`, `pos_embed`, `patch_embed`, `blocks`, `norm`). */
  params: VitParams;
  /** Encoder config (`numClasses` 0, no mask token). */
  config: VitConfig;
  /** "splitmask", "beit", "dino" or "finetune". */
  method: string;
  /** Training step the checkpoint was written at. */
  step: number;
  /** The file read. */
  path: string;
}

/** The encoder tensors a ViT classifier can take over from a pre-trained model. */
const ENCODER_KEYS = ["cls_token", "pos_embed", "patch_embed", "blocks", "norm"] as const;

/**
 * Extracts the encoder from a decoded checkpoint tree (`params`) and its `config` (the
 * `command`, `method` and `encoder` a `train.ts` run records).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encoderFromCheckpoint } from "./encoder_checkpoint.ts";
 * import { dispose, ones } from "../tensor/mod.ts";
 * const enc = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 2, depth: 0, numHeads: 1 };
 * const params = { patch_embed: { proj: { weight: ones([2, 1, 4, 4]), bias: ones([2]) } }, blocks: [], lm_head: { weight: ones([3, 2]) } };
 * const e = encoderFromCheckpoint(params, { command: "pretrain", method: "beit", encoder: enc }, "x");
 * assert.deepEqual(Object.keys(e.params), ["patch_embed", "blocks"]); // lm_head dropped
 * assert.equal(e.method, "beit");
 * dispose(params);
 * ```
 */
export function encoderFromCheckpoint(
  params: unknown,
  config: unknown,
  path: string,
  step = 0,
): PretrainedEncoder {
  const cfg = config as
    | { command?: string; method?: string; encoder?: VitConfig; resolved?: { vit?: VitConfig } }
    | null;
  const bad = (why: string) => new TesseraError("encoderFromCheckpoint", `${path}: ${why}`);
  if (!cfg || (cfg.command !== "pretrain" && cfg.command !== "finetune")) {
    throw bad("not a checkpoint of a train.ts pretrain or finetune run");
  }
  const tree = params as Record<string, unknown>;
  let src: Record<string, unknown>, encCfg: VitConfig | undefined, method: string;
  if (cfg.command === "pretrain") {
    method = cfg.method ?? "?";
    encCfg = cfg.encoder;
    src = (method === "dino" ? tree.teacher : tree) as Record<string, unknown>;
  } else {
    method = "finetune";
    encCfg = cfg.encoder ?? cfg.resolved?.vit;
    src = tree;
  }
  if (!encCfg) throw bad("the checkpoint does not record its encoder configuration");
  if (!src || typeof src !== "object" || !src.patch_embed || !Array.isArray(src.blocks)) {
    throw bad(`no ViT encoder in the ${method} checkpoint`);
  }
  const out: Record<string, unknown> = {};
  for (const k of ENCODER_KEYS) if (src[k] !== undefined) out[k] = src[k];
  if ((out.blocks as unknown[]).length !== encCfg.depth) {
    throw bad(`${(out.blocks as unknown[]).length} blocks, but the config says ${encCfg.depth}`);
  }
  const encoder: VitConfig = { ...encCfg, numClasses: 0, maskToken: false };
  return { params: out as unknown as VitParams, config: encoder, method, step, path };
}

/** The tensors of a tree (found by their `shape` and `dispose`). */
function tensorsOf(x: unknown, into: Tensor[] = []): Tensor[] {
  if (x && typeof x === "object") {
    if ("dispose" in x && "shape" in x) into.push(x as Tensor);
    else for (const v of Object.values(x)) tensorsOf(v, into);
  }
  return into;
}

/**
 * Loads the encoder of a `train.ts pretrain` or `finetune` checkpoint (a file, or a run
 * directory's `ckpt_latest.safetensors`); the other tensors are freed. Problems are
 * {@link TesseraError}s naming the path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadEncoder } from "./encoder_checkpoint.ts";
 * await assert.rejects(loadEncoder("/no/such/run"), /\/no\/such\/run: no such file or directory/);
 * ```
 */
export async function loadEncoder(path: string): Promise<PretrainedEncoder> {
  const fs = hostFs("loadEncoder");
  let file = path;
  try {
    if ((await fs.stat(path)).isDirectory) {
      file = `${path.replace(/\/$/, "")}/ckpt_latest.safetensors`;
    }
  } catch {
    throw new TesseraError("loadEncoder", `${path}: no such file or directory`);
  }
  let ck;
  try {
    ck = decodeCheckpoint(await fs.readFile(file));
  } catch (e) {
    throw new TesseraError("loadEncoder", `${file}: ${(e as Error).message}`);
  }
  dispose([ck.optState, ck.rngKey]);
  let enc: PretrainedEncoder;
  try {
    enc = encoderFromCheckpoint(ck.params, ck.config, file, ck.step);
  } catch (e) {
    dispose(ck.params);
    throw e;
  }
  // Free what the encoder does not keep.
  const keep = new Set(tensorsOf(enc.params));
  dispose(tensorsOf(ck.params).filter((t) => !keep.has(t)));
  return enc;
}

/**
 * Replaces the encoder tensors of a fresh ViT classifier's `params` by those of `pre`
 * (`cls_token`, `pos_embed`, `patch_embed`, `blocks`, and `norm` when the classifier has one;
 * shapes must match). The replaced fresh tensors and the pre-trained tensors not used are
 * freed; on a mismatch `pre` is freed and a {@link TesseraError} lists every difference.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { takeEncoder } from "./encoder_checkpoint.ts";
 * import { initVit } from "./vit.ts";
 * import { dispose, random } from "../tensor/mod.ts";
 * const cfg = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 3, embedDim: 8, depth: 1, numHeads: 2, globalPool: "avg" as const };
 * const enc = initVit(random.key(1), { ...cfg, numClasses: 0, fcNorm: false });
 * const p = takeEncoder(initVit(random.key(0), cfg), { params: enc, config: cfg, method: "beit", step: 0, path: "x" });
 * assert.equal(p.blocks[0], enc.blocks[0]); // the pre-trained block
 * assert.ok(p.head !== undefined); // the fresh head
 * dispose(p);
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
  for (const k of ENCODER_KEYS) {
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
    throw new TesseraError(
      "takeEncoder",
      `${pre.path}: the encoder does not fit the model:\n  ${problems.join("\n  ")}`,
    );
  }
  dispose([replaced, unused]);
  return out as unknown as VitParams;
}

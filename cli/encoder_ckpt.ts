/**
 * Reading a ViT encoder out of a `train.ts` checkpoint: `pretrain` checkpoints (BEiT,
 * SplitMask: the encoder is the model minus `mask_token`, `lm_head` and `decoder`; DINO: the
 * **teacher** backbone, as DINO evaluates it) and `finetune` checkpoints (minus `head` and
 * `fc_norm`). Used by `finetune --init` and `probe --init`.
 * @module
 */
import { dispose, type Tensor } from "../mod.ts";
import { decodeCheckpoint } from "../nn/checkpoint.ts";
import type { VitConfig, VitParams } from "../models/vit.ts";
import { UsageError } from "./args.ts";

/**
 * An encoder read from a checkpoint.
 *
 * @example
 * ```ts
 * import type { PretrainedEncoder } from "./encoder_ckpt.ts";
 * const f = (e: PretrainedEncoder) => e.config.embedDim;
 * console.log(typeof f); // "function"
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
 * Extracts the encoder from a decoded checkpoint tree (`params`) and its `config`.
 *
 * @example
 * ```ts
 * import { encoderFromCheckpoint } from "./encoder_ckpt.ts";
 * import { ones } from "../mod.ts";
 * const enc = { imgSize: 8, patchSize: 4, inChans: 1, numClasses: 0, embedDim: 2, depth: 0, numHeads: 1 };
 * const params = { patch_embed: { proj: { weight: ones([2, 1, 4, 4]), bias: ones([2]) } }, blocks: [], lm_head: { weight: ones([3, 2]) } };
 * const e = encoderFromCheckpoint(params, { command: "pretrain", method: "beit", encoder: enc }, "x");
 * console.log(Object.keys(e.params), e.method); // ["patch_embed", "blocks"] "beit"
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
  const bad = (why: string) => new UsageError(`--init ${path}: ${why}`);
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

/**
 * Loads the encoder of a `train.ts pretrain` or `finetune` checkpoint file; the other tensors
 * are freed. Bad files raise a {@link UsageError} naming `--init` and the path.
 *
 * @example
 * ```ts ignore
 * import { loadEncoder } from "./encoder_ckpt.ts";
 * const enc = await loadEncoder("runs/pretrain-splitmask/ckpt_latest.safetensors");
 * console.log(enc.method, enc.config.depth);
 * ```
 */
export async function loadEncoder(path: string): Promise<PretrainedEncoder> {
  let file = path;
  try {
    if ((await Deno.stat(path)).isDirectory) {
      file = `${path.replace(/\/$/, "")}/ckpt_latest.safetensors`;
    }
  } catch {
    throw new UsageError(`--init ${path}: no such file or directory`);
  }
  let ck;
  try {
    ck = decodeCheckpoint(await Deno.readFile(file));
  } catch (e) {
    throw new UsageError(`--init ${file}: ${(e as Error).message}`);
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
  const keep = new Set<Tensor>();
  const collect = (x: unknown) => {
    if (x && typeof x === "object") {
      if ("dispose" in x && "shape" in x) keep.add(x as Tensor);
      else for (const v of Object.values(x)) collect(v);
    }
  };
  collect(enc.params);
  const drop: Tensor[] = [];
  const walk = (x: unknown) => {
    if (x && typeof x === "object") {
      if ("dispose" in x && "shape" in x) {
        if (!keep.has(x as Tensor)) drop.push(x as Tensor);
      } else for (const v of Object.values(x)) walk(v);
    }
  };
  walk(ck.params);
  dispose(drop);
  return enc;
}

/**
 * Training checkpoints as safetensors (conventions §2.12): parameters under their tree paths
 * (`blocks.3.attn.qkv.weight`, timm's names), optimizer-state tensors under `opt.<path>`
 * (`opt.m.…`, `opt.v.…`), and string metadata `format` = "tessera-ckpt-1", `step`, `rng` (the
 * key's two uint32 words as JSON), `config` (JSON), `opt_scalars` (the optimizer state's
 * non-tensor leaves, e.g. `count`, as JSON). Files are written atomically. Loading against a
 * template (a parameter tree or a spec) checks names, shapes and dtypes and reports every
 * mismatch at once; PyTorch/timm state dicts with the same names load the same way.
 * @module
 */
import {
  loadSafetensors,
  saveSafetensors,
  type Shape,
  Tensor,
  tensor,
  TesseraError,
  writeSafetensorsFile,
} from "../tensor/mod.ts";
import { treeUnflatten } from "../autodiff/mod.ts";
import { ParamSpec } from "./init.ts";
import { hostFs } from "../tensor/host_fs.ts";

/**
 * The `format` metadata value of tessera checkpoints.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHECKPOINT_FORMAT } from "./checkpoint.ts";
 * assert.equal(CHECKPOINT_FORMAT, "tessera-ckpt-1");
 * ```
 */
export const CHECKPOINT_FORMAT = "tessera-ckpt-1";

const RESERVED = new Set(["format", "step", "rng", "config", "opt_scalars"]);

/**
 * What a checkpoint holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CheckpointData } from "./checkpoint.ts";
 * import { ones, random } from "../mod.ts";
 * const d: CheckpointData = { params: { w: ones([2]) }, step: 10, rngKey: random.key(0), config: { lr: 1e-3 } };
 * assert.equal(d.step, 10);
 * ```
 */
export interface CheckpointData {
  /** Parameter tree (tensors). */
  params: unknown;
  /** Optimizer state tree: tensors go to `opt.<path>`, numbers/null/strings to metadata. */
  optState?: unknown;
  /** Training step (default 0). */
  step?: number;
  /** PRNG key (uint32 `[2]`) to resume randomness from. */
  rngKey?: Tensor;
  /** Run configuration (JSON-serialisable). */
  config?: unknown;
  /** Extra string metadata (must not use the reserved keys). */
  metadata?: Record<string, string>;
}

type Leaf = Tensor | ParamSpec | number | string | boolean | null;

function isContainer(x: unknown): x is Record<string, unknown> | unknown[] {
  return Array.isArray(x) ||
    (typeof x === "object" && x !== null && !(x instanceof Tensor) && !(x instanceof ParamSpec) &&
      Object.getPrototypeOf(x) === Object.prototype);
}

/** Every leaf of a tree with its dotted path (tensors, specs and scalars). */
function flattenAny(tree: unknown, prefix = ""): [string, Leaf][] {
  const out: [string, Leaf][] = [];
  const visit = (x: unknown, path: string): void => {
    if (isContainer(x)) {
      const entries = Array.isArray(x)
        ? x.map((v, i) => [String(i), v] as const)
        : Object.entries(x);
      for (const [k, v] of entries) visit(v, path ? `${path}.${k}` : k);
    } else if (x !== undefined) out.push([path, x as Leaf]);
  };
  visit(tree, prefix);
  return out;
}

/** The tensors and string metadata a checkpoint is made of. */
async function collect(
  data: CheckpointData,
): Promise<{ tensors: Record<string, Tensor>; meta: Record<string, string> }> {
  const tensors: Record<string, Tensor> = {};
  const add = (name: string, t: Tensor) => {
    if (name in tensors) {
      throw new TesseraError("saveCheckpoint", `duplicate tensor name "${name}"`);
    }
    tensors[name] = t;
  };
  for (const [path, v] of flattenAny(data.params)) {
    if (!(v instanceof Tensor)) {
      throw new TesseraError("saveCheckpoint", `params leaf "${path}" is not a Tensor`);
    }
    if (path.startsWith("opt.")) {
      throw new TesseraError(
        "saveCheckpoint",
        `params path "${path}" collides with the opt. prefix`,
      );
    }
    add(path, v);
  }
  const scalars: Record<string, unknown> = {};
  for (const [path, v] of flattenAny(data.optState ?? {})) {
    if (v instanceof Tensor) add(`opt.${path}`, v);
    else if (v === null || ["number", "string", "boolean"].includes(typeof v)) scalars[path] = v;
    else throw new TesseraError("saveCheckpoint", `optimizer state leaf "${path}" is not storable`);
  }
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(data.metadata ?? {})) {
    if (RESERVED.has(k)) {
      throw new TesseraError("saveCheckpoint", `metadata key "${k}" is reserved`);
    }
    meta[k] = v;
  }
  meta.format = CHECKPOINT_FORMAT;
  meta.step = String(data.step ?? 0);
  if (data.rngKey) meta.rng = JSON.stringify(Array.from(await data.rngKey.data()));
  if (data.config !== undefined) meta.config = JSON.stringify(data.config);
  if (data.optState !== undefined) meta.opt_scalars = JSON.stringify(scalars);
  return { tensors, meta };
}

/**
 * Encodes a checkpoint as safetensors bytes (reading tensors from any backend).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts";
 * import { ones } from "../mod.ts";
 * const bytes = await encodeCheckpoint({ params: { w: ones([2]) }, optState: { count: 3, m: { w: ones([2]) } }, step: 3 });
 * const ck = decodeCheckpoint(bytes);
 * assert.equal(ck.step, 3);
 * assert.deepEqual(Object.keys(ck.optState as object), ["m", "count"]);
 * ```
 */
export async function encodeCheckpoint(data: CheckpointData): Promise<Uint8Array> {
  const { tensors, meta } = await collect(data);
  return await saveSafetensors(tensors, meta);
}

/**
 * Writes a checkpoint file atomically (temporary file, fsync, rename).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import { ones, random } from "../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveCheckpoint(path, { params: { w: ones([2]) }, step: 7, rngKey: random.key(1) });
 * const ck = await loadCheckpoint(path, { params: { w: ones([2]) } });
 * assert.equal(ck.step, 7);
 * assert.deepEqual(await ck.rngKey!.toArray(), [0, 1]);
 * await Deno.remove(path);
 * ```
 */
export async function saveCheckpoint(path: string | URL, data: CheckpointData): Promise<void> {
  const { tensors, meta } = await collect(data);
  await writeSafetensorsFile(path, tensors, meta);
}

/**
 * Options of {@link loadCheckpoint}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LoadCheckpointOptions } from "./checkpoint.ts";
 * const o: LoadCheckpointOptions = { allowUnexpected: (name) => name.endsWith("relative_position_index") };
 * assert.equal(typeof o.allowUnexpected, "function");
 * ```
 */
export interface LoadCheckpointOptions {
  /** Parameter template (tensors or `ParamSpec`s): names, shapes and dtypes must match it. */
  params?: unknown;
  /** Optimizer-state template; when given, `opt.*` tensors and scalars are checked against it. */
  optState?: unknown;
  /** Backend for the loaded tensors (default: the current default). */
  backend?: string;
  /** Accept (and drop) file tensors the templates do not name: true, or a filter by name. */
  allowUnexpected?: boolean | ((name: string) => boolean);
}

/**
 * A loaded checkpoint. Without templates, trees are rebuilt from the names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LoadedCheckpoint } from "./checkpoint.ts";
 * const f = (c: LoadedCheckpoint) => c.format ?? "foreign (e.g. a PyTorch state dict)";
 * assert.equal(typeof f, "function");
 * ```
 */
export interface LoadedCheckpoint {
  /** Parameter tree (the template's structure when one was given). */
  params: unknown;
  /** Optimizer state (tensors and scalars), or null when the file has none. */
  optState: unknown;
  /** Step (0 for files without one). */
  step: number;
  /** PRNG key, or null. */
  rngKey: Tensor | null;
  /** Parsed config JSON, or null. */
  config: unknown;
  /** `format` metadata (null for foreign files such as PyTorch state dicts). */
  format: string | null;
  /** All string metadata. */
  metadata: Record<string, string>;
}

function shapeStr(s: Shape): string {
  return `[${s.join(", ")}]`;
}

function parseJson(key: string, text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new TesseraError("loadCheckpoint", `metadata "${key}" is not valid JSON`);
  }
}

/**
 * Decodes checkpoint bytes (see {@link loadCheckpoint}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts";
 * import { ones, zeros } from "../mod.ts";
 * const bytes = await encodeCheckpoint({ params: { w: ones([2]), b: ones([3]) } });
 * try {
 *   decodeCheckpoint(bytes, { params: { w: zeros([3]), c: zeros([1]) } });
 * } catch (e) {
 *   assert.equal((e as Error).message.split("\n").length, 4); // header + 3 problems
 * }
 * ```
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  opts: LoadCheckpointOptions = {},
): LoadedCheckpoint {
  const { tensors, metadata } = loadSafetensors(bytes, { backend: opts.backend });
  const used = new Set<string>();
  try {
    const problems: string[] = [];
    const scalars = (parseJson("opt_scalars", metadata.opt_scalars) ?? {}) as Record<
      string,
      unknown
    >;
    const take = (name: string, want: Leaf): unknown => {
      if (!(want instanceof Tensor || want instanceof ParamSpec)) {
        const key = name.slice(4); // scalar leaves only occur in the optimizer state
        if (!(key in scalars)) problems.push(`missing optimizer scalar "${key}"`);
        return scalars[key];
      }
      const t = tensors[name];
      if (!t) {
        problems.push(`missing tensor "${name}" (expected ${want.dtype} ${shapeStr(want.shape)})`);
        return undefined;
      }
      used.add(name);
      if (t.shape.length !== want.shape.length || t.shape.some((d, i) => d !== want.shape[i])) {
        problems.push(
          `shape of "${name}": file ${shapeStr(t.shape)}, expected ${shapeStr(want.shape)}`,
        );
      }
      if (t.dtype !== want.dtype) {
        problems.push(`dtype of "${name}": file ${t.dtype}, expected ${want.dtype}`);
      }
      return t;
    };
    const fromTemplate = (template: unknown, prefix: string) =>
      treeUnflatten(
        Object.fromEntries(flattenAny(template).map(([p, leaf]) => [p, take(prefix + p, leaf)])),
      );
    const names = Object.keys(tensors);
    const hasOpt = metadata.opt_scalars !== undefined || names.some((n) => n.startsWith("opt."));
    const params = opts.params !== undefined ? fromTemplate(opts.params, "") : treeUnflatten(
      Object.fromEntries(
        names.filter((n) => !n.startsWith("opt.")).map((n) => (used.add(n), [n, tensors[n]])),
      ),
    );
    let optState: unknown = null;
    if (opts.optState !== undefined) optState = fromTemplate(opts.optState, "opt.");
    else if (hasOpt) {
      const flat: [string, unknown][] = names.filter((n) => n.startsWith("opt.")).map((n) => {
        used.add(n);
        return [n.slice(4), tensors[n]];
      });
      optState = treeUnflatten(Object.fromEntries([...flat, ...Object.entries(scalars)]));
    }
    const allow = opts.allowUnexpected ?? false;
    for (const n of names) {
      if (used.has(n)) continue;
      if (!(allow === true || (typeof allow === "function" && allow(n)))) {
        problems.push(
          `unexpected tensor "${n}" ${tensors[n]!.dtype} ${shapeStr(tensors[n]!.shape)}`,
        );
      }
    }
    if (problems.length) {
      throw new TesseraError(
        "loadCheckpoint",
        `${problems.length} mismatch${problems.length > 1 ? "es" : ""} with the template:\n  ${
          problems.join("\n  ")
        }`,
      );
    }
    const rng = parseJson("rng", metadata.rng) as number[] | null;
    const step = metadata.step === undefined ? 0 : Number(metadata.step);
    if (!Number.isInteger(step) || step < 0) {
      throw new TesseraError("loadCheckpoint", `metadata "step" is not a step: ${metadata.step}`);
    }
    for (const n of names) if (!used.has(n)) tensors[n]!.dispose();
    return {
      params,
      optState,
      step,
      rngKey: rng ? tensor(new Uint32Array(rng), { shape: [2], backend: opts.backend }) : null,
      config: parseJson("config", metadata.config),
      format: metadata.format ?? null,
      metadata,
    };
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
}

/**
 * Reads a checkpoint from a file path/URL or bytes. With `opts.params` (a parameter tree or a
 * spec such as `vitSpec(config)`) every tensor's name, shape and dtype is checked and all
 * problems — missing, unexpected, wrong shape, wrong dtype — are reported in one
 * `TesseraError`; the result then has the template's structure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCheckpoint } from "./checkpoint.ts";
 * import { vitSpec } from "../models/vit.ts";
 * const cfg = { imgSize: 28, patchSize: 7, inChans: 1, numClasses: 10, embedDim: 32, depth: 2, numHeads: 2 };
 * const url = new URL("../tests/fixtures/vit_timm_tiny.safetensors", import.meta.url);
 * const ck = await loadCheckpoint(url, { params: vitSpec(cfg) }); // a PyTorch state dict
 * assert.equal(ck.format, "pt");
 * assert.equal((ck.params as { blocks: unknown[] }).blocks.length, 2);
 * ```
 */
export async function loadCheckpoint(
  source: string | URL | Uint8Array,
  opts: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const bytes = source instanceof Uint8Array
    ? source
    : await hostFs("loadCheckpoint").readFile(source);
  return decodeCheckpoint(bytes, opts);
}

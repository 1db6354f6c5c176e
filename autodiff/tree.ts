/**
 * Pytrees: nested plain objects and arrays whose leaves are Tensors (other leaves — numbers,
 * strings, null — pass through untouched). Paths are dotted, timm-style: `blocks.3.attn.qkv.weight`.
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { TesseraError } from "../tensor/errors.ts";

/** A nested structure of objects/arrays with Tensor (or other) leaves. */
export type Tree = unknown;

function isContainer(x: unknown): x is Record<string, unknown> | unknown[] {
  return Array.isArray(x) ||
    (typeof x === "object" && x !== null && !(x instanceof Tensor) &&
      Object.getPrototypeOf(x) === Object.prototype);
}

/**
 * All Tensor leaves in a stable order (array order, then object insertion order).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { treeLeaves, ones } from "../mod.ts";
 * assert.equal(treeLeaves({ w: ones([2]), cfg: { lr: 0.1 }, b: [ones([1])] }).length, 2);
 * ```
 */
export function treeLeaves(tree: Tree): Tensor[] {
  const out: Tensor[] = [];
  const visit = (x: unknown): void => {
    if (x instanceof Tensor) out.push(x);
    else if (Array.isArray(x)) x.forEach(visit);
    else if (isContainer(x)) Object.values(x).forEach(visit);
  };
  visit(tree);
  return out;
}

/**
 * Maps `fn` over the Tensor leaves of one or more trees of the same structure; other
 * leaves are copied from the first tree.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { add, treeMap, ones } from "../mod.ts";
 * const p = { w: ones([2]), b: ones([1]) };
 * const q = treeMap((x, y) => add(x, y), p, p);
 * assert.deepEqual(await q.w.toArray(), [2, 2]);
 * ```
 */
export function treeMap<T>(fn: (...leaves: Tensor[]) => Tensor, tree: T, ...rest: unknown[]): T {
  return mapWithPath("treeMap", (_path, x, ...os) => fn(x, ...os), tree, rest);
}

/**
 * Like {@link treeMap}, but `fn` also receives each leaf's dotted path
 * (`blocks.3.attn.qkv.weight`), which weight-decay masks, layer-wise learning rates and
 * checkpoints key on. Throws naming the path when a tree in `rest` lacks a tensor there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { treeMapWithPath } from "./tree.ts";
 * import { mul, ones } from "../mod.ts";
 * const p = { blocks: [{ w: ones([2]) }], head: { bias: ones([1]) } };
 * const seen: string[] = [];
 * treeMapWithPath((path, x) => (seen.push(path), mul(x, 2)), p);
 * assert.deepEqual(seen, ["blocks.0.w", "head.bias"]);
 * ```
 */
export function treeMapWithPath<T>(
  fn: (path: string, leaf: Tensor, ...others: Tensor[]) => Tensor,
  tree: T,
  ...rest: unknown[]
): T {
  return mapWithPath("treeMapWithPath", fn, tree, rest);
}

function mapWithPath<T>(
  op: string,
  fn: (path: string, leaf: Tensor, ...others: Tensor[]) => Tensor,
  tree: T,
  rest: unknown[],
): T {
  const visit = (x: unknown, others: unknown[], path: string): unknown => {
    if (x instanceof Tensor) {
      const os = others.map((o, i) => {
        if (!(o instanceof Tensor)) {
          throw new TesseraError(op, `tree ${i + 1} has no tensor at "${path}"`);
        }
        return o;
      });
      return fn(path, x, ...os);
    }
    if (Array.isArray(x)) {
      return x.map((v, i) =>
        visit(v, others.map((o) => (o as unknown[] | undefined)?.[i]), join(path, i))
      );
    }
    if (isContainer(x)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(x)) {
        out[k] = visit(
          v,
          others.map((o) => (o as Record<string, unknown> | undefined)?.[k]),
          join(path, k),
        );
      }
      return out;
    }
    return x;
  };
  return visit(tree, rest, "") as T;
}

function join(path: string, k: string | number): string {
  return path ? `${path}.${k}` : String(k);
}

/**
 * Flattens a tree to `{ "dotted.path": Tensor }` (the checkpoint naming).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { treeFlatten, ones } from "../mod.ts";
 * const flat = treeFlatten({ blocks: [{ attn: { qkv: { weight: ones([3]) } } }] });
 * assert.deepEqual(Object.keys(flat), ["blocks.0.attn.qkv.weight"]);
 * ```
 */
export function treeFlatten(tree: Tree): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const visit = (x: unknown, path: string): void => {
    if (x instanceof Tensor) out[path] = x;
    else if (Array.isArray(x)) x.forEach((v, i) => visit(v, join(path, i)));
    else if (isContainer(x)) { for (const [k, v] of Object.entries(x)) visit(v, join(path, k)); }
  };
  visit(tree, "");
  return out;
}

/**
 * Rebuilds a tree from dotted paths; numeric path segments become array indices. Leaves may be
 * anything (checkpoints also restore numbers and strings).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { treeUnflatten, ones } from "../mod.ts";
 * const t = treeUnflatten({ "blocks.0.w": ones([1]), "head.b": ones([2]) }) as any;
 * assert.ok(Array.isArray(t.blocks)); // "0" became an array index
 * assert.deepEqual(t.head.b.shape, [2]);
 * ```
 */
export function treeUnflatten(flat: Record<string, unknown>): Tree {
  const root: Record<string, unknown> = {};
  for (const [path, t] of Object.entries(flat)) {
    const parts = path.split(".");
    let cur: Record<string, unknown> = root;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) {
        if (p in cur) throw new TesseraError("treeUnflatten", `duplicate path "${path}"`);
        cur[p] = t;
      } else {
        const next = cur[p];
        if (next instanceof Tensor) {
          throw new TesseraError("treeUnflatten", `path "${path}" passes through a tensor`);
        }
        cur = (cur[p] ??= {}) as Record<string, unknown>;
      }
    });
  }
  const arrays = (x: unknown): unknown => {
    if (!isContainer(x) || Array.isArray(x)) return x;
    const keys = Object.keys(x);
    const mapped = Object.fromEntries(keys.map((k) => [k, arrays(x[k])]));
    const numeric = keys.length > 0 && keys.every((k) => /^\d+$/.test(k)) &&
      keys.map(Number).sort((a, b) => a - b).every((v, i) => v === i);
    return numeric ? keys.map((_, i) => mapped[String(i)]) : mapped;
  };
  return arrays(root);
}

/** Internal: leaves of any kind with a rebuild function (used by the transformations). */
export function flattenAll(
  tree: Tree,
): { leaves: unknown[]; rebuild: (leaves: unknown[]) => Tree } {
  const leaves: unknown[] = [];
  const collect = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(collect);
    else if (isContainer(x)) Object.values(x).forEach(collect);
    else leaves.push(x);
  };
  collect(tree);
  const rebuild = (vals: unknown[]): Tree => {
    let i = 0;
    const build = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(build);
      if (isContainer(x)) {
        return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, build(v)]));
      }
      return vals[i++];
    };
    return build(tree);
  };
  return { leaves, rebuild };
}

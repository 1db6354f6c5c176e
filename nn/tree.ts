/**
 * Path-aware pytree mapping: like `treeMap`, but the function also receives each leaf's dotted
 * path (`blocks.3.attn.qkv.weight`), which is what weight-decay masks, layer-wise learning
 * rates and checkpoints key on.
 * @module
 */
import { Tensor, TesseraError } from "../tensor/mod.ts";

function isContainer(x: unknown): x is Record<string, unknown> | unknown[] {
  return Array.isArray(x) ||
    (typeof x === "object" && x !== null && !(x instanceof Tensor) &&
      Object.getPrototypeOf(x) === Object.prototype);
}

/**
 * Maps `fn(path, leaf, ...others)` over the Tensor leaves of `tree` and of `rest` (trees of the
 * same structure); non-tensor leaves of `tree` are copied. Throws naming the path when a tree in
 * `rest` lacks a tensor there.
 *
 * @example
 * ```ts
 * import { treeMapWithPath } from "./tree.ts";
 * import { mul, ones } from "../mod.ts";
 * const p = { blocks: [{ w: ones([2]) }], head: { bias: ones([1]) } };
 * const seen: string[] = [];
 * treeMapWithPath((path, x) => (seen.push(path), mul(x, 2)), p);
 * console.log(seen); // ["blocks.0.w", "head.bias"]
 * ```
 */
export function treeMapWithPath<T>(
  fn: (path: string, leaf: Tensor, ...others: Tensor[]) => Tensor,
  tree: T,
  ...rest: unknown[]
): T {
  const visit = (x: unknown, others: unknown[], path: string): unknown => {
    if (x instanceof Tensor) {
      const os = others.map((o, i) => {
        if (!(o instanceof Tensor)) {
          throw new TesseraError("treeMapWithPath", `tree ${i + 1} has no tensor at "${path}"`);
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

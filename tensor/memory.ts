/**
 * Memory accounting and scoped disposal: `scope`, `memoryStats`, `keep`.
 * @module
 */
import type { Backend, Storage } from "./backend.ts";
import { TesseraError } from "./errors.ts";

/**
 * What memory accounting reads of a tensor. Structural, so this module needs no import of
 * tensor.ts (which imports it): every `Tensor` is one.
 */
export interface Tracked {
  /** The owning backend (its name keys the statistics). */
  readonly backend: Backend;
  /** The storage (concrete tensors only). */
  readonly storage: Storage;
  /** The element type (part of the tensor-like test). */
  readonly dtype: string;
  /** Autodiff state of a tracer, whose children hold the concrete values. */
  readonly tracer: { children(): readonly Tracked[] } | null;
  /** True once disposed. */
  readonly disposed: boolean;
  /** Releases the storage reference. */
  dispose(): void;
}

interface Stats {
  tensors: number;
  bytes: number;
}

const stats = new Map<string, Stats>();
const scopes: Set<Tracked>[] = [];
/** Tensors a live autodiff tape still needs; scopes hand them outward instead of freeing. */
const pinned = new Map<Tracked, number>();

function statsFor(name: string): Stats {
  let s = stats.get(name);
  if (!s) stats.set(name, s = { tensors: 0, bytes: 0 });
  return s;
}

/** Internal: called by every concrete Tensor on construction. */
export function trackTensor(t: Tracked): void {
  const s = statsFor(t.backend.name);
  s.tensors++;
  const st = t.storage;
  if (st.refs === 0) s.bytes += st.bytes;
  st.refs++;
  scopes[scopes.length - 1]?.add(t);
}

/** Internal: called by Tensor.dispose(). */
export function untrackTensor(t: Tracked): void {
  statsFor(t.backend.name).tensors--;
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i]!.delete(t)) break;
  pinned.delete(t);
}

/** Internal: drops one reference to a storage, freeing it at zero. */
export function releaseStorage(backend: Backend, st: Storage): void {
  st.refs--;
  if (st.refs === 0) {
    statsFor(backend.name).bytes -= st.bytes;
    backend.free(st);
  }
}

/** Live tensors and bytes for one backend. */
export interface MemoryStats {
  /** Live (undisposed) concrete tensors. */
  tensors: number;
  /** Bytes held by their storage (shared storage counted once). */
  bytes: number;
}

/**
 * Live tensors and bytes per backend, for asserting that training steps do not leak.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryStats, scope, ones } from "../mod.ts";
 * const before = memoryStats().cpu?.tensors ?? 0;
 * scope(() => { ones([100]); });
 * assert.equal(memoryStats().cpu?.tensors ?? 0, before); // the scope freed what it made
 * ```
 */
export function memoryStats(): Record<string, MemoryStats> {
  const out: Record<string, MemoryStats> = {};
  for (const [k, v] of stats) out[k] = { ...v };
  return out;
}

/** Walks a pytree (and tracer internals) collecting every concrete tensor reachable. */
export function collectConcrete<T extends Tracked = Tracked>(
  tree: unknown,
  into: Set<T> = new Set(),
): Set<T> {
  const seen = new Set<unknown>();
  const visit = (x: unknown): void => {
    if (x === null || typeof x !== "object" || seen.has(x)) return;
    seen.add(x);
    const t = x as T;
    if (isTensorLike(t)) {
      if (t.tracer) { for (const c of t.tracer.children()) visit(c); }
      else into.add(t);
      return;
    }
    if (Array.isArray(x)) x.forEach(visit);
    else if (Object.getPrototypeOf(x) === Object.prototype) Object.values(x).forEach(visit);
  };
  visit(tree);
  return into;
}

function isTensorLike(x: unknown): x is Tracked {
  return typeof x === "object" && x !== null && "tracer" in x && "backend" in x && "dtype" in x;
}

/** Internal: an autodiff tape keeps `tensors` alive past enclosing scopes until `unpin`. */
export function pin(tensors: Iterable<Tracked>): void {
  for (const t of tensors) pinned.set(t, (pinned.get(t) ?? 0) + 1);
}

/** Internal: releases a `pin`. */
export function unpin(tensors: Iterable<Tracked>): void {
  for (const t of tensors) {
    const n = pinned.get(t);
    if (n === undefined) continue;
    if (n <= 1) pinned.delete(t);
    else pinned.set(t, n - 1);
  }
}

/**
 * Internal: disposes `t` now if it is a concrete tensor created in the innermost open scope
 * and not pinned by a live tape (used by the VJP pass to drop dead cotangents early).
 */
export function freeIfScopeTemporary(t: Tracked): void {
  if (t.tracer || t.disposed || pinned.has(t)) return;
  if (scopes[scopes.length - 1]?.has(t)) t.dispose();
}

/** Internal: opens a scope; pair with `endScope`. */
export function beginScope(): void {
  scopes.push(new Set());
}

/**
 * Internal: closes the innermost scope, disposing what it created except tensors reachable
 * from `keepTree`. Tensors pinned by a live tape move to the enclosing scope instead.
 */
export function endScope(keepTree: unknown): void {
  const mine = scopes.pop();
  if (!mine) throw new TesseraError("endScope", "called without a matching beginScope");
  const keep = collectConcrete(keepTree);
  const parent = scopes[scopes.length - 1];
  for (const t of mine) {
    if (keep.has(t) || pinned.has(t)) parent?.add(t);
    else t.dispose();
  }
}

/**
 * Runs `fn` and disposes every tensor created inside it except those in its result (any
 * pytree; a Promise result is awaited first). Scopes nest; kept tensors join the enclosing
 * scope.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scope, tensor, add, mul } from "../mod.ts";
 * const x = tensor([1, 2, 3]);
 * const y = scope(() => add(mul(x, x), 1)); // the temporary x*x is freed here
 * assert.deepEqual(await y.toArray(), [2, 5, 10]);
 * ```
 */
export function scope<T>(fn: () => T): T {
  beginScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    endScope(undefined);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (v) => (endScope(v), v),
      (e) => {
        endScope(undefined);
        throw e;
      },
    ) as T;
  }
  endScope(result);
  return result;
}

/**
 * Disposes every tensor in a pytree.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dispose, ones } from "../mod.ts";
 * const params = { w: ones([2, 2]), b: ones([2]) };
 * dispose(params);
 * assert.ok(params.w.disposed && params.b.disposed);
 * ```
 */
export function dispose(tree: unknown): void {
  for (const t of collectConcrete(tree)) t.dispose();
}

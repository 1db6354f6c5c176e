/**
 * Helpers shared by the WGSL kernel generators: dtype → WGSL type, binding declarations,
 * the parameter block, the linear-index prologue with 2-D grids, and dimension coalescing.
 *
 * Conventions of every generated shader: binding 0 is a uniform `array<vec4<u32>, N>` of
 * parameter words read with `p(i)`; bindings 1..n are storage buffers (inputs read-only,
 * then outputs read-write). Shapes and strides are parameters, never baked into the source,
 * so one pipeline serves every shape of the same rank; dtypes, ops and ranks are baked.
 * @module
 */
import type { DType } from "../dtype.ts";
import { TesseraError } from "../errors.ts";

/** Threads per workgroup of the one-thread-per-element kernels. */
export const WG = 256;

/** WGSL scalar type holding a dtype in buffers (bool is `u32` 0/1). */
export type WgslType = "f32" | "i32" | "u32";

/** The WGSL type of `dtype` (float64 is rejected). */
export function wgslType(dtype: DType, op = "webgpu"): WgslType {
  switch (dtype) {
    case "float32":
      return "f32";
    case "int32":
      return "i32";
    case "uint32":
    case "bool":
      return "u32";
    default:
      throw new TesseraError(op, `${dtype} is not supported on the webgpu backend`);
  }
}

/** A storage binding: its WGSL name, element type and whether it is written. */
export interface Binding {
  /** Variable name in the shader. */
  name: string;
  /** Element type (`atomic<u32>` allowed for written flags). */
  ty: string;
  /** Read-write (outputs) instead of read-only. */
  rw?: boolean;
}

/** The access string (`"r"`/`"w"` per storage binding) the pipeline cache keys on. */
export function accessOf(bindings: readonly Binding[]): string {
  return bindings.map((b) => (b.rw ? "w" : "r")).join("");
}

/**
 * Declarations of the parameter block (`nWords` words, rounded up to whole vec4s) and the
 * storage bindings, plus `fn p(i)` (a parameter word) and `fn pi(i)` (as i32).
 */
export function declare(nWords: number, bindings: readonly Binding[]): string {
  const vecs = Math.max(1, Math.ceil(nWords / 4));
  const lines = [
    `@group(0) @binding(0) var<uniform> P: array<vec4<u32>, ${vecs}>;`,
    "fn p(i: u32) -> u32 { return P[i >> 2u][i & 3u]; }",
    "fn pi(i: u32) -> i32 { return bitcast<i32>(P[i >> 2u][i & 3u]); }",
    "fn pf(i: u32) -> f32 { return bitcast<f32>(P[i >> 2u][i & 3u]); }",
  ];
  bindings.forEach((b, i) => {
    const access = b.rw ? "read_write" : "read";
    lines.push(`@group(0) @binding(${i + 1}) var<storage, ${access}> ${b.name}: array<${b.ty}>;`);
  });
  return lines.join("\n") + "\n";
}

/**
 * A `main` with one thread per element: `i` is the linear index (2-D grids folded) and
 * threads with `i >= p(0)` return. `body` follows.
 */
export function linearMain(body: string, wg = WG): string {
  return `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${wg}u + lid;
  if (i >= p(0u)) { return; }
${body}
}
`;
}

/** Prologue of a workgroup-per-item kernel: `g` is the flat workgroup index. */
export const GROUP_MAIN_ARGS: string =
  "@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, " +
  "@builtin(local_invocation_index) lid: u32";

/** The flat workgroup index in a {@link GROUP_MAIN_ARGS} entry point. */
export const FLAT_GROUP = "let g = wid.y * nwg.x + wid.x;";

/**
 * Workgroup grid for `groups` workgroups: split into a 2-D grid `[maxX, ceil(groups / maxX)]`
 * when one dimension is not enough.
 */
export function grid(groups: number, maxPerDim: number, op: string): [number, number, number] {
  if (groups <= maxPerDim) return [Math.max(groups, 1), 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) {
    throw new TesseraError(op, `${groups} workgroups exceed the device's ${maxPerDim}² grid`);
  }
  return [maxPerDim, y, 1];
}

/** Builds the parameter words of a dispatch. */
export class Params {
  #w: number[] = [];
  static #f = new Float32Array(1);
  static #u = new Uint32Array(Params.#f.buffer);

  /** Appends unsigned words. */
  u(...vs: number[]): this {
    for (const v of vs) this.#w.push(v >>> 0);
    return this;
  }
  /** Appends signed words (two's complement). */
  i(...vs: number[]): this {
    for (const v of vs) this.#w.push((v | 0) >>> 0);
    return this;
  }
  /** Appends float32 bit patterns. */
  f(v: number): this {
    Params.#f[0] = v;
    this.#w.push(Params.#u[0]!);
    return this;
  }
  /** Words so far. */
  get length(): number {
    return this.#w.length;
  }
  /** The words, zero-padded to whole vec4s. */
  words(): Uint32Array {
    const out = new Uint32Array(Math.max(4, Math.ceil(this.#w.length / 4) * 4));
    out.set(this.#w);
    return out;
  }
}

/**
 * WGSL statements decomposing the linear index `idx` over a rank-`r` shape held in
 * parameters `p(shapeAt + d)`, accumulating `offs[k] += coord · p(strideAt[k] + d)` (signed,
 * as i32). Declares `var <off_k>: i32` initialised to `init[k]`.
 */
export function unravel(
  idx: string,
  r: number,
  shapeAt: number,
  offs: readonly string[],
  strideAt: readonly number[],
  init: readonly string[] = offs.map(() => "0"),
): string {
  const lines = offs.map((o, k) => `  var ${o}: i32 = ${init[k]};`);
  if (r === 0) return lines.join("\n");
  lines.push(`  var rem: u32 = ${idx};`);
  for (let d = r - 1; d >= 0; d--) {
    if (d > 0) {
      lines.push(`  { let s = p(${shapeAt + d}u); let c = i32(rem % s); rem = rem / s;`);
    } else {
      lines.push(`  { let c = i32(rem);`);
    }
    offs.forEach((o, k) => lines.push(`    ${o} += c * pi(${strideAt[k]! + d}u);`));
    lines.push("  }");
  }
  return lines.join("\n");
}

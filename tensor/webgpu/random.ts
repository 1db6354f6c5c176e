/**
 * `randomBits`: Threefry-2x32 in WGSL, a line-for-line mirror of `threefry2x32Pair` in
 * tensor/threefry.ts, with JAX's original (non-partitionable) bit layout: thread j hashes the
 * counter pair (j, j + h), h = ⌈n/2⌉, and writes word j and word j + h (for odd n the last
 * pair's second counter is 0 and its second word is dropped). Only u32 add, xor and rotate —
 * so the draws are bit-identical to the CPU backend's.
 * @module
 */
import { sizeOf } from "../shape.ts";
import type { GpuKernel } from "./elementwise.ts";
import type { GpuStorage } from "./pool.ts";
import { type Binding, declare, linearMain, Params, WG } from "./wgsl.ts";

/** WGSL Threefry-2x32 (20 rounds) of one counter pair. */
export const THREEFRY_WGSL = `fn rotl(x: u32, r: u32) -> u32 { return (x << r) | (x >> (32u - r)); }
fn threefry(k0: u32, k1: u32, x0: u32, x1: u32) -> vec2<u32> {
  var ks = array<u32, 3>(k0, k1, k0 ^ k1 ^ 0x1bd11bdau);
  var rot = array<u32, 8>(13u, 15u, 26u, 6u, 17u, 29u, 16u, 24u);
  var a = x0 + k0;
  var b = x1 + k1;
  for (var g = 0u; g < 5u; g++) {
    let base = (g & 1u) << 2u;
    for (var r = 0u; r < 4u; r++) {
      a = a + b;
      b = rotl(b, rot[base + r]) ^ a;
    }
    let s = g + 1u;
    a = a + ks[s % 3u];
    b = b + ks[(s + 1u) % 3u] + s;
  }
  return vec2<u32>(a, b);
}
`;

/** Kernel of `randomBits(shape)` from a uint32 `[2]` key. */
export const randomBitsKernel: GpuKernel<"randomBits"> = (rt, inputs, _params, out) => {
  const n = sizeOf(out.shape);
  const st = rt.alloc(n * 4, "randomBits");
  if (n === 0) return st;
  const h = Math.ceil(n / 2), full = n - h;
  const b: Binding[] = [{ name: "key", ty: "u32" }, { name: "out", ty: "u32", rw: true }];
  const pr = new Params().u(h, full);
  rt.run("randomBits", {
    wgsl: declare(pr.length, b) + THREEFRY_WGSL + linearMain(`  let h = p(0u);
  let kept = i < p(1u);
  let y = threefry(key[0], key[1], i, select(0u, i + h, kept));
  out[i] = y.x;
  if (kept) { out[i + h] = y.y; }`),
    bindings: b,
    buffers: [inputs[0]!.storage as GpuStorage, st],
    params: pr.words(),
    groups: Math.ceil(h / WG),
  });
  return st;
};

/**
 * WebGPU convolutions as im2col / col2im kernels around the tiled matmul (matmul.ts):
 *
 * - conv2d: im2col writes `cols [nb, G, K, P]` (K = C/groups·kh·kw, P = OH·OW; one thread per
 *   element, zeros in the padding), then `W [G, Og, K] · cols` is one batched matmul with the
 *   weight broadcast over images. A 1×1, stride-1, unpadded conv multiplies x directly.
 * - convTranspose2d: `cols = W[g]ᵀ · x[g]` (matmul with transA), then col2im *gathers*: one
 *   thread per output pixel sums its kh·kw taps in a fixed order — no atomics, deterministic.
 * - conv2dWeightGrad: the reduction over all nb·P output positions is split into s slices
 *   (split-K): im2col writes `[G, s, K, l]`, dy is copied to `[G, s, Og, l]`, one batched matmul
 *   (`dy · colsᵀ`, transB) gives `[G, s, Og, K]` and a sum over s finishes — otherwise O × K
 *   (e.g. 64 × 576) would be only a handful of workgroups with a 25 000-long inner loop.
 *
 * Images go in chunks whose column buffer fits in 64 MiB (and the device's binding limit).
 * @module
 */
import type { Operand } from "../backend.ts";
import type { Aval } from "../aval.ts";
import { type ConvGeometry, convGeometry } from "../vision_params.ts";
import { familyKernel, type GpuKernel } from "./elementwise.ts";
import { matmulKernel } from "./matmul.ts";
import type { GpuStorage } from "./pool.ts";
import { reduceKernel } from "./reduce.ts";
import type { Runtime } from "./runtime.ts";
import { type Binding, declare, linearMain, Params, WG } from "./wgsl.ts";

type Geo = ConvGeometry;
const geo = convGeometry;

/** Images per chunk so that `perImage` elements per image fit the budget. */
function chunk(rt: Runtime, perImage: number): number {
  const limit = Math.min(1 << 24, Math.floor(rt.device.limits.maxStorageBufferBindingSize / 4));
  return Math.max(1, Math.floor(limit / Math.max(1, perImage)));
}

const op = (s: GpuStorage, shape: number[]): Operand => ({ storage: s, shape, dtype: "float32" });
const aval = (shape: number[]): Aval => ({ shape, dtype: "float32" });

// Parameter words shared by im2col and col2im: 0 count, 1 P, 2 K, 3 G, 4 OW, 5 KW, 6 KH,
// 7 sh, 8 sw, 9 dh, 10 dw, 11 ph, 12 pw, 13 H, 14 W, 15 C, 16 Cg, 17 n0, 18 nb.
function geoParams(q: Geo, count: number, n0: number, nb: number): Params {
  return new Params().u(
    count,
    q.p,
    q.k,
    q.g,
    q.ow,
    q.kw,
    q.kh,
    q.sh,
    q.sw,
    q.dh,
    q.dw,
    q.ph,
    q.pw,
    q.h,
    q.w,
    q.c,
    q.cg,
    n0,
    nb,
  );
}

/**
 * Split of the weight gradient's reduction (all nb·P output positions of a chunk) into `s`
 * slices of `l` columns (the last padded with zeros), so the matmul has G·s batch items and
 * enough workgroups even when O × K is small.
 */
interface SplitK {
  s: number;
  l: number;
}

/**
 * Writes the columns of images `n0..n0+nb`: layout `[nb, G, K, P]` (forward) or, with
 * `split`, `[G, s, K, l]` where column `j·l + c` of slice j is output position
 * `(nn, pp) = divmod(j·l + c, P)` (0 beyond nb·P).
 */
function im2col(
  rt: Runtime,
  name: string,
  x: GpuStorage,
  q: Geo,
  n0: number,
  nb: number,
  split: SplitK | null,
): GpuStorage {
  const count = split ? q.g * split.s * q.k * split.l : nb * q.g * q.k * q.p;
  const cols = rt.alloc(count * 4, name);
  if (count === 0) return cols;
  const pr = geoParams(q, count, n0, nb);
  if (split) pr.u(split.s, split.l);
  const index = split
    ? `let l = i % p(20u); let t = i / p(20u); let kk = t % p(2u); let t2 = t / p(2u);
  let sj = t2 % p(19u); let gi = t2 / p(19u);
  let col = sj * p(20u) + l;
  if (col >= p(18u) * p(1u)) { cols[i] = 0.0; return; }
  let nn = col / p(1u); let pp = col % p(1u);`
    : `let pp = i % p(1u); let t = i / p(1u);
  let kk = t % p(2u); let t2 = t / p(2u); let gi = t2 % p(3u); let nn = t2 / p(3u);`;
  const b: Binding[] = [{ name: "x", ty: "f32" }, { name: "cols", ty: "f32", rw: true }];
  rt.run(name, {
    wgsl: declare(pr.length, b) + linearMain(`  ${index}
  let ox = pp % p(4u); let oy = pp / p(4u);
  let kx = kk % p(5u); let t3 = kk / p(5u); let ky = t3 % p(6u); let ci = t3 / p(6u);
  let iy = i32(oy * p(7u) + ky * p(9u)) - i32(p(11u));
  let ix = i32(ox * p(8u) + kx * p(10u)) - i32(p(12u));
  var v = 0.0;
  if (iy >= 0 && iy < i32(p(13u)) && ix >= 0 && ix < i32(p(14u))) {
    v = x[(((p(17u) + nn) * p(15u) + gi * p(16u) + ci) * p(13u) + u32(iy)) * p(14u) + u32(ix)];
  }
  cols[i] = v;`),
    bindings: b,
    buffers: [x, cols],
    params: pr.words(),
    groups: Math.ceil(count / WG),
  });
  return cols;
}

/** dy of images `n0..n0+nb` as `[G, s, Og, l]` (the split-K layout of {@link im2col}). */
function dySplit(rt: Runtime, dy: GpuStorage, q: Geo, n0: number, nb: number, sp: SplitK) {
  const count = q.g * sp.s * q.og * sp.l;
  const out = rt.alloc(count * 4, "conv2dWeightGrad");
  const pr = new Params().u(count, q.p, q.og, q.o, n0, nb, sp.s, sp.l);
  const b: Binding[] = [{ name: "dy", ty: "f32" }, { name: "o", ty: "f32", rw: true }];
  rt.run("conv2dWeightGrad", {
    wgsl: declare(pr.length, b) + linearMain(`  let l = i % p(7u); let t = i / p(7u);
  let oc = t % p(2u); let t2 = t / p(2u); let sj = t2 % p(6u); let gi = t2 / p(6u);
  let col = sj * p(7u) + l;
  if (col >= p(5u) * p(1u)) { o[i] = 0.0; return; }
  let nn = col / p(1u); let pp = col % p(1u);
  o[i] = dy[((p(4u) + nn) * p(3u) + gi * p(2u) + oc) * p(1u) + pp];`),
    bindings: b,
    buffers: [dy, out],
    params: pr.words(),
    groups: Math.ceil(count / WG),
  });
  return out;
}

/** Copies `bytes` at byte `from` of `src` into a new storage. */
function sub(rt: Runtime, name: string, src: GpuStorage, from: number, bytes: number): GpuStorage {
  const s = rt.alloc(bytes, name);
  rt.queue.copy(src.buffer, src.offset + from, s.buffer, s.offset, bytes);
  return s;
}

/** `conv2d(x, w)`. */
export const conv2dKernel: GpuKernel<"conv2d"> = (rt, inputs, params, out) => {
  const x = inputs[0]!, w = inputs[1]!;
  const q = geo(x.shape, out.shape, w.shape[2]!, w.shape[3]!, params);
  const total = q.n * q.o * q.p;
  const y = rt.alloc(total * 4, "conv2d");
  if (total === 0) return y;
  const wOp = op(w.storage as GpuStorage, [q.g, q.og, q.k]);
  const pointwise = q.kh === 1 && q.kw === 1 && q.sh === 1 && q.sw === 1 && q.ph === 0 &&
    q.pw === 0;
  if (pointwise) {
    const r = matmulKernel(
      rt,
      [wOp, op(x.storage as GpuStorage, [q.n, q.g, q.k, q.p])],
      { transA: false, transB: false },
      aval([q.n, q.g, q.og, q.p]),
    );
    rt.queue.copy(r.buffer, r.offset, y.buffer, y.offset, total * 4);
    rt.free(r);
    return y;
  }
  const step = chunk(rt, q.g * q.k * q.p);
  for (let n0 = 0; n0 < q.n; n0 += step) {
    const nb = Math.min(step, q.n - n0);
    const cols = im2col(rt, "conv2d", x.storage as GpuStorage, q, n0, nb, null);
    const r = matmulKernel(
      rt,
      [wOp, op(cols, [nb, q.g, q.k, q.p])],
      { transA: false, transB: false },
      aval([nb, q.g, q.og, q.p]),
    );
    rt.queue.copy(r.buffer, r.offset, y.buffer, y.offset + n0 * q.o * q.p * 4, nb * q.o * q.p * 4);
    rt.free(cols);
    rt.free(r);
  }
  return y;
};

/** `convTranspose2d(x, w)`: matmul to columns, then a gathering col2im. */
export const convTranspose2dKernel: GpuKernel<"convTranspose2d"> = (rt, inputs, params, out) => {
  const x = inputs[0]!, w = inputs[1]!;
  const q = geo(out.shape, x.shape, w.shape[2]!, w.shape[3]!, params);
  const total = q.n * q.c * q.h * q.w;
  const y = rt.alloc(total * 4, "convTranspose2d");
  if (total === 0) return y;
  const wOp = op(w.storage as GpuStorage, [q.g, q.og, q.k]);
  const step = chunk(rt, q.g * q.k * q.p);
  const b: Binding[] = [{ name: "cols", ty: "f32" }, { name: "y", ty: "f32", rw: true }];
  for (let n0 = 0; n0 < q.n; n0 += step) {
    const nb = Math.min(step, q.n - n0);
    const whole = nb === q.n;
    const xs = whole
      ? (x.storage as GpuStorage)
      : sub(rt, "convTranspose2d", x.storage as GpuStorage, n0 * q.o * q.p * 4, nb * q.o * q.p * 4);
    const cols = q.p === 0 ? rt.alloc(nb * q.g * q.k * q.p * 4, "convTranspose2d") : matmulKernel(
      rt,
      [wOp, op(xs, [nb, q.g, q.og, q.p])],
      { transA: true, transB: false },
      aval([nb, q.g, q.k, q.p]),
    );
    if (!whole) rt.free(xs);
    const count = nb * q.c * q.h * q.w;
    const pr = geoParams(q, count, n0, nb).u(q.oh);
    // One thread per output pixel (nn, c, yy, xx): taps (ky, kx) with yy + ph − ky·dh = oy·sh.
    rt.run("convTranspose2d", {
      wgsl: declare(pr.length, b) + linearMain(`  let xx = i % p(14u); let t = i / p(14u);
  let yy = t % p(13u); let t2 = t / p(13u); let c = t2 % p(15u); let nn = t2 / p(15u);
  let gi = c / p(16u); let ci = c % p(16u);
  var acc = 0.0;
  for (var ky = 0u; ky < p(6u); ky++) {
    let ny = i32(yy + p(11u)) - i32(ky * p(9u));
    if (ny < 0 || u32(ny) % p(7u) != 0u) { continue; }
    let oy = u32(ny) / p(7u);
    if (oy >= p(19u)) { continue; }
    for (var kx = 0u; kx < p(5u); kx++) {
      let nx = i32(xx + p(12u)) - i32(kx * p(10u));
      if (nx < 0 || u32(nx) % p(8u) != 0u) { continue; }
      let ox = u32(nx) / p(8u);
      if (ox >= p(4u)) { continue; }
      let kk = (ci * p(6u) + ky) * p(5u) + kx;
      acc = acc + cols[((nn * p(3u) + gi) * p(2u) + kk) * p(1u) + oy * p(4u) + ox];
    }
  }
  y[i + p(17u) * p(15u) * p(13u) * p(14u)] = acc;`),
      bindings: b,
      buffers: [cols, y],
      params: pr.words(),
      groups: Math.ceil(count / WG),
    });
    rt.free(cols);
  }
  return y;
};

/** `conv2dWeightGrad(x, dy)`: `dW[g] = dy[g] · cols[g]ᵀ` with the batch folded into K. */
export const conv2dWeightGradKernel: GpuKernel<"conv2dWeightGrad"> = (
  rt,
  inputs,
  params,
  _out,
) => {
  const x = inputs[0]!, dy = inputs[1]!;
  const q = geo(x.shape, dy.shape, params.kernel[0], params.kernel[1], params);
  const total = q.o * q.k;
  if (total === 0 || q.n === 0 || q.p === 0) {
    const z = rt.alloc(total * 4, "conv2dWeightGrad");
    if (total > 0) {
      rt.run("conv2dWeightGrad", {
        wgsl: declare(1, [{ name: "z", ty: "f32", rw: true }]) + linearMain("  z[i] = 0.0;"),
        bindings: [{ name: "z", ty: "f32", rw: true }],
        buffers: [z],
        params: new Params().u(total).words(),
        groups: Math.ceil(total / WG),
      });
    }
    return z;
  }
  const step = chunk(rt, q.g * q.k * q.p);
  let acc: GpuStorage | null = null;
  for (let n0 = 0; n0 < q.n; n0 += step) {
    const nb = Math.min(step, q.n - n0);
    const np = nb * q.p;
    // Split the reduction so that G·s·(output tiles) reaches a few hundred workgroups, with
    // at least 256 columns per slice.
    const tiles = Math.ceil(q.og / 64) * Math.ceil(q.k / 64) * q.g;
    const s = Math.max(1, Math.min(Math.ceil(512 / tiles), Math.floor(np / 256)));
    const sp: SplitK = { s, l: Math.ceil(np / s) };
    const cols = im2col(rt, "conv2dWeightGrad", x.storage as GpuStorage, q, n0, nb, sp);
    const dyt = dySplit(rt, dy.storage as GpuStorage, q, n0, nb, sp);
    const r = matmulKernel(
      rt,
      [op(dyt, [q.g, s, q.og, sp.l]), op(cols, [q.g, s, q.k, sp.l])],
      { transA: false, transB: true },
      aval([q.g, s, q.og, q.k]),
    );
    rt.free(cols);
    rt.free(dyt);
    let part = r;
    if (s > 1) {
      part = reduceKernel(
        rt,
        [op(r, [q.g, s, q.og * q.k])],
        { op: "sum", axes: [1] },
        aval([q.g, 1, q.og * q.k]),
      );
      rt.free(r);
    }
    if (acc === null) {
      acc = part;
    } else {
      const t = familyKernel(
        rt,
        [op(acc, [total]), op(part, [total])],
        { op: "add" },
        aval([total]),
      );
      rt.free(acc);
      rt.free(part);
      acc = t;
    }
  }
  return acc!;
};

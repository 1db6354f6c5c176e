/**
 * `gather` and a deterministic `scatterAdd`.
 *
 * gather: one thread per output element; an out-of-range index writes 0 and sets the
 * device's index-error flag, which the next read turns into a TesseraError (the check cannot
 * be synchronous: indices live on the GPU).
 *
 * scatterAdd never uses atomics, so float results are bit-identical from run to run. Each
 * output element sums, in ascending index-position order (the CPU's order), the updates whose
 * index hits it:
 *  - few indices: the thread scans all indices;
 *  - many: the indices are stably argsorted once (bitonic, see sort.ts), and each thread
 *    binary-searches its row's segment of the sorted indices and sums that segment.
 * A separate pass validates the indices (sets the flag).
 * @module
 */
import { sizeOf } from "../shape.ts";
import type { GpuKernel } from "./elementwise.ts";
import type { GpuStorage } from "./pool.ts";
import { FLAG_GATHER, FLAG_SCATTER } from "./readback.ts";
import type { Runtime } from "./runtime.ts";
import { argsortRaw } from "./sort.ts";
import { type Binding, declare, linearMain, Params, WG, wgslType } from "./wgsl.ts";

/** Sets the flag bit `code` if any of `n` int32 indices is outside [0, len). */
function validate(rt: Runtime, op: string, idx: GpuStorage, n: number, len: number, code: number) {
  if (n === 0) return;
  const b: Binding[] = [{ name: "idx", ty: "i32" }, { name: "flag", ty: "atomic<u32>", rw: true }];
  const pr = new Params().u(n, len, code);
  rt.run(op, {
    wgsl: declare(pr.length, b) +
      linearMain("  if (bitcast<u32>(idx[i]) >= p(1u)) { atomicOr(&flag[0], p(2u)); }"),
    bindings: b,
    buffers: [idx, rt.flag],
    params: pr.words(),
    groups: Math.ceil(n / WG),
  });
}

/** `gather(axis)`: `out[p, t, e] = x[p, idx[t], e]`. */
export const gatherKernel: GpuKernel<"gather"> = (rt, inputs, params, out) => {
  const x = inputs[0]!, idx = inputs[1]!;
  const axis = params.axis;
  const len = x.shape[axis]!, inner = sizeOf(x.shape.slice(axis + 1));
  const nIdx = sizeOf(idx.shape);
  const n = sizeOf(out.shape);
  const st = rt.alloc(n * 4, "gather");
  if (n === 0) {
    validate(rt, "gather", idx.storage as GpuStorage, nIdx, len, FLAG_GATHER);
    return st;
  }
  const b: Binding[] = [
    { name: "x", ty: "u32" },
    { name: "idx", ty: "i32" },
    { name: "out", ty: "u32", rw: true },
    { name: "flag", ty: "atomic<u32>", rw: true },
  ];
  const pr = new Params().u(n, len, nIdx, inner, FLAG_GATHER);
  rt.run("gather", {
    wgsl: declare(pr.length, b) + linearMain(`  let e = i % p(3u); let q = i / p(3u);
  let t = q % p(2u); let pp = q / p(2u);
  let j = bitcast<u32>(idx[t]);
  if (j >= p(1u)) { out[i] = 0u; atomicOr(&flag[0], p(4u)); }
  else { out[i] = x[(pp * p(1u) + j) * p(3u) + e]; }`),
    bindings: b,
    buffers: [x.storage as GpuStorage, idx.storage as GpuStorage, st, rt.flag],
    params: pr.words(),
    groups: Math.ceil(n / WG),
  });
  return st;
};

/** Above this many (index, output) pairs, scatterAdd sorts the indices first. */
const SCAN_LIMIT = 1 << 22;

/** `scatterAdd(axis)`: a copy of x plus the updates at the indexed positions. */
export const scatterAddKernel: GpuKernel<"scatterAdd"> = (rt, inputs, params, out) => {
  const x = inputs[0]!, idx = inputs[1]!, upd = inputs[2]!;
  const ty = wgslType(out.dtype, "scatterAdd");
  const axis = params.axis;
  const len = x.shape[axis]!, inner = sizeOf(x.shape.slice(axis + 1));
  const nIdx = sizeOf(idx.shape);
  const n = sizeOf(out.shape);
  const idxSt = idx.storage as GpuStorage;
  validate(rt, "scatterAdd", idxSt, nIdx, len, FLAG_SCATTER);
  const st = rt.alloc(n * 4, "scatterAdd");
  if (n === 0) return st;
  const pr = new Params().u(n, len, nIdx, inner);
  const row = "  let e = i % p(3u); let q = i / p(3u); let jr = q % p(1u); let pp = q / p(1u);";
  const updAt = (t: string) => `upd[(pp * p(2u) + ${t}) * p(3u) + e]`;
  if (nIdx <= 64 || nIdx * n <= SCAN_LIMIT) {
    const b: Binding[] = [
      { name: "x", ty },
      { name: "idx", ty: "i32" },
      { name: "upd", ty },
      { name: "out", ty, rw: true },
    ];
    rt.run("scatterAdd", {
      wgsl: declare(pr.length, b) + linearMain(`${row}
  var acc = x[i];
  for (var t = 0u; t < p(2u); t++) {
    if (bitcast<u32>(idx[t]) == jr) { acc = acc + ${updAt("t")}; }
  }
  out[i] = acc;`),
      bindings: b,
      buffers: [x.storage as GpuStorage, idxSt, upd.storage as GpuStorage, st],
      params: pr.words(),
      groups: Math.ceil(n / WG),
    });
    return st;
  }
  const perm = argsortRaw(rt, idxSt, "i32", 1, nIdx, 1, false);
  const sorted = rt.alloc(nIdx * 4, "scatterAdd");
  const gb: Binding[] = [
    { name: "idx", ty: "i32" },
    { name: "perm", ty: "i32" },
    { name: "sk", ty: "i32", rw: true },
  ];
  const gp = new Params().u(nIdx);
  rt.run("scatterAdd", {
    wgsl: declare(gp.length, gb) + linearMain("  sk[i] = idx[u32(perm[i])];"),
    bindings: gb,
    buffers: [idxSt, perm, sorted],
    params: gp.words(),
    groups: Math.ceil(nIdx / WG),
  });
  const b: Binding[] = [
    { name: "x", ty },
    { name: "sk", ty: "i32" },
    { name: "perm", ty: "i32" },
    { name: "upd", ty },
    { name: "out", ty, rw: true },
  ];
  // lo = first position with sk >= jr, hi = first with sk > jr (binary searches).
  rt.run("scatterAdd", {
    wgsl: declare(pr.length, b) + linearMain(`${row}
  let key = i32(jr);
  var lo = 0u; var hi = p(2u);
  while (lo < hi) { let m = (lo + hi) / 2u; if (sk[m] < key) { lo = m + 1u; } else { hi = m; } }
  var end = lo; hi = p(2u);
  while (end < hi) { let m = (end + hi) / 2u; if (sk[m] <= key) { end = m + 1u; } else { hi = m; } }
  var acc = x[i];
  for (var s = lo; s < end; s++) { acc = acc + ${updAt("u32(perm[s])")}; }
  out[i] = acc;`),
    bindings: b,
    buffers: [x.storage as GpuStorage, sorted, perm, upd.storage as GpuStorage, st],
    params: pr.words(),
    groups: Math.ceil(n / WG),
  });
  rt.free(perm);
  rt.free(sorted);
  return st;
};

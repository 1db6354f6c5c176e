/**
 * `argsort` by bitonic sorting of (key, index) pairs. Comparing pairs — NaN above every
 * number, equal keys ordered by index, padding slots last — is a strict total order, so the
 * network's result is unique and equals the stable sort of the CPU backend in both directions.
 * Lines up to 2048 elements sort in workgroup memory (one workgroup per line); longer lines
 * run one global compare-exchange dispatch per bitonic stage over scratch buffers.
 * @module
 */
import { sizeOf } from "../shape.ts";
import type { GpuKernel } from "./elementwise.ts";
import { mathFor } from "./math.ts";
import type { GpuStorage } from "./pool.ts";
import { fill } from "./reduce.ts";
import type { Runtime } from "./runtime.ts";
import {
  type Binding,
  declare,
  FLAT_GROUP,
  GROUP_MAIN_ARGS,
  linearMain,
  Params,
  WG,
  type WgslType,
  wgslType,
} from "./wgsl.ts";

const PAD = "0xffffffffu";

/** WGSL `before(ka, ia, kb, ib)`: pair a sorts strictly before pair b. */
function beforeFn(ty: WgslType, descending: boolean): string {
  const nan = ty === "f32"
    ? `let na = tm_isnan(ka); let nb = tm_isnan(kb);
  if (na || nb) { if (na && nb) { return ia < ib; } return ${descending ? "na" : "nb"}; }`
    : "";
  return `fn before(ka: ${ty}, ia: u32, kb: ${ty}, ib: u32) -> bool {
  if (ia == ${PAD}) { return false; }
  if (ib == ${PAD}) { return true; }
  ${nan}
  if (ka == kb) { return ia < ib; }
  return ka ${descending ? ">" : "<"} kb;
}
`;
}

/** Pair index t of a stage with distance j → the lower element x0 (partner x1 = x0 + j). */
const PAIR = "let x0 = (t / j) * 2u * j + t % j; let x1 = x0 + j; let up = (x0 & k) == 0u;";

/**
 * Stable argsort of `lines = outer·inner` lines of `len` keys (stride `inner`) in `src`;
 * returns int32 indices in the same layout.
 */
export function argsortRaw(
  rt: Runtime,
  src: GpuStorage,
  ty: WgslType,
  outer: number,
  len: number,
  inner: number,
  descending: boolean,
): GpuStorage {
  const lines = outer * inner;
  if (lines === 0 || len <= 1) return fill(rt, "argsort", lines * len, 0);
  const P = 2 ** Math.ceil(Math.log2(len));
  const zero = ty === "f32" ? "0.0" : ty === "i32" ? "0i" : "0u";
  const before = beforeFn(ty, descending);
  const out = rt.alloc(lines * len * 4, "argsort");
  const lineBase = "let base = (g / p(2u)) * p(1u) * p(2u) + g % p(2u);";
  if (P * 8 <= Math.min(rt.maxWorkgroupBytes, 16384)) {
    const T = Math.min(256, P / 2);
    const b: Binding[] = [{ name: "x", ty }, { name: "out", ty: "i32", rw: true }];
    const pr = new Params().u(lines, len, inner);
    const main = `var<workgroup> sk: array<${ty}, ${P}>;
var<workgroup> si: array<u32, ${P}>;
@compute @workgroup_size(${T})
fn main(${GROUP_MAIN_ARGS}) {
  ${FLAT_GROUP}
  if (g >= p(0u)) { return; }
  ${lineBase}
  for (var t = lid; t < ${P}u; t += ${T}u) {
    if (t < p(1u)) { sk[t] = x[base + t * p(2u)]; si[t] = t; } else { sk[t] = ${zero}; si[t] = ${PAD}; }
  }
  workgroupBarrier();
  for (var k = 2u; k <= ${P}u; k = k << 1u) {
    for (var j = k >> 1u; j > 0u; j = j >> 1u) {
      for (var t = lid; t < ${P / 2}u; t += ${T}u) {
        ${PAIR}
        let swap = select(
          before(sk[x0], si[x0], sk[x1], si[x1]),
          before(sk[x1], si[x1], sk[x0], si[x0]),
          up,
        );
        if (swap) {
          let tk = sk[x0]; sk[x0] = sk[x1]; sk[x1] = tk;
          let ti = si[x0]; si[x0] = si[x1]; si[x1] = ti;
        }
      }
      workgroupBarrier();
    }
  }
  for (var t = lid; t < p(1u); t += ${T}u) { out[base + t * p(2u)] = i32(si[t]); }
}
`;
    const wgsl = declare(pr.length, b) + mathFor(before) + before + main;
    rt.run("argsort", {
      wgsl,
      bindings: b,
      buffers: [src, out],
      params: pr.words(),
      groups: lines,
    });
    return out;
  }
  // Global bitonic network over scratch keys/indices of lines × P.
  const keys = rt.alloc(lines * P * 4, "argsort");
  const idx = rt.alloc(lines * P * 4, "argsort");
  const total = lines * P, half = lines * (P / 2);
  const initB: Binding[] = [
    { name: "x", ty },
    { name: "sk", ty, rw: true },
    { name: "si", ty: "u32", rw: true },
  ];
  const initPr = new Params().u(total, len, inner, P);
  rt.run("argsort", {
    wgsl: declare(initPr.length, initB) + linearMain(`  let g = i / p(3u); let t = i % p(3u);
  ${lineBase}
  if (t < p(1u)) { sk[i] = x[base + t * p(2u)]; si[i] = t; } else { sk[i] = ${zero}; si[i] = ${PAD}; }`),
    bindings: initB,
    buffers: [src, keys, idx],
    params: initPr.words(),
    groups: Math.ceil(total / WG),
  });
  const stageB: Binding[] = [{ name: "sk", ty, rw: true }, { name: "si", ty: "u32", rw: true }];
  const stageSrc = `  let line = i / p(3u); let t = i % p(3u); let k = p(1u); let j = p(2u);
  ${PAIR}
  let o = line * p(4u);
  let ka = sk[o + x0]; let kb = sk[o + x1]; let ia = si[o + x0]; let ib = si[o + x1];
  if (select(before(ka, ia, kb, ib), before(kb, ib, ka, ia), up)) {
    sk[o + x0] = kb; sk[o + x1] = ka; si[o + x0] = ib; si[o + x1] = ia;
  }`;
  const stageMain = linearMain(stageSrc);
  const stageWgsl = declare(8, stageB) + mathFor(before) + before + stageMain;
  // Integer halving: with `j /= 2` the loop ran ~1075 float halvings below 1 per stage, each
  // a (harmless, j = 0) dispatch — 86k dispatches for one SplitMask step on an H100.
  for (let k = 2; k <= P; k *= 2) {
    for (let j = k >> 1; j >= 1; j >>= 1) {
      rt.run("argsort", {
        wgsl: stageWgsl,
        bindings: stageB,
        buffers: [keys, idx],
        params: new Params().u(half, k, j, P / 2, P).words(),
        groups: Math.ceil(half / WG),
      });
    }
  }
  const finB: Binding[] = [{ name: "si", ty: "u32" }, { name: "out", ty: "i32", rw: true }];
  const finPr = new Params().u(lines * len, len, inner, P);
  rt.run("argsort", {
    wgsl: declare(finPr.length, finB) + linearMain(`  let e = i % p(2u); let q = i / p(2u);
  let t = q % p(1u); let pp = q / p(1u);
  out[i] = i32(si[(pp * p(2u) + e) * p(3u) + t]);`),
    bindings: finB,
    buffers: [idx, out],
    params: finPr.words(),
    groups: Math.ceil((lines * len) / WG),
  });
  rt.free(keys);
  rt.free(idx);
  return out;
}

/** Kernel of `argsort(axis, descending)`. */
export const argsortKernel: GpuKernel<"argsort"> = (rt, inputs, params) => {
  const x = inputs[0]!;
  const axis = params.axis;
  return argsortRaw(
    rt,
    x.storage as GpuStorage,
    wgslType(x.dtype, "argsort"),
    sizeOf(x.shape.slice(0, axis)),
    x.shape[axis]!,
    sizeOf(x.shape.slice(axis + 1)),
    params.descending,
  );
};

/**
 * `cumsum` (inclusive, optionally reversed) along one axis. Many or short lines: one thread
 * per line, summing sequentially. Few long lines: one workgroup per line scans blocks of 256
 * elements in shared memory (Hillis–Steele) and carries the block total forward.
 * @module
 */
import { sizeOf } from "../shape.ts";
import type { GpuKernel } from "./elementwise.ts";
import type { GpuStorage } from "./pool.ts";
import {
  type Binding,
  declare,
  FLAT_GROUP,
  GROUP_MAIN_ARGS,
  linearMain,
  Params,
  WG,
  wgslType,
} from "./wgsl.ts";

const SWG = 256;

/** Kernel of `cumsum(axis, reverse)`; integers wrap modulo 2³². */
export const cumsumKernel: GpuKernel<"cumsum"> = (rt, inputs, params, out) => {
  const x = inputs[0]!;
  const ty = wgslType(x.dtype, "cumsum");
  const n = sizeOf(out.shape);
  const st = rt.alloc(n * 4, "cumsum");
  if (n === 0) return st;
  const axis = params.axis;
  const outer = sizeOf(x.shape.slice(0, axis)), len = x.shape[axis]!;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const lines = outer * inner;
  const pr = new Params().u(lines, len, inner, params.reverse ? 1 : 0);
  const bindings: Binding[] = [{ name: "x", ty }, { name: "out", ty, rw: true }];
  const zero = ty === "f32" ? "0.0" : ty === "i32" ? "0i" : "0u";
  const threadMode = len <= 128 || lines >= 1024;
  let main: string;
  if (threadMode) {
    main = linearMain(`  let base = (i / p(2u)) * p(1u) * p(2u) + i % p(2u);
  var acc: ${ty} = ${zero};
  for (var s = 0u; s < p(1u); s++) {
    let k = select(s, p(1u) - 1u - s, p(3u) == 1u);
    let at = base + k * p(2u);
    acc = acc + x[at];
    out[at] = acc;
  }`);
  } else {
    main = `var<workgroup> sh: array<${ty}, ${SWG}>;
@compute @workgroup_size(${SWG})
fn main(${GROUP_MAIN_ARGS}) {
  ${FLAT_GROUP}
  if (g >= p(0u)) { return; }
  let base = (g / p(2u)) * p(1u) * p(2u) + g % p(2u);
  let len = p(1u);
  var carry: ${ty} = ${zero};
  for (var b0 = 0u; b0 < len; b0 += ${SWG}u) {
    let s = b0 + lid;
    let k = select(s, len - 1u - s, p(3u) == 1u);
    var v: ${ty} = ${zero};
    if (s < len) { v = x[base + k * p(2u)]; }
    sh[lid] = v;
    workgroupBarrier();
    for (var off = 1u; off < ${SWG}u; off = off << 1u) {
      var t = sh[lid];
      if (lid >= off) { t = t + sh[lid - off]; }
      workgroupBarrier();
      sh[lid] = t;
      workgroupBarrier();
    }
    if (s < len) { out[base + k * p(2u)] = carry + sh[lid]; }
    carry = carry + sh[${SWG - 1}];
    workgroupBarrier();
  }
}
`;
  }
  rt.run("cumsum", {
    wgsl: declare(pr.length, bindings) + main,
    bindings,
    buffers: [x.storage as GpuStorage, st],
    params: pr.words(),
    groups: threadMode ? Math.ceil(lines / WG) : lines,
  });
  return st;
};

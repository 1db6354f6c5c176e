/**
 * Batched matmul: 64×64 output tiles per workgroup of 16×16 threads (4×4 outputs each),
 * stepping through K in slices of 16 staged in workgroup memory. The transpose flags are baked
 * into the tile loaders so global reads stay coalesced in all four layouts; batch dimensions
 * broadcast through per-operand batch strides (0 on broadcast dims) and map to the grid's z
 * dimension (split into several dispatches beyond 65535 batches). Integer matmul wraps
 * modulo 2³².
 * @module
 */
import { broadcastStrides, sizeOf, stridesOf } from "../shape.ts";
import type { GpuKernel } from "./elementwise.ts";
import type { GpuStorage } from "./pool.ts";
import { type Binding, coalesce, declare, Params, unravel, wgslType } from "./wgsl.ts";

const TILE = 64, TK = 16;

function source(ty: string, transA: boolean, transB: boolean, rb: number, nWords: number): string {
  const bindings: Binding[] = [{ name: "a", ty }, { name: "b", ty }, { name: "c", ty, rw: true }];
  const zero = ty === "f32" ? "0.0" : ty === "i32" ? "0i" : "0u";
  // Tile element e (0..1023) → (kk, mm) such that consecutive threads read consecutive words.
  const aMap = transA
    ? "let kk = e / 64u; let mm = e % 64u;"
    : "let kk = e % 16u; let mm = e / 16u;";
  const bMap = transB
    ? "let kk = e % 16u; let nn = e / 16u;"
    : "let kk = e / 64u; let nn = e % 64u;";
  return declare(nWords, bindings) + `var<workgroup> As: array<vec4<${ty}>, ${(TILE * TK) / 4}>;
var<workgroup> Bs: array<vec4<${ty}>, ${(TILE * TK) / 4}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l3: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let M = p(0u); let N = p(1u); let K = p(2u);
  let sam = p(3u); let sak = p(4u); let sbk = p(5u); let sbn = p(6u);
  let bz = wid.z + p(7u);
${unravel("bz", rb, 8, ["ao", "bo"], [8 + rb, 8 + 2 * rb])}
  let m0 = wid.y * 64u;
  let n0 = wid.x * 64u;
  let tx = l3.x;
  let ty = l3.y;
  var acc: array<vec4<${ty}>, 4>;
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    for (var t = 0u; t < 4u; t++) {
      let e = lid + t * 256u;
      {
        ${aMap}
        let gm = m0 + mm; let gk = k0 + kk;
        var v: ${ty} = ${zero};
        if (gm < M && gk < K) { v = a[u32(ao) + gm * sam + gk * sak]; }
        As[kk * 16u + mm / 4u][mm % 4u] = v;
      }
      {
        ${bMap}
        let gn = n0 + nn; let gk = k0 + kk;
        var w: ${ty} = ${zero};
        if (gn < N && gk < K) { w = b[u32(bo) + gk * sbk + gn * sbn]; }
        Bs[kk * 16u + nn / 4u][nn % 4u] = w;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let ar = As[kk * 16u + ty];
      let br = Bs[kk * 16u + tx];
      acc[0] = acc[0] + ar.x * br;
      acc[1] = acc[1] + ar.y * br;
      acc[2] = acc[2] + ar.z * br;
      acc[3] = acc[3] + ar.w * br;
    }
    workgroupBarrier();
  }
  let cbase = bz * M * N;
  for (var i = 0u; i < 4u; i++) {
    let gm = m0 + ty * 4u + i;
    if (gm < M) {
      for (var j = 0u; j < 4u; j++) {
        let gn = n0 + tx * 4u + j;
        if (gn < N) { c[cbase + gm * N + gn] = acc[i][j]; }
      }
    }
  }
}
`;
}

/** `matmul(transA, transB)`: a `[..., M, K]` (`[..., K, M]`) times b `[..., K, N]` (`[..., N, K]`). */
export const matmulKernel: GpuKernel<"matmul"> = (rt, inputs, params, out) => {
  const a = inputs[0]!, b = inputs[1]!;
  const ty = wgslType(out.dtype, "matmul");
  const nd = out.shape.length;
  const M = out.shape[nd - 2]!, N = out.shape[nd - 1]!;
  const ar = a.shape.length;
  const K = params.transA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const st = rt.alloc(sizeOf(out.shape) * 4, "matmul");
  if (sizeOf(out.shape) === 0) return st;
  const batch = out.shape.slice(0, -2);
  const nb = sizeOf(batch);
  const c = coalesce(batch, [
    broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * M * K),
    broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * K * N),
    stridesOf(batch),
  ]);
  const rb = c.shape.length;
  const sam = params.transA ? 1 : K, sak = params.transA ? M : 1;
  const sbk = params.transB ? 1 : N, sbn = params.transB ? K : 1;
  const bindings: Binding[] = [{ name: "a", ty }, { name: "b", ty }, { name: "c", ty, rw: true }];
  const nWords = 8 + 3 * rb;
  const wgsl = source(ty, params.transA, params.transB, rb, nWords);
  const gx = Math.ceil(N / TILE), gy = Math.ceil(M / TILE);
  for (let z0 = 0; z0 < nb; z0 += rt.maxGroups) {
    const z = Math.min(rt.maxGroups, nb - z0);
    const pr = new Params().u(M, N, K, sam, sak, sbk, sbn, z0).u(...c.shape)
      .i(...c.strides[0]!).i(...c.strides[1]!);
    rt.run("matmul", {
      wgsl,
      bindings,
      buffers: [a.storage as GpuStorage, b.storage as GpuStorage, st],
      params: pr.words(),
      groups: gx * gy,
      xy: [gx, gy],
      z,
    });
  }
  return st;
};

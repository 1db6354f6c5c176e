/**
 * Batched matmul: output tiles per workgroup of 16×16 threads — 64×64 (4×4 outputs per
 * thread, K in slices of 16) or, when both M and N are at least 128, 128×128 (8×8 per thread, K
 * in slices of 8) — with both operand tiles staged in workgroup memory as vec4s. The transpose flags are baked
 * into the tile loaders so global reads stay coalesced in all four layouts; batch dimensions
 * broadcast through per-operand batch strides (0 on broadcast dims) and map to the grid's z
 * dimension (split into several dispatches beyond 65535 batches). Integer matmul wraps
 * modulo 2³².
 * @module
 */
import { broadcastStrides, coalesce, sizeOf, stridesOf } from "../shape.ts";
import type { GpuKernel } from "./elementwise.ts";
import type { GpuStorage } from "./pool.ts";
import { type Binding, declare, Params, unravel, wgslType } from "./wgsl.ts";
import type { Backend, Operand, Storage } from "../backend.ts";
import type { Aval } from "../aval.ts";
import { type ElementwiseProgram, outputSize } from "../elementwise_program.ts";
import type { PrimParams } from "../primitives.ts";
import { epilogueSource } from "./fused_codegen.ts";
import { mathFor } from "./math.ts";
import type { Runtime } from "./runtime.ts";

/**
 * Tile shapes: 16×16 threads, each computing R×R outputs, so a workgroup covers a
 * (16R)×(16R) tile, stepping K by BK = 1024 / (16R) (both operand tiles are 1024 elements).
 */
interface Shape {
  /** Outputs per thread along each axis (4 or 8). */
  R: 4 | 8;
}

/** A fused program run in the stores: `EPI(o, v)` and the storages it binds after a and b. */
interface Epilogue {
  src: string;
  bindings: Binding[];
}

function source(
  ty: string,
  transA: boolean,
  transB: boolean,
  rb: number,
  nWords: number,
  { R }: Shape,
  epi?: Epilogue,
): string {
  const T = 16 * R, BK = 1024 / T, V = T / 4, Q = R / 4;
  const bindings: Binding[] = [
    { name: "a", ty },
    { name: "b", ty },
    ...(epi ? epi.bindings : [{ name: "c", ty, rw: true }]),
  ];
  const store = epi
    ? (o: string, v: string) => `EPI(${o}, ${v});`
    : (o: string, v: string) => `c[${o}] = ${v};`;
  const zero = ty === "f32" ? "0.0" : ty === "i32" ? "0i" : "0u";
  // Tile element e (0..1023) → (kk, mm) such that consecutive threads read consecutive words.
  const aMap = transA
    ? `let kk = e / ${T}u; let mm = e % ${T}u;`
    : `let kk = e % ${BK}u; let mm = e / ${BK}u;`;
  const bMap = transB
    ? `let kk = e % ${BK}u; let nn = e / ${BK}u;`
    : `let kk = e / ${T}u; let nn = e % ${T}u;`;
  const loadA = Array.from(
    { length: Q },
    (_, q) => `let a${q} = As[kk * ${V}u + ty * ${Q}u + ${q}u];`,
  );
  const loadB = Array.from(
    { length: Q },
    (_, q) => `let b${q} = Bs[kk * ${V}u + tx * ${Q}u + ${q}u];`,
  );
  const fma: string[] = [];
  for (let i = 0; i < R; i++) {
    const ai = `a${Math.floor(i / 4)}.${"xyzw"[i % 4]}`;
    for (let q = 0; q < Q; q++) fma.push(`acc[${i * Q + q}] = acc[${i * Q + q}] + ${ai} * b${q};`);
  }
  // Stores with constant accumulator indices (no dynamic indexing that could spill acc).
  const stores: string[] = [];
  for (let i = 0; i < R; i++) {
    const row = `if (rm + ${i}u < M) {`;
    const cols = Array.from(
      { length: R },
      (_, j) =>
        `if (cn + ${j}u < N) { ${
          store(
            `u32(co) + (rm + ${i}u) * scm + (cn + ${j}u) * scn`,
            `acc[${i * Q + Math.floor(j / 4)}].${"xyzw"[j % 4]}`,
          )
        } }`,
    );
    stores.push(`${row} ${cols.join(" ")} }`);
  }
  return declare(nWords, bindings) + `var<workgroup> As: array<vec4<${ty}>, 256>;
var<workgroup> Bs: array<vec4<${ty}>, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l3: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let M = p(0u); let N = p(1u); let K = p(2u);
  let sam = p(3u); let sak = p(4u); let sbk = p(5u); let sbn = p(6u);
  let bz = wid.z + p(7u);
  let scm = p(${8 + 4 * rb + 3}u); let scn = p(${8 + 4 * rb + 4}u);
${
    unravel("bz", rb, 8, ["ao", "bo", "co"], [8 + rb, 8 + 2 * rb, 8 + 3 * rb], [
      `pi(${8 + 4 * rb}u)`,
      `pi(${8 + 4 * rb + 1}u)`,
      `pi(${8 + 4 * rb + 2}u)`,
    ])
  }
  let m0 = wid.y * ${T}u;
  let n0 = wid.x * ${T}u;
  let tx = l3.x;
  let ty = l3.y;
  var acc: array<vec4<${ty}>, ${R * Q}>;
  for (var k0 = 0u; k0 < K; k0 += ${BK}u) {
    for (var t = 0u; t < 4u; t++) {
      let e = lid + t * 256u;
      {
        ${aMap}
        let gm = m0 + mm; let gk = k0 + kk;
        var v: ${ty} = ${zero};
        if (gm < M && gk < K) { v = a[u32(ao) + gm * sam + gk * sak]; }
        As[kk * ${V}u + mm / 4u][mm % 4u] = v;
      }
      {
        ${bMap}
        let gn = n0 + nn; let gk = k0 + kk;
        var w: ${ty} = ${zero};
        if (gn < N && gk < K) { w = b[u32(bo) + gk * sbk + gn * sbn]; }
        Bs[kk * ${V}u + nn / 4u][nn % 4u] = w;
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      ${loadA.join("\n      ")}
      ${loadB.join("\n      ")}
      ${fma.join("\n      ")}
    }
    workgroupBarrier();
  }
  let rm = m0 + ty * ${R}u;
  let cn = n0 + tx * ${R}u;
  ${stores.join("\n  ")}
}
` + (epi ? mathFor(epi.src) + epi.src : "");
}

/** `matmul(transA, transB)`: a `[..., M, K]` (`[..., K, M]`) times b `[..., K, N]` (`[..., N, K]`). */
export const matmulKernel: GpuKernel<"matmul"> = (rt, inputs, params, out) =>
  runMatmul(rt, inputs[0]!, inputs[1]!, params, out)!;

/**
 * A matmul whose product feeds pure fused program `program` as its input `fromMatmul`, the
 * program run in the stores (`jit`'s matmul epilogues, autodiff/jit_epilogue.ts): bias adds,
 * GELU and residual adds cost no dispatch and the product is never written. `others` are the
 * program's other inputs; returns one storage per program output, after the product's own when
 * `storeProduct` (something else reads it later).
 */
export function matmulEpilogue(
  rt: Runtime,
  ...[a, b, params, out, program, fromMatmul, others, storeProduct]: Parameters<
    NonNullable<Backend["matmulEpilogue"]>
  >
): Storage[] {
  const e = epilogueSource(program, fromMatmul, storeProduct);
  const outs = program.outputs.map((_, j) => rt.alloc(outputSize(program, j) * 4, "matmul"));
  if (storeProduct) outs.push(rt.alloc(program.size * 4, "matmul"));
  const input = (j: number) => others[j < fromMatmul ? j : j - 1] as GpuStorage;
  const buffers = [
    ...e.reads.map((s) => ("input" in s ? input(s.input) : outs[s.buf]!)),
    ...e.writes.map((k) => outs[k]!),
  ];
  runMatmul(rt, a, b, params, out, { src: e.src, bindings: e.bindings, buffers });
  return storeProduct ? [outs.pop()!, ...outs] : outs;
}

/**
 * A matmul reading `a` and `b` (their storages, with logical shapes) through `views` and
 * writing its product in the result view's layout (a new storage of the product's size): `jit`'s
 * permutes and slices folded into the matmul (autodiff/jit_views.ts).
 */
export function matmulView(
  rt: Runtime,
  a: Operand,
  b: Operand,
  params: PrimParams["matmul"],
  out: Aval,
  views: MatmulViews,
): Storage {
  return runMatmul(rt, a, b, params, out, undefined, views)!;
}

/**
 * Whether the matmul epilogue can run `program`: pure float32 elementwise (no reduction), its
 * storages within the device's binding limit next to the two operands.
 */
export function canMatmulEpilogue(
  rt: Runtime,
  program: ElementwiseProgram,
  fromMatmul: number,
  storeProduct = false,
): boolean {
  if (program.dtype !== "float32" || program.epilogue || program.tail) return false;
  if (program.nodes.some((nd) => nd.prim === "reduce")) return false;
  const e = epilogueSource(program, fromMatmul, storeProduct);
  return 2 + e.bindings.length <= rt.maxStorageBuffers;
}

/**
 * How a matmul operand or result is laid out in its buffer: element `i` (a multi-index over the
 * operand's logical shape) at `base + Σ i_d · strides_d` (in elements). `jit` reads a permuted or
 * sliced operand through one, or writes a product straight into the layout its permute makes
 * (autodiff/jit_views.ts); absent, the layout is contiguous.
 */
export interface MatmulView {
  readonly base: number;
  readonly strides: readonly number[];
}

/** The views of a matmul's operands and result (see {@link MatmulView}). */
export interface MatmulViews {
  readonly a?: MatmulView;
  readonly b?: MatmulView;
  readonly c?: MatmulView;
}

/** Per-batch-dimension strides of an operand over the output's `batch` (0 where broadcast). */
function batchStrides(
  shape: readonly number[],
  view: MatmulView | undefined,
  batch: readonly number[],
  matrix: number,
): number[] {
  const own = shape.slice(0, -2);
  if (!view) return broadcastStrides(own, batch).map((s) => s * matrix);
  const lead = batch.length - own.length;
  return batch.map((_, i) => (i < lead || own[i - lead] === 1 ? 0 : view.strides[i - lead]!));
}

function runMatmul(
  rt: Runtime,
  a: Operand,
  b: Operand,
  params: PrimParams["matmul"],
  out: Aval,
  epi?: Epilogue & { buffers: GpuStorage[] },
  views: MatmulViews = {},
): GpuStorage | null {
  const ty = wgslType(out.dtype, "matmul");
  const nd = out.shape.length;
  const M = out.shape[nd - 2]!, N = out.shape[nd - 1]!;
  const ar = a.shape.length;
  const K = params.transA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  // With an epilogue the program's outputs are the stores: no product buffer.
  const st = epi ? null : rt.alloc(sizeOf(out.shape) * 4, "matmul");
  if (sizeOf(out.shape) === 0) return st;
  const batch = out.shape.slice(0, -2);
  const nb = sizeOf(batch);
  const cv = views.c;
  const c = coalesce(batch, [
    batchStrides(a.shape, views.a, batch, M * K),
    batchStrides(b.shape, views.b, batch, K * N),
    cv ? cv.strides.slice(0, -2) : stridesOf(batch).map((s) => s * M * N),
  ]);
  const rb = c.shape.length;
  // Element strides of the rows and columns of each operand as stored ([..., rows, cols]).
  const last2 = (v: MatmulView | undefined, cols: number) =>
    v ? [v.strides[v.strides.length - 2]!, v.strides[v.strides.length - 1]!] : [cols, 1];
  const [ar0, ac0] = last2(views.a, params.transA ? M : K);
  const [br0, bc0] = last2(views.b, params.transB ? K : N);
  const sam = params.transA ? ac0! : ar0!, sak = params.transA ? ar0! : ac0!;
  const sbk = params.transB ? bc0! : br0!, sbn = params.transB ? br0! : bc0!;
  const [scm, scn] = last2(cv, N);
  const bindings: Binding[] = [
    { name: "a", ty },
    { name: "b", ty },
    ...(epi ? epi.bindings : [{ name: "c", ty, rw: true }]),
  ];
  const nWords = 8 + 4 * rb + 5;
  // Large outputs: 8×8 per thread (128×128 tiles, twice the arithmetic per shared load).
  const shape: Shape = { R: M >= 128 && N >= 128 ? 8 : 4 };
  const tile = 16 * shape.R;
  const wgsl = source(ty, params.transA, params.transB, rb, nWords, shape, epi);
  const gx = Math.ceil(N / tile), gy = Math.ceil(M / tile);
  for (let z0 = 0; z0 < nb; z0 += rt.maxGroups) {
    const z = Math.min(rt.maxGroups, nb - z0);
    const pr = new Params().u(M, N, K, sam, sak, sbk, sbn, z0).u(...c.shape)
      .i(...c.strides[0]!).i(...c.strides[1]!).i(...c.strides[2]!)
      .i(views.a?.base ?? 0, views.b?.base ?? 0, cv?.base ?? 0).u(scm!, scn!);
    rt.run("matmul", {
      wgsl,
      bindings,
      buffers: [a.storage as GpuStorage, b.storage as GpuStorage, ...(epi ? epi.buffers : [st!])],
      params: pr.words(),
      groups: gx * gy,
      xy: [gx, gy],
      z,
    });
  }
  return st;
}

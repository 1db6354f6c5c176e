/**
 * Generates the float32 GEMM WebAssembly module of the CPU fast path (BLIS-style):
 * operands are packed into MR-row / NR-column panels (zero padded, any strides, so
 * transposes cost nothing extra), cache blocked by MC/KC/NC, and multiplied by an MR×NR
 * register-blocked f32x4 micro-kernel (relaxed-SIMD FMA when available, mul+add otherwise).
 *
 * Exported functions of the module (pointers and strides in bytes):
 * - `gemm(entry, pa, pb, tile)`: C = A·B for the job described by 11 i32 at `entry`
 *   (`a b c m n k rsa csa rsb csb ldc`), using packing buffers `pa` (MC·KC floats),
 *   `pb` (KC·NC floats) and `tile` (MR·NR floats). C is overwritten.
 * @module
 */
import {
  assembleModule,
  FnBuilder,
  type FnBuilder as FB,
  type FnDef,
  I32,
  V128,
} from "./emitter.ts";

/** Shape of the generated kernel. */
export interface GemmConfig {
  /** Micro-tile rows. */
  mr: number;
  /** Micro-tile columns (multiple of 4). */
  nr: number;
  /** Row block of A kept in L2 (multiple of mr). */
  mc: number;
  /** Depth block (shared dimension). */
  kc: number;
  /** Column block of B (multiple of nr). */
  nc: number;
  /** K-loop unrolling of the micro-kernel. */
  ku: number;
  /** Use `f32x4.relaxed_madd`. */
  fma: boolean;
}

/** Byte offsets of the fields of a job entry (11 × i32). */
export const ENTRY = {
  a: 0,
  b: 4,
  c: 8,
  m: 12,
  n: 16,
  k: 20,
  rsa: 24,
  csa: 28,
  rsb: 32,
  csb: 36,
  ldc: 40,
  bytes: 44,
} as const;

/** Function indices inside the module. */
const MICRO = 0, PACK_A = 1, PACK_B = 2, EDGE = 3, GEMM = 4;

/** `dst = min(a, b)` (signed). */
function min(f: FB, dst: number, a: number, b: number): void {
  f.get(a).get(b).get(a).get(b).i32LtS().select().set(dst);
}

/** `dst = a + b * c` with locals (or the constant `c` when it is a number). */
function addMul(f: FB, dst: number, a: number, b: number, c: number | { k: number }): void {
  f.get(a).get(b);
  if (typeof c === "number") f.get(c);
  else f.i32(c.k);
  f.i32Mul().i32Add().set(dst);
}

/** micro(kc, pa, pb, c, ldc, accum): C[mr×nr] (+)= Apanel·Bpanel. */
function micro(cfg: GemmConfig): FnBuilder {
  const { mr, nr, ku, fma } = cfg;
  const nv = nr / 4;
  const f = new FnBuilder(6);
  const [kc, pa, pb, c, ldc, accum] = [0, 1, 2, 3, 4, 5];
  const acc = Array.from({ length: mr * nv }, () => f.local(V128));
  const bv = Array.from({ length: nv }, () => f.local(V128));
  const av = f.local(V128);
  const p = f.local(I32), kMain = f.local(I32), zero = f.local(I32), r = f.local(I32);
  for (const x of acc) f.v128Zero().set(x);
  f.i32(0).set(zero);
  // kMain = kc rounded down to a multiple of ku
  f.get(kc).i32(-ku).op(0x71 /* i32.and */).set(kMain);
  const step = (u: number) => {
    for (let v = 0; v < nv; v++) f.get(pb).v128Load((u * nr + 4 * v) * 4).set(bv[v]!);
    for (let i = 0; i < mr; i++) {
      f.get(pa).v128Load32Splat((u * mr + i) * 4).set(av);
      for (let v = 0; v < nv; v++) {
        const x = acc[i * nv + v]!;
        if (fma) f.get(av).get(bv[v]!).get(x).f32x4RelaxedMadd().set(x);
        else f.get(x).get(av).get(bv[v]!).f32x4Mul().f32x4Add().set(x);
      }
    }
  };
  f.forRange(p, zero, kMain, ku, () => {
    for (let u = 0; u < ku; u++) step(u);
    f.get(pa).i32(ku * mr * 4).i32Add().set(pa);
    f.get(pb).i32(ku * nr * 4).i32Add().set(pb);
  });
  f.forRange(p, kMain, kc, 1, () => {
    step(0);
    f.get(pa).i32(mr * 4).i32Add().set(pa);
    f.get(pb).i32(nr * 4).i32Add().set(pb);
  });
  f.get(c).set(r);
  f.get(accum).if();
  for (let i = 0; i < mr; i++) {
    for (let v = 0; v < nv; v++) {
      f.get(r).get(r).v128Load(16 * v).get(acc[i * nv + v]!).f32x4Add().v128Store(16 * v);
    }
    f.get(r).get(ldc).i32Add().set(r);
  }
  f.else();
  for (let i = 0; i < mr; i++) {
    for (let v = 0; v < nv; v++) f.get(r).get(acc[i * nv + v]!).v128Store(16 * v);
    f.get(r).get(ldc).i32Add().set(r);
  }
  f.end();
  return f;
}

/**
 * pack(src, rs, cs, outer, kc, dst) for A (panels of `w = mr` rows, `outer = mc`) or B
 * (panels of `w = nr` columns, `outer = nc`). Element (x, p) of the source — x along the
 * panel width, p along k — is at `src + x·sx + p·sp`; for A sx = rs, sp = cs, for B
 * sx = cs, sp = rs. A panel stores, for each p, its `w` values contiguously.
 */
function pack(w: number, isB: boolean): FnBuilder {
  const f = new FnBuilder(6);
  const [src, rs, cs, outer, kc, dst] = [0, 1, 2, 3, 4, 5];
  const sx = isB ? cs : rs, sp = isB ? rs : cs;
  const x0 = f.local(I32), width = f.local(I32), rem = f.local(I32), q = f.local(I32);
  const p = f.local(I32), x = f.local(I32), zero = f.local(I32), wl = f.local(I32);
  const panelBytes = f.local(I32), d = f.local(I32);
  const offs = Array.from({ length: w }, () => f.local(I32)); // x·sx for x < w
  f.i32(0).set(zero).i32(w).set(wl);
  f.get(kc).i32(w * 4).i32Mul().set(panelBytes);
  for (let i = 0; i < w; i++) f.get(sx).i32(i).i32Mul().set(offs[i]!);
  f.forRange(x0, zero, outer, w, () => {
    f.get(outer).get(x0).i32Sub().set(rem);
    min(f, width, rem, wl);
    addMul(f, q, src, x0, sx);
    f.get(width).i32(w).i32Eq().if();
    {
      // Full panel. Contiguous along x with w % 4 == 0: copy whole vectors.
      const vec = w % 4 === 0;
      if (vec) f.get(sx).i32(4).i32Eq().if();
      if (vec) {
        f.forRange(p, zero, kc, 1, () => {
          for (let v = 0; v < w / 4; v++) f.get(dst).get(q).v128Load(16 * v).v128Store(16 * v);
          f.get(q).get(sp).i32Add().set(q);
          f.get(dst).i32(w * 4).i32Add().set(dst);
        });
        f.else();
      }
      f.forRange(p, zero, kc, 1, () => {
        for (let i = 0; i < w; i++) {
          f.get(dst).get(q).get(offs[i]!).i32Add().f32Load().f32Store(4 * i);
        }
        f.get(q).get(sp).i32Add().set(q);
        f.get(dst).i32(w * 4).i32Add().set(dst);
      });
      if (vec) f.end();
    }
    f.else();
    {
      // Partial panel: zero it, then copy the `width` valid lanes.
      f.get(dst).i32(0).get(panelBytes).memoryFill();
      f.forRange(x, zero, width, 1, () => {
        addMul(f, d, dst, x, { k: 4 });
        addMul(f, q, src, x0, sx);
        f.get(q).get(x).get(sx).i32Mul().i32Add().set(q);
        f.forRange(p, zero, kc, 1, () => {
          f.get(d).get(q).f32Load().f32Store();
          f.get(q).get(sp).i32Add().set(q);
          f.get(d).i32(w * 4).i32Add().set(d);
        });
      });
      f.get(dst).get(panelBytes).i32Add().set(dst);
    }
    f.end();
  });
  return f;
}

/** edge(tile, c, ldc, mr, nr, accum): C[i, j] (+)= tile[i, j] for i < mr, j < nr. */
function edge(cfg: GemmConfig): FnBuilder {
  const f = new FnBuilder(6);
  const [tile, c, ldc, mr, nr, accum] = [0, 1, 2, 3, 4, 5];
  const i = f.local(I32), j = f.local(I32), zero = f.local(I32), t = f.local(I32);
  const o = f.local(I32);
  f.i32(0).set(zero);
  f.forRange(i, zero, mr, 1, () => {
    addMul(f, t, tile, i, { k: cfg.nr * 4 });
    addMul(f, o, c, i, ldc);
    f.forRange(j, zero, nr, 1, () => {
      f.get(o).get(t).f32Load();
      f.get(o).f32Load().f32Zero().get(accum).select().f32Add().f32Store();
      f.get(o).i32(4).i32Add().set(o);
      f.get(t).i32(4).i32Add().set(t);
    });
  });
  return f;
}

/** `N` local indices, as a tuple so that destructuring them is typed. */
type Locals<N extends number, R extends number[] = []> = R["length"] extends N ? R
  : Locals<N, [...R, number]>;

/** Declares `n` fresh i32 locals, in order. */
function i32Locals<N extends number>(f: FnBuilder, n: N): Locals<N> {
  return Array.from({ length: n }, () => f.local(I32)) as Locals<N>;
}

/** gemm(entry, pa, pb, tile): the blocked driver (see module doc). */
function gemm(cfg: GemmConfig): FnBuilder {
  const f = new FnBuilder(4);
  const [entry, pa, pb, tile] = [0, 1, 2, 3];
  const [a, b, c, m, n, k, rsa, csa, rsb, csb, ldc] = i32Locals(f, 11);
  const fields = [a, b, c, m, n, k, rsa, csa, rsb, csb, ldc];
  fields.forEach((loc, idx) => f.get(entry).i32Load(idx * 4).set(loc));
  const [jc, pc, ic, jr, ir, ncb, kcb, mcb, nrb, mrb, rem, zero] = i32Locals(f, 12);
  const [src, cptr, apan, bpan, accum, t] = i32Locals(f, 6);
  const bigN = f.local(I32), bigK = f.local(I32), bigM = f.local(I32);
  const MR = f.local(I32), NR = f.local(I32);
  f.i32(0).set(zero).i32(cfg.nc).set(bigN).i32(cfg.kc).set(bigK).i32(cfg.mc).set(bigM);
  f.i32(cfg.mr).set(MR).i32(cfg.nr).set(NR);
  f.forRange(jc, zero, n, cfg.nc, () => {
    f.get(n).get(jc).i32Sub().set(rem);
    min(f, ncb, rem, bigN);
    f.forRange(pc, zero, k, cfg.kc, () => {
      f.get(k).get(pc).i32Sub().set(rem);
      min(f, kcb, rem, bigK);
      f.get(pc).i32(0).i32Ne().set(accum);
      addMul(f, src, b, pc, rsb);
      addMul(f, src, src, jc, csb);
      f.get(src).get(rsb).get(csb).get(ncb).get(kcb).get(pb).call(PACK_B);
      f.forRange(ic, zero, m, cfg.mc, () => {
        f.get(m).get(ic).i32Sub().set(rem);
        min(f, mcb, rem, bigM);
        addMul(f, src, a, ic, rsa);
        addMul(f, src, src, pc, csa);
        f.get(src).get(rsa).get(csa).get(mcb).get(kcb).get(pa).call(PACK_A);
        f.forRange(jr, zero, ncb, cfg.nr, () => {
          f.get(ncb).get(jr).i32Sub().set(rem);
          min(f, nrb, rem, NR);
          f.get(jr).get(kcb).i32Mul().i32(4).i32Mul().get(pb).i32Add().set(bpan);
          f.get(ic).get(ldc).i32Mul().get(c).i32Add().set(t);
          f.get(jc).get(jr).i32Add().i32(4).i32Mul().get(t).i32Add().set(t);
          f.forRange(ir, zero, mcb, cfg.mr, () => {
            f.get(mcb).get(ir).i32Sub().set(rem);
            min(f, mrb, rem, MR);
            f.get(ir).get(kcb).i32Mul().i32(4).i32Mul().get(pa).i32Add().set(apan);
            addMul(f, cptr, t, ir, ldc);
            f.get(mrb).get(MR).i32Eq().get(nrb).get(NR).i32Eq().op(0x71).if();
            f.get(kcb).get(apan).get(bpan).get(cptr).get(ldc).get(accum).call(MICRO);
            f.else();
            f.get(kcb).get(apan).get(bpan).get(tile).i32(cfg.nr * 4).i32(0).call(MICRO);
            f.get(tile).get(cptr).get(ldc).get(mrb).get(nrb).get(accum).call(EDGE);
            f.end();
          });
        });
      });
    });
  });
  return f;
}

/** Builds the GEMM module for `cfg`, importing a memory with the given limits. */
export function buildGemmModule(
  cfg: GemmConfig,
  mem: { initial: number; maximum: number; shared: boolean },
): Uint8Array<ArrayBuffer> {
  const i6 = [I32, I32, I32, I32, I32, I32] as const;
  const fns: FnDef[] = [];
  fns[MICRO] = { params: [...i6], results: [], exportName: "micro", body: micro(cfg) };
  fns[PACK_A] = { params: [...i6], results: [], exportName: "packA", body: pack(cfg.mr, false) };
  fns[PACK_B] = { params: [...i6], results: [], exportName: "packB", body: pack(cfg.nr, true) };
  fns[EDGE] = { params: [...i6], results: [], body: edge(cfg) };
  fns[GEMM] = { params: [I32, I32, I32, I32], results: [], exportName: "gemm", body: gemm(cfg) };
  return assembleModule(mem, fns);
}

/**
 * A minimal WebAssembly binary emitter: LEB128, the type/import/function/export/code
 * sections, and the handful of opcodes tessera's generated kernels use (i32 arithmetic,
 * structured control flow, f32 and v128 memory access, f32x4 SIMD and relaxed-SIMD FMA).
 *
 * It exists so the CPU fast path needs no assembler at build or run time: the kernels in
 * `matmul_kernel.ts` are TypeScript that writes bytes through {@link FnBuilder}.
 * @module
 */

/** Value types (binary encodings). */
export const I32 = 0x7f;
/** 32-bit float value type. */
export const F32 = 0x7d;
/** 128-bit SIMD vector value type. */
export const V128 = 0x7b;

/** A value type byte: {@link I32}, {@link F32} or {@link V128}. */
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Appends the unsigned LEB128 encoding of `n` (0 ≤ n < 2^32) to `out`. */
export function uleb(out: number[], n: number): void {
  let v = n >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
}

/** Appends the signed LEB128 encoding of the 32-bit integer `n` to `out`. */
export function sleb(out: number[], n: number): void {
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function vec(out: number[], items: readonly number[][]): void {
  uleb(out, items.length);
  for (const it of items) out.push(...it);
}

function str(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  const out: number[] = [];
  uleb(out, b.length);
  return [...out, ...b];
}

/**
 * Builds one function body. Each method appends an instruction and returns `this`, so code
 * reads as a stack-machine listing: `f.get(x).get(y).i32Add().set(z)`.
 */
export class FnBuilder {
  /** The encoded instructions (without the final `end`). */
  readonly code: number[] = [];
  /** Types of the declared (non-parameter) locals, in index order. */
  readonly localTypes: ValType[] = [];
  /** Number of parameters (locals 0..nParams-1). */
  readonly nParams: number;

  /**
   * Starts an empty body.
   * @param nParams number of parameters of the function's type
   */
  constructor(nParams: number) {
    this.nParams = nParams;
  }
  /** Declares a local of type `t` and returns its index. */
  local(t: ValType): number {
    this.localTypes.push(t);
    return this.nParams + this.localTypes.length - 1;
  }
  /** Appends raw bytes. */
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  /** Appends `opcode` and an unsigned LEB128 immediate. */
  private withU32(opcode: number[], n: number): this {
    this.code.push(...opcode);
    uleb(this.code, n);
    return this;
  }
  /** `local.get`. */
  get(i: number): this {
    return this.withU32([0x20], i);
  }
  /** `local.set`. */
  set(i: number): this {
    return this.withU32([0x21], i);
  }
  /** `local.tee`. */
  tee(i: number): this {
    return this.withU32([0x22], i);
  }
  /** `i32.const`. */
  i32(n: number): this {
    this.code.push(0x41);
    sleb(this.code, n);
    return this;
  }
  /** `block` with empty result type. */
  block(): this {
    return this.op(0x02, 0x40);
  }
  /** `loop` with empty result type. */
  loop(): this {
    return this.op(0x03, 0x40);
  }
  /** `if` with empty result type. */
  if(): this {
    return this.op(0x04, 0x40);
  }
  /** `else`. */
  else(): this {
    return this.op(0x05);
  }
  /** `end` of a block, loop or if. */
  end(): this {
    return this.op(0x0b);
  }
  /** `br` to the label `depth` levels out. */
  br(depth: number): this {
    return this.withU32([0x0c], depth);
  }
  /** `br_if`. */
  brIf(depth: number): this {
    return this.withU32([0x0d], depth);
  }
  /** `return`. */
  ret(): this {
    return this.op(0x0f);
  }
  /** `call` function index `fn`. */
  call(fn: number): this {
    return this.withU32([0x10], fn);
  }
  /** `select` (numeric operands). */
  select(): this {
    return this.op(0x1b);
  }
  /** i32 binary and comparison ops. */
  i32Add(): this {
    return this.op(0x6a);
  }
  /** `i32.sub`. */
  i32Sub(): this {
    return this.op(0x6b);
  }
  /** `i32.mul`. */
  i32Mul(): this {
    return this.op(0x6c);
  }
  /** `i32.shl`. */
  i32Shl(): this {
    return this.op(0x74);
  }
  /** `i32.eqz`. */
  i32Eqz(): this {
    return this.op(0x45);
  }
  /** `i32.eq`. */
  i32Eq(): this {
    return this.op(0x46);
  }
  /** `i32.ne`. */
  i32Ne(): this {
    return this.op(0x47);
  }
  /** `i32.lt_s`. */
  i32LtS(): this {
    return this.op(0x48);
  }
  /** `i32.gt_s`. */
  i32GtS(): this {
    return this.op(0x4a);
  }
  /** `i32.le_s`. */
  i32LeS(): this {
    return this.op(0x4c);
  }
  /** `i32.ge_s`. */
  i32GeS(): this {
    return this.op(0x4e);
  }
  /** `i32.load` with a static byte offset (4-byte alignment hint). */
  i32Load(offset = 0): this {
    return this.mem([0x28], 2, offset);
  }
  /** `f32.load` with a static byte offset. */
  f32Load(offset = 0): this {
    return this.mem([0x2a], 2, offset);
  }
  /** `f32.store` with a static byte offset. */
  f32Store(offset = 0): this {
    return this.mem([0x38], 2, offset);
  }
  /** `f32.const 0`. */
  f32Zero(): this {
    return this.op(0x43, 0, 0, 0, 0);
  }
  /** `f32.add`. */
  f32Add(): this {
    return this.op(0x92);
  }
  /** `v128.load` (unaligned hint: alignment 2^2). */
  v128Load(offset = 0): this {
    return this.mem([0xfd, 0x00], 2, offset);
  }
  /** `v128.load32_splat`: loads one f32 and broadcasts it to four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.mem([0xfd, 0x09], 2, offset);
  }
  /** `v128.store`. */
  v128Store(offset = 0): this {
    return this.mem([0xfd, 0x0b], 2, offset);
  }
  /** `v128.const` of all zero bits. */
  v128Zero(): this {
    return this.op(0xfd, 0x0c, ...new Array<number>(16).fill(0));
  }
  /** `f32x4.add`. */
  f32x4Add(): this {
    return this.simd(0xe4);
  }
  /** `f32x4.mul`. */
  f32x4Mul(): this {
    return this.simd(0xe6);
  }
  /** `f32x4.relaxed_madd` (a·b + c, fused where the host has FMA). */
  f32x4RelaxedMadd(): this {
    return this.simd(0x105);
  }
  /** Memory-fill (bulk memory): `[dst, value, len] → []`. */
  memoryFill(): this {
    return this.op(0xfc, 0x0b, 0x00);
  }
  /** Appends a `0xfd`-prefixed SIMD opcode. */
  private simd(opcode: number): this {
    return this.withU32([0xfd], opcode);
  }
  /** Appends a memory instruction with its `memarg` (alignment exponent, byte offset). */
  private mem(opcode: number[], align: number, offset: number): this {
    this.code.push(...opcode);
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }

  /**
   * Emits `for (i = from; i < to; i += step) body()` where `from`, `to` and `step` are
   * local indices or (for `step`) a constant, using a block/loop pair. `body` must leave
   * the stack empty and must not branch out of the loop.
   */
  forRange(
    i: number,
    from: number,
    to: number,
    step: number | { local: number },
    body: () => void,
  ): this {
    this.get(from).set(i).block().loop();
    this.get(i).get(to).i32GeS().brIf(1);
    body();
    this.get(i);
    if (typeof step === "number") this.i32(step);
    else this.get(step.local);
    this.i32Add().set(i).br(0).end().end();
    return this;
  }

  /** The function body as it appears in the code section (size-prefixed). */
  encode(): number[] {
    const body: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(body, groups.length);
    for (const [n, t] of groups) {
      uleb(body, n);
      body.push(t);
    }
    body.push(...this.code, 0x0b);
    const out: number[] = [];
    uleb(out, body.length);
    return [...out, ...body];
  }
}

/** One function of a module: its signature, export name (if any) and body. */
export interface FnDef {
  /** Parameter types. */
  params: ValType[];
  /** Result types (empty or one). */
  results: ValType[];
  /** Export name, or undefined for an internal function. */
  exportName?: string;
  /** The body. */
  body: FnBuilder;
}

/** Options of the module's single imported memory (`env.memory`). */
export interface MemoryImport {
  /** Initial size in 64 KiB pages. */
  initial: number;
  /** Maximum size in pages (required for shared memory). */
  maximum: number;
  /** Whether the memory is shared between threads. */
  shared: boolean;
}

function section(id: number, content: number[]): number[] {
  const out = [id];
  uleb(out, content.length);
  return [...out, ...content];
}

/**
 * Assembles a module that imports one memory as `env.memory` and defines `fns` (function
 * index = position in `fns`). Returns the binary, ready for `new WebAssembly.Module`.
 */
export function assembleModule(mem: MemoryImport, fns: readonly FnDef[]): Uint8Array<ArrayBuffer> {
  const types = fns.map((f) => {
    const t = [0x60];
    vec(t, f.params.map((p) => [p]));
    vec(t, f.results.map((r) => [r]));
    return t;
  });
  const limits: number[] = [mem.shared ? 0x03 : 0x01];
  uleb(limits, mem.initial);
  uleb(limits, mem.maximum);
  const imports: number[] = [];
  vec(imports, [[...str("env"), ...str("memory"), 0x02, ...limits]]);
  const funcs: number[] = [];
  vec(
    funcs,
    fns.map((_, i) => {
      const o: number[] = [];
      uleb(o, i);
      return o;
    }),
  );
  const exportsList: number[][] = [];
  fns.forEach((f, i) => {
    if (f.exportName === undefined) return;
    const e = [...str(f.exportName), 0x00];
    uleb(e, i);
    exportsList.push(e);
  });
  const exps: number[] = [];
  vec(exps, exportsList);
  const code: number[] = [];
  vec(code, fns.map((f) => f.body.encode()));
  const typeSec: number[] = [];
  vec(typeSec, types);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, typeSec),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exps),
    ...section(10, code),
  ]);
}

/**
 * The pieces every fused WGSL generator shares (./fused_codegen.ts): how a read pattern indexes,
 * the code-generation state of one pass ({@link Gen}: the lines, the storages used, main-loop
 * values memoised per index context), and the accessor functions and bindings of the storages a
 * generated body used — direct, or packed into one input and one output buffer.
 * @module
 */
import type {
  ElementwiseProgram,
  ElementwiseRead,
  ElementwiseRef,
} from "../elementwise_program.ts";
import { phases } from "../elementwise_program.ts";
import { TesseraError } from "../errors.ts";
import { floatExpr } from "./elementwise.ts";
import type { Binding } from "./wgsl.ts";
import { slabLayout } from "./pool.ts";

/** A storage a pass reads: program input `j`, or buffer `b` (an output or a temporary). */
export type Src = { input: number } | { buf: number };

/**
 * The flat index read by pattern `r` at index `idx` of a loop of `size` (u32 WGSL).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { at } from "./fused_gen.ts";
 * assert.equal(at({ div: 1, mod: 6 }, "i", 6), "i"); // a full operand
 * assert.equal(at({ div: 4, mod: 3 }, "i", 12), "((i / 4u) % 3u)"); // a row statistic
 * ```
 */
export function at({ div, mod }: ElementwiseRead, idx: string, size: number): string {
  if (mod === 1) return "0u";
  if (div === 1 && mod === size) return idx;
  if (div === 1) return `(${idx} % ${mod}u)`;
  return `((${idx} / ${div}u) % ${mod}u)`;
}

/** Main-loop values at one index expression, by node (inputs as −1 − j). */
export type Ctx = { idx: string; tag: number; memo: Map<number, string> };
/** The fields of a `reduce` node the generators read. */
export type Reduce = {
  op: "sum" | "max" | "min";
  into: ElementwiseRead;
  size: number;
  args: [ElementwiseRef];
};

/**
 * Code generation state of one pass: lines, used storages, values per index context.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Gen } from "./fused_gen.ts";
 * const g = new Gen({
 *   dtype: "float32", size: 4, inputs: [{ div: 1, mod: 4 }], outputs: [0],
 *   nodes: [{ prim: "unary", op: "neg", args: [{ input: 0 }] }],
 * }, new Map([[0, [0]]]));
 * const v = g.main(0, g.ctx("i"), "  ");
 * g.store(0, "i", v, "  ");
 * assert.deepEqual(g.lines, ["  let x0_0 = IN0(i);", "  let v0_0 = -x0_0;", "  { WB0(i, v0_0); }"]);
 * ```
 */
export class Gen {
  readonly lines: string[] = [];
  readonly reads = new Map<string, Src>();
  readonly writes = new Set<number>();
  readonly ph;
  #tags = 0;
  constructor(readonly p: ElementwiseProgram, readonly bufsOf: Map<number, number[]>) {
    this.ph = phases(p);
  }
  phaseOf(k: number): number {
    return k < this.ph.main.nodes ? 0 : k < this.ph.epilogue.nodes ? 1 : 2;
  }
  /** A fresh context: values of the main loop at element `idx` (memoised per context). */
  ctx(idx: string): Ctx {
    return { idx, tag: this.#tags++, memo: new Map() };
  }
  /** Input j read at the pattern index of `idx` in a loop of `size`. */
  input(j: number, c: Ctx, size: number, pad: string): string {
    let v = c.memo.get(-1 - j);
    if (!v) {
      this.reads.set(`in${j}`, { input: j });
      v = `x${c.tag}_${j}`;
      this.lines.push(`${pad}let ${v} = IN${j}(${at(this.p.inputs[j]!, c.idx, size)});`);
      c.memo.set(-1 - j, v);
    }
    return v;
  }
  /** Main-loop node k's value at the context's element (its cone emitted once). */
  main(k: number, c: Ctx, pad: string): string {
    let v = c.memo.get(k);
    if (v) return v;
    const args = this.p.nodes[k]!.args.map((r) =>
      "input" in r ? this.input(r.input, c, this.p.size, pad) : this.main(r.node, c, pad)
    );
    v = `v${c.tag}_${k}`;
    this.lines.push(`${pad}let ${v} = ${this.expr(k, args)};`);
    c.memo.set(k, v);
    return v;
  }
  /** The expression of a unary/binary/broadcastTo node over argument names. */
  expr(k: number, args: string[]): string {
    const nd = this.p.nodes[k]!;
    if (nd.prim === "broadcastTo") return args[0]!;
    if (nd.prim === "reduce") throw new TesseraError("jit", "internal: a reduction read in-loop");
    const e = floatExpr(nd.op);
    if (!e) throw new TesseraError(nd.op, "cannot run in a fused webgpu kernel");
    return e(args[0]!, args[1] ?? "", "");
  }
  /** Buffer b read at `idx`. */
  readBuf(b: number, idx: string): string {
    this.reads.set(`b${b}`, { buf: b });
    return `RB${b}(${idx})`;
  }
  /** Writes `v` into every buffer of node k at `idx` (under `guard`, if any). */
  store(k: number, idx: string, v: string, pad: string, guard = ""): void {
    for (const b of this.bufsOf.get(k) ?? []) {
      this.writes.add(b);
      this.lines.push(`${pad}${guard ? `if (${guard}) ` : ""}{ WB${b}(${idx}, ${v}); }`);
    }
  }
}

/**
 * The storages a generated body uses, their bindings and accessor functions (`packed`: one
 * input buffer `pin` and one output buffer `pout`, at baked offsets; `direct` maps a read's
 * index to [d, word offset] in the slab `pdon{d}` it is already a view of — bound after `pout`
 * — so it is read in place instead of copied into `pin`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accessors, Gen } from "./fused_gen.ts";
 * const g = new Gen({
 *   dtype: "float32", size: 4, inputs: [{ div: 1, mod: 4 }], outputs: [0],
 *   nodes: [{ prim: "unary", op: "neg", args: [{ input: 0 }] }],
 * }, new Map([[0, [0]]]));
 * g.store(0, "i", g.main(0, g.ctx("i"), "  "), "  ");
 * assert.deepEqual(accessors(g, [4], false).bindings.map((b) => b.name), ["in0", "b0"]);
 * assert.deepEqual(accessors(g, [4], true).bindings.map((b) => b.name), ["pin", "pout"]);
 * ```
 */
export function accessors(
  g: Gen,
  bufSizes: number[],
  packed: boolean,
  align = 4,
  direct: ReadonlyMap<number, readonly [number, number]> = new Map(),
) {
  const reads = [...g.reads.values()], writes = [...g.writes];
  const readSizes = reads.map((s) => ("input" in s ? g.p.inputs[s.input]!.mod : bufSizes[s.buf]!));
  const writeSizes = writes.map((b) => bufSizes[b]!);
  const name = (s: Src) => ("input" in s ? `in${s.input}` : `b${s.buf}`);
  const fns: string[] = [];
  let off = 0;
  reads.forEach((s, k) => {
    const fn = "input" in s ? `IN${s.input}` : `RB${s.buf}`;
    const d = direct.get(k);
    const at = d !== undefined
      ? `pdon${d[0]}[${d[1]}u + k]`
      : packed
      ? `pin[${off}u + k]`
      : `${name(s)}[k]`;
    fns.push(`fn ${fn}(k: u32) -> f32 { return ${at}; }`);
    off += readSizes[k]!;
  });
  // A packed pass's outputs stay in `pout` as views, so each starts at an aligned offset.
  const at = slabLayout(writeSizes.map((n) => n * 4), align).offsets;
  writes.forEach((b, k) => {
    const o = at[k]! / 4;
    fns.push(`fn WB${b}(k: u32, v: f32) { ${packed ? `pout[${o}u + k]` : `b${b}[k]`} = v; }`);
  });
  const bindings: Binding[] = packed
    ? [
      { name: "pin", ty: "f32" },
      { name: "pout", ty: "f32", rw: true },
      ...Array.from(
        { length: Math.max(0, ...[...direct.values()].map(([d]) => d + 1)) },
        (_, d) => ({ name: `pdon${d}`, ty: "f32" }),
      ),
    ]
    : [
      ...reads.map((s) => ({ name: name(s), ty: "f32" })),
      ...writes.map((b) => ({ name: `b${b}`, ty: "f32", rw: true })),
    ];
  return { fns: fns.join("\n") + "\n", bindings, reads, writes, readSizes, writeSizes };
}

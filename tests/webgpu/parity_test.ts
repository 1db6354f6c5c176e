/**
 * CPU-vs-WebGPU parity of every primitive on random inputs (broadcasting, special values,
 * and sizes that reach every kernel variant: workgroup and chunked reductions, block scans,
 * the global bitonic network, sorted scatterAdd, grouped concat). The table is a mapped type
 * over `Prim`, so a new primitive without parity cases fails `deno check`.
 *
 * Tolerances: exact for integers, bools and data movement; float32 rtol 1e-6 (JAX's default)
 * for correctly-rounded arithmetic; 2e-6–1e-5 for transcendental functions and long sums
 * (the CPU accumulates in float64).
 */
import {
  ARG_REDUCE_OPS,
  BINARY_OPS,
  type BinaryOp,
  BITWISE_OPS,
  COMPARE_OPS,
  LOGICAL_OPS,
  opName,
  type Prim,
  type PrimParams,
  scope,
  type Tensor,
  toBackend,
  UNARY_OPS,
  type UnaryOp,
} from "../../mod.ts";
import { bind } from "../../tensor/dispatch.ts";
import { expectClose, Gen, type Tol } from "./_parity.ts";
import { gpuTest } from "./_setup.ts";
import { VISION_PARITY } from "./_vision_parity.ts";

interface Case<P extends Prim> {
  /** Builds the CPU inputs. */
  inputs: (g: Gen) => Tensor[];
  params: PrimParams[P];
  tol?: Tol;
  label?: string;
}

type Table = { [P in Prim]: Case<P>[] };

const none = {} as Record<string, never>;
const TR: Tol = { rtol: 2e-6, atol: 1e-7 }; // transcendental
const REL: Tol = { rtol: 2e-6, atol: 0 }; // transcendental near 0: relative error only
const un = (lo: number, hi: number, tol?: Tol) => [
  { inputs: (g: Gen) => [g.f([3, 67], lo, hi)], params: none, tol },
  { inputs: (g: Gen) => [g.special([40])], params: none, tol, label: "special values" },
];
const intUn = (signed: boolean) => [
  { inputs: (g: Gen) => [g.f([5, 7])], params: none },
  { inputs: (g: Gen) => [g.bits([50], "int32")], params: none },
  ...(signed ? [] : [{ inputs: (g: Gen) => [g.bits([50], "uint32")], params: none }]),
];
const bin = (tol?: Tol, lo = -3, hi = 3) => [
  { inputs: (g: Gen) => [g.f([4, 1, 5], lo, hi), g.f([3, 5], lo, hi)], params: none, tol },
  { inputs: (g: Gen) => [g.special([7, 8]), g.special([8])], params: none, tol },
];
const intBin = [
  { inputs: (g: Gen) => [g.bits([3, 40], "int32"), g.bits([40], "int32")], params: none },
  { inputs: (g: Gen) => [g.bits([2, 3, 1], "uint32"), g.bits([5], "uint32")], params: none },
];
const cmp = [
  ...bin(),
  { inputs: (g: Gen) => [g.i([6, 6], -2, 2), g.i([6], -2, 2)], params: none },
  { inputs: (g: Gen) => [g.bits([30], "uint32"), g.i([30], 0, 3, "uint32")], params: none },
  { inputs: (g: Gen) => [g.b([4, 4]), g.b([4])], params: none },
];
const logical = [{ inputs: (g: Gen) => [g.b([3, 9]), g.b([9])], params: none }];
const bitw = (shift: boolean) => [
  {
    inputs: (
      g: Gen,
    ) => [g.bits([4, 33], "int32"), shift ? g.i([33], 0, 40) : g.bits([33], "int32")],
    params: none,
  },
  {
    inputs: (g: Gen) => [
      g.bits([4, 33], "uint32"),
      shift ? g.i([4, 1], 0, 40, "uint32") : g.bits([4, 1], "uint32"),
    ],
    params: none,
  },
];
const SUM_TOL: Tol = { rtol: 1e-5, atol: 1e-4 };
/** Matmul: summation order differs from the CPU's blocked FMA kernel. */
const MM: Tol = { rtol: 1e-5, atol: 1e-4 };
const red = (tol?: Tol) => [
  ...[[0], [1], [2], [0, 2], [0, 1, 2], []].map((axes) => ({
    inputs: (g: Gen) => [g.f([4, 5, 6])],
    params: { axes },
    tol,
  })),
  { inputs: (g: Gen) => [g.special([3, 20])], params: { axes: [1] }, tol },
  { inputs: (g: Gen) => [g.f([3, 5000])], params: { axes: [1] }, tol, label: "workgroup" },
  { inputs: (g: Gen) => [g.f([70000])], params: { axes: [0] }, tol, label: "chunked" },
  { inputs: (g: Gen) => [g.f([3000, 3])], params: { axes: [0] }, tol, label: "thread" },
  { inputs: (g: Gen) => [g.f([6, 300, 7])], params: { axes: [0, 2] }, tol, label: "strided" },
  { inputs: (g: Gen) => [g.bits([7, 90], "int32")], params: { axes: [1] } },
  { inputs: (g: Gen) => [g.bits([90, 7], "uint32")], params: { axes: [0] } },
];
const arg = [
  { inputs: (g: Gen) => [g.i([4, 7], 0, 3)], params: { axis: 1 } },
  { inputs: (g: Gen) => [g.special([5, 9])], params: { axis: 1 } },
  { inputs: (g: Gen) => [g.f([9, 5])], params: { axis: 0 } },
  { inputs: (g: Gen) => [g.i([2, 5000], 0, 50)], params: { axis: 1 }, label: "workgroup" },
  { inputs: (g: Gen) => [g.special([3, 3000])], params: { axis: 1 }, label: "workgroup NaN" },
  { inputs: (g: Gen) => [g.bits([40, 3], "uint32")], params: { axis: 0 } },
];
/** The cases of one op of a family primitive: `op` added to each case's params. */
function withOp<O extends string, Q extends object>(
  op: O,
  cases: readonly { inputs: (g: Gen) => Tensor[]; params: Q; tol?: Tol; label?: string }[],
) {
  return cases.map((c) => ({ ...c, params: { ...c.params, op } }));
}
const copy = [
  { inputs: (g: Gen) => [g.f([3, 4])], params: none },
  { inputs: (g: Gen) => [g.b([5])], params: none },
];

type Cases = { inputs: (g: Gen) => Tensor[]; params: typeof none; tol?: Tol; label?: string }[];

/** The cases of each op of the `unary` and `binary` primitives. */
const ELEMENTWISE: { [O in UnaryOp | BinaryOp]: Cases } = {
  neg: [...un(-3, 3), ...intUn(true)],
  abs: [...un(-3, 3), ...intUn(false)],
  sign: [...un(-3, 3), ...intUn(true)],
  exp: un(-20, 20, TR),
  log: un(0.001, 100, TR),
  log1p: [
    ...un(-0.9, 10, TR),
    { inputs: (g) => [g.f([50], -1e-6, 1e-6)], params: none, tol: REL },
    { inputs: (g) => [g.f([50], -0.1, 0.1)], params: none, tol: REL },
  ],
  expm1: [
    ...un(-5, 5, TR),
    { inputs: (g) => [g.f([50], -1e-6, 1e-6)], params: none, tol: REL },
    { inputs: (g) => [g.f([50], -0.1, 0.1)], params: none, tol: REL },
  ],
  sqrt: un(0, 100),
  rsqrt: un(0.01, 100, TR),
  reciprocal: un(-10, 10),
  sin: un(-10, 10, TR),
  cos: un(-10, 10, TR),
  tanh: un(-6, 6, TR),
  erf: un(-4, 4, TR),
  erfc: [
    ...un(-4, 4, TR),
    { inputs: (g) => [g.f([60], 1, 9)], params: none, tol: { rtol: 1e-5, atol: 0 }, label: "tail" },
  ],
  floor: un(-10, 10),
  ceil: un(-10, 10),
  round: [...un(-10, 10), {
    inputs: (g) => [bind("binary", [intAsFloat(g, [40], -20, 20), g.f([1], 2, 2)], { op: "div" })],
    params: none,
    label: "halves",
  }],
  logicalNot: [{ inputs: (g) => [g.b([17])], params: none }],

  add: [...bin(), ...intBin],
  sub: [...bin(), ...intBin],
  mul: [...bin(), ...intBin],
  div: bin(),
  pow: [
    ...bin(TR, 0.1, 4),
    { inputs: (g) => [g.f([60], -4, 4), intAsFloat(g, [60], -5, 5)], params: none, tol: TR },
    { inputs: (g) => [g.special([8, 1]), g.special([8])], params: none, tol: TR },
  ],
  maximum: [...bin(), ...intBin],
  minimum: [...bin(), ...intBin],
};

const CASES: Table = {
  unary: UNARY_OPS.flatMap((op) => withOp(op, ELEMENTWISE[op])),
  binary: BINARY_OPS.flatMap((op) => withOp(op, ELEMENTWISE[op])),
  compare: COMPARE_OPS.flatMap((op) => withOp(op, cmp)),
  logical: LOGICAL_OPS.flatMap((op) => withOp(op, logical)),
  bitwise: BITWISE_OPS.flatMap((op) => withOp(op, bitw(op.startsWith("shift")))),
  reduce: [...withOp("sum", red(SUM_TOL)), ...withOp("max", red()), ...withOp("min", red())],
  argReduce: ARG_REDUCE_OPS.flatMap((op) => withOp(op, arg)),
  cumsum: [
    ...[0, 1].flatMap((axis) =>
      [false, true].map((reverse) => ({
        inputs: (g: Gen) => [g.f([4, 6])],
        params: { axis, reverse },
        tol: SUM_TOL,
      }))
    ),
    {
      inputs: (g) => [g.f([3, 1000])],
      params: { axis: 1, reverse: true },
      tol: SUM_TOL,
      label: "block scan",
    },
    { inputs: (g) => [g.bits([3, 700], "int32")], params: { axis: 1, reverse: false } },
    { inputs: (g) => [g.special([5, 3])], params: { axis: 0, reverse: false } },
  ],

  where: [
    { inputs: (g) => [g.b([3, 1]), g.f([1, 4]), g.f([3, 4])], params: none },
    { inputs: (g) => [g.b([6]), g.i([6], -9, 9), g.i([1], -9, 9)], params: none },
  ],
  matmul: [
    {
      inputs: (g) => [g.f([5, 7]), g.f([7, 3])],
      params: { transA: false, transB: false },
      tol: MM,
    },
    { inputs: (g) => [g.f([7, 5]), g.f([7, 3])], params: { transA: true, transB: false }, tol: MM },
    { inputs: (g) => [g.f([5, 7]), g.f([3, 7])], params: { transA: false, transB: true }, tol: MM },
    { inputs: (g) => [g.f([7, 5]), g.f([3, 7])], params: { transA: true, transB: true }, tol: MM },
    {
      inputs: (g) => [g.f([2, 1, 33, 17]), g.f([3, 17, 65])],
      params: { transA: false, transB: false },
      tol: MM,
      label: "broadcast batch",
    },
    {
      inputs: (g) => [g.f([130, 70]), g.f([90, 70])],
      params: { transA: false, transB: true },
      tol: MM,
      label: "multi-tile",
    },
    {
      inputs: (g) => [g.f([2, 150, 40]), g.f([130, 40])],
      params: { transA: false, transB: true },
      tol: MM,
      label: "128x128 tiles",
    },
    {
      inputs: (g) => [g.f([40, 140]), g.f([40, 129])],
      params: { transA: true, transB: false },
      tol: MM,
      label: "128x128 tiles, transA",
    },
    {
      inputs: (g) => [g.bits([130, 9], "int32"), g.bits([9, 131], "int32")],
      params: { transA: false, transB: false },
      label: "128x128 tiles, int32",
    },
    {
      inputs: (g) => [g.bits([6, 9], "int32"), g.bits([9, 4], "int32")],
      params: { transA: false, transB: false },
    },
    {
      inputs: (g) => [g.bits([9, 6], "uint32"), g.bits([4, 9], "uint32")],
      params: { transA: true, transB: true },
    },
  ],
  reshape: [
    { inputs: (g) => [g.f([3, 4])], params: { shape: [2, 6] } },
  ],
  permute: [
    { inputs: (g) => [g.f([2, 3, 4, 5])], params: { perm: [3, 1, 0, 2] } },
    { inputs: (g) => [g.i([3, 70], -5, 5)], params: { perm: [1, 0] } },
  ],
  broadcastTo: [
    { inputs: (g) => [g.f([3, 1])], params: { shape: [2, 3, 5] } },
    { inputs: (g) => [g.b([1])], params: { shape: [4] } },
  ],
  slice: [
    { inputs: (g) => [g.f([7, 9])], params: { starts: [1, 0], stops: [7, 9], steps: [2, 3] } },
    {
      inputs: (g) => [g.f([40])],
      params: { starts: [5], stops: [25], steps: [1] },
      label: "contiguous",
    },
  ],
  flip: [
    { inputs: (g) => [g.f([3, 4, 5])], params: { axes: [0, 2] } },
    { inputs: (g) => [g.i([9], 0, 9)], params: { axes: [0] } },
  ],
  pad: [
    {
      inputs: (g) => [g.f([3, 4])],
      params: { lo: [1, 0], hi: [2, 3], interior: [1, 2], value: -1.5 },
    },
    { inputs: (g) => [g.b([3])], params: { lo: [2], hi: [0], interior: [0], value: 1 } },
    {
      inputs: (g) => [g.i([2, 2], -3, 3)],
      params: { lo: [0, 1], hi: [1, 0], interior: [0, 0], value: 7 },
    },
  ],
  concat: [
    { inputs: (g) => [g.f([2, 3]), g.f([2, 1]), g.f([2, 4])], params: { axis: 1 } },
    {
      inputs: (g) => Array.from({ length: 11 }, (_, k) => g.f([k % 3 + 1, 5])),
      params: { axis: 0 },
      label: "11 inputs (grouped dispatches)",
    },
  ],
  gather: [
    { inputs: (g) => [g.f([4, 6, 3]), g.i([2, 5], 0, 5)], params: { axis: 1 } },
    { inputs: (g) => [g.b([7]), g.i([9], 0, 6)], params: { axis: 0 } },
  ],
  scatterAdd: [
    {
      inputs: (g) => [g.f([4, 6]), g.i([9], 0, 5), g.f([4, 9])],
      params: { axis: 1 },
      tol: SUM_TOL,
    },
    {
      inputs: (g) => [g.f([300, 40]), g.i([500], 0, 299), g.f([500, 40])],
      params: { axis: 0 },
      tol: SUM_TOL,
      label: "sorted path",
    },
    {
      inputs: (g) => [g.bits([5, 3], "int32"), g.i([4], 0, 4), g.bits([4, 3], "int32")],
      params: { axis: 0 },
    },
  ],
  cast: (["float32", "int32", "uint32", "bool"] as const).flatMap((to) => [
    { inputs: (g: Gen) => [g.special([40])], params: { dtype: to } },
    { inputs: (g: Gen) => [g.f([40], -5e9, 5e9)], params: { dtype: to } },
    { inputs: (g: Gen) => [g.bits([40], "int32")], params: { dtype: to } },
    { inputs: (g: Gen) => [g.bits([40], "uint32")], params: { dtype: to } },
    { inputs: (g: Gen) => [g.b([10])], params: { dtype: to } },
  ]),
  bitcast: [
    { inputs: (g) => [g.special([20])], params: { dtype: "uint32" } },
    { inputs: (g) => [g.bits([20], "int32")], params: { dtype: "float32" } },
    { inputs: (g) => [g.bits([20], "uint32")], params: { dtype: "int32" } },
  ],
  argsort: [
    ...[false, true].map((descending) => ({
      inputs: (g: Gen) => [g.special([3, 37])],
      params: { axis: 1, descending },
    })),
    { inputs: (g) => [g.i([50, 4], 0, 5)], params: { axis: 0, descending: true } },
    { inputs: (g) => [g.bits([2, 100], "uint32")], params: { axis: 1, descending: false } },
    {
      inputs: (g) => [g.i([3000], 0, 200)],
      params: { axis: 0, descending: false },
      label: "global network",
    },
  ],
  randomBits: [
    { inputs: (g) => [g.bits([2], "uint32")], params: { shape: [5] } },
    { inputs: (g) => [g.bits([2], "uint32")], params: { shape: [3, 333] } },
  ],
  stopGradient: copy,
  ...VISION_PARITY,
};

function intAsFloat(g: Gen, shape: number[], lo: number, hi: number): Tensor {
  return bind("cast", [g.i(shape, lo, hi)], { dtype: "float32" });
}

// One test per public op: a family primitive's cases are grouped by their `op`.
for (const prim of Object.keys(CASES) as Prim[]) {
  const byOp = Map.groupBy(CASES[prim] as Case<Prim>[], (c) => opName(prim, c.params));
  for (const [name, cases] of byOp) {
    gpuTest(`parity with cpu: ${name}`, async () => {
      for (const [k, c] of cases.entries()) {
        await scope(async () => {
          const ins = c.inputs(new Gen(1000 + k * 7919 + name.length));
          const want = bind(prim, ins, c.params);
          const gins = await Promise.all(ins.map((t) => toBackend(t, "webgpu")));
          const got = bind(prim, gins, c.params);
          await expectClose(got, want, c.tol, `${name} case ${k}${c.label ? ` (${c.label})` : ""}`);
        });
      }
    });
  }
}

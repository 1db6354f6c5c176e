/**
 * The static parameters of each primitive (`PrimParams`); re-exported by tensor/primitives.ts.
 * @module
 */
import type {
  ArgReduceOp,
  BinaryOp,
  BitwiseOp,
  CompareOp,
  LogicalOp,
  ReduceOp,
  UnaryOp,
} from "./prim_ops.ts";
import type { DType } from "./dtype.ts";
import type {
  Conv2dParams,
  Conv2dWeightGradParams,
  ConvTranspose2dParams,
  MaxPool2dParams,
  NmsKeepParams,
  Resample2dParams,
  RoiAlignGradParams,
  RoiAlignParams,
} from "./vision_params.ts";

/** Params of primitives that take none. */
export type NoParams = Record<string, never>;

/**
 * Static parameters of each primitive, normalised (axes non-negative and sorted, full-length
 * per-axis lists). Inputs are tensors and are passed separately.
 */
export type PrimParams =
  & {
    /** Elementwise unary op. */
    unary: { op: UnaryOp };
    /** Broadcasting arithmetic, same dtype in and out. */
    binary: { op: BinaryOp };
    /** Broadcasting comparison, bool out. */
    compare: { op: CompareOp };
    /** Broadcasting logical op on bools. */
    logical: { op: LogicalOp };
    /** Broadcasting bitwise op on int32/uint32. */
    bitwise: { op: BitwiseOp };
    /** Reduced axes are kept with size 1 (the public op reshapes them away). */
    reduce: { op: ReduceOp; axes: readonly number[] };
    /** Index of the extreme element along `axis`; output keeps `axis` with size 1. */
    argReduce: { op: ArgReduceOp; axis: number };
  }
  & {
    /** inputs: cond (bool), x, y — broadcast together. */
    where: NoParams;
    cumsum: { axis: number; reverse: boolean };
    /** inputs a [...batch, M, K] (or [..., K, M] when transA), b likewise; batch dims broadcast. */
    matmul: { transA: boolean; transB: boolean };
    reshape: { shape: readonly number[] };
    permute: { perm: readonly number[] };
    broadcastTo: { shape: readonly number[] };
    /** Full-length per-axis lists; steps ≥ 1; 0 ≤ start; stop ≥ start. */
    slice: { starts: readonly number[]; stops: readonly number[]; steps: readonly number[] };
    flip: { axes: readonly number[] };
    /** Constant padding with `interior` elements between neighbours; all entries ≥ 0. */
    pad: {
      lo: readonly number[];
      hi: readonly number[];
      interior: readonly number[];
      value: number;
    };
    concat: { axis: number };
    /** inputs x, indices (int32); out shape x[:axis] ++ indices ++ x[axis+1:]. */
    gather: { axis: number };
    /** inputs x, indices (int32), updates; adds updates into a copy of x (adjoint of gather). */
    scatterAdd: { axis: number };
    /** Value conversion (float→int truncates toward zero; to bool is `x != 0`). */
    cast: { dtype: DType };
    /** Reinterprets the bits between same-width dtypes (float32/int32/uint32). */
    bitcast: { dtype: DType };
    /** Stable; int32 indices along `axis`. */
    argsort: { axis: number; descending: boolean };
    /** input: a uint32 key of shape [2]; Threefry-2x32 bits (JAX's layout). */
    randomBits: { shape: readonly number[] };
    /** Identity whose derivative is zero at every order. */
    stopGradient: NoParams;
  }
  & {
    /** inputs x [N,C,H,W], w [O,C/groups,kh,kw] → [N,O,OH,OW]. */
    conv2d: Conv2dParams;
    /** inputs x [N,Cin,H,W], w [Cin,Cout/groups,kh,kw] (conv2d's input adjoint). */
    convTranspose2d: ConvTranspose2dParams;
    /** inputs x [N,C,H,W], dy [N,O,OH,OW] → [O,C/groups,kh,kw] (conv2d's weight adjoint). */
    conv2dWeightGrad: Conv2dWeightGradParams;
    /** Window maxima (NaN propagates). */
    maxPool2d: MaxPool2dParams;
    /** int32 flat `h·W + w` index of each window's maximum (PyTorch's `indices`). */
    maxPool2dArgmax: MaxPool2dParams;
    /** A separable sparse linear map (pools, interpolation) or its transpose. */
    resample2d: Resample2dParams;
    /** inputs x [N,C,H,W], boxes [K,5] → [K,C,ph,pw]. */
    roiAlign: RoiAlignParams;
    /** inputs g [K,C,ph,pw], boxes [K,5] → [N,C,H,W] (roiAlign's adjoint). */
    roiAlignGrad: RoiAlignGradParams;
    /** input boxes [K,4] sorted by score → bool [K]: kept by greedy NMS. */
    nmsKeep: NmsKeepParams;
  };

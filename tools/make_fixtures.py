#!/usr/bin/env python3
"""Generates PyTorch reference fixtures for tessera's tests.

    python3 tools/make_fixtures.py

Writes (deterministically, from torch.manual_seed):
  tests/fixtures/torch_ops.safetensors  inputs and torch outputs for each op case; the
      metadata key "case:<name>" holds JSON {"op", "args", "inputs", "outputs"} and the
      tensors are named "<name>/<input or output name>".
  tests/fixtures/interop.safetensors    one tensor of every safetensors dtype tessera decodes
      (F16, BF16, I64, U64, I8, ... as PyTorch/NumPy store them) plus float32/float64 copies
      of the values they should decode to, a rank-0 and a zero-size tensor, and UTF-8 metadata.

The safetensors writer below follows the reference implementation (u64 LE header length,
compact JSON header padded with spaces to a multiple of 8, tensors sorted by descending
alignment then name, contiguous) so no `safetensors` package is needed. Only torch and numpy
are; Debian's python3-torch lives in /usr/bin/python3, so the script re-runs itself there
when the python3 on PATH lacks torch.
"""
import json
import os
import struct
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")

# ---------------------------------------------------------------- safetensors writer

ST_NAMES = {np.dtype(k): v for k, v in [("float64", "F64"), ("float32", "F32"), ("float16", "F16"),
            ("int64", "I64"), ("uint64", "U64"), ("int32", "I32"), ("uint32", "U32"),
            ("int16", "I16"), ("uint16", "U16"), ("int8", "I8"), ("uint8", "U8"), ("bool", "BOOL")]}

ST_SIZES = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2, "U16": 2,
            "I8": 1, "U8": 1, "BOOL": 1}


def to_raw(value):
    """(safetensors dtype, shape, little-endian bytes) of a torch tensor or numpy array."""
    if isinstance(value, torch.Tensor):
        value = value.detach().contiguous()
        if value.dtype == torch.bfloat16:
            return "BF16", list(value.shape), value.view(torch.int16).numpy().astype("<i2").tobytes()
        value = value.numpy()
    arr = np.asarray(value, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
    return ST_NAMES[arr.dtype], list(arr.shape), arr.astype(arr.dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, tensors, metadata=None):
    raws = {name: to_raw(v) for name, v in tensors.items()}
    order = sorted(raws, key=lambda n: (-ST_SIZES[raws[n][0]], n.encode("utf-8")))
    header, offset = ({"__metadata__": metadata} if metadata is not None else {}), 0
    for name in order:
        dtype, shape, data = raws[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    head = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(raws[n][2] for n in order))


# ---------------------------------------------------------------- op cases

TENSORS, META = {}, {}


def case(name, op, inputs, outputs, **args):
    """Records one case: input/output dicts of tensors (int64 results narrowed to int32)."""
    assert f"case:{name}" not in META, name
    def norm(t):
        t = torch.as_tensor(t)
        return t.to(torch.int32) if t.dtype == torch.int64 else t
    for kind, group in (("inputs", inputs), ("outputs", outputs)):
        for k, t in group.items():
            TENSORS[f"{name}/{k}"] = norm(t)
    META[f"case:{name}"] = json.dumps({"op": op, "args": args, "inputs": list(inputs), "outputs": list(outputs)},
                                      separators=(",", ":"))


def unary(name, op, fn, x, **args):
    case(name, op, {"x": x}, {"out": fn(x)}, **args)


def binary(name, op, fn, a, b, **args):
    case(name, op, {"a": a, "b": b}, {"out": fn(a, b)}, **args)


def make_op_cases():
    torch.manual_seed(0)
    f64 = torch.float64
    rn = lambda *s, dtype=torch.float32: torch.randn(*s, dtype=dtype)
    pos = lambda *s, dtype=torch.float32: torch.rand(*s, dtype=dtype) * 3 + 0.05
    halves = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -0.0])

    # Unary elementwise.
    unary("neg", "neg", torch.neg, rn(3, 4))
    unary("abs", "abs", torch.abs, rn(3, 4))
    unary("sign", "sign", torch.sign, torch.cat([rn(7), torch.zeros(1)]))
    unary("exp", "exp", torch.exp, rn(2, 5) * 3)
    unary("exp_f64", "exp", torch.exp, rn(2, 5, dtype=f64) * 3)
    unary("log", "log", torch.log, pos(3, 4))
    unary("log_f64", "log", torch.log, pos(3, 4, dtype=f64))
    unary("log1p", "log1p", torch.log1p, torch.cat([torch.rand(6) * 2.5 - 0.9, rn(4) * 1e-4]))
    unary("expm1", "expm1", torch.expm1, torch.cat([rn(6) * 2, rn(4) * 1e-4]))
    unary("sqrt", "sqrt", torch.sqrt, pos(3, 4))
    unary("rsqrt", "rsqrt", torch.rsqrt, pos(3, 4))
    unary("reciprocal", "reciprocal", torch.reciprocal, torch.sign(rn(12)) * (torch.rand(12) + 0.5))
    unary("sin", "sin", torch.sin, rn(3, 4) * 3)
    unary("cos", "cos", torch.cos, rn(3, 4) * 3)
    unary("tanh", "tanh", torch.tanh, rn(3, 4) * 2)
    unary("tanh_f64", "tanh", torch.tanh, rn(3, 4, dtype=f64) * 2)
    unary("erf", "erf", torch.erf, rn(3, 4) * 1.5)
    unary("erf_f64", "erf", torch.erf, rn(3, 4, dtype=f64) * 1.5)
    unary("floor", "floor", torch.floor, torch.cat([rn(8) * 3, halves]))
    unary("ceil", "ceil", torch.ceil, torch.cat([rn(8) * 3, halves]))
    unary("round", "round", torch.round, torch.cat([rn(8) * 3, halves]))  # half to even
    unary("neg_i32", "neg", torch.neg, torch.randint(-50, 50, (6,), dtype=torch.int32))
    unary("abs_i32", "abs", torch.abs, torch.randint(-50, 50, (6,), dtype=torch.int32))

    # Binary elementwise with broadcasting and size-1 dims.
    binary("add", "add", torch.add, rn(2, 3, 4), rn(3, 1))
    binary("add_f64", "add", torch.add, rn(2, 1, 4, dtype=f64), rn(3, 4, dtype=f64))
    binary("add_i32", "add", torch.add, torch.randint(-9, 9, (3, 4), dtype=torch.int32),
           torch.randint(-9, 9, (4,), dtype=torch.int32))
    binary("sub", "sub", torch.sub, rn(4, 1), rn(1, 5))
    binary("mul", "mul", torch.mul, rn(2, 3, 1), rn(1, 4))
    binary("mul_i32", "mul", torch.mul, torch.randint(-9, 9, (2, 3), dtype=torch.int32),
           torch.randint(-9, 9, (2, 1), dtype=torch.int32))
    binary("div", "div", torch.div, rn(3, 4), torch.sign(rn(4)) * (torch.rand(4) + 0.5))
    binary("div_f64", "div", torch.div, rn(3, 4, dtype=f64), pos(3, 1, dtype=f64))
    binary("pow", "pow", torch.pow, pos(3, 4), rn(4) * 2)
    binary("pow_f64", "pow", torch.pow, pos(2, 3, dtype=f64), rn(2, 3, dtype=f64) * 2)
    binary("maximum", "maximum", torch.maximum, rn(3, 1, 4), rn(2, 4))
    binary("minimum", "minimum", torch.minimum, rn(3, 1, 4), rn(2, 4))
    binary("maximum_i32", "maximum", torch.maximum, torch.randint(-9, 9, (5,), dtype=torch.int32),
           torch.randint(-9, 9, (5,), dtype=torch.int32))
    ia, ib = torch.randint(0, 3, (3, 4)).float(), torch.randint(0, 3, (4,)).float()  # with ties
    for op, fn in [("equal", torch.eq), ("notEqual", torch.ne), ("less", torch.lt), ("lessEqual", torch.le),
                   ("greater", torch.gt), ("greaterEqual", torch.ge)]:
        binary(op, op, fn, ia, ib)
    cond, wx, wy = rn(3, 4) > 0, rn(3, 4), rn(1, 4)
    case("where", "where", {"cond": cond, "x": wx, "y": wy}, {"out": torch.where(cond, wx, wy)})
    x = rn(3, 5) * 2
    case("clamp", "clamp", {"x": x}, {"out": torch.clamp(x, -0.5, 0.7)}, min=-0.5, max=0.7)

    # Casts (float -> int truncates toward zero; anything -> bool is x != 0).
    x = torch.cat([rn(8) * 5, torch.tensor([0.0, -0.0, 2.9999, -2.9999])])
    unary("cast_f32_i32", "cast", lambda t: t.to(torch.int32), x, dtype="int32")
    unary("cast_i32_f32", "cast", lambda t: t.to(torch.float32),
          torch.randint(-1000, 1000, (6,), dtype=torch.int32), dtype="float32")
    unary("cast_f32_bool", "cast", lambda t: t.to(torch.bool), torch.cat([rn(4), torch.zeros(2)]), dtype="bool")
    unary("cast_bool_f32", "cast", lambda t: t.to(torch.float32), rn(6) > 0, dtype="float32")
    unary("cast_f64_f32", "cast", lambda t: t.to(torch.float32), rn(6, dtype=f64) * 1e3, dtype="float32")
    unary("cast_f32_f64", "cast", lambda t: t.to(f64), rn(6), dtype="float64")

    # Reductions.
    x = rn(2, 3, 4)
    for op, fn in [("sum", torch.sum), ("max", torch.amax), ("min", torch.amin), ("mean", torch.mean)]:
        unary(f"{op}_axis1", op, lambda t: fn(t, dim=1), x, axis=1, keepdims=False)
        unary(f"{op}_axes02_keep", op, lambda t: fn(t, dim=(0, 2), keepdim=True), x, axis=[0, 2], keepdims=True)
        unary(f"{op}_all", op, lambda t: fn(t, dim=(0, 1, 2)), x, axis=None, keepdims=False)
    unary("sum_f64", "sum", lambda t: t.sum(dim=-1), rn(3, 7, dtype=f64), axis=-1, keepdims=False)
    unary("sum_i32", "sum", lambda t: t.sum(dim=0), torch.randint(-9, 9, (4, 3), dtype=torch.int32),
          axis=0, keepdims=False)
    for op, fn in [("argmax", torch.argmax), ("argmin", torch.argmin)]:
        unary(f"{op}_axis1", op, lambda t: fn(t, dim=1), x, axis=1, keepdims=False)
        unary(f"{op}_axis0_keep", op, lambda t: fn(t, dim=0, keepdim=True), x, axis=0, keepdims=True)
        unary(f"{op}_all", op, fn, x, axis=None, keepdims=False)
    unary("var_unbiased", "var", lambda t: torch.var(t, dim=1, unbiased=True), x, axis=1, keepdims=False,
          correction=1)
    unary("var_biased_keep", "var", lambda t: torch.var(t, dim=(0, 2), unbiased=False, keepdim=True), x,
          axis=[0, 2], keepdims=True, correction=0)
    unary("var_f64", "var", lambda t: torch.var(t, unbiased=True), rn(4, 5, dtype=f64), axis=None, keepdims=False,
          correction=1)
    unary("logsumexp_axis1", "logsumexp", lambda t: torch.logsumexp(t, dim=1), x * 4, axis=1, keepdims=False)
    unary("logsumexp_axes01_keep", "logsumexp", lambda t: torch.logsumexp(t, dim=(0, 1), keepdim=True), x * 4,
          axis=[0, 1], keepdims=True)
    y = rn(3, 5)
    unary("cumsum_axis1", "cumsum", lambda t: torch.cumsum(t, dim=1), y, axis=1, reverse=False)
    unary("cumsum_axis0", "cumsum", lambda t: torch.cumsum(t, dim=0), y, axis=0, reverse=False)
    unary("cumsum_reverse", "cumsum", lambda t: torch.cumsum(t.flip(1), dim=1).flip(1), y, axis=1, reverse=True)

    # Activations and normalisation.
    x = rn(3, 6) * 3
    unary("relu", "relu", torch.relu, x)
    unary("sigmoid", "sigmoid", torch.sigmoid, x)
    unary("gelu", "gelu", lambda t: F.gelu(t), x, approximate="none")
    unary("gelu_tanh", "gelu", lambda t: F.gelu(t, approximate="tanh"), x, approximate="tanh")
    unary("silu", "silu", F.silu, x)
    unary("softmax_last", "softmax", lambda t: torch.softmax(t, dim=-1), x, axis=-1)
    unary("softmax_axis0", "softmax", lambda t: torch.softmax(t, dim=0), x, axis=0)
    unary("softmax_f64", "softmax", lambda t: torch.softmax(t, dim=-1), rn(2, 5, dtype=f64) * 3, axis=-1)
    unary("log_softmax", "logSoftmax", lambda t: torch.log_softmax(t, dim=-1), x, axis=-1)
    unary("log_softmax_axis0", "logSoftmax", lambda t: torch.log_softmax(t, dim=0), x, axis=0)
    for name, dtype, norm in [("layer_norm", torch.float32, [8]), ("layer_norm_2d", torch.float32, [3, 8]),
                              ("layer_norm_f64", f64, [8])]:
        lx, w, b = rn(2, 3, 8, dtype=dtype) * 2 + 1, rn(*norm, dtype=dtype), rn(*norm, dtype=dtype)
        case(name, "layerNorm", {"x": lx, "weight": w, "bias": b},
             {"out": F.layer_norm(lx, norm, w, b, eps=1e-6)}, eps=1e-6, axes=list(range(-len(norm), 0)))

    # Linear algebra.
    binary("matmul_2d", "matmul", torch.matmul, rn(3, 4), rn(4, 5))
    binary("matmul_batched", "matmul", torch.matmul, rn(2, 3, 4), rn(2, 4, 5))
    binary("matmul_bcast_batch", "matmul", torch.matmul, rn(2, 1, 3, 4), rn(3, 4, 2))
    binary("matmul_vec_mat", "matmul", torch.matmul, rn(4), rn(2, 4, 3))
    binary("matmul_mat_vec", "matmul", torch.matmul, rn(3, 4), rn(4))
    binary("matmul_f64", "matmul", torch.matmul, rn(3, 6, dtype=f64), rn(6, 2, dtype=f64))
    a, b = rn(3, 4), rn(5, 4)
    case("matmul_transB", "matmul", {"a": a, "b": b}, {"out": a @ b.T}, transB=True)
    for name, eq, shapes in [("einsum_mm", "ij,jk->ik", [(3, 4), (4, 5)]),
                             ("einsum_bmm", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
                             ("einsum_transpose", "ij->ji", [(3, 4)]),
                             ("einsum_colsum", "ij->j", [(3, 4)]),
                             ("einsum_outer", "i,j->ij", [(3,), (4,)]),
                             ("einsum_dot", "ij,ij->", [(3, 4), (3, 4)]),
                             ("einsum_3way", "bi,ij,bj->b", [(2, 3), (3, 4), (2, 4)]),
                             ("einsum_bilinear", "bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)])]:
        ops = [rn(*s) for s in shapes]
        case(name, "einsum", {f"x{i}": t for i, t in enumerate(ops)}, {"out": torch.einsum(eq, *ops)}, equation=eq)

    # Movement.
    x = rn(2, 3, 4)
    unary("permute", "permute", lambda t: t.permute(2, 0, 1), x, perm=[2, 0, 1])
    x2 = rn(5, 6)
    for name, specs in [("slice_step", [[1, 5, 2], [None, None, 3]]), ("slice_neg_step", [[None, None, -2], [4, 0, -1]]),
                        ("slice_negative_idx", [[-3, None, None], [1, -1, 2]])]:
        idx = tuple(slice(*s) for s in specs)
        unary(name, "slice", lambda t: torch.from_numpy(np.ascontiguousarray(t.numpy()[idx])), x2, specs=specs)
    unary("pad", "pad", lambda t: F.pad(t, (0, 3, 1, 2), value=0.5), x2, widths=[[1, 2], [0, 3]], value=0.5)
    parts = [rn(2, 1, 4), rn(2, 3, 4), rn(2, 2, 4)]
    case("concat", "concat", {f"x{i}": t for i, t in enumerate(parts)}, {"out": torch.cat(parts, dim=1)}, axis=1)
    parts = [rn(2, 3) for _ in range(3)]
    case("stack_axis1", "stack", {f"x{i}": t for i, t in enumerate(parts)}, {"out": torch.stack(parts, dim=1)}, axis=1)
    case("stack_last", "stack", {f"x{i}": t for i, t in enumerate(parts)}, {"out": torch.stack(parts, dim=-1)},
         axis=-1)

    # Indexing.
    x = rn(3, 5)
    idx = torch.randint(0, 5, (3, 4))
    case("take_along_axis", "takeAlongAxis", {"x": x, "indices": idx}, {"out": torch.gather(x, 1, idx)}, axis=1)
    idx0 = torch.randint(0, 3, (2, 5))
    case("take_along_axis0", "takeAlongAxis", {"x": x, "indices": idx0}, {"out": torch.gather(x, 0, idx0)}, axis=0)
    sel = torch.tensor([2, 0, 2, 1])
    case("index_select0", "gather", {"x": x, "indices": sel}, {"out": torch.index_select(x, 0, sel)}, axis=0)
    sel2 = torch.tensor([[4, 0], [1, 1], [3, 2]])
    case("index_select1_2d", "gather", {"x": x, "indices": sel2},
         {"out": torch.index_select(x, 1, sel2.flatten()).reshape(3, 3, 2)}, axis=1)
    ids = torch.randint(0, 5, (2, 3))
    case("one_hot", "oneHot", {"indices": ids}, {"out": F.one_hot(ids, 5).to(torch.float32)}, numClasses=5,
         dtype="float32")

    # Sorting (random floats: no ties, so stable and unstable sorts agree).
    x = rn(3, 6)
    unary("sort_last", "sort", lambda t: torch.sort(t, dim=-1).values, x, axis=-1, descending=False)
    unary("sort_axis0_desc", "sort", lambda t: torch.sort(t, dim=0, descending=True).values, x, axis=0,
          descending=True)
    unary("argsort_last", "argsort", lambda t: torch.argsort(t, dim=-1), x, axis=-1, descending=False)
    unary("argsort_axis0_desc", "argsort", lambda t: torch.argsort(t, dim=0, descending=True), x, axis=0,
          descending=True)
    for name, largest in [("topk_largest", True), ("topk_smallest", False)]:
        r = torch.topk(x, 3, dim=-1, largest=largest, sorted=True)
        case(name, "topk", {"x": x}, {"values": r.values, "indices": r.indices}, k=3, axis=-1, largest=largest)


# ---------------------------------------------------------------- interop file

def make_interop():
    vals = [0.0, -0.0, 1.0, -2.5, 0.333251953125, 65504.0, 6.103515625e-05, 5.960464477539063e-08,
            float("inf"), float("-inf")]
    f16 = torch.tensor(vals, dtype=torch.float16)
    bf16 = torch.tensor([0.0, -1.0, 3.140625, 1e30, -1e-30, 9.1e-41, float("inf")], dtype=torch.bfloat16)
    i64 = np.array([0, -1, 2147483647, -2147483648, 123456789], dtype=np.int64)
    u64 = np.array([0, 1, 4294967295, 3000000000], dtype=np.uint64)
    small = {"i8": np.array([-128, -1, 0, 127], dtype=np.int8), "u8": np.array([0, 1, 200, 255], dtype=np.uint8),
             "i16": np.array([-32768, -7, 0, 32767], dtype=np.int16),
             "u16": np.array([0, 9, 40000, 65535], dtype=np.uint16)}
    tensors = {"f16": f16, "f16_as_f32": f16.float(), "bf16": bf16, "bf16_as_f32": bf16.float(),
               "i64": i64, "i64_as_f64": i64.astype(np.float64), "u64": u64, "u64_as_f64": u64.astype(np.float64),
               **small, **{f"{k}_as_f64": v.astype(np.float64) for k, v in small.items()},
               "f32_scalar": torch.tensor(3.5), "f64": torch.tensor([[1.0, 2.0], [3.0, 1e-300]], dtype=torch.float64),
               "empty": torch.zeros(0, 3), "bool": torch.tensor([[True, False, True]]),
               "i32": torch.tensor([-5, 7], dtype=torch.int32), "u32": np.array([4294967295, 0], dtype=np.uint32)}
    meta = {"format": "pt", "note": "héllo ✓ \"quoted\"", "generator": "tools/make_fixtures.py"}
    write_safetensors(os.path.join(ROOT, "interop.safetensors"), tensors, meta)


def main():
    os.makedirs(ROOT, exist_ok=True)
    torch.set_num_threads(1)
    make_op_cases()
    META.update({"generator": "tools/make_fixtures.py", "torch_version": torch.__version__})
    path = os.path.join(ROOT, "torch_ops.safetensors")
    write_safetensors(path, TENSORS, META)
    make_interop()
    n = sum(1 for k in META if k.startswith("case:"))
    print(f"wrote {path}: {n} cases, {len(TENSORS)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()

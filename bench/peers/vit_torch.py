"""PyTorch side of the ViT-Tiny benchmark (run with /usr/bin/python3; Debian python3-torch).

The same model as bench/vit_step.ts, written with the same functional ops and [in, out]
weight layouts, reading the same weights and batch from the safetensors file that
vit_step.ts writes (parsed here with numpy: no safetensors package needed). AdamW is
torch.optim.AdamW with the same hyper-parameters.

    /usr/bin/python3 bench/peers/vit_torch.py --weights FILE --mode step|forward
        [--steps N] [--threads 2]

Prints one JSON line: peer, bench, n (batch), ms (best step), imgPerS, peakRssMiB, loss0.
"""
import json
import math
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

DIM, DEPTH, HEADS, MLP, PATCH, IMAGE, CLASSES = 192, 12, 3, 768, 4, 32, 10
DTYPES = {"F32": np.float32, "I32": np.int32, "F64": np.float64}


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        lo, hi = e["data_offsets"]
        arr = np.frombuffer(raw[base + lo:base + hi], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def linear(x, p, name):
    return x @ p[name + ".w"] + p[name + ".b"]


def ln(x, p, name):
    return F.layer_norm(x, (x.shape[-1],), p[name + ".w"], p[name + ".b"], eps=1e-6)


def attention(x, p, b):
    B, T, D = x.shape
    hd = D // HEADS
    qkv = linear(x, p, b + "qkv").reshape(B, T, 3, HEADS, hd).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    att = torch.softmax((q @ k.transpose(-1, -2)) * (1 / math.sqrt(hd)), dim=-1)
    o = (att @ v).permute(0, 2, 1, 3).reshape(B, T, D)
    return linear(o, p, b + "proj")


def forward(p, x):
    B, G = x.shape[0], IMAGE // PATCH
    patches = x.reshape(B, 3, G, PATCH, G, PATCH).permute(0, 2, 4, 1, 3, 5).reshape(B, G * G, -1)
    h = linear(patches, p, "patch")
    h = torch.cat([p["cls"].expand(B, 1, DIM), h], dim=1) + p["pos"]
    for i in range(DEPTH):
        b = f"blocks.{i}."
        h = h + attention(ln(h, p, b + "ln1"), p, b)
        h = h + linear(F.gelu(linear(ln(h, p, b + "ln2"), p, b + "fc1")), p, b + "fc2")
    return linear(ln(h, p, "norm")[:, 0], p, "head")


def main():
    torch.set_num_threads(int(arg("--threads", "2")))
    mode, steps = arg("--mode", "step"), int(arg("--steps", "3"))
    data = read_safetensors(arg("--weights", None))
    x, y = data.pop("x"), data.pop("y").long()
    p = {k: v.requires_grad_(True) for k, v in data.items()}
    opt = torch.optim.AdamW(p.values(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)
    losses, times = [], []
    for _ in range(steps + 1):  # the first step warms up
        t0 = time.perf_counter()
        if mode == "forward":
            with torch.no_grad():
                loss = F.cross_entropy(forward(p, x), y)
        else:
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(forward(p, x), y)
            loss.backward()
            opt.step()
        losses.append(float(loss))
        times.append((time.perf_counter() - t0) * 1e3)
    ms = min(times[1:])
    print(json.dumps({
        "peer": f"pytorch {torch.__version__.split('+')[0]} (cpu, {torch.get_num_threads()}T)",
        "bench": "vit-forward" if mode == "forward" else "vit-step",
        "n": x.shape[0], "ms": ms, "imgPerS": x.shape[0] / (ms / 1e3),
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "loss0": losses[0], "losses": losses,
    }), flush=True)


if __name__ == "__main__":
    main()

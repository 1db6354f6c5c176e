"""PyTorch CPU side of bench/vision_bench.ts (Debian python3-torch + python3-torchvision; run
with /usr/bin/python3). Same problems and timing protocol as the tessera side (warm-up, then
the best of 3 rounds of enough repetitions to fill ~0.3 s). Prints one JSON line per bench:
{"bench": name, "ms": milliseconds per run, "label": ...}.
"""
import json
import sys
import time

import torch
import torchvision


def time_it(fn, min_s=0.3, sync=lambda: None):
    fn()
    sync()
    t0 = time.perf_counter()
    fn()
    sync()
    probe = time.perf_counter() - t0
    reps = max(1, min(200, int(min_s / max(probe, 1e-5)) + 1))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        sync()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best * 1e3


def boxes(k):
    """The same closed-form boxes as bench/vision_bench.ts: (batch, x1, y1, x2, y2) in an 800² image."""
    rows = []
    for i in range(k):
        x1, y1 = (i * 37) % 640, (i * 91) % 640
        rows.append([i % 2, x1, y1, x1 + 8 + (i * 53) % 400, y1 + 8 + (i * 29) % 400])
    return torch.tensor(rows, dtype=torch.float32)


def main():
    """--threads N (CPU threads), --cuda (also time on the GPU when torch sees one)."""
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
    torch.set_num_threads(threads)
    label = f"pytorch {torch.__version__.split('+')[0]} / torchvision {torchvision.__version__.split('+')[0]} (cpu, {threads}T)"
    devices = ["cpu"] + (["cuda"] if "--cuda" in sys.argv and torch.cuda.is_available() else [])
    for dev in devices:
        sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
        suffix = "" if dev == "cpu" else " cuda"
        gen = torch.Generator().manual_seed(0)
        x = (torch.rand(8, 64, 56, 56, generator=gen) - 0.5).to(dev)
        w = ((torch.rand(64, 64, 3, 3, generator=gen) - 0.5) * 0.1).to(dev)
        out = {}
        out["conv2d fwd"] = time_it(lambda: torch.nn.functional.conv2d(x, w, padding=1), sync=sync)
        xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()

        def conv_fb():
            y = torch.nn.functional.conv2d(xg, wg, padding=1)
            return torch.autograd.grad(y, (xg, wg), torch.ones_like(y))

        out["conv2d fwd+bwd"] = time_it(conv_fb, sync=sync)
        feat = (torch.rand(2, 256, 50, 50, generator=gen) - 0.5).to(dev)
        bx = boxes(512).to(dev)

        def ra(f):
            return torchvision.ops.roi_align(f, bx, 7, spatial_scale=1 / 16, sampling_ratio=0, aligned=True)

        out["roiAlign fwd"] = time_it(lambda: ra(feat), sync=sync)
        fg = feat.clone().requires_grad_()

        def roi_fb():
            y = ra(fg)
            return torch.autograd.grad(y, fg, torch.ones_like(y))

        out["roiAlign fwd+bwd"] = time_it(roi_fb, sync=sync)
        name = label if dev == "cpu" else f"pytorch {torch.__version__.split('+')[0]} (cuda: {torch.cuda.get_device_name()})"
        for k, ms in out.items():
            print(json.dumps({"bench": k + suffix, "ms": ms, "label": name}), flush=True)


if __name__ == "__main__":
    main()

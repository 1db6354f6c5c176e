"""PyTorch CPU side of the matmul comparison (Debian python3-torch; run with /usr/bin/python3).

Inputs are uniform in [-0.5, 0.5) like the JavaScript peers' (values do not affect dense
matmul speed), same timing protocol (warm-up, best of 3 rounds). Prints JSON lines like bench/peers/_common.ts.
"""
import json
import sys
import time

import torch

SIZES = [256, 512, 1024, 2048]


def reps_for(n):
    return 200 if n <= 256 else 40 if n <= 512 else 10 if n <= 1024 else 3


def time_it(fn, reps, warm=3):
    for _ in range(warm):
        fn()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best * 1e3


def main():
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
    torch.set_num_threads(threads)
    label = f"pytorch {torch.__version__.split('+')[0]} (cpu, {threads}T)"
    for n in SIZES:
        g = torch.Generator().manual_seed(n)
        a = torch.rand(n, n, generator=g) - 0.5
        b = torch.rand(n, n, generator=g) - 0.5
        ms = time_it(lambda: torch.matmul(a, b), reps_for(n))
        print(json.dumps({"peer": label, "bench": "matmul", "n": n, "ms": ms,
                          "gflops": 2 * n**3 / (ms * 1e6)}), flush=True)


if __name__ == "__main__":
    main()

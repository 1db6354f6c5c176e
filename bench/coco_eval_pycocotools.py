#!/usr/bin/env python3
"""pycocotools side of bench/coco_eval_bench.ts: times COCO(gt) + loadRes (load) and
evaluate + accumulate + summarize (eval), best of `rounds`, and prints one JSON line with the
times and the 12 stats.  Usage: coco_eval_pycocotools.py GT.json DT.json [rounds]
pycocotools is found on $PYCOCOTOOLS (see tools/make_coco_fixtures.py for the build)."""
import contextlib
import io
import json
import os
import sys
import time

sys.path.insert(0, os.environ.get("PYCOCOTOOLS", "/tmp/coco/PythonAPI"))
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

gt_path, dt_path = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
best_load, best_eval = float("inf"), float("inf")
for _ in range(rounds):
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        t1 = time.perf_counter()
        e = COCOeval(gt, dt, "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
        t2 = time.perf_counter()
    best_load, best_eval = min(best_load, t1 - t0), min(best_eval, t2 - t1)
print(json.dumps({"load_s": best_load, "eval_s": best_eval, "stats": [float(x) for x in e.stats]}))

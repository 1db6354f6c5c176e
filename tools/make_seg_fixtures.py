#!/usr/bin/env python3
"""Generates tests/fixtures/seg_metrics.json: mmseg IoUMetric arithmetic in numpy, the oracle
of tessera's data/eval/seg_metrics.ts (mmseg itself is not installable here).

    /usr/bin/python3 tools/make_seg_fixtures.py

Re-states mmseg's `intersect_and_union` (drop label == 255; torch.histc over 0..C-1, values
outside not counted), the data-set sums, and `total_area_to_metrics` (IoU = I/U, Acc = I/label,
nanmean, aAcc = sum I / sum label), plus `reduce_zero_label` (0 -> 255, v -> v - 1, 254 -> 255).
Includes the golden example of spec data-eval.md §3.4. NaN is stored as null.
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "seg_metrics.json")


def reduce_zero_label(lab):
    lab = lab.astype(np.int64).copy()
    lab[lab == 0] = 255
    lab = lab - 1
    lab[lab == 254] = 255
    return lab


def intersect_and_union(pred, label, C, ignore=255):
    mask = label != ignore
    pred, label = pred[mask], label[mask]
    inter = pred[pred == label]
    hist = lambda v: np.histogram(v, bins=C, range=(0, C - 1))[0].astype(np.float64)
    ai, ap, al = hist(inter), hist(pred), hist(label)
    return ai, ap + al - ai, ap, al


def metrics(images, C, rzl):
    tot = [np.zeros(C) for _ in range(4)]
    for im in images:
        lab = np.array(im["label"])
        if rzl:
            lab = reduce_zero_label(lab)
        for t, a in zip(tot, intersect_and_union(np.array(im["pred"]), lab, C)):
            t += a
    ti, tu, tp, tl = tot
    with np.errstate(divide="ignore", invalid="ignore"):
        iou, acc = ti / tu, ti / tl
    nn = lambda v: [None if np.isnan(x) else float(x) for x in v]
    return {"intersect": ti.tolist(), "union": tu.tolist(), "pred": tp.tolist(), "label": tl.tolist(),
            "iou": nn(iou), "acc": nn(acc), "aAcc": float(ti.sum() / tl.sum()),
            "mIoU": float(np.nanmean(iou)), "mAcc": float(np.nanmean(acc))}


def main():
    rng = np.random.default_rng(7)
    cases = [{"name": "spec-3.4", "C": 3, "reduceZeroLabel": True, "images": [
        {"label": [0, 1, 1, 1, 2, 2, 2, 2], "pred": [2, 0, 0, 1, 1, 1, 1, 1]},
        {"label": [3, 3, 3, 3, 3, 3, 0, 0], "pred": [2] * 8}]}]
    for k, (C, rzl) in enumerate([(5, False), (6, True), (11, True), (4, False)]):
        ims = []
        for _ in range(int(rng.integers(2, 6))):
            n = int(rng.integers(30, 300))
            hi = C + 1 if rzl else C
            lab = rng.integers(0, hi, n)
            lab[rng.random(n) < 0.1] = 255
            pred = np.where(rng.random(n) < 0.6, np.clip(lab - (1 if rzl else 0), 0, C - 1), rng.integers(0, C, n))
            pred[rng.random(n) < 0.03] = C + 2  # out of range: never counted
            if k == 3:
                lab[lab == 2] = 1  # class 2 never labelled: IoU 0 if predicted, Acc NaN
                pred[pred == 3] = 0
                lab[lab == 3] = 0  # class 3 neither: NaN, skipped
            ims.append({"label": lab.tolist(), "pred": pred.tolist()})
        cases.append({"name": f"random-{k}", "C": C, "reduceZeroLabel": rzl, "images": ims})
    for c in cases:
        c["expect"] = metrics(c["images"], c["C"], c["reduceZeroLabel"])
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/make_seg_fixtures.py", "cases": cases}, f, separators=(",", ":"))
    print(cases[0]["expect"])


if __name__ == "__main__":
    main()

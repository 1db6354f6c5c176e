#!/usr/bin/env python3
"""Generates tests/fixtures/coco_rle.json and tests/fixtures/coco_eval.json with pycocotools,
the oracle of tessera's data/coco (RLE, polygons, IoU) and data/eval (COCOeval).

pycocotools is not packaged for Debian; it was built from source as a scratch tool:

    apt-get install -y cython3 python3-numpy
    # cocodataset/cocoapi, commit 8c9bcc3 (PythonAPI + common)
    cd PythonAPI && sed -i 's/np\\.float)/float)/g' pycocotools/cocoeval.py   # numpy >= 1.24
    # coco.py imports matplotlib at module level (only for showAnns): guarded by try/except
    /usr/bin/python3 setup.py build_ext --inplace

    PYCOCOTOOLS=/path/to/cocoapi/PythonAPI /usr/bin/python3 tools/make_coco_fixtures.py \
        [--scenes DIR]   # fmnist-scenes-tiny from `deno run -A train.ts scenes --version tiny`

Every case stores its inputs (ground truth, results) and pycocotools' outputs, so the tests
replay the inputs through tessera and compare. Random cases use numpy's seeded generator.
"""
import argparse
import contextlib
import hashlib
import io
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.environ.get("PYCOCOTOOLS", "/tmp/coco/PythonAPI"))
from pycocotools import mask as M  # noqa: E402
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "fixtures")


def s(rle):
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def enc(mask):
    return M.encode(np.asfortranarray(mask.astype(np.uint8)))


def evaluate(gt, dt, iou_type):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        c = COCO()
        c.dataset = json.loads(json.dumps(gt))
        c.createIndex()
        d = c.loadRes(json.loads(json.dumps(dt)))
        e = COCOeval(c, d, iou_type)
        e.evaluate()
        e.accumulate()
        e.summarize()
    lines = [ln for ln in out.getvalue().splitlines() if ln.startswith(" Average")]
    return [float(x) for x in e.stats], lines


# ------------------------------------------------------------------------------------ RLE
def rle_cases(rng):
    masks = []
    for h, w, p in [(1, 1, 0.5), (4, 5, 0.3), (7, 3, 0.6), (16, 16, 0.1), (31, 17, 0.5), (40, 60, 0.02),
                    (64, 64, 0.9), (5, 5, 0.0), (5, 5, 1.0), (300, 2, 0.5)]:
        masks.append((rng.random((h, w)) < p))
    # blobby masks: rectangles and discs on one size, so merges and IoUs are non-trivial
    h, w = 48, 40
    yy, xx = np.mgrid[0:h, 0:w]
    blobs = []
    for _ in range(8):
        m = np.zeros((h, w), bool)
        for _ in range(rng.integers(1, 4)):
            if rng.random() < 0.5:
                y0, x0 = rng.integers(0, h - 4), rng.integers(0, w - 4)
                m[y0:y0 + rng.integers(2, 20), x0:x0 + rng.integers(2, 20)] = True
            else:
                cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(2, 12)
                m |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        blobs.append(m)
    enc_cases = []
    for m in masks + blobs:
        r = enc(m)
        enc_cases.append({
            "h": m.shape[0], "w": m.shape[1],
            "mask": "".join("1" if v else "0" for v in m.flatten()),  # row-major
            "counts": s(r)["counts"],
            "area": int(M.area(r)),
            "bbox": [float(v) for v in M.toBbox(r)],
        })
    # large counts and negative deltas through the string codec
    big = [{"size": [51103, 1], "counts": [100, 1000, 50000, 3]},
           {"size": [4, 5], "counts": [5, 10, 3, 2]},
           {"size": [1000, 1000], "counts": [123456, 2, 700000, 176542]}]
    strings = [{"h": b["size"][0], "w": b["size"][1], "runs": b["counts"],
                "counts": s(M.frPyObjects(b, *b["size"]))["counts"]} for b in big]
    br = [s(enc(m)) for m in blobs]
    merges = []
    for i in range(len(blobs) - 2):
        group = [enc(m) for m in blobs[i:i + 3]]
        merges.append({"inputs": [i, i + 1, i + 2], "union": s(M.merge(group, 0))["counts"],
                       "intersection": s(M.merge(group, 1))["counts"]})
    crowd = [int(v) for v in rng.random(len(blobs)) < 0.3]
    iou = M.iou([enc(m) for m in blobs], [enc(m) for m in blobs], crowd)
    boxes_d = (rng.random((12, 4)) * [30, 30, 25, 25]).round(2).tolist()
    boxes_g = (rng.random((9, 4)) * [30, 30, 25, 25]).round(2).tolist()
    boxes_g[0][2] = 0.0  # a zero-width box
    crowd_b = [int(v) for v in rng.random(9) < 0.3]
    biou = M.iou(boxes_d, boxes_g, crowd_b)
    polys = []
    for _ in range(30):
        hh, ww = int(rng.integers(5, 60)), int(rng.integers(5, 60))
        n = int(rng.integers(3, 9))
        xy = np.stack([rng.random(n) * (ww + 6) - 3, rng.random(n) * (hh + 6) - 3], 1).round(2)
        polys.append({"h": hh, "w": ww, "xy": xy.flatten().tolist()})
    polys.append({"h": 20, "w": 20, "xy": [2, 2, 2, 12, 12, 12, 12, 2]})
    polys.append({"h": 20, "w": 20, "xy": [2.5, 2.5, 2.5, 11.5, 11.5, 11.5, 11.5, 2.5]})
    polys.append({"h": 30, "w": 25, "xy": [3.3, 1.2, 20.9, 4.4, 17.5, 27.1, 1.1, 15.0]})
    for p in polys:
        p["counts"] = s(M.frPyObjects([p["xy"]], p["h"], p["w"])[0])["counts"]
    bbox_rles = []
    for b in [[2, 2, 10, 10], [0.4, 1.6, 7.3, 3.2], [10, 10, 30, 30], [0, 0, 20, 20]]:
        bbox_rles.append({"h": 20, "w": 20, "bbox": b,
                          "counts": s(M.frPyObjects(np.array([b], dtype=np.double), 20, 20)[0])["counts"]})
    return {
        "encode": enc_cases, "strings": strings, "blobs": br, "merge": merges,
        "iou": {"crowd": crowd, "values": np.asarray(iou).tolist()},
        "bboxIou": {"dt": boxes_d, "gt": boxes_g, "crowd": crowd_b, "values": np.asarray(biou).tolist()},
        "polygons": polys, "bboxes": bbox_rles,
    }


# ------------------------------------------------------------------------------- COCOeval
def img(i, w=100, h=100):
    return {"id": i, "width": w, "height": h, "file_name": f"{i:06d}.png"}


def ann(i, image, cat, box, crowd=0, area=None, seg=None):
    a = {"id": i, "image_id": image, "category_id": cat, "bbox": box,
         "area": box[2] * box[3] if area is None else area, "iscrowd": crowd}
    if seg is not None:
        a["segmentation"] = seg
    return a


def det(image, cat, box, score):
    return {"image_id": image, "category_id": cat, "bbox": box, "score": score}


def cats(n):
    return [{"id": k, "name": f"c{k}"} for k in range(1, n + 1)]


def golden():
    """The cases of spec data-eval.md §1.8 (C1..C20)."""
    g = {}
    one = lambda anns, n=1, images=None: {"images": images or [img(1)], "categories": cats(n),
                                           "annotations": anns}
    g["C1"] = (one([ann(1, 1, 1, [10, 10, 40, 40])]), [det(1, 1, [10, 10, 40, 40], .9)])
    g["C2"] = (one([ann(1, 1, 1, [0, 0, 50, 50])]), [det(1, 1, [0, 0, 50, 34], .9)])
    two = [ann(1, 1, 1, [0, 0, 20, 20]), ann(2, 1, 1, [50, 50, 20, 20])]
    fp = [80, 0, 10, 10]
    g["C3"] = (one(two), [det(1, 1, fp, .9), det(1, 1, [0, 0, 20, 20], .8), det(1, 1, [50, 50, 20, 20], .7)])
    g["C3b"] = (one(two), [det(1, 1, fp, .6), det(1, 1, [0, 0, 20, 20], .8), det(1, 1, [50, 50, 20, 20], .7)])
    g["C3c"] = (one(two), [det(1, 1, [0, 0, 20, 20], .8), det(1, 1, fp, .75), det(1, 1, [50, 50, 20, 20], .7)])
    g["C4"] = (one([ann(1, 1, 1, [10, 10, 40, 40])]), [det(1, 1, [10, 10, 40, 40], .9), det(1, 1, [10, 10, 40, 40], .8)])
    crowd = [ann(1, 1, 1, [0, 0, 20, 20]), ann(2, 1, 1, [50, 50, 40, 40], crowd=1)]
    cd = [det(1, 1, [55, 55, 10, 10], .95), det(1, 1, [70, 70, 10, 10], .94), det(1, 1, [0, 0, 20, 20], .5)]
    g["C5"] = (one(crowd), cd)
    g["C5b"] = (one(crowd[:1]), cd)
    g["C6"] = (one([ann(1, 1, 1, [0, 0, 10, 10]), ann(2, 1, 1, [20, 20, 50, 50]), ann(3, 1, 1, [90, 90, 100, 100])],
                   images=[img(1, 200, 200)]),
               [det(1, 1, [0, 0, 10, 10], .9), det(1, 1, [90, 90, 100, 100], .8)])
    g["C7"] = (one([ann(1, 1, 1, [10, 10, 40, 40]), ann(2, 1, 2, [50, 50, 30, 30])], n=3),
               [det(1, 1, [10, 10, 40, 40], .9), det(1, 3, [0, 0, 10, 10], .8)])
    g["C8"] = (one([ann(1, 1, 1, [10, 10, 40, 40]), ann(2, 2, 1, [10, 10, 40, 40])], images=[img(1), img(2)]),
               [det(2, 1, [60, 60, 30, 30], .9), det(2, 1, [10, 10, 40, 40], .6), det(1, 1, [10, 10, 40, 40], .3)])
    big = [img(1, 1000, 1000)]
    g["C9"] = (one([ann(1, 1, 1, [900, 900, 50, 50])], images=big),
               [det(1, 1, [i * 9.0, 0, 8, 8], .9) for i in range(100)] + [det(1, 1, [900, 900, 50, 50], .1)])
    g["C9b"] = (one([ann(1, 1, 1, [900, 900, 50, 50])], images=big),
                [det(1, 1, [i * 9.0, 0, 8, 8], .9) for i in range(9)] + [det(1, 1, [900, 900, 50, 50], .1)])
    g["C11"] = (one([ann(1, 1, 1, [10, 10, 40, 40]), ann(2, 1, 1, [10, 10, 40, 40])]),
                [det(1, 1, [10, 10, 40, 40], .9), det(1, 1, [10, 10, 40, 40], .8)])
    g["C13"] = (one([ann(1, 1, 1, [0, 0, 20, 20], crowd=1), ann(2, 1, 1, [0, 0, 20, 16])]),
                [det(1, 1, [0, 0, 20, 20], .9)])
    g["C14"] = (one([ann(1, 1, 1, [0, 0, 50, 50]), ann(2, 1, 2, [60, 60, 30, 30])], n=2),
                [det(1, 1, [0, 0, 50, 34], .9), det(1, 2, [60, 60, 30, 30], .8)])
    g["C15"] = (one([ann(1, 1, 1, [10, 10, 40, 40])], n=2), [det(1, 2, [10, 10, 40, 40], .9)])
    g["C16"] = (one([ann(1, 1, 1, [10, 10, 40, 40])], images=[img(1), img(2)]),
                [det(1, 1, [10, 10, 40, 40], .5), det(2, 1, [10, 10, 40, 40], .9)])
    g["C17"] = (one(two), [det(1, 1, [0, 0, 20, 20], .9)])
    g["C18"] = (one(two + [ann(3, 1, 1, [30, 0, 20, 20])]), [det(1, 1, [0, 0, 20, 20], .9)])
    g["C19"] = (one([ann(1, 1, 1, [10, 10, 40, 40], area=500)]), [det(1, 1, [10, 10, 40, 40], .9)])
    # one GT per image; img1's is missed, its FP ties with img2's TP
    g["C20"] = (one([ann(1, 2, 1, [10, 10, 40, 40]), ann(2, 1, 1, [10, 10, 40, 40])], images=[img(1), img(2)]),
                [det(1, 1, [60, 60, 30, 30], .5), det(2, 1, [10, 10, 40, 40], .5)])
    cases = [{"name": k, "iouType": "bbox", "gt": v[0], "dt": v[1]} for k, v in g.items()]
    # C10: masks on 20x20
    gm = np.zeros((20, 20), bool)
    gm[2:12, 2:12] = True
    dm = np.zeros((20, 20), bool)
    dm[2:12, 4:14] = True
    for crowd_flag in (0, 1):
        gt = {"images": [img(1, 20, 20)], "categories": cats(1),
              "annotations": [ann(1, 1, 1, [2, 2, 10, 10], crowd=crowd_flag, area=100, seg=s(enc(gm)))]}
        if crowd_flag:  # a normal GT too so the category has a non-ignored GT
            gt["annotations"].append(ann(2, 1, 1, [15, 15, 4, 4], area=16,
                                         seg=[[15, 15, 15, 19, 19, 19, 19, 15]]))
        cases.append({"name": "C10" + ("crowd" if crowd_flag else ""), "iouType": "segm", "gt": gt,
                      "dt": [{"image_id": 1, "category_id": 1, "segmentation": s(enc(dm)), "score": .9}]})
    return cases


def random_bbox_case(rng, name, n_img=20, n_cat=3):
    images = [img(i + 1, int(rng.integers(80, 400)), int(rng.integers(80, 400))) for i in range(n_img)]
    cat_ids = [1, 5, 9][:n_cat]
    categories = [{"id": c, "name": f"c{c}"} for c in cat_ids]
    anns, dts, aid = [], [], 1
    for im in images:
        for _ in range(int(rng.integers(0, 9))):
            w, h = float(rng.integers(4, 150)), float(rng.integers(4, 150))
            x, y = float(rng.integers(0, im["width"])), float(rng.integers(0, im["height"]))
            c = int(rng.choice(cat_ids))
            crowd = int(rng.random() < 0.1)
            area = w * h if rng.random() < 0.8 else float(round(w * h * rng.random(), 1))
            anns.append(ann(aid, im["id"], c, [x, y, w, h], crowd, area))
            aid += 1
            for _ in range(int(rng.integers(0, 3))):  # jittered detections
                jx, jy = rng.normal(0, w * 0.1), rng.normal(0, h * 0.1)
                sw, sh = np.exp(rng.normal(0, 0.15, 2))
                cc = c if rng.random() < 0.9 else int(rng.choice(cat_ids))
                dts.append(det(im["id"], cc, [round(x + jx, 2), round(y + jy, 2), round(w * sw, 2),
                                              round(h * sh, 2)], round(float(rng.random()), 1)))
        for _ in range(int(rng.integers(0, 12))):  # random false positives, tied scores
            w, h = float(rng.integers(2, 120)), float(rng.integers(2, 120))
            dts.append(det(im["id"], int(rng.choice(cat_ids)),
                           [float(rng.integers(0, im["width"])), float(rng.integers(0, im["height"])), w, h],
                           round(float(rng.random()), 2)))
    rng.shuffle(dts)
    return {"name": name, "iouType": "bbox",
            "gt": {"images": images, "categories": categories, "annotations": anns}, "dt": dts}


def random_segm_case(rng, name, with_box):
    h, w = 48, 64
    yy, xx = np.mgrid[0:h, 0:w]
    images = [img(i + 1, w, h) for i in range(8)]
    anns, dts, aid = [], [], 1
    for im in images:
        for _ in range(int(rng.integers(0, 5))):
            cy, cx, r = int(rng.integers(0, h)), int(rng.integers(0, w)), int(rng.integers(2, 15))
            m = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            crowd = int(rng.random() < 0.15)
            c = int(rng.integers(1, 3))
            rle = enc(m)
            if crowd or rng.random() < 0.5:
                seg = s(rle)
                if rng.random() < 0.3:  # uncompressed RLE
                    mm = m.flatten(order="F").astype(int)
                    runs, cur, cnt = [], 0, 0
                    for v in mm:
                        if v != cur:
                            runs.append(cnt)
                            cnt, cur = 0, v
                        cnt += 1
                    runs.append(cnt)
                    seg = {"size": [h, w], "counts": runs}
            else:  # polygon of the disc's octagon
                ang = np.arange(8) * np.pi / 4
                seg = [np.stack([cx + r * np.cos(ang), cy + r * np.sin(ang)], 1).round(2).flatten().tolist()]
            anns.append(ann(aid, im["id"], c, [float(v) for v in M.toBbox(rle)], crowd, float(M.area(rle)), seg))
            aid += 1
            for _ in range(int(rng.integers(0, 3))):
                dm = np.roll(np.roll(m, int(rng.integers(-3, 4)), 0), int(rng.integers(-3, 4)), 1)
                if rng.random() < 0.3:
                    dm = dm & (rng.random((h, w)) < 0.8)
                if not dm.any():
                    continue
                dr = enc(dm)
                d = {"image_id": im["id"], "category_id": c, "segmentation": s(dr),
                     "score": round(float(rng.random()), 1)}
                if with_box:
                    d["bbox"] = [float(v) for v in M.toBbox(dr)]
                dts.append(d)
        for _ in range(int(rng.integers(0, 4))):
            dm = np.zeros((h, w), bool)
            y0, x0 = int(rng.integers(0, h - 2)), int(rng.integers(0, w - 2))
            dm[y0:y0 + int(rng.integers(1, 20)), x0:x0 + int(rng.integers(1, 20))] = True
            dr = enc(dm)
            d = {"image_id": im["id"], "category_id": int(rng.integers(1, 3)), "segmentation": s(dr),
                 "score": round(float(rng.random()), 2)}
            if with_box:
                d["bbox"] = [float(v) for v in M.toBbox(dr)]
            dts.append(d)
    return {"name": name, "iouType": "segm",
            "gt": {"images": images, "categories": cats(2), "annotations": anns}, "dt": dts}


def scenes_cases(rng, root):
    """(a) of the issue: tiny FMNIST-Scenes val GT with perfect, jittered and random dets."""
    path = os.path.join(root, "annotations", "instances_val.json")
    with open(path, "rb") as f:
        raw = f.read()
    gt = json.loads(raw)
    sha = hashlib.sha256(raw).hexdigest()
    normal = [a for a in gt["annotations"] if not a["iscrowd"]]
    perfect = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"],
                "segmentation": a["segmentation"], "score": 1.0} for a in normal]
    jit = []
    for a in normal:
        x, y, w, h = a["bbox"]
        jit.append({"image_id": a["image_id"], "category_id": a["category_id"],
                    "bbox": [round(x + rng.normal(0, 2), 2), round(y + rng.normal(0, 2), 2),
                             round(w * np.exp(rng.normal(0, .1)), 2), round(h * np.exp(rng.normal(0, .1)), 2)],
                    "score": round(float(rng.random()), 3)})
    rand = []
    for im in gt["images"]:
        for _ in range(5):
            w, h = float(rng.integers(8, 40)), float(rng.integers(8, 40))
            rand.append({"image_id": im["id"], "category_id": int(rng.integers(1, 11)),
                         "bbox": [float(rng.integers(0, im["width"] - 8)), float(rng.integers(0, im["height"] - 8)), w, h],
                         "score": round(float(rng.random()), 3)})
    out = []
    for nm, dt, types in [("scenes-perfect", perfect, ("bbox", "segm")), ("scenes-jitter", jit, ("bbox", "segm")),
                          ("scenes-random", rand, ("bbox",))]:
        for t in types:
            out.append({"name": f"{nm}-{t}", "iouType": t, "gtFile": "instances_val.json", "gtSha256": sha, "dt": dt})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", help="fmnist-scenes-tiny folder (adds the FMNIST-Scenes cases)")
    args = ap.parse_args()
    rng = np.random.default_rng(20261203)
    with open(os.path.join(FIX, "coco_rle.json"), "w") as f:
        json.dump(rle_cases(rng), f, separators=(",", ":"))
    cases = golden()
    cases += [random_bbox_case(rng, f"random-bbox-{i}") for i in range(3)]
    cases.append(random_bbox_case(rng, "random-bbox-1cat-many", n_img=40, n_cat=1))
    cases += [random_segm_case(rng, f"random-segm-{i}", with_box=i % 2 == 1) for i in range(4)]
    bb = random_bbox_case(rng, "bbox-results-as-segm", n_img=6)
    for im in bb["gt"]["images"]:
        im["width"], im["height"] = 200, 200
    for a in bb["gt"]["annotations"]:
        x, y, w, h = a["bbox"]
        a["segmentation"] = [[x, y, x, y + h, x + w, y + h, x + w, y]]
    bb["iouType"] = "segm"
    cases.append(bb)
    if args.scenes:
        cases += scenes_cases(rng, args.scenes)
    for c in cases:
        gt = c.get("gt")
        if gt is None:
            with open(os.path.join(args.scenes, "annotations", c["gtFile"])) as f:
                gt = json.load(f)
        c["stats"], c["lines"] = evaluate(gt, c["dt"], c["iouType"])
    with open(os.path.join(FIX, "coco_eval.json"), "w") as f:
        json.dump({"generator": "tools/make_coco_fixtures.py (pycocotools from cocodataset/cocoapi 8c9bcc3)",
                   "cases": cases}, f, separators=(",", ":"))
    print(f"{len(cases)} COCOeval cases")


if __name__ == "__main__":
    main()

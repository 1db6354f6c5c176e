#!/usr/bin/env python3
"""Generates tests/fixtures/transforms.json: Pillow / torchvision 0.14 outputs of the image
transforms that tessera's data/transforms reproduce.

    /usr/bin/python3 tools/make_transform_fixtures.py

Needs numpy, Pillow, torch and torchvision (Debian: python3-torchvision). Every image is
stored as {"shape": [H, W, C], "b64": base64 of uint8 HWC bytes}. The RandAugment ops are
called the way timm's auto_augment.py (v0.4.12) calls Pillow.
"""
import base64
import json
import math
import os
import sys

try:
    import numpy as np
    import torch
    import torchvision.transforms.functional as F
    from torchvision.transforms import InterpolationMode as IM
    from PIL import Image, ImageEnhance, ImageOps
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "transforms.json")


def enc(img):
    a = np.asarray(img, dtype=np.uint8)
    if a.ndim == 2:
        a = a[:, :, None]
    return {"shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}


rs = np.random.RandomState(0)
H, W = 11, 14
yy, xx = np.mgrid[0:H, 0:W]
base = np.stack([xx * 255 / (W - 1), yy * 255 / (H - 1), (xx + yy) * 255 / (H + W - 2)], -1)
rgb_np = np.clip(base * 0.7 + rs.randint(0, 80, size=(H, W, 3)), 0, 255).astype(np.uint8)
rgb = Image.fromarray(rgb_np, "RGB")
grey = rgb.convert("L")

cases = []


def add(name, op, args, out, src="rgb"):
    cases.append({"name": name, "op": op, "args": args, "src": src, "out": enc(out)})


INTERP = {"nearest": IM.NEAREST, "bilinear": IM.BILINEAR, "bicubic": IM.BICUBIC, "lanczos": IM.LANCZOS}
for interp, mode in INTERP.items():
    for size in ([5, 6], [23, 30], [11, 5], [4, 20]):
        add(f"resize {interp} {size}", "resize", {"size": size, "interpolation": interp}, F.resize(rgb, size, mode))
add("resize short 6", "resize", {"size": 6, "interpolation": "bilinear"}, F.resize(rgb, 6))
add("resize grey bicubic", "resize", {"size": [7, 9], "interpolation": "bicubic"}, F.resize(grey, [7, 9], IM.BICUBIC), "grey")
add("resized_crop", "resizedCrop", {"top": 2, "left": 3, "height": 8, "width": 10, "size": [5, 6],
    "interpolation": "bicubic"}, F.resized_crop(rgb, 2, 3, 8, 10, [5, 6], IM.BICUBIC))
for size in ([6, 6], [5, 4], [16, 20], [4, 17]):
    add(f"center_crop {size}", "centerCrop", {"size": size}, F.center_crop(rgb, size))
add("hflip", "hflip", {}, F.hflip(rgb))
for f in (0.0, 0.6, 1.4):
    add(f"brightness {f}", "brightness", {"factor": f}, F.adjust_brightness(rgb, f))
for f in (0.5, 1.7):
    add(f"contrast {f}", "contrast", {"factor": f}, F.adjust_contrast(rgb, f))
add("contrast grey", "contrast", {"factor": 1.3}, F.adjust_contrast(grey, 1.3), "grey")
for f in (0.3, 1.8):
    add(f"saturation {f}", "saturation", {"factor": f}, F.adjust_saturation(rgb, f))
for f in (-0.5, -0.3, 0.0, 0.12, 0.5):
    add(f"hue {f}", "hue", {"factor": f}, F.adjust_hue(rgb, f))
add("grayscale", "grayscale", {"channels": 1}, F.rgb_to_grayscale(rgb, 1))
add("grayscale3", "grayscale", {"channels": 3}, F.rgb_to_grayscale(rgb, 3))
for t in (128, 200):
    add(f"solarize {t}", "solarize", {"threshold": t}, F.solarize(rgb, t))
t = torch.from_numpy(rgb_np).permute(2, 0, 1).contiguous()
for k, s in ((5, 1.0), (3, 0.1), (9, 2.0), (7, 0.8)):
    out = F.gaussian_blur(t, [k, k], [s, s]).permute(1, 2, 0).numpy()
    add(f"blur k{k} s{s}", "blur", {"kernelSize": k, "sigma": s}, out)

# RandAugment ops as timm calls them.
FILL = (124, 116, 104)
RES = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
add("autocontrast", "autoContrast", {}, ImageOps.autocontrast(rgb))
add("equalize", "equalize", {}, ImageOps.equalize(rgb))
add("invert", "invert", {}, ImageOps.invert(rgb))
for bits in (0, 2, 4):
    add(f"posterize {bits}", "posterize", {"bits": bits}, ImageOps.posterize(rgb, bits))
add("solarize_add", "solarizeAdd", {"add": 50, "threshold": 128},
    rgb.point([min(255, i + 50) if i < 128 else i for i in range(256)] * 3))
for f in (0.4, 1.6):
    add(f"color {f}", "color", {"factor": f}, ImageEnhance.Color(rgb).enhance(f))
add("enh contrast", "contrast", {"factor": 1.5}, ImageEnhance.Contrast(rgb).enhance(1.5))
add("enh brightness", "brightness", {"factor": 0.5}, ImageEnhance.Brightness(rgb).enhance(0.5))
for f in (0.2, 1.8):
    add(f"sharpness {f}", "sharpness", {"factor": f}, ImageEnhance.Sharpness(rgb).enhance(f))
for interp in ("nearest", "bilinear", "bicubic"):
    r = RES[interp]
    add(f"rotate {interp}", "rotate", {"degrees": 17.0, "interpolation": interp, "fill": FILL},
        rgb.rotate(17.0, resample=r, fillcolor=FILL))
    add(f"shearX {interp}", "affine", {"matrix": [1, 0.2, 0, 0, 1, 0], "interpolation": interp, "fill": FILL},
        rgb.transform(rgb.size, Image.AFFINE, (1, 0.2, 0, 0, 1, 0), resample=r, fillcolor=FILL))
    add(f"shearY {interp}", "affine", {"matrix": [1, 0, 0, -0.15, 1, 0], "interpolation": interp, "fill": FILL},
        rgb.transform(rgb.size, Image.AFFINE, (1, 0, 0, -0.15, 1, 0), resample=r, fillcolor=FILL))
    add(f"translate {interp}", "affine", {"matrix": [1, 0, 3.15, 0, 1, -2.5], "interpolation": interp, "fill": FILL},
        rgb.transform(rgb.size, Image.AFFINE, (1, 0, 3.15, 0, 1, -2.5), resample=r, fillcolor=FILL))
add("rotate -30 bicubic", "rotate", {"degrees": -30.0, "interpolation": "bicubic", "fill": FILL},
    rgb.rotate(-30.0, resample=Image.BICUBIC, fillcolor=FILL))

with open(OUT, "w") as f:
    json.dump({"inputs": {"rgb": enc(rgb), "grey": enc(grey)}, "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to {OUT}")

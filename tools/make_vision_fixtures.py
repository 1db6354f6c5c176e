#!/usr/bin/env python3
"""Generates PyTorch / torchvision reference fixtures for tessera's vision ops.

    python3 tools/make_vision_fixtures.py

Writes (deterministically, from torch.manual_seed) tests/fixtures/vision_ops.safetensors in the
format of tools/make_fixtures.py: metadata key "case:<name>" holds JSON
{"op", "args", "inputs", "outputs"} and the tensors are named "<name>/<input or output>".
Ops: torch.nn.functional conv2d, conv_transpose2d, max_pool2d (with indices), avg_pool2d,
adaptive_avg_pool2d, interpolate (nearest, bilinear with align_corners false/true, to a size
or a scale factor); torchvision.ops roi_align, nms, batched_nms, box_iou; torchvision's
detection BoxCoder (encode/decode with weights and the dw/dh clamp). Cases cover odd sizes,
strides, paddings, dilations, groups, ceil mode, empty inputs (zero boxes, zero batch) and
boxes partly or wholly outside the image.

Needs Debian's python3-torch and python3-torchvision (/usr/bin/python3); the script re-runs
itself there when the python3 on PATH lacks them.
"""
import math
import os
import sys

try:
    import torch
    import torch.nn.functional as F
    import torchvision
    from torchvision.models.detection._utils import BoxCoder
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "vision_ops.safetensors")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# the op fixtures' writer and case recorder: the same file layout and "case:<name>" metadata
from make_fixtures import META, TENSORS, case, write_safetensors  # noqa: E402


def rn(*s, dtype=torch.float32):
    return torch.randn(*s, dtype=dtype)


def conv_cases():
    def conv(name, x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        out = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        ins = {"x": x, "w": w} if b is None else {"x": x, "w": w, "b": b}
        case(name, "conv2d", ins, {"out": out}, stride=stride, padding=padding, dilation=dilation, groups=groups)

    conv("conv_basic", rn(2, 3, 7, 9), rn(4, 3, 3, 3), rn(4), padding=1)
    conv("conv_stride_pad", rn(1, 4, 11, 10), rn(6, 4, 3, 5), stride=[2, 3], padding=[1, 2])
    conv("conv_dilation", rn(2, 2, 9, 8), rn(3, 2, 3, 3), padding=2, dilation=2)
    conv("conv_dilation_stride", rn(1, 3, 13, 12), rn(2, 3, 2, 3), stride=[3, 2], padding=[0, 1], dilation=[2, 3])
    conv("conv_groups", rn(2, 6, 8, 7), rn(9, 2, 3, 3), rn(9), stride=2, padding=1, groups=3)
    conv("conv_depthwise", rn(1, 4, 6, 6), rn(4, 1, 3, 3), padding=1, groups=4)
    conv("conv_1x1", rn(2, 5, 4, 3), rn(7, 5, 1, 1), rn(7))
    conv("conv_1x1_stride", rn(1, 3, 5, 5), rn(2, 3, 1, 1), stride=2)
    conv("conv_kernel_fills_input", rn(1, 2, 3, 4), rn(3, 2, 5, 4), padding=[1, 0])
    conv("conv_f64", rn(2, 3, 6, 5, dtype=torch.float64), rn(4, 3, 3, 2, dtype=torch.float64),
         rn(4, dtype=torch.float64), stride=[1, 2], padding=1)
    conv("conv_empty_batch", rn(0, 3, 5, 5), rn(2, 3, 3, 3), padding=1)
    conv("conv_same_even_kernel", rn(1, 2, 7, 6), rn(3, 2, 4, 3), padding="same")
    conv("conv_same_dilated", rn(1, 2, 6, 6), rn(2, 2, 3, 3), padding="same", dilation=2)
    conv("conv_wide", rn(1, 16, 9, 9), rn(8, 16, 3, 3), padding=1)

    def convt(name, x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
        out = F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                                 groups=groups, dilation=dilation)
        ins = {"x": x, "w": w} if b is None else {"x": x, "w": w, "b": b}
        case(name, "convTranspose2d", ins, {"out": out}, stride=stride, padding=padding,
             outputPadding=output_padding, dilation=dilation, groups=groups)

    convt("convT_basic", rn(2, 4, 5, 6), rn(4, 3, 3, 3), rn(3), stride=2, padding=1, output_padding=1)
    convt("convT_k2s2", rn(1, 8, 4, 4), rn(8, 8, 2, 2), rn(8), stride=2)
    convt("convT_groups_dilation", rn(2, 6, 5, 4), rn(6, 2, 3, 3), stride=3, padding=2,
          output_padding=[2, 1], dilation=2, groups=3)
    convt("convT_stride1", rn(1, 3, 4, 5), rn(3, 2, 3, 2), padding=[1, 0])
    convt("convT_asym_stride", rn(1, 2, 3, 4), rn(2, 3, 4, 3), stride=[3, 2], padding=[1, 2], output_padding=[1, 0])
    convt("convT_f64", rn(1, 3, 4, 4, dtype=torch.float64), rn(3, 2, 3, 3, dtype=torch.float64), stride=2,
          padding=1, output_padding=1)


def pool_cases():
    def maxp(name, x, k, stride=None, padding=0, dilation=1, ceil_mode=False):
        out, idx = F.max_pool2d(x, k, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
                                return_indices=True)
        case(name, "maxPool2d", {"x": x}, {"out": out, "indices": idx}, kernel=k, stride=stride,
             padding=padding, dilation=dilation, ceilMode=ceil_mode)

    maxp("mp_k2s2", rn(2, 3, 8, 9), 2)
    maxp("mp_k3s2p1", rn(1, 2, 9, 7), 3, 2, 1)
    maxp("mp_dilation_ceil", rn(1, 2, 10, 11), 3, 2, 1, 2, True)
    maxp("mp_k1s2", rn(1, 3, 5, 6), 1, 2)
    maxp("mp_rect", rn(2, 1, 7, 9), [2, 3], [1, 2], [1, 1])
    ties = torch.randint(-2, 3, (1, 2, 6, 6)).to(torch.float32)
    maxp("mp_ties", ties, 3, 1, 1)
    special = rn(1, 1, 6, 6)
    special[0, 0, 1, 1] = float("nan")
    special[0, 0, 4, 2] = float("inf")
    special[0, 0, 3, 3:5] = float("-inf")
    maxp("mp_special", special, 2, 2)
    maxp("mp_f64", rn(1, 2, 7, 7, dtype=torch.float64), 3, 2, 1, ceil_mode=True)

    def avgp(name, x, k, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        out = F.avg_pool2d(x, k, stride=stride, padding=padding, ceil_mode=ceil_mode,
                           count_include_pad=count_include_pad)
        case(name, "avgPool2d", {"x": x}, {"out": out}, kernel=k, stride=stride, padding=padding,
             ceilMode=ceil_mode, countIncludePad=count_include_pad)

    avgp("ap_k2", rn(2, 3, 8, 9), 2)
    avgp("ap_k3s2p1", rn(1, 2, 9, 7), 3, 2, 1)
    avgp("ap_k3s2p1_exclude_pad", rn(1, 2, 9, 7), 3, 2, 1, count_include_pad=False)
    avgp("ap_ceil", rn(1, 2, 10, 8), 3, 2, 1, ceil_mode=True)
    avgp("ap_ceil_exclude_pad", rn(1, 2, 10, 8), 3, 2, 1, ceil_mode=True, count_include_pad=False)
    avgp("ap_rect_f64", rn(1, 2, 7, 9, dtype=torch.float64), [3, 2], [2, 3], [1, 1])

    def adap(name, x, size):
        case(name, "adaptiveAvgPool2d", {"x": x}, {"out": F.adaptive_avg_pool2d(x, size)}, outputSize=size)

    adap("aap_16_to_3", rn(1, 2, 16, 16), 3)
    adap("aap_16_to_6", rn(1, 2, 16, 16), 6)
    adap("aap_to_1", rn(2, 3, 7, 9), 1)
    adap("aap_rect", rn(2, 3, 7, 9), [3, 4])
    adap("aap_upsample", rn(1, 1, 3, 2), [5, 7])
    adap("aap_keep_axis", rn(1, 2, 6, 5), [4, None])
    adap("aap_f64", rn(1, 2, 10, 10, dtype=torch.float64), [3, 6])


def interp_cases():
    def interp(name, x, size=None, scale=None, mode="nearest", align=None):
        out = F.interpolate(x, size=size, scale_factor=scale, mode=mode, align_corners=align)
        args = {"mode": mode}
        if size is not None:
            args["size"] = size
        if scale is not None:
            args["scaleFactor"] = scale
        if align is not None:
            args["alignCorners"] = align
        case(name, "interpolate", {"x": x}, {"out": out}, **args)

    interp("nearest_size", rn(1, 2, 5, 7), size=[8, 3])
    interp("nearest_scale2", rn(1, 2, 4, 3), scale=2)
    interp("nearest_scale_frac", rn(1, 1, 5, 6), scale=1.7)
    interp("nearest_scale_pair", rn(1, 1, 6, 5), scale=[0.5, 2.5])
    interp("nearest_down", rn(1, 1, 9, 9), size=[4, 4])
    interp("nearest_odd", rn(2, 1, 7, 3), size=[10, 13])
    interp("bilinear_size", rn(1, 2, 5, 7), size=[9, 4], mode="bilinear", align=False)
    interp("bilinear_scale2", rn(1, 2, 4, 5), scale=2, mode="bilinear", align=False)
    interp("bilinear_scale_frac", rn(1, 1, 6, 5), scale=1.3, mode="bilinear", align=False)
    interp("bilinear_down", rn(1, 1, 9, 10), scale=0.5, mode="bilinear", align=False)
    interp("bilinear_align", rn(1, 2, 5, 7), size=[9, 11], mode="bilinear", align=True)
    interp("bilinear_align_to1", rn(1, 1, 4, 5), size=[1, 3], mode="bilinear", align=True)
    interp("bilinear_align_down", rn(1, 1, 8, 8), size=[3, 5], mode="bilinear", align=True)
    interp("bilinear_f64", rn(1, 2, 5, 4, dtype=torch.float64), size=[7, 9], mode="bilinear", align=False)
    interp("bilinear_same_size", rn(1, 1, 4, 4), scale=1.1, mode="bilinear", align=False)


def boxes_in(k, n, h, w, scale, spread=1.3):
    """k boxes (batch index, x1, y1, x2, y2) in input coordinates, some leaving the image."""
    H, W = h / scale, w / scale
    x1 = torch.rand(k) * W * spread - W * (spread - 1) / 2
    y1 = torch.rand(k) * H * spread - H * (spread - 1) / 2
    bw = torch.rand(k) * W * 0.6 + 0.2
    bh = torch.rand(k) * H * 0.6 + 0.2
    b = torch.randint(0, n, (k,)).to(torch.float32)
    return torch.stack([b, x1, y1, x1 + bw, y1 + bh], 1)


def roi_cases():
    def roi(name, x, boxes, out, scale=1.0, sampling=-1, aligned=False):
        y = torchvision.ops.roi_align(x, boxes, out, spatial_scale=scale, sampling_ratio=sampling, aligned=aligned)
        case(name, "roiAlign", {"x": x, "boxes": boxes}, {"out": y}, outputSize=out, spatialScale=scale,
             samplingRatio=sampling, aligned=aligned)

    x = rn(2, 3, 12, 10)
    bx = boxes_in(9, 2, 12, 10, 1.0)
    roi("roi_adaptive", x, bx, [3, 4], aligned=False)
    roi("roi_adaptive_aligned", x, bx, [3, 4], aligned=True)
    roi("roi_sampling2", x, bx, 2, sampling=2, aligned=False)
    roi("roi_sampling2_aligned", x, bx, 2, sampling=2, aligned=True)
    x2 = rn(2, 4, 16, 13)
    b2 = boxes_in(12, 2, 16, 13, 0.25)
    roi("roi_scale_7x7", x2, b2, 7, scale=0.25, sampling=0, aligned=True)
    roi("roi_scale_7x7_legacy", x2, b2, 7, scale=0.25, sampling=2, aligned=False)
    tiny = torch.tensor([[0, 3.0, 3.0, 3.2, 3.1], [1, 5.0, 2.0, 5.0, 2.0], [0, -4.0, -3.0, -1.5, -2.0],
                         [1, 9.0, 11.0, 14.0, 16.0], [0, -2.0, -2.0, 20.0, 20.0]])
    roi("roi_tiny_and_outside", x, tiny, 3, sampling=0, aligned=True)
    roi("roi_tiny_and_outside_legacy", x, tiny, 3, sampling=2, aligned=False)
    roi("roi_zero_boxes", x, torch.zeros(0, 5), 7, scale=0.5, sampling=2, aligned=True)
    xd = rn(1, 2, 9, 8, dtype=torch.float64)
    roi("roi_f64", xd, boxes_in(5, 1, 9, 8, 1.0).to(torch.float64), [4, 3], sampling=0, aligned=True)
    ramp = torch.arange(32.0).repeat(32, 1)[None, None]
    rb = torch.tensor([[0, 8.0, 8.0, 24.0, 24.0]])
    roi("roi_ramp_aligned", ramp, rb, 4, sampling=2, aligned=True)
    roi("roi_ramp_legacy", ramp, rb, 4, sampling=2, aligned=False)


def box_cases():
    def rand_boxes(k, size=50.0):
        xy = torch.rand(k, 2) * size
        wh = torch.rand(k, 2) * size * 0.4 + 1
        return torch.cat([xy, xy + wh], 1)

    a, b = rand_boxes(5), rand_boxes(7)
    case("box_iou", "boxIou", {"a": a, "b": b}, {"out": torchvision.ops.box_iou(a, b)})
    case("box_iou_f64", "boxIou", {"a": a.double(), "b": b.double()},
         {"out": torchvision.ops.box_iou(a.double(), b.double())})
    case("box_iou_empty", "boxIou", {"a": torch.zeros(0, 4), "b": b}, {"out": torchvision.ops.box_iou(torch.zeros(0, 4), b)})
    case("box_area", "boxArea", {"boxes": a}, {"out": torchvision.ops.box_area(a)})
    case("clip_boxes", "clipBoxes", {"boxes": a - 10}, {"out": torchvision.ops.clip_boxes_to_image(a - 10, (30, 40))},
         size=[30, 40])
    for thr in (0.3, 0.5, 0.7):
        bx = rand_boxes(60)
        sc = torch.randperm(60).to(torch.float32) / 60 + torch.rand(60) * 1e-3
        case(f"nms_{thr}", "nms", {"boxes": bx, "scores": sc},
             {"out": torchvision.ops.nms(bx, sc, thr)}, iouThreshold=thr)
    bx = rand_boxes(80)
    sc = torch.rand(80)
    idx = torch.randint(0, 4, (80,)).to(torch.int32)
    case("batched_nms", "batchedNms", {"boxes": bx, "scores": sc, "idxs": idx},
         {"out": torchvision.ops.batched_nms(bx, sc, idx.long(), 0.5)}, iouThreshold=0.5)
    case("nms_f64", "nms", {"boxes": bx.double(), "scores": sc.double()},
         {"out": torchvision.ops.nms(bx.double(), sc.double(), 0.4)}, iouThreshold=0.4)
    case("nms_zero_boxes", "nms", {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0)},
         {"out": torchvision.ops.nms(torch.zeros(0, 4), torch.zeros(0), 0.5)}, iouThreshold=0.5)
    for weights in ((1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)):
        coder = BoxCoder(weights)
        props, gt = rand_boxes(10), rand_boxes(10)
        tag = "w1" if weights[0] == 1 else "w10"
        case(f"encode_{tag}", "encodeBoxes", {"boxes": props, "targets": gt},
             {"out": coder.encode_single(gt, props)}, weights=list(weights))
        deltas = rn(10, 4) * 2
        deltas[0, 2] = 9.0  # beyond the clamp
        deltas[1, 3] = -7.0
        case(f"decode_{tag}", "decodeBoxes", {"deltas": deltas, "boxes": props},
             {"out": coder.decode_single(deltas, props)}, weights=list(weights), scaleClamp=math.log(1000.0 / 16))


def main():
    torch.manual_seed(0)
    conv_cases()
    pool_cases()
    interp_cases()
    roi_cases()
    box_cases()
    write_safetensors(OUT, TENSORS, META)
    print(f"wrote {len(META)} cases, {len(TENSORS)} tensors to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()

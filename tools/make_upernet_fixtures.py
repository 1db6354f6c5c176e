#!/usr/bin/env python3
"""Generates tests/fixtures/upernet_heads.safetensors: a PyTorch reimplementation of mmseg's
UPerHead + FCNHead (mmseg itself is not installable here), the oracle of tessera's
models/segmentation/ (tests/models/segmentation/upernet_parity_test.ts).

    /usr/bin/python3 tools/make_upernet_fixtures.py

Re-states mmseg 0.x / 1.x `decode_heads/uper_head.py`, `psp_head.py` (PPM), `fcn_head.py` and
`BaseDecodeHead.cls_seg` / `loss_by_feat`: ConvModule = Conv2d (bias=False) -> BatchNorm2d ->
ReLU; PPM = per pool scale AdaptiveAvgPool2d -> 1x1 ConvModule -> bilinear resize to the input
(align_corners=False); bottleneck 3x3 on [x, PPM]; 1x1 lateral ConvModules on levels 0..2,
top-down `lateral[i-1] += resize(lateral[i])`; 3x3 fpn_convs; every level resized to level 0,
concatenated, 3x3 fpn_bottleneck; Dropout2d; 1x1 conv_seg. FCNHead (num_convs=1,
concat_input=False) on level 2. Loss: logits resized bilinearly to the label size,
F.cross_entropy(ignore_index=255, reduction="none"), then the mean over the valid pixels
(`avg_non_ignore=True`) or over all pixels (mmseg's default before 0.23 and the BEiT configs);
total = decode + 0.4 * auxiliary.

Case (seeded): batch 2, maps of width D=6 at 12x16, 6x8, 3x4, 2x2 (non-square, PPM scales 1, 2,
3, 6 so scale 3 and 6 pool a 2x2 map), head width 8, auxiliary width 4, 5 classes, labels 48x64
with about 20 % ignore (255) pixels. BN weights and biases are randomised (not 1/0) and
conv_seg is N(0, 0.3) so the logits are not tiny; Dropout2d is off (its mask is random).
Tensors:
  "decode_head/<mmseg state-dict name>", "auxiliary_head/<name>" (num_batches_tracked left out)
  "in/map{0..3}", "in/labels" (int32)
  "train/logits", "train/aux_logits" (train-mode BN), "train/loss_valid", "train/loss_all",
  "train/loss_decode", "train/loss_aux" (valid averaging), "train/state/<head>/<name>" (the
  running statistics after that one forward, momentum 0.1, unbiased variance)
  "grad/map{0..3}", "grad/<head>/<name>": gradients of train/loss_valid
  "eval/logits", "eval/aux_logits": eval mode with the updated running statistics
Metadata "config" holds the sizes as JSON.
"""
import json
import os
import sys

import torch  # Debian's python3-torch: run with /usr/bin/python3
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_vision_fixtures import write_safetensors  # noqa: E402

OUT = os.path.join(HERE, "..", "tests", "fixtures", "upernet_heads.safetensors")
ALIGN_CORNERS = False  # mmseg's default for UPerHead and FCNHead


def resize(x, size):
    """mmseg.ops.resize (bilinear, align_corners as the heads)."""
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=ALIGN_CORNERS)


class ConvModule(nn.Module):
    """mmcv ConvModule with norm_cfg=BN, act_cfg=ReLU: conv (no bias) -> bn -> relu."""

    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class PPM(nn.ModuleList):
    """mmseg's PPM: state-dict names psp_modules.<i>.1.{conv,bn}.*"""

    def __init__(self, pool_scales, cin, c):
        super().__init__([nn.Sequential(nn.AdaptiveAvgPool2d(s), ConvModule(cin, c, 1)) for s in pool_scales])

    def forward(self, x):
        return [resize(m(x), x.shape[2:]) for m in self]


class UPerHead(nn.Module):
    """mmseg's UPerHead (in_channels the same D on all four levels)."""

    def __init__(self, d, c, k, pool_scales=(1, 2, 3, 6), dropout=0.1):
        super().__init__()
        self.psp_modules = PPM(pool_scales, d, c)
        self.bottleneck = ConvModule(d + len(pool_scales) * c, c, 3)
        self.lateral_convs = nn.ModuleList([ConvModule(d, c, 1) for _ in range(3)])
        self.fpn_convs = nn.ModuleList([ConvModule(c, c, 3) for _ in range(3)])
        self.fpn_bottleneck = ConvModule(4 * c, c, 3)
        self.dropout = nn.Dropout2d(dropout)
        self.conv_seg = nn.Conv2d(c, k, 1)
        nn.init.normal_(self.conv_seg.weight, 0, 0.01)
        nn.init.zeros_(self.conv_seg.bias)

    def psp_forward(self, inputs):
        x = inputs[-1]
        return self.bottleneck(torch.cat([x, *self.psp_modules(x)], dim=1))

    def forward(self, inputs):
        laterals = [conv(inputs[i]) for i, conv in enumerate(self.lateral_convs)]
        laterals.append(self.psp_forward(inputs))
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + resize(laterals[i], laterals[i - 1].shape[2:])
        outs = [self.fpn_convs[i](laterals[i]) for i in range(len(laterals) - 1)]
        outs.append(laterals[-1])
        for i in range(len(outs) - 1, 0, -1):
            outs[i] = resize(outs[i], outs[0].shape[2:])
        return self.conv_seg(self.dropout(self.fpn_bottleneck(torch.cat(outs, dim=1))))


class FCNHead(nn.Module):
    """mmseg's FCNHead (kernel 3, concat_input=False) on one level."""

    def __init__(self, d, c, k, num_convs=1, dropout=0.1):
        super().__init__()
        self.convs = nn.Sequential(*[ConvModule(d if i == 0 else c, c, 3) for i in range(num_convs)])
        self.dropout = nn.Dropout2d(dropout)
        self.conv_seg = nn.Conv2d(c, k, 1)
        nn.init.normal_(self.conv_seg.weight, 0, 0.01)
        nn.init.zeros_(self.conv_seg.bias)

    def forward(self, x):
        return self.conv_seg(self.dropout(self.convs(x)))


def seg_loss(logits, labels, average="valid", ignore=255):
    """BaseDecodeHead.loss_by_feat's CE: resize to the labels, per-pixel CE, mean over the valid
    pixels (avg_non_ignore=True) or over all of them."""
    per = F.cross_entropy(resize(logits, labels.shape[1:]), labels, ignore_index=ignore, reduction="none")
    n = (labels != ignore).sum() if average == "valid" else labels.numel()
    return per.sum() / n


def uper_net_loss(logits, aux_logits, labels, average="valid", aux_weight=0.4):
    """decode + aux_weight * auxiliary (mmseg's loss_decode weights 1.0 and 0.4)."""
    return seg_loss(logits, labels, average) + aux_weight * seg_loss(aux_logits, labels, average)


T = {}


def put(name, t):
    t = torch.as_tensor(t).detach().clone()  # not a view of a buffer updated later
    T[name] = t.to(torch.int32) if t.dtype in (torch.int64, torch.bool) else t.contiguous().float()


def state_items(m):
    return [(k, v) for k, v in m.state_dict().items() if not k.endswith("num_batches_tracked")]


def main():
    torch.manual_seed(0)
    n, d, c, ca, k = 2, 6, 8, 4, 5
    sizes = [(12, 16), (6, 8), (3, 4), (2, 2)]
    label_hw = (48, 64)
    scales = (1, 2, 3, 6)
    cfg = {"batch": n, "inChannels": d, "channels": c, "auxChannels": ca, "numClasses": k,
           "mapSizes": sizes, "labelSize": label_hw, "poolScales": scales, "auxWeight": 0.4,
           "alignCorners": ALIGN_CORNERS, "momentum": 0.1, "eps": 1e-5}
    heads = {"decode_head": UPerHead(d, c, k, scales), "auxiliary_head": FCNHead(d, ca, k)}
    with torch.no_grad():
        for h in heads.values():
            for name, p in h.named_parameters():
                if ".bn.weight" in name:
                    p.uniform_(0.5, 1.5)
                elif ".bn.bias" in name:
                    p.normal_(0, 0.1)
                elif name.startswith("conv_seg."):
                    p.normal_(0, 0.3)
    for hn, h in heads.items():
        for name, v in state_items(h):
            put(f"{hn}/{name}", v)
    maps = [torch.randn(n, d, *s, requires_grad=True) for s in sizes]
    labels = torch.randint(0, k, (n, *label_hw))
    labels[torch.rand(n, *label_hw) < 0.2] = 255
    labels[0, :4, :] = 255  # a fully ignored band
    for i, m in enumerate(maps):
        put(f"in/map{i}", m)
    put("in/labels", labels)

    dec, aux = heads["decode_head"], heads["auxiliary_head"]
    for h in heads.values():
        h.train()
        h.dropout.eval()  # Dropout2d off: its mask is random
    logits = dec(maps)
    aux_logits = aux(maps[2])
    put("train/logits", logits)
    put("train/aux_logits", aux_logits)
    loss = uper_net_loss(logits, aux_logits, labels)
    put("train/loss_valid", loss)
    put("train/loss_all", uper_net_loss(logits, aux_logits, labels, average="all"))
    put("train/loss_decode", seg_loss(logits, labels))
    put("train/loss_aux", seg_loss(aux_logits, labels))
    params = [(hn, name, p) for hn, h in heads.items() for name, p in h.named_parameters()]
    grads = torch.autograd.grad(loss, maps + [p for _, _, p in params])
    for i in range(4):
        put(f"grad/map{i}", grads[i])
    for (hn, name, _), g in zip(params, grads[4:]):
        put(f"grad/{hn}/{name}", g)
    for hn, h in heads.items():
        for name, v in state_items(h):
            if "running_" in name:
                put(f"train/state/{hn}/{name}", v)
    for h in heads.values():
        h.eval()
    with torch.no_grad():
        put("eval/logits", dec(maps))
        put("eval/aux_logits", aux(maps[2]))
    write_safetensors(OUT, T, {"config": json.dumps(cfg, separators=(",", ":"))})
    print(f"wrote {len(T)} tensors to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()

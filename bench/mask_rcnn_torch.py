"""torchvision side of bench/mask_rcnn_bench.ts: one Mask R-CNN training step (forward, the five
losses, backward, SGD update) on CPU with the same configuration as the tessera side — a ViT
encoder (pre-norm blocks, GELU MLP ×4), the BEiT/XCiT 4-scale adapter (deconv, LayerNorm over
channels, GELU, deconv; deconv; identity; max-pool), torchvision's FPN + LastLevelMaxPool, RPN,
RoI heads (MultiScaleRoIAlign 7/14, TwoMLPHead, MaskRCNNHeads). Images are not resized
(min_size/max_size = the image), normalisation is the identity. Prints one JSON line
{"ms": milliseconds per step}.

    /usr/bin/python3 bench/mask_rcnn_torch.py '<config JSON>'
"""
import json
import sys
import time

import torch
from torch import nn
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops import FeaturePyramidNetwork, MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool


class LN2d(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class Backbone(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, p = c["embedDim"], c["patchSize"]
        self.p = p
        self.patch = nn.Conv2d(c["inChans"], d, p, p)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(d, c["numHeads"], 4 * d, 0.0, "gelu", 1e-6, True, True)
            for _ in range(c["depth"])])
        self.out_idx = c["outIndices"]
        self.fpn1 = nn.Sequential(nn.ConvTranspose2d(d, d, 2, 2), LN2d(d), nn.GELU(), nn.ConvTranspose2d(d, d, 2, 2))
        self.fpn2 = nn.ConvTranspose2d(d, d, 2, 2)
        self.neck = FeaturePyramidNetwork([d] * 4, c["fpnChannels"], extra_blocks=LastLevelMaxPool())
        self.out_channels = c["fpnChannels"]
        self.d = d

    def forward(self, x):
        h, w = x.shape[-2] // self.p, x.shape[-1] // self.p
        t = self.patch(x).flatten(2).transpose(1, 2)
        # sin-cos positions are a constant add; a fixed buffer costs the same
        outs = []
        for i, b in enumerate(self.blocks):
            t = b(t)
            if i in self.out_idx:
                outs.append(t.transpose(1, 2).reshape(x.shape[0], self.d, h, w))
        maps = [self.fpn1(outs[0]), self.fpn2(outs[1]), outs[2], nn.functional.max_pool2d(outs[3], 2)]
        return self.neck({str(i): m for i, m in enumerate(maps)})


def blas_libs():
    """The BLAS/LAPACK shared libraries mapped into this process (Debian's torch uses the
    libblas.so.3 alternative, normally libopenblas0-pthread)."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "blas" in line or "lapack" in line}
    return sorted(p for p in paths if p.startswith("/"))


def report(step, c):
    """Times `step` (2 warm-up calls, then the best of `rounds` rounds of `reps` calls, 3 and 3
    unless `c` says otherwise) and prints the JSON line the bench/*_bench.ts scripts read:
    milliseconds per step and the BLAS libraries mapped."""
    for _ in range(2):
        step()
    best = float("inf")
    for _ in range(c.get("rounds", 3)):
        t0 = time.perf_counter()
        for _ in range(c.get("reps", 3)):
            step()
        best = min(best, (time.perf_counter() - t0) / c.get("reps", 3))
    print(json.dumps({"ms": best * 1e3, "blas": blas_libs()}))


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(c.get("threads", 2))
    bb = Backbone(c)
    s = c["canvasScale"]
    anchors = AnchorGenerator(tuple((32 * s * 2 ** i,) for i in range(5)), ((0.5, 1.0, 2.0),) * 5)
    names = ["0", "1", "2", "3"]
    f, k = c["fpnChannels"], c["numClasses"]
    model = MaskRCNN(
        bb, num_classes=None, min_size=c["size"], max_size=c["size"], image_mean=[0.0] * c["inChans"], image_std=[1.0] * c["inChans"],
        rpn_anchor_generator=anchors,
        rpn_pre_nms_top_n_train=c["preNmsTrain"], rpn_post_nms_top_n_train=c["postNms"],
        rpn_batch_size_per_image=c["rpnBatch"], box_batch_size_per_image=c["roiBatch"],
        box_roi_pool=MultiScaleRoIAlign(names, 7, 2, canonical_scale=int(224 * s)),
        box_head=TwoMLPHead(f * 49, c["boxRepresentation"]),
        box_predictor=FastRCNNPredictor(c["boxRepresentation"], k),
        mask_roi_pool=MultiScaleRoIAlign(names, 14, 2, canonical_scale=int(224 * s)),
        mask_head=MaskRCNNHeads(f, [c["maskDim"]] * 4, 1),
        mask_predictor=MaskRCNNPredictor(c["maskDim"], c["maskDim"], k))
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    n, sz = c["batch"], c["size"]
    images = [torch.randn(c["inChans"], sz, sz) for _ in range(n)]
    targets = []
    for i in range(n):
        boxes = torch.tensor(c["boxes"], dtype=torch.float32)
        masks = torch.zeros(len(boxes), sz, sz)
        for g, (x1, y1, x2, y2) in enumerate(c["boxes"]):
            masks[g, int(y1):int(y2), int(x1):int(x2)] = 1
        targets.append({"boxes": boxes, "labels": torch.tensor(c["labels"]), "masks": masks})

    def step():
        opt.zero_grad()
        loss = sum(model(images, targets).values())
        loss.backward()
        opt.step()

    report(step, c)


if __name__ == "__main__":
    main()

"""PyTorch side of bench/upernet_bench.ts: one UperNet training step (forward, decode + 0.4 aux
CE with ignore 255 over valid pixels, backward, AdamW) on the CPU with the same configuration as
the tessera side: bench/mask_rcnn_torch.py's ViT encoder + 4-scale adapter (its FPN neck left
out) and tools/make_upernet_fixtures.py's reimplementation of mmseg's UPerHead (PPM 1, 2, 3, 6)
and FCNHead (on stride 16), train-mode BatchNorm and Dropout2d 0.1. Prints one JSON line
{"ms": milliseconds per step, "blas": the BLAS libraries mapped}.

    /usr/bin/python3 bench/upernet_torch.py '<config JSON>'
"""
import json
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from mask_rcnn_torch import Backbone, report  # noqa: E402
from make_upernet_fixtures import FCNHead, UPerHead, resize, uper_net_loss  # noqa: E402


class Maps(nn.Module):
    """Stands in for the FPN neck: the adapter's four maps as a list."""

    def forward(self, maps):
        return list(maps.values())


class UperNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.backbone = Backbone({**c, "fpnChannels": c["channels"]})
        self.backbone.neck = Maps()
        d, k = c["embedDim"], c["numClasses"]
        self.decode_head = UPerHead(d, c["channels"], k)
        self.auxiliary_head = FCNHead(d, c["auxChannels"], k)

    def forward(self, x):
        maps = self.backbone(x)
        return resize(self.decode_head(maps), x.shape[2:]), self.auxiliary_head(maps[2])


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(c.get("threads", 1))
    model = UperNet(c).train()
    opt = torch.optim.AdamW(model.parameters(), lr=c["lr"], weight_decay=0.05)
    n, s = c["batch"], c["size"]
    images = torch.randn(n, c["inChans"], s, s)
    labels = torch.randint(0, c["numClasses"], (n, s, s))
    labels[torch.rand(n, s, s) < c["ignoreFraction"]] = 255

    def step():
        opt.zero_grad()
        logits, aux = model(images)
        loss = uper_net_loss(logits, aux, labels)
        loss.backward()
        opt.step()
        return loss.item()

    report(step, c)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generates torchvision 0.14 reference fixtures for tessera's detection model parts.

    python3 tools/make_detection_fixtures.py

Writes (deterministically, from torch.manual_seed) tests/fixtures/detection_rpn.safetensors:
the FPN (torchvision.ops.FeaturePyramidNetwork + LastLevelMaxPool) on four random maps, the
AnchorGenerator's anchors for a padded batch, the RPNHead's outputs on the FPN maps, the
RegionProposalNetwork's filtered proposals (from fixed objectness/deltas), the anchor matcher's
labels and regression targets for fixed ground truth, and the RPN losses for the sampled anchors
(the sampler's fg/bg indices are saved, so tessera can compute the same deterministic loss).
Then tests/fixtures/detection_roi.safetensors: RoIHeads (MultiScaleRoIAlign 7/14, TwoMLPHead,
FastRCNNPredictor, MaskRCNNHeads, MaskRCNNPredictor) on the RPN's proposals: pooled features, box
head outputs, proposal-to-GT assignment, torch's sampled training RoIs with their targets and the
box/mask losses on them, mask targets, postprocessed detections, mask probabilities and masks
pasted into the image.
Tensor names: "fpn/<torchvision state-dict name>", "rpn_head/<name>", "<case>/<tensor>";
metadata "config" holds the sizes as JSON.

Needs Debian's python3-torch and python3-torchvision (/usr/bin/python3); the script re-runs
itself there when the python3 on PATH lacks them.
"""
import json
import os
import sys

try:
    import torch
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.image_list import ImageList
    from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead, concat_box_prediction_layers
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.models.detection.roi_heads import (RoIHeads, fastrcnn_loss, maskrcnn_inference,
                                                        maskrcnn_loss, paste_masks_in_image,
                                                        project_masks_on_boxes)
    from torchvision.ops import FeaturePyramidNetwork, MultiScaleRoIAlign
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool
except ImportError:
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_vision_fixtures import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "detection_rpn.safetensors")

T = {}


def put(name, t):
    t = torch.as_tensor(t).detach()
    T[name] = t.to(torch.int32) if t.dtype in (torch.int64, torch.bool) else t.contiguous()


def main():
    torch.manual_seed(0)
    n, cin, cout = 2, 6, 8
    pad_hw = (64, 96)
    image_sizes = [(60, 90), (64, 96)]
    grids = [(16, 24), (8, 12), (4, 6), (2, 3)]
    sizes = ((8,), (16,), (32,), (64,), (128,))
    ratios = ((0.5, 1.0, 2.0),) * 5
    cfg = {"n": n, "inChannels": cin, "outChannels": cout, "padSize": pad_hw, "imageSizes": image_sizes,
           "grids": grids, "sizes": sizes, "ratios": ratios, "preNmsTopN": 60, "postNmsTopN": 30,
           "nmsThresh": 0.7, "fgIou": 0.7, "bgIou": 0.3, "batchSizePerImage": 32, "positiveFraction": 0.5}

    # FPN
    fpn = FeaturePyramidNetwork([cin] * 4, cout, extra_blocks=LastLevelMaxPool()).eval()
    for k, v in fpn.state_dict().items():
        put(f"fpn/{k}", v)
    maps = [torch.randn(n, cin, h, w) for h, w in grids]
    for i, m in enumerate(maps):
        put(f"fpn_in/{i}", m)
    with torch.no_grad():
        feats = list(fpn({str(i): m for i, m in enumerate(maps)}).values())
    for i, f in enumerate(feats):
        put(f"fpn_out/{i}", f)

    # anchors (the model's and an odd-size set that exercises torch.round's half-to-even)
    images = ImageList(torch.zeros(n, 3, *pad_hw), image_sizes)
    gen = AnchorGenerator(sizes, ratios)
    anchors = gen(images, feats)
    put("anchors/boxes", anchors[0])
    odd = AnchorGenerator(((5, 11, 13),), ((0.25, 0.5, 1.0, 2.0, 3.0),))
    put("anchors/odd_cell", odd.cell_anchors[0])
    cfg["oddSizes"], cfg["oddRatios"] = [5, 11, 13], [0.25, 0.5, 1.0, 2.0, 3.0]

    # RPN head (weights spread wider than the N(0, 0.01) init so scores are well separated)
    head = RPNHead(cout, 3)
    with torch.no_grad():
        for p in head.parameters():
            p.normal_(0, 0.3)
    for k, v in head.state_dict().items():
        put(f"rpn_head/{k}", v)
    with torch.no_grad():
        obj, deltas = head(feats)
    num_per_level = [o[0].numel() for o in obj]
    cfg["anchorsPerLevel"] = num_per_level
    obj_flat, deltas_flat = concat_box_prediction_layers(obj, deltas)
    put("head/objectness", obj_flat.reshape(n, -1))
    put("head/deltas", deltas_flat.reshape(n, -1, 4))

    # proposals from the (saved) head outputs
    rpn = RegionProposalNetwork(gen, head, cfg["fgIou"], cfg["bgIou"], cfg["batchSizePerImage"],
                                cfg["positiveFraction"], dict(training=cfg["preNmsTopN"], testing=cfg["preNmsTopN"]),
                                dict(training=cfg["postNmsTopN"], testing=cfg["postNmsTopN"]), cfg["nmsThresh"])
    rpn.eval()
    with torch.no_grad():
        props = rpn.box_coder.decode(deltas_flat, anchors).view(n, -1, 4)
        boxes, scores = rpn.filter_proposals(props, obj_flat, image_sizes, num_per_level)
    for i in range(n):
        put(f"proposals/boxes{i}", boxes[i])
        put(f"proposals/scores{i}", scores[i])

    # targets, sampled losses
    gts = [torch.tensor([[4.0, 6.0, 30.0, 22.0], [40.0, 10.0, 70.0, 58.0], [10.0, 30.0, 18.0, 38.0]]),
           torch.tensor([[0.0, 0.0, 50.0, 40.0], [60.0, 20.0, 95.0, 63.0]])]
    for i, g in enumerate(gts):
        put(f"targets/boxes{i}", g)
    labels, matched = rpn.assign_targets_to_anchors(anchors, [{"boxes": g} for g in gts])
    reg = rpn.box_coder.encode(matched, anchors)
    for i in range(n):
        put(f"targets/labels{i}", labels[i])
        put(f"targets/regression{i}", reg[i])
    torch.manual_seed(5)
    pos, neg = rpn.fg_bg_sampler(labels)
    put("loss/pos", torch.where(torch.cat(pos, 0))[0])
    put("loss/neg", torch.where(torch.cat(neg, 0))[0])
    torch.manual_seed(5)
    lo, lb = rpn.compute_loss(obj_flat, deltas_flat, labels, reg)
    put("loss/objectness", lo)
    put("loss/box_reg", lb)

    write_safetensors(OUT, T, {"config": json.dumps(cfg, separators=(",", ":"))})
    print(f"wrote {len(T)} tensors to {os.path.normpath(OUT)}")
    T.clear()
    roi_cases(feats[:4], [b.clone() for b in boxes], image_sizes, gts, pad_hw)


def roi_cases(feats, proposals, image_sizes, gts, pad_hw):
    """RoI heads: MultiScaleRoIAlign, TwoMLPHead + FastRCNNPredictor, training targets and
    losses for torch's sampled RoIs, mask head + loss, postprocessed detections and masks."""
    torch.manual_seed(1)
    c, rep, ncls, mdim = feats[0].shape[1], 32, 4, 8
    cfg = {"numClasses": ncls, "representation": rep, "maskDim": mdim, "batchSizePerImage": 16,
           "positiveFraction": 0.25, "scoreThresh": 0.05, "nmsThresh": 0.5, "detectionsPerImg": 10,
           "imageSizes": image_sizes, "padSize": pad_hw}
    names = ["0", "1", "2", "3"]
    fmap = dict(zip(names, feats))
    heads = RoIHeads(
        MultiScaleRoIAlign(names, 7, 2), TwoMLPHead(c * 49, rep), FastRCNNPredictor(rep, ncls),
        0.5, 0.5, cfg["batchSizePerImage"], cfg["positiveFraction"], None,
        cfg["scoreThresh"], cfg["nmsThresh"], cfg["detectionsPerImg"],
        mask_roi_pool=MultiScaleRoIAlign(names, 14, 2), mask_head=MaskRCNNHeads(c, [mdim] * 4, 1),
        mask_predictor=MaskRCNNPredictor(mdim, mdim, ncls))
    with torch.no_grad():
        for name, p in heads.named_parameters():
            p.normal_(0, 0.5 if "bbox_pred" in name or "cls_score" in name else 0.1)
    for k, v in heads.state_dict().items():
        put(f"heads/{k}", v)
    labels_gt = [torch.tensor([1, 2, 3]), torch.tensor([2, 1])]
    masks_gt = [(torch.rand(len(g), *pad_hw) > 0.5).float() for g in gts]
    for i in range(len(gts)):
        put(f"gt/boxes{i}", gts[i])
        put(f"gt/labels{i}", labels_gt[i])
        put(f"gt/masks{i}", masks_gt[i])
        put(f"props/boxes{i}", proposals[i])
    with torch.no_grad():
        pooled = heads.box_roi_pool(fmap, proposals, image_sizes)
        put("pool/out", pooled)
        feat = heads.box_head(pooled)
        cls, reg = heads.box_predictor(feat)
        put("box/class_logits", cls)
        put("box/box_regression", reg)
        # assignment on proposals + GT (no sampling)
        with_gt = heads.add_gt_proposals([p.clone() for p in proposals], gts)
        m_idx, lab = heads.assign_targets_to_proposals(with_gt, gts, labels_gt)
        for i in range(len(gts)):
            put(f"assign/proposals{i}", with_gt[i])
            put(f"assign/matched{i}", m_idx[i])
            put(f"assign/labels{i}", lab[i])
        # torch's sample, then the losses on it
        torch.manual_seed(3)
        sp, smatch, slab, sreg = heads.select_training_samples(
            [p.clone() for p in proposals], [{"boxes": g, "labels": l, "masks": m} for g, l, m in zip(gts, labels_gt, masks_gt)])
        for i in range(len(gts)):
            put(f"train/proposals{i}", sp[i])
            put(f"train/matched{i}", smatch[i])
            put(f"train/labels{i}", slab[i])
            put(f"train/regression{i}", sreg[i])
        tcls, treg = heads.box_predictor(heads.box_head(heads.box_roi_pool(fmap, sp, image_sizes)))
        lc, lb = fastrcnn_loss(tcls, treg, slab, sreg)
        put("train/loss_classifier", lc)
        put("train/loss_box_reg", lb)
        pos_props, pos_match, pos_labels = [], [], []
        for i in range(len(gts)):
            pos = torch.where(slab[i] > 0)[0]
            pos_props.append(sp[i][pos])
            pos_match.append(smatch[i][pos])
            pos_labels.append(slab[i][pos])
        mlog = heads.mask_predictor(heads.mask_head(heads.mask_roi_pool(fmap, pos_props, image_sizes)))
        put("train/mask_logits", mlog)
        for i in range(len(gts)):
            put(f"train/mask_targets{i}", project_masks_on_boxes(masks_gt[i], pos_props[i], pos_match[i], 28))
        put("train/loss_mask", maskrcnn_loss(mlog, pos_props, masks_gt, labels_gt, pos_match))
        # inference
        dboxes, dscores, dlabels = heads.postprocess_detections(cls, reg, proposals, image_sizes)
        mprob = maskrcnn_inference(
            heads.mask_predictor(heads.mask_head(heads.mask_roi_pool(fmap, dboxes, image_sizes))), dlabels)
        for i in range(len(gts)):
            put(f"det/boxes{i}", dboxes[i])
            put(f"det/scores{i}", dscores[i])
            put(f"det/labels{i}", dlabels[i])
            put(f"det/mask_probs{i}", mprob[i])
            put(f"det/pasted{i}", paste_masks_in_image(mprob[i][:4], dboxes[i][:4], image_sizes[i]))  # 4: small file
    out = OUT.replace("detection_rpn", "detection_roi")
    write_safetensors(out, T, {"config": json.dumps(cfg, separators=(",", ":"))})
    print(f"wrote {len(T)} tensors to {os.path.normpath(out)}")


if __name__ == "__main__":
    main()

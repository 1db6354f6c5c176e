#!/usr/bin/env python3
"""PyTorch reference fixtures for tessera's nn/ and models/vit.ts.

    /usr/bin/python3 tools/make_vit_fixture.py      (Debian's python3-torch, torch 1.13)

timm is not needed: the ViT below is a minimal re-implementation with timm's exact module
names and forward (PatchEmbed.proj conv, Attention.qkv/proj with the scale on q, Mlp.fc1/fc2,
Block.norm1/attn/ls1/norm2/mlp/ls2, VisionTransformer.cls_token/pos_embed/blocks/norm/fc_norm/
head), plus BEiT's q_bias/v_bias and gamma_1/gamma_2. Writes, deterministically:

  tests/fixtures/vit_timm_tiny.safetensors  state dict of a timm-style ViT (img 28, patch 7,
      1 channel, dim 32, depth 2, heads 2, 10 classes, CLS pooling), as torch would save it.
  tests/fixtures/vit_beit_tiny.safetensors  state dict of a BEiT-style ViT (img 16, patch 4,
      3 channels, dim 24, depth 2, heads 3, 5 classes, mean pooling + fc_norm, q/v bias,
      layer scale gamma_1/gamma_2).
  tests/fixtures/nn_torch.safetensors  inputs and outputs: both ViTs' input batch and logits,
      a Block's forward and gradients of a scalar loss w.r.t. its input and parameters,
      masked/biased attention, losses and their gradients, AdamW / SGD-nesterov trajectories,
      gradient clipping, F.interpolate (bilinear/bicubic), MAE's 2-D sin-cos table and
      BEiT's cosine_scheduler. Metadata "cases" (JSON) lists what each group holds.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import write_safetensors  # noqa: E402 (same writer as the op fixtures)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")

# ---------------------------------------------------------------- a timm-compatible ViT


class PatchEmbed(nn.Module):
    def __init__(self, patch_size, in_chans, embed_dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias="full"):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias == "full")
        if qkv_bias == "qv":
            self.q_bias = nn.Parameter(torch.zeros(dim))
            self.v_bias = nn.Parameter(torch.zeros(dim))
        else:
            self.q_bias = self.v_bias = None
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, attn_bias=None, key_padding_mask=None):
        B, N, C = x.shape
        if self.q_bias is not None:
            bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias, requires_grad=False), self.v_bias))
            qkv = F.linear(x, self.qkv.weight, bias)
        else:
            qkv = self.qkv(x)
        q, k, v = qkv.reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if attn_bias is not None:
            attn = attn + attn_bias
        if key_padding_mask is not None:
            attn = attn.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LayerScale(nn.Module):
    def __init__(self, dim, init_values):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Block(nn.Module):
    """timm's Block (ls = "timm": ls1.gamma) or BEiT's (ls = "beit": gamma_1)."""

    def __init__(self, dim, num_heads, qkv_bias="full", ls=None, ls_init=0.1):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.ls_style = ls
        if ls == "timm":
            self.ls1 = LayerScale(dim, ls_init)
        elif ls == "beit":
            self.gamma_1 = nn.Parameter(ls_init * torch.ones(dim))
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, 4 * dim)
        if ls == "timm":
            self.ls2 = LayerScale(dim, ls_init)
        elif ls == "beit":
            self.gamma_2 = nn.Parameter(ls_init * torch.ones(dim))

    def scale(self, i, x):
        if self.ls_style == "timm":
            return (self.ls1 if i == 1 else self.ls2)(x)
        if self.ls_style == "beit":
            return x * (self.gamma_1 if i == 1 else self.gamma_2)
        return x

    def forward(self, x, **kw):
        x = x + self.scale(1, self.attn(self.norm1(x), **kw))
        return x + self.scale(2, self.mlp(self.norm2(x)))


class VisionTransformer(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, num_classes, embed_dim, depth, num_heads,
                 global_pool="token", qkv_bias="full", ls=None):
        super().__init__()
        n = (img_size // patch_size) ** 2
        self.global_pool = global_pool
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, embed_dim))
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim)
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads, qkv_bias, ls) for _ in range(depth)])
        avg = global_pool == "avg"
        self.norm = nn.Identity() if avg else nn.LayerNorm(embed_dim, eps=1e-6)
        self.fc_norm = nn.LayerNorm(embed_dim, eps=1e-6) if avg else nn.Identity()
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        x = x[:, 1:].mean(dim=1) if self.global_pool == "avg" else x[:, 0]
        return self.head(self.fc_norm(x))


def randomise(module, std=0.1):
    """Non-trivial values everywhere (LayerNorm weights around 1, everything else around 0)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            base = 1.0 if name.endswith("norm1.weight") or name.endswith("norm2.weight") or \
                name in ("norm.weight", "fc_norm.weight") else 0.0
            p.copy_(base + std * torch.randn_like(p))


# ---------------------------------------------------------------- fixture groups

T, CASES = {}, {}


def put(name, value):
    assert name not in T, name
    T[name] = value.detach().clone() if isinstance(value, torch.Tensor) else value


def state_dict_of(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def make_vits():
    torch.manual_seed(0)
    a = VisionTransformer(28, 7, 1, 10, 32, 2, 2)
    randomise(a)
    xa = torch.randn(4, 1, 28, 28)
    put("vit_timm/input", xa)
    put("vit_timm/logits", a(xa))
    write_safetensors(os.path.join(ROOT, "vit_timm_tiny.safetensors"), state_dict_of(a), {"format": "pt"})

    b = VisionTransformer(16, 4, 3, 5, 24, 2, 3, global_pool="avg", qkv_bias="qv", ls="beit")
    randomise(b)
    xb = torch.randn(3, 3, 16, 16)
    put("vit_beit/input", xb)
    put("vit_beit/logits", b(xb))
    write_safetensors(os.path.join(ROOT, "vit_beit_tiny.safetensors"), state_dict_of(b), {"format": "pt"})
    CASES["vit"] = "vit_timm/{input,logits} with vit_timm_tiny.safetensors; vit_beit/* with vit_beit_tiny"


def make_block():
    torch.manual_seed(1)
    blk = Block(16, 2, "full", ls="timm")
    randomise(blk, 0.2)
    x = torch.randn(2, 5, 16, requires_grad=True)
    r = torch.randn(2, 5, 16)
    y = blk(x)
    loss = (y * r).sum()
    loss.backward()
    put("block/x", x)
    put("block/r", r)
    put("block/y", y)
    put("block/loss", loss)
    put("block/grad_x", x.grad)
    for k, p in blk.named_parameters():
        put(f"block/param/{k}", p)
        put(f"block/grad/{k}", p.grad)
    # attention with an additive bias and a key-padding mask (forward only)
    bias = torch.randn(1, 2, 5, 5)
    mask = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
    put("block/attn_bias", bias)
    put("block/key_padding_mask", mask)
    put("block/attn_masked_out", blk.attn(x, attn_bias=bias, key_padding_mask=mask))
    CASES["block"] = "timm Block(16, heads 2, ls 'timm'): y = block(x); loss = sum(y*r); grads"


def make_losses():
    torch.manual_seed(2)
    logits = torch.randn(6, 5, requires_grad=True)
    labels = torch.tensor([0, 3, -100, 4, 1, -100])
    l1 = F.cross_entropy(logits, labels, label_smoothing=0.1, ignore_index=-100)
    g1, = torch.autograd.grad(l1, logits)
    soft = torch.softmax(torch.randn(6, 5), dim=-1)
    l2 = F.cross_entropy(logits, soft, label_smoothing=0.1)
    g2, = torch.autograd.grad(l2, logits)
    z = torch.randn(3, 4, requires_grad=True)
    y = torch.rand(3, 4)
    pw = torch.tensor([0.5, 1.0, 2.0, 3.0])
    l3 = F.binary_cross_entropy_with_logits(z, y, pos_weight=pw)
    g3, = torch.autograd.grad(l3, z)
    l4 = F.binary_cross_entropy_with_logits(z, y)
    t = torch.randn(3, 4)
    put("loss/logits", logits)
    put("loss/labels", labels.to(torch.int32))
    put("loss/ce_int", l1)
    put("loss/ce_int_grad", g1)
    put("loss/soft", soft)
    put("loss/ce_soft", l2)
    put("loss/ce_soft_grad", g2)
    put("loss/z", z)
    put("loss/y", y)
    put("loss/pos_weight", pw)
    put("loss/bce_pw", l3)
    put("loss/bce_pw_grad", g3)
    put("loss/bce", l4)
    put("loss/t", t)
    put("loss/mse", F.mse_loss(z, t))
    put("loss/l1", F.l1_loss(z, t))
    put("loss/smooth_l1_b05", F.smooth_l1_loss(z, t, beta=0.5))
    put("loss/smooth_l1_b1", F.smooth_l1_loss(z, t))
    CASES["loss"] = "F.cross_entropy / BCE-with-logits / mse / l1 / smooth_l1 values and grads"


def problem():
    torch.manual_seed(3)
    x, yt = torch.randn(8, 4), torch.randn(8, 3)
    w, b = torch.randn(3, 4), torch.randn(3)
    return x, yt, w, b


def trajectory(opt_fn, steps=5, groups=False):
    x, yt, w0, b0 = problem()
    w, b = nn.Parameter(w0.clone()), nn.Parameter(b0.clone())
    opt = opt_fn(w, b)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        ((x @ w.T + b - yt) ** 2).mean().backward()
        opt.step()
        out.append((w.detach().clone(), b.detach().clone()))
    return out


def make_optim():
    x, yt, w0, b0 = problem()
    put("optim/x", x)
    put("optim/y", yt)
    put("optim/w0", w0)
    put("optim/b0", b0)
    runs = {
        "adamw": lambda w, b: torch.optim.AdamW([w, b], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
        # param groups: decay on w only, b's lr scaled by 0.5 (layer-decay style)
        "adamw_groups": lambda w, b: torch.optim.AdamW(
            [{"params": [w], "weight_decay": 0.05, "lr": 0.1}, {"params": [b], "weight_decay": 0.0, "lr": 0.05}],
            betas=(0.9, 0.95), eps=1e-6),
        "sgd_nesterov": lambda w, b: torch.optim.SGD([w, b], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        "sgd_momentum": lambda w, b: torch.optim.SGD([w, b], lr=0.05, momentum=0.8, dampening=0.1),
    }
    for name, fn in runs.items():
        for i, (w, b) in enumerate(trajectory(fn)):
            put(f"optim/{name}/{i}/w", w)
            put(f"optim/{name}/{i}/b", b)
    # gradient clipping by global norm
    torch.manual_seed(4)
    ga, gb = torch.randn(3, 4) * 2, torch.randn(3) * 2
    pa, pb = nn.Parameter(torch.zeros(3, 4)), nn.Parameter(torch.zeros(3))
    pa.grad, pb.grad = ga.clone(), gb.clone()
    norm = torch.nn.utils.clip_grad_norm_([pa, pb], max_norm=1.5)
    put("optim/clip/ga", ga)
    put("optim/clip/gb", gb)
    put("optim/clip/norm", norm)
    put("optim/clip/ga_clipped", pa.grad)
    put("optim/clip/gb_clipped", pb.grad)
    CASES["optim"] = "5 steps on mean((x w^T + b - y)^2) from (w0, b0); optim/<run>/<step>/{w,b}"


def make_interp():
    torch.manual_seed(5)
    x = torch.randn(1, 3, 4, 5)
    put("interp/x", x)
    for mode in ("bilinear", "bicubic"):
        for ac in (False, True):
            for size in ((7, 3), (2, 9)):
                y = F.interpolate(x, size=size, mode=mode, align_corners=ac)
                put(f"interp/{mode}/{int(ac)}/{size[0]}x{size[1]}", y)
    CASES["interp"] = "F.interpolate(x, size, mode, align_corners) without antialias"


def mae_2d_sincos(embed_dim, grid_size, cls_token=False):
    """MAE util/pos_embed.py get_2d_sincos_pos_embed (square grid)."""
    grid_h = np.arange(grid_size, dtype=np.float32)
    grid_w = np.arange(grid_size, dtype=np.float32)
    grid = np.stack(np.meshgrid(grid_w, grid_h), axis=0).reshape([2, 1, grid_size, grid_size])

    def one(d, pos):
        omega = np.arange(d // 2, dtype=np.float64) / (d / 2.0)
        omega = 1.0 / 10000 ** omega
        out = np.einsum("m,d->md", pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    emb = np.concatenate([one(embed_dim // 2, grid[0]), one(embed_dim // 2, grid[1])], axis=1)
    if cls_token:
        emb = np.concatenate([np.zeros([1, embed_dim]), emb], axis=0)
    return emb


def cosine_scheduler(base_value, final_value, epochs, niter_per_ep, warmup_epochs=0, start_warmup_value=0):
    """BEiT/DINO utils.py cosine_scheduler."""
    warmup_schedule = np.array([])
    warmup_iters = warmup_epochs * niter_per_ep
    if warmup_epochs > 0:
        warmup_schedule = np.linspace(start_warmup_value, base_value, warmup_iters)
    iters = np.arange(epochs * niter_per_ep - warmup_iters)
    schedule = np.array([final_value + 0.5 * (base_value - final_value) * (1 + math.cos(math.pi * i / (len(iters))))
                         for i in iters])
    schedule = np.concatenate((warmup_schedule, schedule))
    assert len(schedule) == epochs * niter_per_ep
    return schedule


def make_misc():
    put("sincos/mae_16_4_cls", mae_2d_sincos(16, 4, cls_token=True).astype(np.float64))
    put("sched/beit", cosine_scheduler(1.5e-3, 1e-5, 10, 7, warmup_epochs=2, start_warmup_value=0))
    put("sched/dino_wd", cosine_scheduler(0.04, 0.4, 5, 3))
    CASES["misc"] = ("sincos/mae_16_4_cls = get_2d_sincos_pos_embed(16, 4, cls_token=True); "
                     "sched/beit = cosine_scheduler(1.5e-3, 1e-5, 10, 7, warmup_epochs=2); "
                     "sched/dino_wd = cosine_scheduler(0.04, 0.4, 5, 3)")


def main():
    os.makedirs(ROOT, exist_ok=True)
    torch.set_num_threads(1)
    make_vits()
    make_block()
    make_losses()
    make_optim()
    make_interp()
    make_misc()
    meta = {"generator": "tools/make_vit_fixture.py", "torch_version": torch.__version__,
            "cases": json.dumps(CASES)}
    path = os.path.join(ROOT, "nn_torch.safetensors")
    write_safetensors(path, T, meta)
    for f in ("nn_torch", "vit_timm_tiny", "vit_beit_tiny"):
        p = os.path.join(ROOT, f + ".safetensors")
        print(f"wrote {p}: {os.path.getsize(p)} bytes")


if __name__ == "__main__":
    main()

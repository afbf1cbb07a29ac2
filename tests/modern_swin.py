"""Swin-T transcribed by hand from torchvision's ``models/swin_transformer.py`` (as
tests/modern_modules.py does for the others; in a file of its own for its size): patch
embedding, shifted-window attention with its relative position bias table and the shift's
mask, patch merging."""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from tests.modern_modules import Permute


def _patch_merging_pad(x):
    h, w, _ = x.shape[-3:]
    return F.pad(x, (0, 0, 0, w % 2, 0, h % 2))


torch.fx.wrap("_patch_merging_pad")  # as torchvision: a leaf of torch.fx's graph


class PatchMerging(nn.Module):
    """Every 2×2 neighbours' features concatenated (4C), LayerNorm, Linear to 2C (no bias)."""

    def __init__(self, dim):
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x):
        x = _patch_merging_pad(x)
        x = torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :],
                       x[..., 1::2, 1::2, :]], -1)
        return self.reduction(self.norm(x))


def shifted_window_attention(x, qkv_weight, proj_weight, bias, window, heads, shift,
                             attention_dropout=0.0, dropout=0.0, qkv_bias=None,
                             proj_bias=None):
    """torchvision's ``shifted_window_attention`` (v1): pad to whole windows, roll by the
    shift, cut into windows, attention per window with the relative position bias (and the
    shift's mask), windows back, roll back, crop."""
    b, h, w, c = x.shape
    pad_r = (window[1] - w % window[1]) % window[1]
    pad_b = (window[0] - h % window[0]) % window[0]
    x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
    _, ph, pw, _ = x.shape
    shift = list(shift)
    if window[0] >= ph:
        shift[0] = 0
    if window[1] >= pw:
        shift[1] = 0
    if sum(shift) > 0:
        x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
    windows = (ph // window[0]) * (pw // window[1])
    x = x.view(b, ph // window[0], window[0], pw // window[1], window[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b * windows, window[0] * window[1], c)
    qkv = F.linear(x, qkv_weight, qkv_bias)
    qkv = qkv.reshape(x.size(0), x.size(1), 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    q = q * (c // heads) ** -0.5
    attn = q.matmul(k.transpose(-2, -1))
    attn = attn + bias
    if sum(shift) > 0:
        mask = x.new_zeros((ph, pw))
        hs = ((0, -window[0]), (-window[0], -shift[0]), (-shift[0], None))
        ws = ((0, -window[1]), (-window[1], -shift[1]), (-shift[1], None))
        count = 0
        for top, bottom in hs:
            for left, right in ws:
                mask[top:bottom, left:right] = count
                count += 1
        mask = mask.view(ph // window[0], window[0], pw // window[1], window[1])
        mask = mask.permute(0, 2, 1, 3).reshape(windows, window[0] * window[1])
        mask = mask.unsqueeze(1) - mask.unsqueeze(2)
        mask = mask.masked_fill(mask != 0, float(-100.0)).masked_fill(mask == 0, float(0.0))
        attn = attn.view(x.size(0) // windows, windows, heads, x.size(1), x.size(1))
        attn = attn + mask.unsqueeze(1).unsqueeze(0)
        attn = attn.view(-1, heads, x.size(1), x.size(1))
    attn = F.softmax(attn, dim=-1)
    x = attn.matmul(v).transpose(1, 2).reshape(x.size(0), x.size(1), c)
    x = F.linear(x, proj_weight, proj_bias)
    x = x.view(b, ph // window[0], pw // window[1], window[0], window[1], c)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, ph, pw, c)
    if sum(shift) > 0:
        x = torch.roll(x, shifts=(shift[0], shift[1]), dims=(1, 2))
    return x[:, :h, :w, :].contiguous()


torch.fx.wrap("shifted_window_attention")


class ShiftedWindowAttention(nn.Module):
    """The qkv and proj Linears (read as weights by the function), and the table of
    (2·Wh − 1)(2·Ww − 1) × heads relative position biases, indexed by a buffer."""

    def __init__(self, dim, window, shift, heads):
        super().__init__()
        self.window, self.shift, self.heads = window, shift, heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window[0] - 1) * (2 * window[1] - 1), heads))
        coords = torch.stack(torch.meshgrid(torch.arange(window[0]), torch.arange(window[1]),
                                            indexing="ij")).flatten(1)
        relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
        relative[:, :, 0] += window[0] - 1
        relative[:, :, 1] += window[1] - 1
        relative[:, :, 0] *= 2 * window[1] - 1
        self.register_buffer("relative_position_index", relative.sum(-1).flatten())

    def get_relative_position_bias(self):
        n = self.window[0] * self.window[1]
        bias = self.relative_position_bias_table[self.relative_position_index]
        return bias.view(n, n, -1).permute(2, 0, 1).contiguous().unsqueeze(0)

    def forward(self, x):
        return shifted_window_attention(x, self.qkv.weight, self.proj.weight,
                                        self.get_relative_position_bias(), self.window,
                                        self.heads, shift=self.shift, attention_dropout=0.0,
                                        dropout=0.0, qkv_bias=self.qkv.bias,
                                        proj_bias=self.proj.bias)


class MLP(nn.Sequential):
    """``torchvision.ops.misc.MLP``: Linear, GELU, Dropout, Linear, Dropout."""

    def __init__(self, dim, hidden):
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(0.0),
                         nn.Linear(hidden, dim), nn.Dropout(0.0))


class SwinTransformerBlock(nn.Module):
    def __init__(self, dim, heads, window, shift):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = ShiftedWindowAttention(dim, window, shift, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, 4 * dim)

    def forward(self, x):  # stochastic depth is the identity in eval mode
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class SwinTransformer(nn.Module):
    """``swin_t`` by default: 4×4 patches to 96 channels, stages of 2, 2, 6, 2 blocks in
    3, 6, 12, 24 heads, 7×7 windows (every second block shifted by 3)."""

    def __init__(self, embed=96, depths=(2, 2, 6, 2), heads=(3, 6, 12, 24), window=(7, 7),
                 classes=1000):
        super().__init__()
        norm = partial(nn.LayerNorm, eps=1e-5)
        layers = [nn.Sequential(nn.Conv2d(3, embed, 4, 4), Permute([0, 2, 3, 1]), norm(embed))]
        for i, (depth, head) in enumerate(zip(depths, heads)):
            dim = embed * 2 ** i
            layers.append(nn.Sequential(*(
                SwinTransformerBlock(dim, head, list(window),
                                     [0 if j % 2 == 0 else w // 2 for w in window])
                for j in range(depth))))
            if i + 1 < len(depths):
                layers.append(PatchMerging(dim))
        self.features = nn.Sequential(*layers)
        features = embed * 2 ** (len(depths) - 1)
        self.norm = norm(features)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(features, classes)

    def forward(self, x):
        x = self.norm(self.features(x)).permute(0, 3, 1, 2)
        return self.head(torch.flatten(self.avgpool(x), 1))

"""MaxViT-T transcribed by hand from torchvision's ``models/maxvit.py`` (pytorch/vision at
commit 05b717f4f977822cfded004925b544c89f94c765; torchvision itself is never installed here),
as tests/modern_modules.py does for the other newer networks: the stem, MBConv with its
squeeze-and-excitation (stochastic depth is the identity in eval mode), window and grid
partitions (the grid's ``SwapAxes``), ``RelativePositionalMultiHeadAttention`` with its
einsums and the relative position bias gathered from its table, the MLP, and the
LayerNorm-Linear-Tanh-Linear head. ``maxvit_t``'s sizes by default: torchvision publishes
num_params 30,919,624 and 5.56 GFLOPS (its ``_ops``: MACs) at 224 px.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn


def _conv_output(size, kernel=3, stride=2, padding=1):
    return tuple((s - kernel + 2 * padding) // stride + 1 for s in size)


def _relative_position_index(height, width):
    coords = torch.stack(torch.meshgrid([torch.arange(height), torch.arange(width)],
                                        indexing="ij"))
    flat = torch.flatten(coords, 1)
    relative = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
    relative[:, :, 0] += height - 1
    relative[:, :, 1] += width - 1
    relative[:, :, 0] *= 2 * width - 1
    return relative.sum(-1)


class ConvNormActivation(nn.Sequential):
    """``torchvision.ops.misc.Conv2dNormActivation``: padding (k − 1) / 2, a bias only
    without a norm unless given."""

    def __init__(self, cin, cout, kernel, stride=1, groups=1, norm=None, activation=None,
                 bias=None):
        layers = [nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups,
                            bias=norm is None if bias is None else bias)]
        if norm is not None:
            layers.append(norm(cout))
        if activation is not None:
            layers.append(activation())
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """``torchvision.ops.misc.SqueezeExcitation``: global average pool, 1×1 conv, SiLU (as
    MaxViT asks), 1×1 conv, sigmoid, times the input."""

    def __init__(self, channels, squeezed, activation=nn.SiLU):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeezed, 1)
        self.fc2 = nn.Conv2d(squeezed, channels, 1)
        self.activation = activation()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x):
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class MBConv(nn.Module):
    """Pre-norm BN, 1×1 to 4C, depthwise 3×3 (stride s), SE to C/4, 1×1 back, plus the
    projection (a 3×3 average pool for stride 2, then a 1×1 conv) or the input."""

    def __init__(self, cin, cout, expansion, squeeze, stride, activation, norm):
        super().__init__()
        if stride != 1 or cin != cout:
            proj = [nn.Conv2d(cin, cout, 1, 1, bias=True)]
            if stride == 2:
                proj = [nn.AvgPool2d(3, stride, 1)] + proj
            self.proj = nn.Sequential(*proj)
        else:
            self.proj = nn.Identity()
        mid, squeezed = int(cout * expansion), int(cout * squeeze)
        self.stochastic_depth = nn.Identity()  # StochasticDepth: the identity in eval mode
        self.layers = nn.Sequential(OrderedDict([
            ("pre_norm", norm(cin)),
            ("conv_a", ConvNormActivation(cin, mid, 1, norm=norm, activation=activation)),
            ("conv_b", ConvNormActivation(mid, mid, 3, stride, groups=mid, norm=norm,
                                          activation=activation)),
            ("squeeze_excitation", SqueezeExcitation(mid, squeezed)),
            ("conv_c", nn.Conv2d(mid, cout, 1, bias=True))]))

    def forward(self, x):
        res = self.proj(x)
        x = self.stochastic_depth(self.layers(x))
        return res + x


class RelativePositionalMultiHeadAttention(nn.Module):
    """qkv Linear, chunk, heads by reshape and permute, k scaled, q·kᵀ by einsum, plus the
    bias gathered from the (2·size − 1)² × heads table by a buffer of indices, softmax,
    weights·v by einsum, heads merged, the merge Linear."""

    def __init__(self, feat_dim, head_dim, max_seq_len):
        super().__init__()
        self.n_heads = feat_dim // head_dim
        self.head_dim = head_dim
        self.size = int(math.sqrt(max_seq_len))
        self.max_seq_len = max_seq_len
        self.to_qkv = nn.Linear(feat_dim, self.n_heads * self.head_dim * 3)
        self.scale_factor = feat_dim ** -0.5
        self.merge = nn.Linear(self.head_dim * self.n_heads, feat_dim)
        self.relative_position_bias_table = nn.Parameter(
            torch.empty((2 * self.size - 1) * (2 * self.size - 1), self.n_heads))
        self.register_buffer("relative_position_index",
                             _relative_position_index(self.size, self.size))
        torch.nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def get_relative_positional_bias(self):
        bias_index = self.relative_position_index.view(-1)
        relative_bias = self.relative_position_bias_table[bias_index].view(
            self.max_seq_len, self.max_seq_len, -1)
        relative_bias = relative_bias.permute(2, 0, 1).contiguous()
        return relative_bias.unsqueeze(0)

    def forward(self, x):
        B, G, P, D = x.shape
        H, DH = self.n_heads, self.head_dim
        qkv = self.to_qkv(x)
        q, k, v = torch.chunk(qkv, 3, dim=-1)
        q = q.reshape(B, G, P, H, DH).permute(0, 1, 3, 2, 4)
        k = k.reshape(B, G, P, H, DH).permute(0, 1, 3, 2, 4)
        v = v.reshape(B, G, P, H, DH).permute(0, 1, 3, 2, 4)
        k = k * self.scale_factor
        dot_prod = torch.einsum("B G H I D, B G H J D -> B G H I J", q, k)
        pos_bias = self.get_relative_positional_bias()
        dot_prod = F.softmax(dot_prod + pos_bias, dim=-1)
        out = torch.einsum("B G H I J, B G H J D -> B G H I D", dot_prod, v)
        out = out.permute(0, 1, 3, 2, 4).reshape(B, G, P, D)
        return self.merge(out)


class SwapAxes(nn.Module):
    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a, b

    def forward(self, x):
        return torch.swapaxes(x, self.a, self.b)


class WindowPartition(nn.Module):
    """B×C×H×W → B×(H/P·W/P)×P²×C."""

    def forward(self, x, p: int):
        B, C, H, W = x.shape
        P = p
        x = x.reshape(B, C, H // P, P, W // P, P)
        x = x.permute(0, 2, 4, 3, 5, 1)
        return x.reshape(B, (H // P) * (W // P), P * P, C)


class WindowDepartition(nn.Module):
    """B×(HP·WP)×P²×C → B×C×H×W."""

    def forward(self, x, p: int, h_partitions: int, w_partitions: int):
        B, G, PP, C = x.shape
        P, HP, WP = p, h_partitions, w_partitions
        x = x.reshape(B, HP, WP, P, P, C)
        x = x.permute(0, 5, 1, 3, 2, 4)
        return x.reshape(B, C, HP * P, WP * P)


class PartitionAttentionLayer(nn.Module):
    """Partition (windows of P×P, or a P×P grid with its axes swapped), LayerNorm and the
    attention plus the input, LayerNorm and the MLP plus the input, departition."""

    def __init__(self, channels, head_dim, partition_size, partition_type, grid_size,
                 mlp_ratio, activation):
        super().__init__()
        self.n_heads = channels // head_dim
        self.head_dim = head_dim
        self.n_partitions = grid_size[0] // partition_size
        self.partition_type = partition_type
        self.grid_size = grid_size
        if partition_type == "window":
            self.p, self.g = partition_size, self.n_partitions
        else:
            self.p, self.g = self.n_partitions, partition_size
        self.partition_op = WindowPartition()
        self.departition_op = WindowDepartition()
        swap = partition_type == "grid"
        self.partition_swap = SwapAxes(-2, -3) if swap else nn.Identity()
        self.departition_swap = SwapAxes(-2, -3) if swap else nn.Identity()
        self.attn_layer = nn.Sequential(
            nn.LayerNorm(channels),
            RelativePositionalMultiHeadAttention(channels, head_dim, partition_size ** 2),
            nn.Dropout(0.0))
        self.mlp_layer = nn.Sequential(
            nn.LayerNorm(channels), nn.Linear(channels, channels * mlp_ratio), activation(),
            nn.Linear(channels * mlp_ratio, channels), nn.Dropout(0.0))
        self.stochastic_dropout = nn.Identity()  # StochasticDepth in eval mode

    def forward(self, x):
        gh, gw = self.grid_size[0] // self.p, self.grid_size[1] // self.p
        x = self.partition_op(x, self.p)
        x = self.partition_swap(x)
        x = x + self.stochastic_dropout(self.attn_layer(x))
        x = x + self.stochastic_dropout(self.mlp_layer(x))
        x = self.departition_swap(x)
        return self.departition_op(x, self.p, gh, gw)


class MaxVitLayer(nn.Module):
    def __init__(self, cin, cout, squeeze, expansion, stride, norm, activation, head_dim,
                 mlp_ratio, partition_size, grid_size):
        super().__init__()
        attention = partial(PartitionAttentionLayer, cout, head_dim, partition_size,
                            grid_size=grid_size, mlp_ratio=mlp_ratio, activation=activation)
        self.layers = nn.Sequential(OrderedDict([
            ("MBconv", MBConv(cin, cout, expansion, squeeze, stride, activation, norm)),
            ("window_attention", attention(partition_type="window")),
            ("grid_attention", attention(partition_type="grid"))]))

    def forward(self, x):
        return self.layers(x)


class MaxVitBlock(nn.Module):
    def __init__(self, cin, cout, squeeze, expansion, norm, activation, head_dim, mlp_ratio,
                 partition_size, input_grid_size, n_layers):
        super().__init__()
        self.grid_size = _conv_output(input_grid_size)
        self.layers = nn.ModuleList(
            MaxVitLayer(cin if i == 0 else cout, cout, squeeze, expansion, 2 if i == 0 else 1,
                        norm, activation, head_dim, mlp_ratio, partition_size, self.grid_size)
            for i in range(n_layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class MaxVit(nn.Module):
    """``maxvit_t`` by default: a 64-channel stem, blocks of 64, 128, 256, 512 channels and
    2, 2, 5, 2 layers, heads of 32 features, 7×7 partitions, BatchNorm2d (eps 1e-3) in the
    convolutions, GELU."""

    def __init__(self, input_size=(224, 224), stem_channels=64,
                 block_channels=(64, 128, 256, 512), block_layers=(2, 2, 5, 2), head_dim=32,
                 partition_size=7, squeeze=0.25, expansion=4, mlp_ratio=4, classes=1000):
        super().__init__()
        norm = partial(nn.BatchNorm2d, eps=1e-3, momentum=0.99)
        activation = nn.GELU
        self.stem = nn.Sequential(
            ConvNormActivation(3, stem_channels, 3, 2, norm=norm, activation=activation,
                               bias=False),
            ConvNormActivation(stem_channels, stem_channels, 3, 1, bias=True))
        size = _conv_output(input_size)
        self.blocks = nn.ModuleList()
        for cin, cout, layers in zip((stem_channels, *block_channels[:-1]), block_channels,
                                     block_layers):
            self.blocks.append(MaxVitBlock(cin, cout, squeeze, expansion, norm, activation,
                                           head_dim, mlp_ratio, partition_size, size, layers))
            size = self.blocks[-1].grid_size
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(block_channels[-1]),
            nn.Linear(block_channels[-1], block_channels[-1]), nn.Tanh(),
            nn.Linear(block_channels[-1], classes, bias=False))

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.classifier(x)

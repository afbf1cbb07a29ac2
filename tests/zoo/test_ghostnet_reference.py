"""GhostNet against a copy of the authors' PyTorch module (huawei-noah/Efficient-AI-Backbones,
ghostnet_pytorch/ghostnet.py; timm's ghostnet.py is the same network), counted by torch itself:
FlopCounterMode's FLOPs / 2 and sum(numel) must be the zoo's MACs and torch-convention params
at each width of Table 7, on the meta device (shapes only)."""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

from costmodel import zoo

pytestmark = pytest.mark.slow  # torch


def _make_divisible(v, divisor, min_value=None):
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class SqueezeExcite(nn.Module):
    def __init__(self, chs, se_ratio=0.25):
        super().__init__()
        reduced = _make_divisible(chs * se_ratio, 4)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.conv_reduce = nn.Conv2d(chs, reduced, 1, bias=True)
        self.conv_expand = nn.Conv2d(reduced, chs, 1, bias=True)

    def forward(self, x):
        x_se = self.conv_expand(F.relu(self.conv_reduce(self.avg_pool(x))))
        return x * (F.relu6(x_se + 3.) / 6.)  # the authors' hard_sigmoid


class GhostModule(nn.Module):
    def __init__(self, inp, oup, relu=True):
        super().__init__()
        self.oup = oup
        init_channels = math.ceil(oup / 2)
        self.primary_conv = nn.Sequential(
            nn.Conv2d(inp, init_channels, 1, 1, 0, bias=False), nn.BatchNorm2d(init_channels),
            nn.ReLU(inplace=True) if relu else nn.Sequential())
        self.cheap_operation = nn.Sequential(
            nn.Conv2d(init_channels, init_channels, 3, 1, 1, groups=init_channels, bias=False),
            nn.BatchNorm2d(init_channels), nn.ReLU(inplace=True) if relu else nn.Sequential())

    def forward(self, x):
        x1 = self.primary_conv(x)
        x2 = self.cheap_operation(x1)
        return torch.cat([x1, x2], dim=1)[:, :self.oup, :, :]


class GhostBottleneck(nn.Module):
    def __init__(self, in_chs, mid_chs, out_chs, k, stride, se_ratio):
        super().__init__()
        self.stride = stride
        self.ghost1 = GhostModule(in_chs, mid_chs, relu=True)
        if stride > 1:
            self.conv_dw = nn.Conv2d(mid_chs, mid_chs, k, stride, (k - 1) // 2, groups=mid_chs,
                                     bias=False)
            self.bn_dw = nn.BatchNorm2d(mid_chs)
        self.se = SqueezeExcite(mid_chs, se_ratio) if se_ratio else None
        self.ghost2 = GhostModule(mid_chs, out_chs, relu=False)
        if in_chs == out_chs and stride == 1:
            self.shortcut = nn.Sequential()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_chs, in_chs, k, stride, (k - 1) // 2, groups=in_chs, bias=False),
                nn.BatchNorm2d(in_chs), nn.Conv2d(in_chs, out_chs, 1, bias=False),
                nn.BatchNorm2d(out_chs))

    def forward(self, x):
        residual = x
        x = self.ghost1(x)
        if self.stride > 1:
            x = self.bn_dw(self.conv_dw(x))
        if self.se is not None:
            x = self.se(x)
        return self.ghost2(x) + self.shortcut(residual)


CFGS = [  # k, t, c, SE, s
    [3, 16, 16, 0, 1], [3, 48, 24, 0, 2], [3, 72, 24, 0, 1], [5, 72, 40, 0.25, 2],
    [5, 120, 40, 0.25, 1], [3, 240, 80, 0, 2], [3, 200, 80, 0, 1], [3, 184, 80, 0, 1],
    [3, 184, 80, 0, 1], [3, 480, 112, 0.25, 1], [3, 672, 112, 0.25, 1], [5, 672, 160, 0.25, 2],
    [5, 960, 160, 0, 1], [5, 960, 160, 0.25, 1], [5, 960, 160, 0, 1], [5, 960, 160, 0.25, 1]]


def ghostnet(width, num_classes=1000):
    channels = _make_divisible(16 * width, 4)
    layers = [nn.Conv2d(3, channels, 3, 2, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU()]
    for k, exp_size, c, se_ratio, s in CFGS:
        out = _make_divisible(c * width, 4)
        layers.append(GhostBottleneck(channels, _make_divisible(exp_size * width, 4), out, k, s,
                                      se_ratio))
        channels = out
    head = _make_divisible(960 * width, 4)
    layers += [nn.Conv2d(channels, head, 1, bias=False), nn.BatchNorm2d(head), nn.ReLU(),
               nn.AdaptiveAvgPool2d((1, 1)), nn.Conv2d(head, 1280, 1, 1, 0, bias=True),
               nn.ReLU(), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1280, num_classes)]
    return nn.Sequential(*layers)


@pytest.mark.parametrize("width", ["0.5", "1.0", "1.3"])
def test_the_authors_module_counts_as_the_zoo(width):
    with torch.device("meta"):
        module = ghostnet(float(width)).eval()
        x = torch.empty(1, 3, 224, 224)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    net = zoo.build("ghostnet", alpha=width)
    assert counter.get_total_flops() == 2 * net.macs()
    assert sum(p.numel() for p in module.parameters()) == net.params("torch")

"""Hand-written PyTorch modules, each the twin of a .cm spec beside this file, written as
people write them (functional calls, torch.cat, a view/transpose channel shuffle)."""

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn(cin, cout, k, s=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout))


def channel_shuffle(x, groups):
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class SmallResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = conv_bn(3, 16, 3)
        self.conv1 = conv_bn(16, 16, 3)
        self.conv2 = conv_bn(16, 16, 3)
        self.gconv1 = conv_bn(16, 32, 1, groups=4)
        self.dw = conv_bn(32, 32, 3, 2, groups=32)
        self.gconv2 = conv_bn(32, 64, 1, groups=4)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = F.relu(self.conv2(F.relu(self.conv1(x))) + x)
        x = channel_shuffle(F.relu(self.gconv1(x)), 4)
        x = F.relu(self.gconv2(self.dw(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, x):
        y = self.conv1(F.relu(self.norm1(x)))
        y = self.conv2(F.relu(self.norm2(y)))
        return torch.cat([x, y], 1)


class DenseBlockNet(nn.Module):
    def __init__(self, growth=12, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 24, 3, padding=1, bias=False)
        self.block = nn.Sequential(*(DenseLayer(24 + i * growth, growth) for i in range(3)))
        width = 24 + 3 * growth
        self.transition = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                                        nn.Conv2d(width, width // 2, 1, bias=False),
                                        nn.AvgPool2d(2))
        self.fc = nn.Linear(width // 2, classes)

    def forward(self, x):
        x = self.transition(self.block(self.stem(x)))
        return self.fc(x.mean((2, 3)))


class SENet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32),
                                  nn.ReLU(inplace=True))
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(32, 8, 1), nn.ReLU(),
                                  nn.Conv2d(8, 32, 1), nn.Sigmoid())
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.conv(x)
        x = x * self.gate(x)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class WithUncountedOps(nn.Module):
    """A conv, a Mish (no costmodel op), and a matrix product with a bias written as
    ``torch.addmm`` (no rule reads it)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.Mish()
        self.proj = nn.Parameter(torch.zeros(8, 8))

    def forward(self, x):
        x = self.act(self.conv(x))
        return torch.addmm(torch.zeros(8), x.mean((2, 3)), self.proj)


class DataDependent(nn.Module):
    """Python control flow on a tensor's value: torch.fx cannot trace it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.bn(self.conv(x))
        if x.sum() > 0:
            x = x * 2
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

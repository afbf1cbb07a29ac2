"""An example of counting your own PyTorch module with costmodel.

    costmodel compare examples/my_net.py:build mobilenet_v2
    costmodel summary examples/my_net.py:build:width=32 --input 1,3,160,160

`build` is the factory a SPEC names (file.py:factory); key=value items after it are passed to
the factory as keywords (whole numbers as int, other numbers as float), except resolution=,
which sets the input's side. Note: costmodel imports this file to call `build`; it is Python
and runs as such (a .cm architecture file, by contrast, is data and never runs).
"""

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    """A MobileNet v2-style inverted residual: 1x1 expand, 3x3 depthwise, 1x1 project."""

    def __init__(self, cin, cout, stride, expand=4):
        super().__init__()
        mid = cin * expand
        self.expand = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid),
                                    nn.ReLU6(inplace=True))
        self.dw = nn.Sequential(nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False),
                                nn.BatchNorm2d(mid), nn.ReLU6(inplace=True))
        self.project = nn.Sequential(nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.dw(self.expand(x)))
        return x + y if self.residual else y


class MyNet(nn.Module):
    def __init__(self, width=16, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 2, 1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU6(inplace=True))
        # out channels, stride
        table = [(width, 1), (2 * width, 2), (2 * width, 1), (4 * width, 2), (4 * width, 1),
                 (8 * width, 2), (8 * width, 1), (16 * width, 2)]
        blocks, cin = [], width
        for cout, stride in table:
            blocks.append(Block(cin, cout, stride))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build(width=16, classes=1000):
    return MyNet(width, classes)

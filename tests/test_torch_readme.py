"""The README's PyTorch section shows what the code computes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy
import torch

import costmodel
from costmodel.core import symbols as S
from costmodel.frontends.to_spec import network_to_spec
from costmodel.spec.builder import build
from costmodel.spec.parser import parse_text
from examples.my_net import build as my_net

pytestmark = pytest.mark.slow  # torch

ROOT = Path(__file__).resolve().parent.parent
SECTION = (ROOT / "README.md").read_text(encoding="utf-8").split(
    "## Counting your own PyTorch module", 1)[1].split("\n## ", 1)[0]


def test_python_example_values():
    net = costmodel.count_torch(my_net(), (1, 3, 224, 224))
    assert f"# {(net.macs(), net.params('torch'), net.notes)}" in SECTION
    module = costmodel.to_torch("mobilenet_v2:alpha=0.5,resolution=160")
    assert f"# {module(torch.randn(1, 3, 160, 160)).shape}" in SECTION


def test_the_safety_sentence_and_the_closed_form(tmp_path):
    from costmodel.analysis.derive_network import derive_network

    assert "`.cm` files are data and never run; a `.py:factory` SPEC runs that file" in SECTION
    path = tmp_path / "my_net.cm"
    path.write_text(network_to_spec(costmodel.count_torch(my_net(), (1, 3, 224, 224))),
                    encoding="utf-8")
    macs = derive_network(str(path)).expr  # costmodel derive my_net.cm (R a multiple of 32)
    assert macs == sympy.Rational(8059, 2) * S.R**2 + 256000
    assert "MACs = 8059·R²/2 + 256000 (202,440,192 at R = 224)" in SECTION
    assert macs.subs(S.R, 224) == 202_440_192
    assert build(parse_text(path.read_text(), "x.cm"), {"resolution": "224"}).macs() == 202_440_192

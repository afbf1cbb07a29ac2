"""Attention in closed form (``derive attention``, ``derive mqa_vs_mhsa``) and the resolution
at which a network's attention overtakes its convolutions (``derive MODEL --crossover``):
exact sympy equality with the papers' forms, and the crossover checked on built networks."""

from __future__ import annotations

import json

import sympy
from typer.testing import CliRunner

from costmodel.analysis.crossover import attention_crossover
from costmodel.analysis.derive import derive
from costmodel.cli.app import app
from costmodel.core import symbols as S
from costmodel.zoo import resolve

runner = CliRunner()

HYBRID = """
model hybrid_toy
knob resolution 224 int min=32
input 3 resolution resolution
conv 32 k=3 s=2 bn=1 act=relu
dw s=2 bn=1 act=relu
pw 64 bn=1 act=relu
conv 128 k=3 s=2 bn=1 act=relu
conv 128 k=3 bn=1 act=relu
residual:
    mhsa heads=4
pw 128 bn=1 act=relu
gap
fc 10
"""


def quantity(d, label):
    return next(q.expr for q in d.quantities() if q.label == label)


def test_attention_is_quadratic_in_the_tokens_and_equals_the_papers_form():
    d = derive("attention")
    assert d.matches_paper()
    H, W, C = S.H, S.W, S.C
    assert sympy.expand(d.expr - (4 * H * W * C**2 + 2 * H**2 * W**2 * C)) == 0
    assert quantity(d, "tokens at which it overtakes a 3×3 conv") == sympy.Rational(5, 2) * C
    assert all(q.paper_form is None or sympy.simplify(q.expr - q.paper_form) == 0
               for q in d.quantities())
    # ViT-B/16's 14×14 patches of 768 features: 4·196·768² + 2·196²·768 per block
    assert d.at({"H": 14, "W": 14, "C": 768})["MACs"] == 4 * 196 * 768**2 + 2 * 196**2 * 768


def test_mqa_saves_h_plus_1_over_2h_of_the_projections():
    d = derive("mqa_vs_mhsa")
    assert d.matches_paper()
    assert quantity(d, "params ratio") == (S.h + 1) / (2 * S.h)
    at = d.at({"H": 16, "W": 16, "C": 256, "h": 4})
    L, C, h = 256, 256, 4
    assert at["MACs ratio"] == sympy.Rational(2 * L * C * C * (h + 1) // h + 2 * L * L * C,
                                              4 * L * C * C + 2 * L * L * C)


def test_the_crossover_resolution_is_exact_and_holds_on_built_networks(tmp_path):
    path = tmp_path / "hybrid.cm"
    path.write_text(HYBRID)
    d = attention_crossover(str(path))
    R = S.R
    crossover = quantity(d, "crossover resolution")
    assert sympy.simplify(d.expr.subs(R, crossover)
                          - quantity(d, "convolution MACs").subs(R, crossover)) == 0
    first = quantity(d, "first R (a multiple of 8) where attention ≥ convolutions")
    assert first == 224 and crossover == 20 * sympy.sqrt(122)  # as the README says
    ref = resolve(str(path))
    for side, ahead in ((224, True), (216, False)):
        net = ref.build(resolution=str(side))
        attention = sum(l.macs() for l in net.layers if l.op == "mhsa")
        convs = sum(l.macs() for l in net.layers if l.op in ("conv", "dw", "pw"))
        assert bool(attention >= convs) is ahead


def test_crossover_from_the_command_line(tmp_path):
    path = tmp_path / "hybrid.cm"
    path.write_text(HYBRID)
    result = runner.invoke(app, ["derive", str(path), "--crossover", "-f", "json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert "crossover" in json.dumps(record)
    refused = runner.invoke(app, ["derive", "mobilenet_v2", "--crossover"])
    assert refused.exit_code == 2 and "no attention layers" in refused.output


def test_mobilevit_s_attention_overtakes_its_convolutions_from_576_px():
    """The README's figures: crossing at 768·√1485354/1807 ≈ 518 px; 544 px does not build
    (2×2 patches need a side of 64·q), 576 does, with attention ahead."""
    d = attention_crossover("mobilevit")
    R = S.R
    assert d.expr == sympy.Rational(5421, 131072) * R**4 + 5571 * R**2
    assert quantity(d, "convolution MACs") == 16668 * R**2
    assert quantity(d, "crossover resolution") == 768 * sympy.sqrt(1485354) / 1807
    assert quantity(d, "first R (a multiple of 32) where attention ≥ convolutions") == 576

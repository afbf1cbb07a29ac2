"""ShuffleNet v2's guidelines (costmodel.analysis.guidelines) and their formulas: the G1/G2
memory access costs are the paper's, by exact sympy equality (Ma et al., ShuffleNet V2,
arXiv 1807.11164, §2, Eqs. 1 and 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from sympy import Symbol, sqrt

from costmodel import zoo
from costmodel.analysis import guidelines as G
from costmodel.analysis import memory as M
from costmodel.analysis.derive import derive

ROOT = Path(__file__).resolve().parents[1]
SPECS = Path(__file__).parent / "specs"


def by_name(symbols):
    return {s.name: s for s in symbols}


def test_g1_memory_access_cost_and_its_bound_are_the_papers():
    d = derive("shufflenet_v2_g1")
    s = by_name(d.expr.free_symbols)
    H, W, c1, c2 = s["H"], s["W"], s["c1"], s["c2"]
    assert sympy.simplify(d.expr - (H * W * (c1 + c2) + c1 * c2)) == 0
    extras = {q.label: q.expr for q in d.extras}
    B = by_name(extras["lower bound"].free_symbols)["B"]
    # Eq. 1: MAC ≥ 2·√(hwB) + B/(hw), equality at c1 = c2
    assert sympy.simplify(extras["lower bound"] - (2 * sqrt(H * W * B) + B / (H * W))) == 0
    assert sympy.simplify(extras["MAC at fixed B"] - (H * W * c1 + B / c1 + B / (H * W))) == 0
    at_equal = d.expr.subs(c2, c1)
    assert sympy.simplify(at_equal - extras["lower bound"].subs(B, H * W * c1 * c1)) == 0


def test_g2_memory_access_cost_is_the_papers():
    d = derive("shufflenet_v2_g2")
    s = by_name(d.expr.free_symbols)
    H, W, c1, c2, g = s["H"], s["W"], s["c1"], s["c2"], s["g"]
    assert sympy.simplify(d.expr - (H * W * (c1 + c2) + c1 * c2 / g)) == 0
    extras = {q.label: q.expr for q in d.extras}
    B = by_name(extras["MAC at fixed B"].free_symbols)["B"]
    # Eq. 2: MAC = hw(c1 + c2) + c1c2/g = hwc1 + Bg/c1 + B/(hw), B = hwc1c2/g
    assert sympy.simplify(extras["MAC at fixed B"] - (H * W * c1 + B * g / c1 + B / (H * W))) == 0
    assert sympy.simplify(extras["MAC at fixed B"].subs(B, H * W * c1 * c2 / g) - d.expr) == 0


@pytest.mark.parametrize("spec", ["shufflenet_v2", "mobilenet_v2", "resnet50", "googlenet"])
def test_every_1x1_conv_is_at_or_above_the_g1_bound(spec):
    """The inequality on real layers: each 1×1 conv's traffic (memory.layer_memory) is at
    least the bound, and equals it exactly where c1 = c2."""
    net = zoo.resolve(spec).build()
    biased = {l.name for l in net.layers if dict(l.attrs).get("bias")}
    check = G.g1(net)
    assert check.findings
    for f in check.findings:
        assert f.detail["mac"] >= f.detail["balanced_mac"] - 1e-6, f.name
        if f.detail["c1"] == f.detail["c2"] and f.name not in biased:  # biases add c2 reads
            assert f.detail["excess_percent"] == 0.0


def test_g1_figures_of_a_layer_by_hand():
    """shufflenet_v2's stage2 unit1 right conv1: 56×56, 24 → 58 channels (ratio 2.42).
    MAC = 3136·(24 + 58) + 24·58 = 258,544; bound 2·√(3136·B) + B/3136 with B = 3136·24·58."""
    check = G.g1(zoo.resolve("shufflenet_v2").build())
    f = next(f for f in check.findings if f.name == "stage2.shufflenet_v2_unit1.right.conv1")
    assert f.detail["mac"] == 3136 * 82 + 24 * 58 == 258_544
    B = 3136 * 24 * 58
    bound = 2 * (3136 * B) ** 0.5 + B / 3136
    assert f.detail["balanced_mac"] == pytest.approx(bound, abs=0.1)


@pytest.mark.parametrize("alpha", ["0.5", "1"])
def test_shufflenet_v2_passes_g1(alpha):
    check = G.g1(zoo.resolve(f"shufflenet_v2:alpha={alpha}").build())
    assert check.status == "pass" and check.layers == ()


@pytest.mark.parametrize("alpha, c2", [("1.5", 88), ("2", 122)])
def test_shufflenet_v2_units_pass_g1_except_the_first_widening(alpha, c2):
    """At 1.5× and 2× the first unit widens the 24-channel stem to c2 in one 1×1 (1:3.7 and
    1:5.1): the only flagged layer, a warning; every other unit's 1×1s are balanced."""
    check = G.g1(zoo.resolve(f"shufflenet_v2:alpha={alpha}").build())
    assert check.status == "warn"
    assert check.layers == ("stage2.shufflenet_v2_unit1.right.conv1",)
    first = next(f for f in check.findings if f.flagged)
    assert (first.detail["c1"], first.detail["c2"]) == (24, c2)
    units = [f for f in check.findings if f.name.startswith("stage") and not f.flagged]
    assert units and all(f.detail["excess_percent"] <= G.G1_LAYER_EXCESS for f in units)


def test_mobilenet_v2_expansions_break_g1():
    check = G.g1(zoo.resolve("mobilenet_v2").build())
    assert check.status == "fail"
    assert "inverted_residual3.expand" in check.layers  # 24 → 144: 1:6


def test_shufflenet_v1_g8_fails_g2_and_more_groups_cost_more():
    """At the same FLOPs and input width, memory access grows with g (Eq. 2)."""
    g8 = G.g2(zoo.resolve("shufflenet_v1:g=8").build())
    assert g8.status == "fail" and len(g8.layers) > 0
    assert all("gconv" in name for name in g8.layers)
    g1 = G.g2(zoo.resolve("shufflenet_v1:g=1").build())
    assert g1.status == "pass" and g1.layers == ()
    g3 = G.g2(zoo.resolve("shufflenet_v1:g=3").build())
    assert g3.value < g8.value


def test_g2_grouped_1x1_by_hand():
    """A grouped 1×1 with c1 = 240, c2 = 60, g = 3 at 28×28: MAC at g = 1 with the same B and
    c1 has c2/g = 20 outputs: 784·(240 + 20) + 240·20 vs 784·(240 + 60) + 240·60/3."""
    net = zoo.resolve("shufflenet_v1:g=3").build()
    f = next(f for f in G.g2(net).findings
             if f.name == "stage2.shufflenet_unit2.main.gconv1")
    assert f.detail["mac"] == 784 * 300 + 4800
    assert f.detail["dense_mac"] == 784 * 260 + 4800


def test_a_fragmented_block_fails_g3_and_googlenet_too():
    net = zoo.resolve(str(SPECS / "fragmented.cm")).build()
    check = G.g3(net)
    assert check.status == "fail" and check.value == 4 and check.layers == ("concat1",)
    assert check.findings[0].detail["ops_per_branch"] == [1, 2, 2, 2]
    assert G.g3(zoo.resolve("googlenet").build()).status == "fail"
    # ShuffleNet v2's units have two branches at most (one of them a channel split)
    assert G.g3(zoo.resolve("shufflenet_v2").build()).value == 2


def test_g4_counts_element_wise_traffic():
    net = zoo.resolve("resnet18").build()
    check = G.g4(net)
    per_layer = M.layers_memory(net)
    total = sum(m.traffic for m in per_layer)
    elementwise = sum(m.traffic for m in per_layer if m.op in ("relu", "add"))
    assert check.value == round(100 * float(elementwise / total), 2)
    assert G.g4(zoo.resolve("mobilenet_v1").build()).layers == ()  # only ReLUs: fusable


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "costmodel", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_guidelines_json_contract():
    result = run("guidelines", "shufflenet_v1:g=8", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["guideline"] for r in rows] == ["G1", "G2", "G3", "G4"]
    for r in rows:
        assert r["status"] in ("pass", "warn", "fail")
        assert isinstance(r["layers"], list)
        assert r["value"] is None or isinstance(r["value"], (int, float))
    assert rows[1]["status"] == "fail" and rows[1]["layers"]
    result = run("guidelines", str(SPECS / "fragmented.cm"), "--format", "json")
    assert json.loads(result.stdout)[2]["status"] == "fail"
    result = run("guidelines", "shufflenet_v2", "-f", "json")
    assert json.loads(result.stdout)[0]["status"] == "pass"


@pytest.mark.slow
def test_guidelines_bad_spec_is_a_user_error():
    result = run("guidelines", "shufflenet_v9")
    assert result.returncode == 2 and result.stderr.startswith("costmodel: error:")

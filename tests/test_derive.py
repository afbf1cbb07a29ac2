"""Symbolic derivations: each equals the paper's form exactly, comes from the layers, and
evaluates to the papers' printed numbers; whole networks' closed forms equal their per-layer
sums; `costmodel derive` prints every format and refuses bad input with exit status 2."""

import json
from pathlib import Path

import pytest
import sympy
from sympy import Rational, simplify, sqrt
from typer.testing import CliRunner

from costmodel import zoo
from costmodel.analysis import derivation, derivations
from costmodel.analysis import derive as D, derive_network as DN
from costmodel.cli.app import app
from costmodel.core import symbols as S
from costmodel.core.rounding import MakeDivisible
from costmodel.data.published import figures
from costmodel.errors import CostModelError
from tests.printed import agrees

H, W, C, k, g, K = S.H, S.W, S.C, S.k, S.g, S.K
alpha, rho, t, c1, c2, R = S.alpha, S.rho, S.t, S.c1, S.c2, S.R
B = derivation.B
ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

#: The issue's list: each derivation's main quantity in the paper's form, typed here
#: independently of the module (the module's paper_form must say the same).
PAPER = {
    "conv": H * W * C * k * K**2,
    "group_conv": H * W * C * k * K**2 / g,
    "depthwise": H * W * C * K**2,
    "pointwise": H * W * C * k,
    "separable": H * W * C * K**2 + H * W * C * k,
    "separable_ratio": 1 / k + 1 / K**2,
    "mobilenet_v1_layer": H * W * rho**2 * (K**2 * alpha * C + alpha**2 * C * k),
    "resnet_bottleneck": H * W * (2 * C * k + 9 * k**2),
    "resnet_bottleneck_dw": H * W * (2 * C * k + 9 * k),
    "resnext_bottleneck": H * W * (2 * C * k + 9 * k**2 / g),
    "shufflenet_unit": H * W * (2 * C * k / g + 9 * k),
    "inverted_residual": H * W * C * t * (C + K**2 + k),
    "shufflenet_v2_g1": H * W * (c1 + c2) + c1 * c2,
    "shufflenet_v2_g2": H * W * (c1 + c2) + c1 * c2 / g,
    "attention": 4 * H * W * C**2 + 2 * H**2 * W**2 * C,
    "mqa_vs_mhsa": (2 * C * (S.h + 1) / S.h + 2 * H * W) / (4 * C + 2 * H * W),
}


def test_the_registry_has_every_name_of_the_cli_contract():
    assert set(D.names()) == set(PAPER)


@pytest.mark.parametrize("name", list(PAPER))
def test_derivation_equals_the_paper_form_exactly(name):
    d = D.derive(name)
    assert simplify(d.expr - PAPER[name]) == 0
    assert simplify(d.paper_form - PAPER[name]) == 0
    assert d.matches_paper() is True
    for extra in d.extras:
        if extra.paper_form is not None:
            assert simplify(extra.expr - extra.paper_form) == 0, extra.label


@pytest.mark.parametrize("name", [n for n in PAPER if D.derive(n).steps])
def test_expr_is_the_sum_of_the_layers(name):
    d = D.derive(name)
    total = sympy.Add(*(step.macs for step in d.steps))
    if name == "mobilenet_v1_layer":  # built on whole-number sides rhoH, rhoW
        total = total.subs({sympy.Symbol("rhoH", positive=True, integer=True): rho * H,
                            sympy.Symbol("rhoW", positive=True, integer=True): rho * W})
    if d.quantity == "MACs":
        assert simplify(total - d.expr) == 0
    elif d.quantity == "MACs ratio":  # Mobile MQA (second) over MHSA (first), d_k = C/h
        mhsa, mqa = d.steps
        assert simplify(mqa.macs.subs(S.d_k, C / S.h) / mhsa.macs - d.expr) == 0
    else:  # memory access cost: the one layer's MACs are B
        assert simplify(total - d.extras[0].expr) == 0


def test_a_duplicate_name_is_refused():
    with pytest.raises(RuntimeError, match="registered twice"):
        derivations.derivation("conv")(lambda: None)


def test_same_padding_keeps_a_symbolic_side():
    # With p = (K-1)/2 the output side is exactly H; the conv default d(K-1)//2 is not.
    from costmodel.core.ops import Shape, apply
    same = apply("conv", [Shape.image(C, H, W)], {"c": k, "k": K, "p": (K - 1) / 2}).shape
    assert (same.h, same.w) == (H, W)
    floor_pad = apply("conv", [Shape.image(C, H, W)], {"c": k, "k": K}).shape
    assert floor_pad.h != H and floor_pad.h.subs(K, 3) == H


def test_separable_ratio_for_a_3x3_kernel():
    d = D.derive("separable_ratio")
    at3 = next(q for q in d.extras if q.label == "ratio at K = 3")
    assert simplify(at3.expr - (1 / k + Rational(1, 9))) == 0


# --- the papers' numbers -------------------------------------------------------------------

TABLE3 = {"H": 14, "W": 14, "C": 512, "k": 512}


def test_conv_and_separable_at_table_3():
    # MobileNet v1 Table 3: 14·14·512·512·9 = 462,422,016 (printed 462M), 512·512·9 = 2,359,296
    # (2.36M); separable 14·14·512·(9 + 512) = 52,283,392 (52.3M), 512·(9 + 512) = 266,752.
    assert D.derive("conv").at(TABLE3) == {"MACs": 462_422_016, "params": 2_359_296}
    assert D.derive("separable").at(TABLE3) == {"MACs": 52_283_392, "params": 266_752}


@pytest.mark.parametrize("row", figures(source="mobilenet_v1", table="Table 3"),
                         ids=lambda r: r.label)
def test_every_table_3_row_agrees_with_the_printed_figure(row):
    config = dict(row.config)
    if config:  # the alpha and rho rows: a separable layer under the multipliers
        values = {**row.at, "alpha": str(config["alpha"])}
        if "rho" in config:  # ρ = 0.714 is printed for 160/224 = 10/14: a 10×10 map
            values["rho"] = "10/14"
        result = D.derive("mobilenet_v1_layer").at(values)
    else:
        result = D.derive(row.derivation).at(row.at)
    step = 1 if row.macs >= 100e6 else 0.1
    assert agrees(result["MACs"], row.macs / 1e6, step), (result, row)
    assert agrees(result["params"], row.params / 1e6, 0.01), (result, row)


def test_resnext_template_matches_the_paper():
    # ResNeXt Eq. 4 / Table 2: C = 256 in and out, k = 32·4 = 128, g = 32:
    # params 2·256·128 + 9·128²/32 = 70,144 (printed ≈70k); MACs 56·56·70,144 = 219,971,584
    # (printed ≈0.22 billion).
    result = D.derive("resnext_bottleneck").at({"H": 56, "W": 56, "C": 256, "k": 128, "g": 32})
    assert result["params"] == 70_144 and result["MACs"] == 219_971_584


def test_group_conv_is_alexnet_conv2():
    # AlexNet conv2: 27×27×96 → 256, 5×5, g = 2: 27·27·96·256·25/2 = 223,948,800 MACs, the
    # zoo's conv2 layer exactly.
    result = D.derive("group_conv").at({"H": 27, "W": 27, "C": 96, "k": 256, "K": 5, "g": 2})
    conv2 = next(layer for layer in zoo.build("alexnet").layers if layer.name == "conv2")
    assert result["MACs"] == conv2.counts.macs == 223_948_800


def test_inverted_residual_is_a_mobilenet_v2_block():
    # The third block of MobileNet v2 (56×56, 24 → 144 → 24): 10,838,016 + 4,064,256 +
    # 10,838,016 = 25,740,288 MACs in the zoo's layers.
    block = sum(layer.counts.macs for layer in zoo.build("mobilenet_v2").layers
                if layer.name.startswith("inverted_residual3."))
    result = D.derive("inverted_residual").at({"H": 56, "W": 56, "C": 24, "k": 24, "t": 6})
    assert result["MACs"] == block == 25_740_288


def test_shufflenet_unit_against_the_depthwise_bottleneck():
    ratio = next(q for q in D.derive("shufflenet_unit").extras if "÷" in q.label).expr
    # g = 1 is the depthwise bottleneck itself; more groups make the unit cheaper.
    assert ratio.subs(g, 1) == 1
    values = [ratio.subs({C: 240, g: n}) for n in (1, 2, 3, 4, 8)]
    assert values == sorted(values, reverse=True)


def test_g1_lower_bound_is_reached_at_equal_widths():
    d = D.derive("shufflenet_v2_g1")
    bound = next(q for q in d.extras if q.label == "lower bound")
    assert simplify(bound.expr - (2 * sqrt(H * W * B) + B / (H * W))) == 0
    # ShuffleNet v2 Table 1 (56×56): 1:1 (128, 128) is on the bound, 819,200 =
    # 2·3136·128 + 128²; the unequal rows are above the bound for their own B.
    for (a, b) in ((128, 128), (90, 180), (52, 312), (36, 432)):
        values = {H: 56, W: 56, c1: a, c2: b}
        mac = d.expr.subs(values)
        floor = bound.expr.subs({H: 56, W: 56, B: 56 * 56 * a * b})
        assert mac >= floor
        assert (mac == floor) == (a == b)
    assert d.expr.subs({H: 56, W: 56, c1: 128, c2: 128}) == 819_200


def test_g2_mac_grows_with_groups_at_fixed_flops():
    d = D.derive("shufflenet_v2_g2")
    fixed = next(q for q in d.extras if q.label == "MAC at fixed B").expr
    values = [fixed.subs({H: 56, W: 56, c1: 128, B: 56 * 56 * 128 * 128, g: n})
              for n in (1, 2, 4, 8)]
    assert values == sorted(values) and len(set(values)) == 4
    assert simplify(sympy.diff(fixed, g) - B / c1) == 0  # linear in g


def test_memory_access_cost_counts_reads_and_writes():
    from costmodel.core.ops import Shape, apply
    x = Shape.image(sympy.Integer(64), sympy.Integer(56), sympy.Integer(56))
    result = apply("pw", [x], {"c": 128, "g": 2})
    # 56·56·64 in + 56·56·128 out + 64·128/2 weights = 200,704 + 401,408 + 4,096
    assert derivations.memory_access_cost(x, result) == 606_208


def test_at_takes_defaults_and_refuses_unknown_symbols():
    d = D.derive("conv")
    assert d.defaults_used(TABLE3) == {"K": 3}
    assert d.at({**TABLE3, "K": 1}) == {"MACs": 14 * 14 * 512 * 512, "params": 512 * 512}
    with pytest.raises(CostModelError, match="no symbol 'X'"):
        d.at({"X": 3})
    with pytest.raises(CostModelError, match="conv has no symbol 'alpha'"):
        d.at({"alpha": 3})  # a project symbol this derivation does not use
    with pytest.raises(CostModelError, match="cannot read H=abc"):
        d.at({"H": "abc"})


# --- whole networks ------------------------------------------------------------------------

MODELS = zoo.names()


@pytest.mark.parametrize("name", MODELS)
def test_network_closed_form_equals_the_per_layer_sum(name):
    d = DN.derive_network(name)
    numeric = zoo.build(name)
    default = int(numeric.settings["resolution"])
    assert d.expr.is_polynomial(R) and not d.expr.atoms(sympy.floor, sympy.ceiling)
    macs = sum(layer.counts.macs for layer in numeric.layers)
    params = sum(layer.counts.weights for layer in numeric.layers)
    assert d.at({}) == {"MACs": macs, "params (paper)": params}
    assert d.expr.subs(R, default) == macs
    # and at the next resolution of the same class (R + s), against a fresh build
    period = d.valid_for[0][1] if d.valid_for else 1
    if name == "mobilevit":
        # the builder's period is the total stride, 32; MobileViT's 2x2 patches on the last
        # (stride-32) map need sides that are multiples of 64, so it exists only on every
        # other member of that class (the spec builder does not count `window k` in it yet)
        period *= 2
    other = zoo.build(name, resolution=default + period)
    assert d.expr.subs(R, default + period) == other.macs()
    assert d.extras[0].expr.subs(R, default + period) == other.params()


@pytest.mark.parametrize("name", [n for n in MODELS if zoo.spec(n).knob("rounding")
                                  and "none" in zoo.spec(n).knob("rounding").choices])
def test_rounding_none_gives_polynomials_in_alpha_and_resolution(name):
    d = DN.derive_network(f"{name}:rounding=none")
    assert {alpha, R} <= d.expr.free_symbols
    assert not d.expr.atoms(MakeDivisible, sympy.floor)
    for a, r in (("1", None), ("0.5", 160), ("1.25", 192)):
        net = zoo.build(name, rounding="none", alpha=a,
                        **({"resolution": r} if r else {}))
        values = {"alpha": a, **({"R": r} if r else {})}
        assert d.at(values)["MACs"] == net.macs(), (a, r)
        assert d.at(values)["params (paper)"] == net.params(), (a, r)


def test_mobilenet_v2_pieces_on_each_side_of_alpha_one():
    d = DN.derive_network("mobilenet_v2:rounding=none")
    low = next(q for q in d.extras if q.label == "MACs, alpha ≤ 1").expr
    high = next(q for q in d.extras if q.label == "MACs, alpha ≥ 1").expr
    assert low.is_polynomial(alpha, R) and high.is_polynomial(alpha, R)
    assert simplify(low.subs(alpha, 1) - high.subs(alpha, 1)) == 0
    assert low.subs({alpha: Rational(1, 2), R: 224}) == d.expr.subs({alpha: Rational(1, 2),
                                                                     R: 224})


def test_reference_rounding_keeps_make_divisible_and_says_so():
    d = DN.derive_network("mobilenet_v2", symbols=["resolution", "alpha"])
    assert d.expr.atoms(MakeDivisible)
    assert any("MakeDivisible" in text for text in d.assumptions)
    # exact at any alpha: 0.75/224 is the TF-slim checkpoint's 209,159,664 MACs... counted
    # here by a fresh numeric build rather than typed in
    assert d.at({"alpha": "0.75", "R": 224})["MACs"] == zoo.build(
        "mobilenet_v2", alpha="0.75").macs()


def test_a_resolution_outside_the_class_is_refused():
    d = DN.derive_network("mobilenet_v2")
    assert "multiple of 32" in d.assumptions[0]
    with pytest.raises(CostModelError, match="multiple of 32"):
        d.at({"R": 225})
    # AlexNet's default 227 is 3 mod 32 (its total stride): its class is R ≡ 3 (mod 32)
    alexnet = DN.derive_network("alexnet")
    assert alexnet.valid_for == ((R, 32, 3),)


def test_network_symbols_are_checked():
    with pytest.raises(CostModelError, match="no knob 'alpha'"):
        DN.derive_network("vgg16", symbols=["alpha"])
    with pytest.raises(CostModelError, match="cannot keep 'classes' symbolic"):
        DN.derive_network("vgg16", symbols=["classes"])


# --- rendering -----------------------------------------------------------------------------

def test_repr_latex_for_notebooks():
    text = D.derive("separable")._repr_latex_()
    assert text.startswith("$\\displaystyle \\begin{aligned}") and text.endswith("$")
    assert "(equal)" in text


def invoke(*args):
    return runner.invoke(app, list(args))


def test_cli_derive_conv_at_table_3():
    result = invoke("derive", "conv", "--at", "H=14,W=14,C=512,k=512")
    assert result.exit_code == 0, result.output
    assert "462,422,016 (462.4M)" in result.stdout and "2,359,296 (2.359M)" in result.stdout
    assert "K by default" in result.stdout and "equal (exact sympy)" in result.stdout
    assert "1 MAC = 2 FLOPs" in result.stdout


@pytest.mark.parametrize("name", list(PAPER))
def test_cli_json_contract(name):
    result = invoke("derive", name, "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert {"name", "expr", "latex", "symbols"} <= set(record)
    assert record["name"] == name and record["matches_paper"] is True
    # expr parses back (our own output, trusted) to the paper's form
    local = {s.name: s for s in (*S.BY_NAME.values(), B)}
    parsed = sympy.parse_expr(record["expr"], local_dict=local)
    assert simplify(parsed - PAPER[name]) == 0
    assert set(record["symbols"]) >= {s.name for s in PAPER[name].free_symbols}


def test_cli_json_for_a_network_with_at():
    result = invoke("derive", "mobilenet_v1:rounding=none", "-f", "json", "--at", "alpha=0.5")
    record = json.loads(result.stdout)
    assert set(record["symbols"]) == {"alpha", "R"}
    # MobileNet v1 Table 6: 0.5 MobileNet-224, 149M Mult-Adds (rounding=none: 0.5·c is whole)
    assert record["at"]["results"]["MACs"] == zoo.build("mobilenet_v1", alpha="0.5").macs()
    assert agrees(record["at"]["results"]["MACs"], 149, 1)


@pytest.mark.parametrize("fmt, marker", [("latex", r"\begin{align*}"), ("markdown", "$$")])
def test_cli_latex_and_markdown(fmt, marker):
    result = invoke("derive", "inverted_residual", "-f", fmt)
    assert result.exit_code == 0 and marker in result.stdout


def test_cli_lists_the_derivations():
    result = invoke("derive")
    assert result.exit_code == 0
    for name in PAPER:
        assert name in result.stdout


@pytest.mark.parametrize("args, message", [
    (("derive", "sperable"), "did you mean separable"),
    (("derive", "conv", "--at", "X=3"), "no symbol 'X'"),
    (("derive", "conv", "--at", "H"), "write key=value"),
    (("derive", "conv", "-f", "csv"), "'csv' is not one of 'table', 'json', 'latex', 'markdown'"),
    (("derive", "conv", "--symbols", "alpha"), "--symbols applies to whole networks"),
    (("derive", "mobilenet_v2", "--at", "R=225"), "multiple of 32"),
])
def test_cli_bad_input_exits_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    words = " ".join(result.stderr.translate(str.maketrans("│╭╮╰╯─", "      ")).split())
    assert message in words and "Traceback" not in result.output

"""Inverse questions: the largest alpha or resolution within a budget, checked against fresh
numeric builds on both sides of each answer."""

import json

import pytest
import sympy
from typer.testing import CliRunner

from costmodel import zoo
from costmodel.analysis.solve import (TINY_ALPHA, largest_within, parse_budget, solve_alpha,
                                      solve_resolution)
from costmodel.cli.app import app
from costmodel.core import symbols as S
from costmodel.errors import CostModelError

runner = CliRunner()


@pytest.mark.parametrize("text, value", [
    ("300M", 300_000_000), ("1.5G", 1_500_000_000), ("300e6", 300_000_000),
    ("300000000", 300_000_000), ("2.5K", 2_500), ("0.5T", 500_000_000_000),
    ("300_000_000", 300_000_000)])
def test_parse_budget(text, value):
    assert parse_budget(text) == value


@pytest.mark.parametrize("text", ["abc", "-5M", "0", "1.5X", ""])
def test_parse_budget_refuses(text):
    with pytest.raises(CostModelError, match="--macs"):
        parse_budget(text)


def fits(name, budget, **knobs):
    return zoo.build(name, **knobs).macs() <= budget


def test_alpha_for_mobilenet_v1_at_192():
    solution = solve_alpha("mobilenet_v1", macs="300M", resolution=192)
    assert solution.feasible
    ideal = solution.record["idealized"]
    root = sympy.sympify(ideal["alpha"])
    # the idealized closed form equals the budget exactly at the root
    closed = zoo.build("mobilenet_v1", alpha=S.alpha, rounding="none", resolution=192).macs()
    assert sympy.simplify(closed.subs(S.alpha, root) - 300_000_000) == 0
    assert 0.8429 < float(root) < 0.8430
    # reference rounding (TF-slim int()): 0.843 fits, 0.844 does not, by fresh builds
    assert solution.record["reference"]["alpha"] == "0.843"
    assert fits("mobilenet_v1", 300e6, alpha="0.843", resolution=192)
    assert not fits("mobilenet_v1", 300e6, alpha="0.844", resolution=192)
    assert solution.record["reference"]["at"]["macs"] == zoo.build(
        "mobilenet_v1", alpha="0.843", resolution=192).macs()


def test_alpha_for_mobilenet_v2_with_its_max_term():
    solution = solve_alpha("mobilenet_v2", macs="300M", resolution=192)
    best = solution.record["reference"]["alpha"]
    above = f"{float(best) + 0.001:.3f}"  # the builder takes decimal text, not 139/125
    assert fits("mobilenet_v2", 300e6, alpha=best, resolution=192)
    assert not fits("mobilenet_v2", 300e6, alpha=above, resolution=192)
    # the same-network range is exact: its first alpha builds the same MACs, the one below not
    first = solution.record["reference"]["same_network_from"]
    below = f"{float(first) - 0.001:.3f}"
    macs = zoo.build("mobilenet_v2", alpha=best, resolution=192).macs()
    assert zoo.build("mobilenet_v2", alpha=first, resolution=192).macs() == macs
    assert zoo.build("mobilenet_v2", alpha=below, resolution=192).macs() < macs
    # alpha > 1 as well: Max(1, alpha) switches the head's piece
    big = solve_alpha("mobilenet_v2", macs="600M")
    root = float(sympy.sympify(big.record["idealized"]["alpha"]))
    assert root > 1
    closed = zoo.build("mobilenet_v2", alpha=S.alpha, rounding="none").macs()
    assert abs(float(closed.subs(S.alpha, root)) - 600e6) < 1


@pytest.mark.slow
def test_the_cost_never_falls_as_alpha_grows():
    # the bisection's premise: MACs and params are non-decreasing in alpha under the
    # reference rounding (checked exactly on a 0.02 grid from 0.2 to 1.6)
    for name in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "shufflenet_v1"):
        symbolic = zoo.build(name, alpha=S.alpha)
        macs, params = symbolic.macs(), symbolic.params()
        grid = [sympy.Rational(n, 100) for n in range(20, 161, 2)]
        m = [macs.subs(S.alpha, a) for a in grid]
        p = [params.subs(S.alpha, a) for a in grid]
        assert m == sorted(m) and p == sorted(p), name


def test_unreachable_alpha_budget_is_an_answer():
    solution = solve_alpha("mobilenet_v2", macs="1M")
    assert not solution.feasible
    # idealized widths: the classifier (1280 → 1000, not narrowed) alone needs 1,280,000
    assert solution.record["idealized"]["at_alpha_0"]["macs"] == 1_280_000
    assert any("1,280,000" in line and "classifier" in line for line in solution.details)
    # reference rounding: every width at its minimum still needs this many MACs
    floor = zoo.build("mobilenet_v2", alpha=str(float(TINY_ALPHA))).macs()
    assert solution.record["reference"]["at_alpha_0"]["macs"] == floor
    assert f"{int(floor):,}" in solution.answer and "no alpha > 0 fits 1M MACs" in solution.answer


def test_params_budget_and_both_budgets():
    solution = solve_alpha("mobilenet_v2", params="3M")
    best = solution.record["reference"]["alpha"]
    assert zoo.build("mobilenet_v2", alpha=best).params() <= 3_000_000
    both = solve_alpha("mobilenet_v2", macs="200M", params="3M")
    chosen = both.record["reference"]["alpha"]
    net = zoo.build("mobilenet_v2", alpha=chosen)
    assert net.macs() <= 200e6 and net.params() <= 3e6
    assert sympy.Rational(chosen) <= sympy.Rational(best)


def test_alpha_choices_for_shufflenet_v2():
    solution = solve_alpha("shufflenet_v2", macs="150M")
    assert solution.record["alpha"] == "1"
    assert fits("shufflenet_v2", 150e6, alpha="1")
    assert not fits("shufflenet_v2", 150e6, alpha="1.5")


def test_largest_within_handles_pieces_and_floors():
    a = S.alpha
    assert largest_within(4 * a**2, 16, a) == ("value", 2)
    assert largest_within(a + 5, 3, a) == ("none", 5)
    kind, root = largest_within(a * sympy.Max(1, a) + 1, 5, a)  # a² + 1 = 5 above 1
    assert (kind, root) == ("value", 2)


def test_resolution_for_mobilenet_v1():
    solution = solve_resolution("mobilenet_v1", macs="300M")
    # 160 fits (290,675,200 MACs, MobileNet v1 Table 7's "290"); 161 gives an 81×81 first map
    assert solution.record["resolution"] == 160
    assert solution.record["multiple_of_stride"] == 160 and solution.record["stride"] == 32
    assert fits("mobilenet_v1", 300e6, resolution=160)
    assert not fits("mobilenet_v1", 300e6, resolution=161)


def test_resolution_for_alexnet_between_multiples():
    solution = solve_resolution("alexnet", macs="500M")
    best = solution.record["resolution"]
    assert fits("alexnet", 500e6, resolution=best)
    assert not fits("alexnet", 500e6, resolution=best + 1)
    multiple = solution.record["multiple_of_stride"]
    assert multiple % 32 == 0 and multiple <= best < multiple + 32
    assert not fits("alexnet", 500e6, resolution=multiple + 32)


def test_network_stride_is_recorded_while_building():
    # VGG-16: five 2×2 max pools; AlexNet: 4·2·2·2; SqueezeNet 1.0: 2·2·2·2
    assert zoo.build("vgg16").total_stride == 32
    assert zoo.build("alexnet").total_stride == 32
    assert zoo.build("squeezenet").total_stride == 16
    assert zoo.build("mobilenet_v2", resolution=S.R).total_stride == 32
    # a pooling layer's stride defaults to its kernel; a symbolic side changes nothing
    assert zoo.build("resnet18", resolution=S.R).total_stride == 32


def test_unreachable_resolution_budgets():
    small = solve_resolution("vgg16", macs="10M")
    assert not small.feasible and "32" in small.answer  # vgg16's smallest resolution
    params = solve_resolution("resnet50", params="10M")
    assert not params.feasible and "do not depend on the resolution" in params.answer


def test_user_errors():
    with pytest.raises(CostModelError, match="vgg16 has no alpha knob"):
        solve_alpha("vgg16", macs="1G")
    with pytest.raises(CostModelError, match="give a budget"):
        solve_alpha("mobilenet_v1")
    with pytest.raises(CostModelError, match="remove alpha=0.5"):
        solve_alpha("mobilenet_v1:alpha=0.5", macs="300M")


def invoke(*args):
    return runner.invoke(app, list(args))


def test_cli_solve_the_issue_example():
    result = invoke("solve", "mobilenet_v1", "--macs", "300M", "--for", "alpha",
                    "--resolution", "192")
    assert result.exit_code == 0, result.output
    assert "alpha = 0.843" in result.stdout and "≈ 0.842974" in result.stdout
    assert "1 MAC = 2 FLOPs" in result.stdout


def test_cli_solve_json_and_unreachable():
    result = invoke("solve", "mobilenet_v1", "--macs", "1M", "-f", "json")
    assert result.exit_code == 0  # an unreachable budget is an answer
    record = json.loads(result.stdout)
    assert record["feasible"] is False and record["budget"] == {"macs": 1_000_000}
    resolution = json.loads(invoke("solve", "mobilenet_v2", "--for", "resolution", "--macs",
                                   "300M", "--alpha", "1.4", "-f", "json").stdout)
    assert resolution["resolution"] == 160 and resolution["settings"]["alpha"] == 1.4


@pytest.mark.parametrize("args, message", [
    (("solve", "mobilenet_v1", "--macs", "lots"), "cannot read --macs 'lots'"),
    (("solve", "vgg16", "--macs", "1G"), "no alpha knob"),
    (("solve", "mobilenet_v1", "--macs", "1G", "-f", "csv"), "'csv' is not one of 'table', 'json'"),
])
def test_cli_solve_bad_input(args, message):
    result = invoke(*args)
    words = " ".join(result.stderr.translate(str.maketrans("│╭╮╰╯─", "      ")).split())
    assert result.exit_code == 2 and message in words

"""The report's figures: every FIGURES entry writes PNG and SVG; the numbers behind each
figure are the exact counts; output is byte-for-byte reproducible; `costmodel collapse` and
`costmodel breakdown` work from the command line."""

from __future__ import annotations

import re
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import sympy
from typer.testing import CliRunner

from costmodel import zoo
from costmodel.analysis.collapse import collapse
from costmodel.cli.app import app
from costmodel.core import symbols as S
from costmodel.report import breakdown, figures as F, pareto

runner = CliRunner()


def exact_alpha(value: float) -> str:
    """A grid alpha (k/1024, exact in float64) as its exact decimal text, for a knob."""
    return str(Decimal(value))


def same(drawn: float, exact) -> bool:
    """A float64 from a sweep is exactly the integer count (sympy's Integer never equals a
    Float, so compare as Python ints)."""
    return float(drawn).is_integer() and int(drawn) == int(exact)


def knob_text(value) -> str:
    """A knob value from Network.config as text a knob accepts: 3/4 -> '0.75'."""
    if isinstance(value, sympy.Rational) and not value.is_Integer:
        return str(Decimal(int(value.p)) / Decimal(int(value.q)))
    return str(value)


# ----------------------------------------------------------------------------- every figure

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Every FIGURES entry rendered once into a fresh folder, warnings recorded (a label
    that found no free spot warns)."""
    folder = tmp_path_factory.mktemp("figures")
    written = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, draw in F.FIGURES.items():
            written[name] = draw(folder)
    return written, [str(w.message) for w in caught]


def test_figure_names():
    assert set(F.FIGURES) == {"macs_vs_alpha", "macs_vs_resolution", "shufflenet_v1_groups",
                              "breakdown_mobilenet_v1", "breakdown_mobilenet_v2",
                              "pareto_top1", "relu_collapse"}


@pytest.mark.slow
def test_each_figure_writes_png_and_svg(rendered):
    written, _ = rendered
    for name, paths in written.items():
        assert sorted(p.suffix for p in paths) == [".png", ".svg"], name
        for path in paths:
            assert path.stem == name and path.stat().st_size > 10_000, path
        png = next(p for p in paths if p.suffix == ".png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        svg = next(p for p in paths if p.suffix == ".svg").read_text("utf-8")
        assert "<svg" in svg[:2000]
        # No creation date, or the fixed one of SOURCE_DATE_EPOCH = 0 (plot_collapse).
        assert set(re.findall(r"<dc:date>(.*?)</dc:date>", svg)) <= {"1970-01-01T00:00:00+00:00"}


@pytest.mark.slow
def test_png_is_150_dpi(rendered):
    from PIL import Image

    written, _ = rendered
    png = next(p for p in written["shufflenet_v1_groups"] if p.suffix == ".png")
    fig = F._draw_shufflenet_groups(F.shufflenet_groups_data())
    with Image.open(png) as image:  # the figure's inches times 150
        assert image.size == (round(fig.get_figwidth() * 150), round(fig.get_figheight() * 150))


@pytest.mark.slow
def test_no_label_was_left_overlapping(rendered):
    _, caught = rendered
    assert not [message for message in caught if "label" in message]


@pytest.mark.slow
def test_fonts_are_at_least_10_points():
    from matplotlib.text import Text

    figures = [F._draw_macs_vs_alpha(F.alpha_sweep_data()),
               F._draw_macs_vs_resolution(F.resolution_sweep_data()),
               F._draw_shufflenet_groups(F.shufflenet_groups_data()),
               breakdown.draw_breakdown("mobilenet_v2"), pareto._draw_pareto(pareto.pareto_data())]
    for fig in figures:
        fig.draw_without_rendering()
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip()]
        assert sizes and min(sizes) >= 10
        # Every axes has both labels, and the footnote states the unit.
        for ax in fig.axes:
            assert ax.get_ylabel()
        assert any("1 MAC = 2 FLOPs" in t.get_text() for t in fig.findobj(Text))


# ----------------------------------------------------------------------------- determinism

@pytest.mark.slow
def test_same_figure_same_bytes(tmp_path):
    for run in ("a", "b"):
        F.FIGURES["shufflenet_v1_groups"](tmp_path / run)
    for suffix in (".svg", ".png"):
        first = (tmp_path / "a" / f"shufflenet_v1_groups{suffix}").read_bytes()
        assert first == (tmp_path / "b" / f"shufflenet_v1_groups{suffix}").read_bytes()


@pytest.mark.slow
def test_collapse_svg_is_reproducible(tmp_path):
    """plot_collapse saves without our metadata; the SOURCE_DATE_EPOCH and hash-salt
    settings around it still make the SVG identical from run to run."""
    for name in ("a.svg", "b.svg"):
        F.plot_relu_collapse(tmp_path / name, (2, 30), n=100, seed=3)
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_bad_suffix_is_a_user_error(tmp_path):
    from costmodel.errors import CostModelError

    with pytest.raises(CostModelError, match="png or .svg"):
        breakdown.plot_breakdown("mobilenet_v1", tmp_path / "x.pdf")
    with pytest.raises(CostModelError, match="png or .svg"):
        F.plot_relu_collapse(tmp_path / "x.jpg")


# ----------------------------------------------------------------------------- MACs vs alpha

@pytest.fixture(scope="module")
def alpha_series():
    return {(s.model, s.style): s for s in F.alpha_sweep_data()}


def at(series, alpha: float) -> float:
    index = np.flatnonzero(series.x == alpha)
    assert index.size == 1, alpha
    return series.macs[index[0]]


def test_alpha_grid_is_exact_in_float64():
    # k/1024 for k = 256..2048: every c·alpha with c < 2**40 is an exact binary fraction.
    assert F.ALPHA_GRID[0] == 0.25 and F.ALPHA_GRID[-1] == 2.0
    assert all(Fraction(a) * 1024 == int(a * 1024) for a in F.ALPHA_GRID)


def test_alpha_sweep_hits_the_published_counts(alpha_series):
    # MobileNet v1 paper, Table 6: 569M at 1.0, 325M at 0.75 (exact: 568,740,352, 325,400,448)
    assert at(alpha_series["mobilenet_v1", "reference"], 1.0) == 568_740_352
    assert at(alpha_series["mobilenet_v1", "reference"], 0.75) == 325_400_448
    # Idealized MobileNet v1: 539,492,352·α² + 29,248,000·α (README); at α = 1/2 that is
    # 134,873,088 + 14,624,000 = 149,497,088 (Table 6: 149M).
    assert at(alpha_series["mobilenet_v1", "none"], 0.5) == 149_497_088
    # MobileNet v2 paper: 300M at 1.0 (exact 300,774,272); both roundings agree at α = 1.
    assert at(alpha_series["mobilenet_v2", "reference"], 1.0) == 300_774_272
    assert at(alpha_series["mobilenet_v2", "none"], 1.0) == 300_774_272


def test_shufflenet_markers_are_the_official_sizes(alpha_series):
    v1 = alpha_series["shufflenet_v1", "sizes"]
    # ShuffleNet v1 g = 3 with the FC (Tables 5, 6, 8): 0.5× 38M, 1× 137M (Table 1, with the
    # 960,000 FC MACs), 1.5× 292M, 2× 524M.
    assert v1.exact == (37_589_856, 137_460_672, 292_443_552, 524_045_184)
    assert list(v1.x) == [0.5, 1.0, 1.5, 2.0]
    v2 = alpha_series["shufflenet_v2", "sizes"]
    assert v2.exact == tuple(zoo.build("shufflenet_v2", alpha=a).macs()
                             for a in ("0.5", "1", "1.5", "2"))
    assert [round(m / 1e6) for m in v2.exact[1:]] == [146, 299, 591]  # Table 5


def test_shufflenet_curve_uses_the_generic_stem(alpha_series):
    curve = alpha_series["shufflenet_v1", "reference"]
    markers = dict(zip(alpha_series["shufflenet_v1", "sizes"].x,
                       alpha_series["shufflenet_v1", "sizes"].exact))
    for alpha in (0.5, 1.0, 2.0):  # official stem = int(24α) there: 12, 24, 48
        assert at(curve, alpha) == markers[alpha]
    # At 1.5× the official code keeps a 24-channel stem; the curve's int(24·1.5) = 36 costs
    # more (3·9·12 more stem MACs per output pixel, and a wider first unit input).
    assert at(curve, 1.5) > markers[1.5]
    assert same(at(curve, 1.5 + 1 / 1024),
                zoo.build("shufflenet_v1", g=3, alpha=exact_alpha(1.5 + 1 / 1024)).macs())


@pytest.mark.parametrize("model,extra", [("mobilenet_v1", {}), ("mobilenet_v2", {}),
                                         ("shufflenet_v1", {"g": 3})])
def test_reference_curves_equal_exact_builds(alpha_series, model, extra):
    """The numpy evaluation of the symbolic closed form against networks built one by one,
    across the staircase (every 97th grid point: 19 alphas, none of them round)."""
    curve = alpha_series[model, "reference"]
    official = {0.5, 1.0, 1.5, 2.0} if model == "shufflenet_v1" else set()
    for alpha, value in list(zip(curve.x, curve.macs))[::97]:
        if alpha in official:
            continue
        assert same(value, zoo.build(model, alpha=exact_alpha(alpha), **extra).macs()), alpha


@pytest.mark.parametrize("model,extra", [("mobilenet_v1", {}), ("mobilenet_v2", {}),
                                         ("shufflenet_v1", {"g": 3})])
def test_idealized_curves_equal_the_exact_closed_form(alpha_series, model, extra):
    expr = zoo.build(model, alpha=S.alpha, rounding="none", **extra).macs()
    curve = alpha_series[model, "none"]
    for alpha, value in list(zip(curve.x, curve.macs))[::151]:
        exact = expr.subs(S.alpha, sympy.Rational(Fraction(alpha).numerator,
                                                  Fraction(alpha).denominator))
        assert value == pytest.approx(float(exact), rel=1e-15), alpha


# ----------------------------------------------------------------------------- resolution

@pytest.mark.slow
def test_resolution_sweep_equals_exact_builds():
    series = {s.model: s for s in F.resolution_sweep_data()}
    v1 = series["mobilenet_v1"]
    # MobileNet v1 paper, Table 7: 569/418/290/186M at 224/192/160/128 (exact counts).
    for side, macs in ((224, 568_740_352), (192, 418_121_728), (160, 290_675_200),
                       (128, 186_400_768)):
        assert v1.macs[v1.x == side][0] == macs
    for model, s in series.items():
        assert list(s.x) == list(range(96, 321))
        for side in (96, 113, 150, 224, 257, 320):  # odd sides exercise the floors
            assert same(s.macs[s.x == side][0], zoo.build(model, resolution=side).macs()), \
                (model, side)


# ----------------------------------------------------------------------------- ShuffleNet groups

def test_shufflenet_groups_data():
    data = F.shufflenet_groups_data()
    assert list(data) == [1, 2, 3, 4, 8]
    for g, stages in data.items():
        network = zoo.build("shufflenet_v1", g=g)
        assert list(stages) == ["stem", "stage2", "stage3", "stage4", "head"]
        assert sum(m for m, _ in stages.values()) == network.macs()
        assert sum(p for _, p in stages.values()) == network.params()
        # Stem: 3x3 conv, 3 -> 24 channels on 112×112: 3·9·24·112² = 8,128,512 MACs, 648 weights.
        assert stages["stem"] == (8_128_512, 648)
    # Head: the FC from Stage 4's 4·c2 channels to 1000 classes, no bias (official code);
    # g = 3: 960 · 1000 = 960,000 MACs and weights.
    assert data[3]["head"] == (960_000, 960_000)
    # Table 1 counts the convolutions only: 143/140/137/133/137M, exactly 142,502,976 /
    # 140,036,512 / 136,500,672 / 133,251,776 / 136,829,952 (shufflenet_v1.cm docstring).
    conv_only = [sum(data[g][s][0] for s in ("stem", "stage2", "stage3", "stage4"))
                 for g in data]
    assert conv_only == [142_502_976, 140_036_512, 136_500_672, 133_251_776, 136_829_952]
    assert [round(m / 1e6) for m in conv_only] == [143, 140, 137, 133, 137]


# ----------------------------------------------------------------------------- breakdown

def test_breakdown_data_mobilenet_v2():
    network, layers = breakdown.breakdown_data("mobilenet_v2")
    # 1 stem + 17 blocks (the first without expansion: 2 convs, the rest 3) + head + FC = 53
    assert len(layers) == 1 + 2 + 16 * 3 + 1 + 1
    # Totals of the MobileNet v2 paper's 1.0 network: 300,774,272 MACs, 3,470,760 params.
    assert sum(layer.macs for layer in layers) == 300_774_272
    assert sum(layer.params for layer in layers) == 3_470_760
    assert layers[-1].kind == "fc" and layers[-1].params == 1280 * 1000 + 1000
    assert {layer.kind for layer in layers} == {"conv 3x3", "conv dw 3x3", "conv 1x1", "fc"}


def test_breakdown_data_mobilenet_v1_follows_table_1():
    _, layers = breakdown.breakdown_data("mobilenet_v1")
    assert len(layers) == 1 + 13 * 2 + 1  # stem, 13 depthwise-separable layers, FC
    # Table 2 (exact): 1x1 convs 539,492,352 MACs = 94.86% of 568,740,352.
    assert sum(layer.macs for layer in layers if layer.kind == "conv 1x1") == 539_492_352
    _, torch_layers = breakdown.breakdown_data("mobilenet_v1", "torch")
    assert sum(layer.params for layer in torch_layers) == 4_231_976  # BN included


# ----------------------------------------------------------------------------- Pareto

@pytest.mark.slow
def test_pareto_data_counts_exactly():
    points = pareto.pareto_data()
    tf_slim = [p for p in points if p.origin == "TF-slim"]
    assert len(tf_slim) == len(pareto.tf_slim_checkpoints()) == 38
    by_label = {p.label: p for p in tf_slim}
    # The 1.4 network has 582,195,824 MACs (MobileNet v2 zoo docstring); TF-slim's 1001
    # classes add one FC row of make_divisible(1280·1.4, 8) = 1792 inputs: 582,197,616.
    assert by_label["MobileNet v2 1.4"].macs == 582_195_824 + 1792
    assert by_label["MobileNet v2 1.4"].top1 == 75.0
    papers = [p for p in points if p.origin == "paper"]
    for p in papers:
        assert p.macs == zoo.build(p.model, **{k: knob_text(v) for k, v in p.config}).macs()
    # Reimplementation rows are left out: ShuffleNet v2 Table 8's "0.4 MobileNet v2 (their
    # impl.)" has no point; the paper's own MobileNet v2 1.0 (72.0%) has.
    assert not [p for p in papers if p.model == "mobilenet_v2"
                and dict(p.config)["alpha"] == sympy.Rational(2, 5)]
    assert any(p.model == "mobilenet_v2" and p.top1 == 72.0 for p in papers)
    # Repeated rows are kept once: MobileNet v1 1.0 at 70.6% appears in six tables.
    assert sum(1 for p in papers if p.label == "MobileNet v1 1.0" and p.top1 == 70.6) == 1


@pytest.mark.slow
def test_pareto_front_is_the_upper_left_envelope():
    points = pareto.pareto_data()
    front = pareto.pareto_front(points)
    assert [p.macs for p in front] == sorted(p.macs for p in front)
    assert all(b.top1 > a.top1 for a, b in zip(front, front[1:]))
    for p in front:  # nothing is at least as accurate for fewer MACs
        assert not any(q.macs < p.macs and q.top1 >= p.top1 for q in points)
    for p in points:  # everything off the front is dominated by a front point
        if p not in front:
            assert any(q.macs <= p.macs and q.top1 >= p.top1 for q in front)
    keys = pareto.key_points(front)
    assert keys[-1] == front[-1] and set(keys) <= set(front)
    assert 5 <= len(keys) < len(front)


def test_pareto_front_on_hand_made_points():
    def point(macs, top1):
        return pareto.AccuracyPoint("m", (), f"{macs}", top1, macs, "paper", "")
    a, b, c, d = point(10, 50.0), point(20, 49.0), point(30, 60.0), point(30, 55.0)
    # b costs more than a and is less accurate; d ties c on MACs and is less accurate.
    assert pareto.pareto_front([d, c, b, a]) == [a, c]


# ----------------------------------------------------------------------------- CLI

@pytest.mark.slow
def test_cli_collapse_writes_the_figure_and_prints_the_errors(tmp_path):
    out = tmp_path / "collapse.png"
    result = runner.invoke(app, ["collapse", "--m", "2,30", "--n", "300", "--seed", "1",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    expected = collapse((2, 30), n=300, seed=1)
    for error, lost in zip(expected.errors, expected.collapsed):
        assert f"{error:.3f}" in result.stdout and f"{lost:.1%}" in result.stdout


def test_cli_collapse_json_has_the_exact_values():
    import json

    result = runner.invoke(app, ["collapse", "--m", "3", "--n", "200", "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    expected = collapse((3,), n=200, seed=0)
    assert rows == [{"m": 3, "error": expected.errors[0], "collapsed": expected.collapsed[0]}]


@pytest.mark.parametrize("args,message", [
    (["collapse", "--m", "2,x"], "'x' is not a whole number"),
    (["collapse", "--m", "0"], "'0' is not a whole number >= 1"),
    (["collapse", "--out", "c.jpg"], "png or .svg"),
    (["breakdown", "mobilenet_v1", "--out", "b.pdf"], "png or .svg"),
    (["breakdown", "mobilnet_v1", "--out", "b.png"], "did you mean mobilenet_v1"),
])
def test_cli_bad_input(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


@pytest.mark.slow
def test_cli_breakdown_any_spec(tmp_path):
    out = tmp_path / "sn.svg"
    result = runner.invoke(app, ["breakdown", "shufflenet_v1:g=8", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "<svg" in out.read_text("utf-8")[:2000]

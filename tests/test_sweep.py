"""`costmodel sweep`: LIST parsing, exactness against networks built one by one, grouping of
knobs that cannot stay symbolic, the output formats and the plot."""

import csv
import io
import json
import random
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from costmodel import zoo
from costmodel.analysis import closed_forms, grid, sweep as sw
from costmodel.report import sweep_output as out
from costmodel.report.sweep_plot import plot as draw
from costmodel.cli.app import app
from costmodel.errors import CostModelError

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def exact_counts(spec, point, convention="paper"):
    """MACs, params, activations of the network built at ``point`` (knob -> exact value)."""
    return zoo.build(spec, **point).evaluate(convention_name=convention)


def assert_matches_builds(result, spec, samples=25, seed=0, convention="paper"):
    """Every count of ``samples`` random grid points equals the one-by-one build's."""
    rng = random.Random(seed)
    for position in rng.sample(range(len(result)), min(samples, len(result))):
        truth = exact_counts(spec, result.knob_values(position), convention)
        for name in ("macs", "params", "activations"):
            got = result.counts[name][position].item()
            assert got == truth[name], (result.knob_values(position), name)
        assert result.counts["flops"][position] == 2 * truth["macs"]


def at(result, **knobs):
    """The counts at the grid point with these knob values (given as text)."""
    index = tuple(next(i for i, t in enumerate(a.texts) if t == knobs[a.name])
                  for a in result.axes)
    position = int(np.ravel_multi_index(index, result.shape))
    return {name: result.counts[name][position].item() for name in sw.COUNTS}


# --- LISTs --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, values", [
    ("0.25:1:0.25", ["0.25", "0.5", "0.75", "1"]),     # stop on the grid: included
    ("0:1:0.3", ["0", "0.3", "0.6", "0.9"]),            # 1.2 would pass the stop
    ("0.1:0.3:0.1", ["0.1", "0.2", "0.3"]),             # floats would stop at 0.2 (0.30000000000000004)
    ("96:224:32", ["96", "128", "160", "192", "224"]),
    ("1:0.5:-0.25", ["1", "0.75", "0.5"]),
    ("96:128:32, 300", ["96", "128", "300"]),
    ("0.5,0.75,1", ["0.5", "0.75", "1"]),
    ("1.4", ["1.4"]),
])
def test_parse_list(text, values):
    assert grid.parse_list(text, "alpha") == values


def test_parse_list_is_exact_over_many_steps():
    values = grid.parse_list("0.35:1.4:0.001", "alpha")
    # (1.4 - 0.35) / 0.001 = 1050 steps, both ends included
    assert len(values) == 1051 and values[0] == "0.35" and values[-1] == "1.4"
    assert values[650] == "1"


@pytest.mark.parametrize("text, message", [
    ("1:2", "cannot read range '1:2'"),
    ("a:1:0.1", "'a' in range 'a:1:0.1' is not a number"),
    ("1:0.5:0.1", "range '1:0.5:0.1' never reaches its stop"),
    ("1:2:0", "range '1:2:0' never reaches its stop"),
    ("0.5,,1", "empty item"),
    ("", "empty list"),
])
def test_parse_list_errors_name_the_token(text, message):
    with pytest.raises(CostModelError, match="--alpha") as info:
        grid.parse_list(text, "alpha")
    assert message in str(info.value)


def test_decimal_text():
    from sympy import Rational
    assert grid.decimal_text(Rational(7, 20)) == "0.35"
    assert grid.decimal_text(Rational(224)) == "224"
    assert grid.decimal_text(Rational(1, 1024)) == "0.0009765625"


@pytest.mark.parametrize("lists, message", [
    ({"alpha": "0,1"}, "received alpha=0"),                       # as `compare` says it
    ({"alpha": "0.5,abc"}, "received alpha=abc"),
    ({"resolution": "100.5"}, "must be a whole number; received resolution=100.5"),
    ({"rounding": "reference,nearest"}, "received rounding=nearest"),
    ({"g": "1,2"}, "mobilenet_v2 has no knob 'g'"),
    ({"alpha": "0.5,0.50"}, "0.50 is listed twice"),
])
def test_bad_knob_values_as_compare_reports_them(lists, message):
    with pytest.raises(CostModelError) as info:
        sw.sweep("mobilenet_v2", lists)
    assert message in str(info.value)


def test_a_knob_in_the_spec_and_in_a_list():
    with pytest.raises(CostModelError, match="given both in the SPEC"):
        sw.sweep("mobilenet_v2:alpha=0.5", {"alpha": "1,1.4"})


# --- exactness ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_mobilenet_v2_reference_rounding_is_exact():
    result = sw.sweep("mobilenet_v2", {"alpha": "0.35:1.4:0.005", "resolution": "96:320:7"})
    assert result.symbolic == ("alpha", "resolution") and result.grouped == ()
    assert result.exact and result.counts["macs"].dtype == np.int64
    assert result.counts["macs"].max() < 2 ** 53  # float64 readers of the CSV read it exactly
    assert_matches_builds(result, "mobilenet_v2")
    # the zoo file's figures: 300,774,272 MACs and 3,470,760 params at 1.0/224 (the paper's
    # 300M and 3.4M), 582,195,824 / 6,060,840 at 1.4/224, 11,934,128 MACs at 0.35/96
    full = sw.sweep("mobilenet_v2", {"alpha": "0.35,1,1.4", "resolution": "96,224"})
    assert at(full, alpha="1", resolution="224")["macs"] == 300_774_272
    assert at(full, alpha="1", resolution="224")["params"] == 3_470_760
    assert at(full, alpha="1.4", resolution="224")["macs"] == 582_195_824
    assert at(full, alpha="1.4", resolution="224")["params"] == 6_060_840
    assert at(full, alpha="0.35", resolution="96")["macs"] == 11_934_128


def test_torch_convention_counts_batch_norm_params():
    result = sw.sweep("mobilenet_v2", {"alpha": "0.5,1"}, convention="torch")
    # torchvision's mobilenet_v2: 3,504,872 parameters (3,470,760 + 34,112 BN scales, shifts)
    assert at(result, alpha="1")["params"] == 3_504_872
    assert_matches_builds(result, "mobilenet_v2", convention="torch")


def test_mobilenet_v1_is_exact():
    result = sw.sweep("mobilenet_v1", {"alpha": "0.25:1:0.05", "resolution": "96:256:8"})
    assert result.symbolic == ("alpha", "resolution")
    assert_matches_builds(result, "mobilenet_v1")
    # paper Tables 6 and 7: 569/325/149/41M MACs for alpha 1/0.75/0.5/0.25 at 224
    assert at(result, alpha="1", resolution="224")["macs"] == 568_740_352
    assert round(at(result, alpha="0.75", resolution="224")["macs"] / 1e6) == 325
    assert round(at(result, alpha="0.25", resolution="224")["macs"] / 1e6) == 41


@pytest.mark.slow
def test_shufflenet_v1_groups_g_and_matches_every_build():
    result = sw.sweep("shufflenet_v1", {"g": "1,2,3,4,8", "alpha": "0.5,1,1.5,2"})
    # g selects a table row ({1: 144, ...}[g]) and cannot stay symbolic: one build per value
    assert "g" in result.grouped
    for position in range(len(result)):
        truth = exact_counts("shufflenet_v1", result.knob_values(position))
        assert result.counts["macs"][position] == truth["macs"]
        assert result.counts["params"][position] == truth["params"]
    # the zoo file (paper Tables 5/6/8, official README): 1.5x g=3 292,443,552 MACs;
    # 1x g=8 138,365,952
    assert at(result, g="3", alpha="1.5")["macs"] == 292_443_552
    assert at(result, g="8", alpha="1")["macs"] == 138_365_952


def assert_every_point_matches_builds(result, spec, convention="paper"):
    """Every count at every grid point equals the one-by-one build's."""
    for position in range(len(result)):
        truth = exact_counts(spec, result.knob_values(position), convention)
        for name in ("macs", "params", "activations"):
            got = result.counts[name][position].item()
            assert got == truth[name], (result.knob_values(position), name, got, truth[name])
        assert result.counts["flops"][position] == 2 * truth["macs"]


def unverified(spec, lists, **options):
    """A sweep with no comparison against one-by-one builds at all (not even the corners and
    special values that ``check=0`` keeps): only the assumptions can make it right."""
    result = sw.sweep(spec, lists, check=0, verify=False, **options)
    assert result.checked == 0
    return result


def test_a_symbolic_knob_that_the_spec_compares_stays_symbolic():
    # inverted_residual has `if t != 1:` (no expansion conv at t = 1): the symbolic build
    # records the assumption Ne(t, 1) and the points at t = 1 are recomputed; t is no longer
    # grouped (formerly the check at t = 1 caught the mismatch and t was grouped)
    result = sw.sweep("mobilenet_v2", {"t": "1:6:1", "alpha": "0.5,1"})
    assert set(result.symbolic) == {"t", "alpha"} and result.grouped == ()
    assert "t" in result.recomputed_by and result.recomputed >= 2  # t = 1 at both alphas
    assert_every_point_matches_builds(result, "mobilenet_v2")


@pytest.mark.slow
@pytest.mark.parametrize("resolution, recomputed", [
    ("96,160,224", 3),    # t = 1 at 3 resolutions: built one by one
    ("96:224:8", 17),     # t = 1 at 17 resolutions: built with resolution symbolic
])
def test_expansion_factor_one_from_the_assumptions_alone(resolution, recomputed):
    # no sampled checks: only the recorded assumption Ne(t, 1) can get t = 1 right
    result = unverified("mobilenet_v2", {"t": "1:8:1", "resolution": resolution})
    assert set(result.symbolic) == {"t", "resolution"} and result.grouped == ()
    assert result.recomputed == recomputed and result.recomputed_by == ("t",)
    assert_every_point_matches_builds(result, "mobilenet_v2")
    notes = " ".join(out.describe(result))
    assert f"recomputed at {recomputed} grid points where an assumption" in notes
    assert "not checked against networks built one by one" in notes


@pytest.mark.slow
def test_small_alpha_where_widths_clamp_from_the_assumptions_alone():
    # below alpha ~0.28 both ch(32) and ch(16) clamp to 8 channels and the first block gains a
    # residual add, which the symbolic network (where the widths differ) does not have; the
    # assumption Ne(ch(16), ch(32)) fails there and those alphas are recomputed
    result = unverified("mobilenet_v2", {"alpha": "0.05:0.5:0.05", "resolution": "96,224"})
    assert result.symbolic == ("alpha", "resolution") and result.grouped == ()
    assert result.recomputed > 0 and result.recomputed_by == ("alpha",)
    assert_every_point_matches_builds(result, "mobilenet_v2")


@pytest.mark.slow
@pytest.mark.parametrize("lists, recomputed", [
    ({"alpha": "0.25:2:0.25"}, 4),
    ({"g": "1,8", "alpha": "0.25:2:0.25"}, 8),      # g grouped: 4 alphas in each group
])
def test_shufflenet_v1_table_alphas_from_the_assumptions_alone(lists, recomputed):
    # `alpha == 0.5 or alpha == 1 or ...` picks the official stem widths: the symbolic build
    # assumes alpha is none of 0.5, 1, 1.5, 2, which are recomputed
    result = unverified("shufflenet_v1", lists)
    assert "alpha" in result.symbolic
    assert result.recomputed == recomputed and result.recomputed_by == ("alpha",)
    assert_every_point_matches_builds(result, "shufflenet_v1")


def test_assumptions_of_a_recomputed_sub_grid_are_recomputed_in_turn(tmp_path):
    # the conv 16 exists only at a = 1 and b = 2: the symbolic build assumes Ne(a, 1); the
    # sub-grid a = 1 (b and resolution still symbolic) assumes Ne(b, 2), which fails at b = 2
    path = tmp_path / "nested.cm"
    path.write_text("knob a 2 int min=1\nknob b 3 int min=1\nknob resolution 32 int min=8\n"
                    "input 3 resolution resolution\nconv 8 k=3 p=1\nif a == 1:\n"
                    "    if b == 2:\n        conv 16 k=3 p=1\nconv 8*b k=1\ngap\nfc 10\n")
    result = unverified(str(path), {"a": "1:3:1", "b": "1:4:1", "resolution": "16:64:4"})
    # every point of a = 1 is recomputed; b comes from the sub-grid's own assumption
    assert result.recomputed == 4 * 13 and result.recomputed_by == ("a", "b")
    assert_every_point_matches_builds(result, str(path))
    assert at(result, a="1", b="2", resolution="32")["macs"] != \
        at(result, a="2", b="2", resolution="32")["macs"]


def test_assumption_failures_are_exact():
    import sympy
    from fractions import Fraction
    from costmodel.core import symbols as S
    from costmodel.core.rounding import MakeDivisible

    md = lambda c: MakeDivisible(c * S.alpha, 8, 8)  # noqa: E731
    conditions = (sympy.Ne(S.t, 1), sympy.Ne(md(16), md(32)),
                  sympy.Or(sympy.Ne(S.t, 2), sympy.Ne(S.alpha, sympy.Rational(1, 2))))
    alphas = [Fraction(1, 10), Fraction(3, 10), Fraction(1, 2)]
    found = closed_forms.assumption_failures(conditions, (S.t, S.alpha), [[1, 2, 6], alphas])
    assert sorted(found) == [(0,), (0, 1), (1,)]
    assert found[(0,)].reshape(-1).tolist() == [True, False, False]
    # ch(16) = ch(32) = 8 at alpha 0.1 only (at 0.3: 8 and 16, as 8 < 0.9 * 9.6 rounds up)
    assert found[(1,)].reshape(-1).tolist() == [True, False, False]
    # the Or fails only where both of its conditions do: t = 2 and alpha = 1/2
    assert np.argwhere(found[(0, 1)]).tolist() == [[1, 2]]
    assert closed_forms.assumption_failures(conditions[:1], (S.t, S.alpha), [[2, 6], alphas]) == {}


@pytest.mark.slow
def test_small_alpha_where_widths_clamp_is_exact():
    # the same grid with the default checks: they find nothing left to group
    result = sw.sweep("mobilenet_v2", {"alpha": "0.05:0.5:0.05", "resolution": "96,224"})
    assert result.grouped == ()
    assert_matches_builds(result, "mobilenet_v2", samples=len(result))


def test_rounding_none_gives_floats_close_to_the_exact_rationals():
    result = sw.sweep("mobilenet_v2:rounding=none", {"alpha": "0.35:1.4:0.05",
                                                      "resolution": "96:224:32"})
    assert not result.exact and result.counts["macs"].dtype == np.float64
    for position in random.Random(1).sample(range(len(result)), 10):
        truth = exact_counts("mobilenet_v2:rounding=none", result.knob_values(position))
        assert result.counts["macs"][position] == pytest.approx(float(truth["macs"]), rel=1e-14)


def test_string_knob_grouped():
    result = sw.sweep("mobilenet_v2", {"rounding": "reference,none", "alpha": "0.5:1.5:0.25"})
    assert result.grouped == ("rounding",) and result.symbolic == ("alpha",)
    # with alpha a multiple of 1/4 every width c·alpha is whole (c is a multiple of 8), so
    # rounding=none gives whole counts too, computed exactly from alpha's numerators over 4
    assert result.exact and result.counts["macs"].dtype == np.int64
    assert_matches_builds(result, "mobilenet_v2", samples=len(result))
    # alpha = 1: both roundings give the same network (the zoo file: "the two agree")
    assert at(result, rounding="none", alpha="1")["macs"] == 300_774_272
    assert at(result, rounding="reference", alpha="1")["macs"] == 300_774_272


def test_resolution_too_small_is_the_compare_error():
    with pytest.raises(CostModelError, match="the smallest resolution that works is 32"):
        sw.sweep("vgg16", {"resolution": "16,224"})


@pytest.mark.slow
def test_ceil_mode_pooling_over_every_resolution():
    # GoogLeNet's pools round up (Caffe); the symbolic form must agree at every size
    result = sw.sweep("googlenet", {"resolution": "64:160:1"})
    assert_matches_builds(result, "googlenet", samples=len(result))


def test_architecture_file_with_its_own_knob(tmp_path):
    path = tmp_path / "mine.cm"
    path.write_text("model mine\nknob width 16 int min=1\nknob resolution 32 int min=8\n"
                    "input 3 resolution resolution\nconv width k=3 s=2 p=1\ngap\nfc 10\n")
    result = sw.sweep(str(path), {"width": "8:32:8", "resolution": "32,64"})
    # conv at 32: 16·16 outputs × width × 3·9 MACs; fc: width·10
    assert at(result, width="16", resolution="32")["macs"] == 16 * 16 * 16 * 27 + 160
    assert_matches_builds(result, str(path), samples=len(result))


def test_file_knob_with_fractional_values(tmp_path):
    # a knob of the file's own (not alpha): its symbol must not be assumed whole, or sympy
    # would simplify floor(24*scale) to 24*scale
    path = tmp_path / "scaled.cm"
    path.write_text("knob scale 1 positive\ninput 3 64 64\nconv max(int(24*scale),1) k=3 s=2\n"
                    "pw make_divisible(48*scale,8)\ngap\nfc 10\n")
    result = sw.sweep(str(path), {"scale": "0.1:2:0.05"})
    assert result.symbolic == ("scale",)
    assert_matches_builds(result, str(path), samples=len(result))
    # scale 0.35: conv int(8.4) = 8 channels on 32×32 (8·27·1024 = 221,184 MACs), pw
    # make_divisible(16.8, 8) = 16 (16·8·1024 = 131,072), fc 16·10 = 160
    assert at(result, scale="0.35")["macs"] == 221_184 + 131_072 + 160


@pytest.mark.slow
def test_million_point_grid_is_exact_at_samples():
    result = sw.sweep("mobilenet_v2", {"alpha": "0.35:1.349:0.001", "resolution": "96:1095:1"})
    assert len(result) == 1_000_000
    assert result.timings["evaluate"] < 5  # the benchmark asks < 1 s on a quiet machine
    assert_matches_builds(result, "mobilenet_v2", samples=10, seed=3)


# --- outputs ------------------------------------------------------------------------------------

def test_cli_csv_to_stdout():
    result = invoke("sweep", "mobilenet_v2", "--alpha", "0.5,1", "--resolution", "160,224",
                    "-f", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["alpha", "resolution", "macs", "flops", "params", "activations"]
    assert [(r["alpha"], r["resolution"]) for r in rows] == [
        ("0.5", "160"), ("0.5", "224"), ("1", "160"), ("1", "224")]
    assert rows[3]["macs"] == "300774272" and rows[3]["flops"] == "601548544"
    # MobileNet v2 paper Table 4 / TF-slim: 0.5/160 is 50M MACs, 1.95M params
    assert rows[0]["macs"] == "50184000" and rows[0]["params"] == "1950136"


def test_cli_json_and_output_file(tmp_path):
    out = tmp_path / "grid.json"
    result = invoke("sweep", "shufflenet_v1", "--g", "3,8", "--knob", "rounding=reference",
                    "-o", str(out))
    assert result.exit_code == 0, result.output
    records = json.loads(out.read_text())
    assert records[0] == {"g": 3, "rounding": "reference", "macs": 137_460_672,
                          "flops": 274_921_344, "params": 1_840_248,
                          "activations": records[0]["activations"]}
    assert "wrote" in result.stderr


def test_json_writer_matches_records():
    result = sw.sweep("mobilenet_v2", {"alpha": "0.35:1.4:0.35", "rounding": "reference,none"})
    buffer = io.BytesIO()
    out.write_json(result, buffer)
    assert json.loads(buffer.getvalue()) == result.records()


def test_csv_writer_matches_records_in_blocks(monkeypatch):
    monkeypatch.setattr(out, "CHUNK", 7)  # several blocks, the last one short
    result = sw.sweep("mobilenet_v1", {"alpha": "0.25:1:0.25", "resolution": "96:224:32"})
    buffer = io.BytesIO()
    out.write_csv(result, buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue().decode())))
    assert len(rows) == 20
    for row, record in zip(rows, result.records()):
        assert {k: float(v) if k == "alpha" else int(v) for k, v in row.items()} == record


def test_table_shows_head_and_tail_of_a_long_grid():
    result = invoke("sweep", "mobilenet_v2", "--alpha", "0.35:1.4:0.05", "--resolution",
                    "96:224:32", "--rows", "3")
    assert result.exit_code == 0, result.output
    # 22 alphas × 5 resolutions = 110 rows: 3 at each end
    assert "Showing the first 3 and the last 3 of 110 rows" in result.stdout
    assert "Convention paper" in result.stdout and "1 MAC = 2 FLOPs" in result.stdout
    assert "Other knobs: t=6, classes=1000, rounding=reference." in result.stdout
    assert "11.93M" in result.stdout  # 0.35/96: 11,934,128 MACs


def test_parquet_needs_pyarrow(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now fails
    result = invoke("sweep", "mobilenet_v2", "--alpha", "0.5,1", "-o",
                    str(tmp_path / "grid.parquet"))
    assert result.exit_code == 2
    assert "pip install pyarrow" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_parquet_to_stdout_is_refused():
    result = invoke("sweep", "mobilenet_v2", "--alpha", "0.5,1", "-f", "parquet")
    assert result.exit_code == 2 and "--output FILE.parquet" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--alpha", "0.5:1"], "cannot read range '0.5:1'"),
    (["--alpha", "0,1"], "received alpha=0"),
    (["--alpha", "0.5,x1"], "received alpha=x1"),
    (["--resolution", "96:224:a"], "'a' in range '96:224:a' is not a number"),
    (["--knob", "classes"], "write NAME=LIST"),
    (["--g", "1,2"], "no knob 'g'"),
    (["--alpha", "0.5,1", "--plot", "out.txt"], "must end in .png, .svg or .pdf"),
    (["--alpha", "0.5,1", "--plot", "p.png", "--x", "beta"], "--x beta: not a swept knob"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("sweep", "mobilenet_v2", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_plot_is_written(tmp_path):
    path = tmp_path / "macs.png"
    result = invoke("sweep", "mobilenet_v2", "--alpha", "0.35:1.4:0.35", "--resolution",
                    "96:224:32", "--plot", str(path), "-q")
    assert result.exit_code == 0, result.output
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    grid = sw.sweep("shufflenet_v1", {"g": "1,2,3,4,8", "alpha": "0.25:2:0.25"})
    drawn = draw(grid, tmp_path / "params.svg", y="params", x="alpha")
    assert drawn == {"x": "alpha", "hue": "g", "curves": 5, "y": "params",
                     "path": str(tmp_path / "params.svg"), "left_out": []}
    assert "<svg" in (tmp_path / "params.svg").read_text()[:500]


def test_plot_picks_at_most_ten_curves(tmp_path):
    grid = sw.sweep("mobilenet_v1", {"alpha": "0.25:1:0.05", "resolution": "96:224:32"})
    drawn = draw(grid, tmp_path / "p.png", hue="alpha")
    assert drawn["x"] == "resolution" and drawn["curves"] == 10  # of 16 alphas
    alphas = [a for a in grid.axes if a.name == "alpha"][0].texts
    assert len(drawn["left_out"]) == 6 and set(drawn["left_out"]) < set(alphas)  # named


def test_progress_reports_for_a_large_grid():
    events = []

    class Recorder(sw.Progress):
        def task(self, description, total):
            events.append([description, total, 0])
            def advance(n=1):
                events[-1][2] += n
            return advance

    result = sw.sweep("mobilenet_v1", {"alpha": "0.25:1:0.0015", "resolution": "96:595:1"},
                      progress=Recorder())
    assert len(result) == 501 * 500 > 200_000
    out.write_csv(result, io.BytesIO(), Recorder())
    assert [e[0] for e in events] == ["sweeping: compiling, evaluating, checking", "writing rows"]
    assert all(done == total for _, total, done in events)


def test_counts_past_int64_stay_exact():
    """Issue 8, item 4: past 2**63 the counts are Python ints, as `compare` gives them."""
    result = sw.sweep("mobilenet_v1", {"resolution": "224,30000000"})
    one = zoo.build("mobilenet_v1", resolution="30000000")
    assert result.counts["macs"][1] == one.macs() == 10_183_050_000_001_024_000
    assert result.counts["flops"][1] == 2 * one.macs()
    assert result.counts["activations"][1] == one.activations and result.exact
    buffer = io.BytesIO()
    out.write_csv(result, buffer)
    assert b"30000000,10183050000001024000,20366100000002048000," in buffer.getvalue()
    assert result.records([1])[0]["macs"] == 10_183_050_000_001_024_000

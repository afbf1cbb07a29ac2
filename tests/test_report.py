"""`costmodel report`: the paper tables regenerated into a temporary folder and read back.

The numbers are parsed back from the CSVs and checked against the zoo's exact counts, hand
arithmetic and the printed figures (costmodel/data/published.toml, with citations). Every
reason a table gives for a difference is checked numerically below, one test per reason.
"""

from __future__ import annotations

import csv
import math
import re
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

from costmodel import zoo
from costmodel.cli.app import app
from costmodel.data.published import figures
from costmodel.errors import CostModelError
from costmodel.report import generate as gen
from costmodel.report import paper_tables as P
from costmodel.spec.ref import spec_string
from tests.printed import agrees
from tests.zoo.report_checks import MODERN_CHECKS

M = 10**6
EXTS = ("md", "tex", "csv")
runner = CliRunner()


# --- one full run, through the command line ------------------------------------------------

@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path]:
    # (its time is measured by benchmarks/bench_report.py, not here)
    out = tmp_path_factory.mktemp("reports")
    result = runner.invoke(app, ["report", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return (out,)


def rows(report, name: str) -> list[dict[str, str]]:
    with open(report[0] / "tables" / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def row(report, name: str, label: str) -> dict[str, str]:
    found = [r for r in rows(report, name) if r["label"] == label]
    assert len(found) == 1, (name, label)
    return found[0]


@pytest.mark.slow
def test_everything_is_regenerated(report):
    out = report[0]
    for name in P.TABLES:
        for ext in EXTS:
            assert (out / "tables" / f"{name}.{ext}").stat().st_size > 0, (name, ext)
    assert {p.stem for p in (out / "tables").iterdir()} == set(P.TABLES)
    # MobileNet v1 2-9, ShuffleNet v1 1/2/5/6, v2 T4, SNv2 T5; EfficientNet T2, GhostNet T7,
    # MobileNetV4 T6, Inception v3's abstract, ConvNeXt T1, MobileViT T1, ViT T1
    assert len(P.TABLES) == 21


def test_only_some_tables(tmp_path):
    result = runner.invoke(app, ["report", "--out", str(tmp_path), "--quiet",
                                 "--only", "mobilenet_v1_table6", "--only", "mobilenet_v2_table4"])
    assert result.exit_code == 0, result.output
    assert {p.stem for p in (tmp_path / "tables").iterdir()} == {"mobilenet_v1_table6",
                                                                "mobilenet_v2_table4"}


@pytest.mark.slow
def test_index_links_every_file_and_they_exist(report):
    out = report[0]
    index = (out / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", index)
    for name in P.TABLES:
        for ext in EXTS:
            assert f"tables/{name}.{ext}" in links
    assert all((out / link).is_file() for link in links), links
    assert "1 MAC = 2 FLOPs" in index
    figure_files = sorted(p.name for p in (out / "figures").iterdir())
    if "Figures skipped" not in index:
        assert figure_files and all(f"figures/{n}" in links for n in figure_files)


# --- the numbers -------------------------------------------------------------------------------

@pytest.mark.slow
def test_mobilenet_v1_table6_is_the_zoo_exact_count(report):
    r = row(report, "mobilenet_v1_table6", "0.75 MobileNet-224")
    net = zoo.build("mobilenet_v1", alpha="0.75")
    assert int(r["computed_macs"]) == net.macs() == 325_400_448
    assert int(r["computed_params"]) == net.params() == 2_569_144
    # Table 6 prints 325 (million Mult-Adds) and 2.6 (million params)
    assert int(r["published_macs"]) == 325 * M and int(r["published_params"]) == 2_600_000
    # (325.400448 - 325) / 325 = 0.123% -> 0.1; (2.569144 - 2.6) / 2.6 = -1.187% -> -1.2
    assert float(r["delta_macs"]) == 0.1 and float(r["delta_params"]) == -1.2
    assert r["reason"] == "" and r["spec"] == "mobilenet_v1:alpha=0.75,resolution=224"
    assert float(r["top1"]) == 68.4  # Table 6, as printed


@pytest.mark.slow
def test_mobilenet_v1_table3_by_hand(report):
    got = {r["label"]: (int(r["computed_macs"]), int(r["computed_params"]))
           for r in rows(report, "mobilenet_v1_table3")}
    assert got == {
        # D_K·D_K·M·N·D_F·D_F = 9·512·512·14·14; weights 9·512·512
        "Convolution": (9 * 512 * 512 * 196, 9 * 512 * 512),
        # depthwise 9·512·196 + pointwise 512·512·196 = 196·512·(9 + 512)
        "Depthwise Separable Conv": (196 * 512 * 521, 512 * 521),
        # α = 0.75: 384 channels
        "α = 0.75": (196 * 384 * 393, 384 * 393),
        # ρ = 0.714: 14·0.714 = 9.996 -> a 10x10 map; the params do not change
        "ρ = 0.714": (100 * 384 * 393, 384 * 393),
    }
    assert got["ρ = 0.714"][0] == 15_091_200  # the printed 15.1 (million)
    assert all(r["reason"] == "" for r in rows(report, "mobilenet_v1_table3"))


def test_table3_rho_is_the_map_of_a_160_pixel_input():
    # ρ = 0.714 ≈ 160/224: the five 14x14x512 layers of the network at 224 are 10x10 at 160
    for resolution, side in ((224, 14), (160, 10)):
        net = zoo.build("mobilenet_v1", resolution=resolution)
        maps = {l.output.h for l in net.layers if l.kind == "conv dw 3x3" and l.output.c == 512
                and l.inputs[0].h == l.output.h}
        assert maps == {side}
    rho = next(f for f in figures(source="mobilenet_v1", table="Table 3") if f.label == "ρ = 0.714")
    assert P.table3_geometry(rho) == (384, 10)


@pytest.mark.slow
def test_mobilenet_v1_table2_shares(report):
    r = row(report, "mobilenet_v1_table2", "Conv 1×1")
    # 13 pointwise layers: 539,492,352 of 568,740,352 MACs; 3,139,584 of 4,210,088 params
    assert int(r["macs"]) == 539_492_352 and int(r["params"]) == 3_139_584
    assert float(r["computed_macs"]) == pytest.approx(100 * 539_492_352 / 568_740_352)
    assert float(r["published_macs"]) == 94.86
    stem = row(report, "mobilenet_v1_table2", "Conv 3×3")
    assert int(stem["macs"]) == 112 * 112 * 32 * 3 * 9  # 10,838,016


@pytest.mark.slow
def test_variant_networks_by_hand(report):
    shallow = row(report, "mobilenet_v1_table5", "Shallow MobileNet")
    # 1.0 MobileNet minus five separable layers of 196·512·(9 + 512) MACs, 512·(9 + 512) params
    assert int(shallow["computed_macs"]) == 568_740_352 - 5 * 196 * 512 * 521 == 307_323_392
    assert int(shallow["computed_params"]) == 4_210_088 - 5 * 512 * 521 == 2_876_328
    assert shallow["reason"] == ""  # Table 5: 307 and 2.9
    conv = row(report, "mobilenet_v1_table4", "Conv MobileNet")
    # every separable layer a full 3x3 conv: 9·H·W·C_in·C_out per layer, + stem + FC
    convs = 9 * (112**2 * 32 * 64 + 56**2 * 64 * 128 + 56**2 * 128 * 128 + 28**2 * 128 * 256
                 + 28**2 * 256 * 256 + 14**2 * 256 * 512 + 5 * 14**2 * 512 * 512
                 + 7**2 * 512 * 1024 + 7**2 * 1024 * 1024)
    assert int(conv["computed_macs"]) == 10_838_016 + convs + 1_024_000 == 4_867_293_184
    # the spec files written next to the tables rebuild the same networks
    for name, r in (("shallow_mobilenet_v1", shallow), ("conv_mobilenet_v1", conv)):
        net = zoo.build(str(report[0] / "specs" / f"{name}.cm"))
        assert (net.macs(), net.params()) == (int(r["computed_macs"]), int(r["computed_params"]))


@pytest.mark.slow
def test_not_in_the_zoo_rows(report):
    r = row(report, "mobilenet_v2_table4", "NasNet-A")
    assert (r["computed_macs"], r["delta_macs"], r["reason"]) == ("—", "—", P.NOT_IN_ZOO)
    assert int(r["published_macs"]) == 564 * M  # MobileNet v2 Table 4


def _step(printed: str, unit: int) -> float:
    """The last printed digit of a figure stored in units: '270000' at 1e6 -> 0.01."""
    exponent = (Decimal(printed) / Decimal(unit)).as_tuple().exponent
    return 10.0 ** min(exponent, 0)


def _checked_rows(report):
    for name in P.TABLES:
        unit = 1 if name == "mobilenet_v1_table2" else M  # Table 2 prints shares in %
        for r in rows(report, name):
            yield name, unit, r


#: The last printed digit of figures printed in billions, by (row label, "macs"/"params"):
#: published.toml's `step` (0.70e9 printed "0.70B" has step 0.01e9, which '700000000' hides)
STEPS = {(f.label, what): step / M for f in figures() for what, step in f.step.items()}


@pytest.mark.slow
def test_every_delta_is_consistent_and_reasons_are_given_exactly_where_counts_differ(report):
    checked = differing = 0
    for name, unit, r in _checked_rows(report):
        if r.get("computed_macs", r.get("computed_params")) == "—":  # a table may print no MACs
            assert r["reason"] == P.NOT_IN_ZOO and r["spec"] == "—", (name, r["label"])
            continue
        differs = False
        for what in ("macs", "params"):
            published, computed, delta = (r.get(f"published_{what}"), r.get(f"computed_{what}"),
                                          r.get(f"delta_{what}"))
            if not published:
                continue
            p, c = Fraction(published), Fraction(computed)
            # Δ% = (c - p)/p·100 to one decimal, half away from zero
            expected = math.floor(abs((c - p) / p * 1000) + Fraction(1, 2)) / 10
            assert float(delta) == math.copysign(expected, c - p) or expected == 0 == float(delta)
            step = STEPS.get((r["label"], what), _step(published, unit))
            differs |= not agrees(float(c), float(p) / unit, step, unit)
            checked += 1
        assert bool(r["reason"]) == differs, (name, r["label"], r["reason"])
        assert P.NO_REASON not in r["reason"]
        differing += differs
    assert checked > 80 and differing >= 20


@pytest.mark.slow
def test_every_reason_is_used_by_a_row_that_differs(report):
    shown = {(r["label"], r["reason"]) for _, _, r in _checked_rows(report) if r["reason"]}
    for (source, table, label), reason in P.REASONS.items():
        assert (label, reason) in shown, (source, table, label)


@pytest.mark.slow
def test_latex_has_only_escaped_characters(report):
    for name in P.TABLES:
        text = (report[0] / "tables" / f"{name}.tex").read_text(encoding="utf-8")
        assert set(ch for ch in text if ord(ch) > 127) <= {"—"}, name
        assert text.startswith(r"\begin{table}") and r"\end{tabular}" in text


@pytest.mark.slow
def test_every_table_states_units_convention_and_citation(report):
    for name in P.TABLES:
        text = (report[0] / "tables" / f"{name}.md").read_text(encoding="utf-8")
        assert "1 MAC = 2 FLOPs" in text and "Convention paper" in text
        assert re.search(r"arXiv \d{4}\.\d{5}.*, (Table \d|Abstract)", text), name
        assert "568740352" not in text  # readable numbers: 568.7M


# --- each reason, checked ----------------------------------------------------------------------

def net(spec: str):
    return P.network(spec)


def macs_of(network, op: str) -> int:
    return sum(int(l.counts.macs) for l in network.layers if l.op == op)


def printed(source: str, table: str, label: str):
    return next(f for f in figures(source=source, table=table) if f.label == label)


def in_text(key, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment in P.REASONS[key], (fragment, P.REASONS[key])


def check_mnv1_t2_conv1x1(key):
    mn = net("mobilenet_v1")
    pw = mn.type_totals()["conv 1x1"][1]
    # without the FC's 1,000 biases: 3,139,584 / 4,209,088 = 74.590...% -> 74.59
    assert agrees(100 * pw / (mn.params() - 1000), 74.59, 0.01, 1)
    assert not agrees(100 * pw / mn.params(), 74.59, 0.01, 1)  # 74.57 with them
    in_text(key, f"{int(pw):,} / {int(mn.params()) - 1000:,}")


def check_mnv1_t2_conv3x3(key):
    mn = net("mobilenet_v1")
    stem = mn.type_totals()["conv 3x3"][0]
    assert agrees(100 * stem / mn.macs(), 1.91, 0.01, 1)  # 1.9056%
    shares = [f.macs_share for f in figures(source="mobilenet_v1", table="Table 2")]
    assert round(sum(shares), 2) == 99.29  # 94.86 + 3.06 + 1.19 + 0.18
    assert round(sum(shares) - 1.19 + 1.91, 2) == 100.01
    in_text(key, f"{int(stem):,} / {int(mn.macs()):,}")


def check_mnv1_t2_fc(key):
    mn = net("mobilenet_v1")
    assert agrees(100 * 1_024_000 / (mn.params() - 1000), 24.33, 0.01, 1)  # 1024·1000 weights
    assert mn.type_totals()["fc"][1] == 1_025_000


def check_mnv1_t4_conv(key):
    conv = P.variant_network("conv_mobilenet_v1")
    fc = macs_of(conv, "fc")  # 1024·1000
    assert fc == 1_024_000 and not agrees(conv.macs(), 4866, 1)
    assert agrees(conv.macs() - fc, 4866, 1)  # 4866.3M
    assert round(100 * (int(conv.macs()) / (4866 * M) - 1), 2) == 0.03  # 0.0266%
    mn = net("mobilenet_v1")
    assert agrees(mn.macs(), 569, 1) and not agrees(mn.macs() - 1_024_000, 569, 1)


def check_mnv1_t8_googlenet(key):
    g = net("googlenet")
    assert g.macs() == 1_582_671_872 and not agrees(g.macs(), 1550, 1)
    table1_ops = sum(f.macs for f in figures(source="googlenet", table="Table 1"))
    assert table1_ops == 1502 * M and not agrees(table1_ops, 1550, 1)
    biases = sum(int(l.output.c) for l in g.layers if l.op in ("conv", "pw", "fc")
                 and dict(l.attrs).get("bias", 1 if l.op == "fc" else 0))
    assert biases == 8280 and g.params() - biases == 6_990_272
    assert agrees(Fraction(6_990_272, 1024) * 1000, 6.8, 0.1)  # 6,826K in K = 1024: "6.8M"
    assert not agrees(g.params(), 6.8, 0.1)  # 7.0M
    in_text(key, "1582.7M", "1502M", "6,990,272")


def check_vgg(key):
    v = net("vgg16")
    convs, fcs = macs_of(v, "conv"), macs_of(v, "fc")
    assert convs == 15_346_630_656 and fcs == 123_633_664 and v.macs() == convs + fcs
    assert agrees(convs, 15300, 100)  # 15.3G to three significant digits
    assert not agrees(v.macs(), 15300, 100)  # 15.47G
    in_text(key, "15,346.6M", "123.6M")


def check_squeezenet(key):
    s = net("squeezenet")
    assert s.macs() == 832_667_936 and agrees(2 * s.macs(), 1700, 100)  # 1665M FLOPs
    assert not agrees(s.macs(), 1700, 100)
    in_text(key, "1665M", "832.7M")


def check_alexnet(key):
    a = net("alexnet:resolution=224")
    assert a.macs() == 720_608_384 and agrees(a.macs(), 720, 1)
    sides = {l.name: int(l.output.h) for l in a.layers}
    assert sides["conv1"] == 54 and sides["pool1"] == 27  # (224 - 11)/4 + 1 = 54.25 -> 54
    assert net("alexnet").settings["resolution"] == 227 and not agrees(net("alexnet").macs(), 720, 1)


def check_snv1_t1(key):
    g = int(re.search(r"g = (\d)", key[2]).group(1))
    s = net(f"shufflenet_v1:g={g},alpha=1")
    fc = macs_of(s, "fc")  # 1000 × the stage-4 width (1088 for g = 4, 1536 for g = 8)
    figure = printed(*key).macs / M
    assert not agrees(s.macs(), figure, 1) and agrees(s.macs() - fc, figure, 1)
    in_text(key, f"{fc / M:.2f}M", f"{(s.macs() - fc) / M:.1f}M")


def _shufflenet_v1_row(alpha: str) -> list[int]:
    return [int(net(f"shufflenet_v1:g={g},alpha={alpha}").macs()) for g in (1, 2, 3, 4, 8)]


def _span(exact):
    """The range of exact counts as the reasons print it: '134.3-143.1M'."""
    return f"{min(exact) / M:.1f}-{max(exact) / M:.1f}M"


def check_snv1_t2_1x(key):
    printed_row = {f.macs for f in figures(source="shufflenet_v1", table="Table 2")
                   if f.label.startswith("ShuffleNet 1×")}
    assert printed_row == {140 * M}  # one figure for every g
    exact = _shufflenet_v1_row("1")
    assert _span(exact) == "134.3-143.1M"
    table1 = [int(f.macs / M) for f in figures(source="shufflenet_v1", table="Table 1")]
    assert table1 == [143, 140, 137, 133, 137]
    in_text(key, "134.3-143.1M", "143/140/137/133/137M")


def check_snv1_t2_05x(key):
    assert {f.macs for f in figures(source="shufflenet_v1", table="Table 2")
            if f.label.startswith("ShuffleNet 0.5×")} == {38 * M}
    exact = _shufflenet_v1_row("0.5")
    assert _span(exact) == "37.6-40.5M"
    assert max(exact) == exact[-1]  # g = 8
    s = net("shufflenet_v1:g=8,alpha=0.5")
    widths = [int(l.output.c) for l in s.layers if l.name == "conv1" or l.op == "concat"]
    assert widths == [16, 192, 384, 768]
    in_text(key, "37.6-40.5M", "stem 16, stages 192/384/768")


def check_snv1_t2_025x(key):
    assert {f.macs for f in figures(source="shufflenet_v1", table="Table 2")
            if f.label.startswith("ShuffleNet 0.25×")} == {13 * M}
    exact = _shufflenet_v1_row("0.25")
    assert _span(exact) == "11.0-12.4M"
    assert max(exact) < 12.5 * M  # all below the printed 13 even when rounded
    in_text(key, "11.0-12.4M")


def check_snv1_1x_g8(key):
    s = net("shufflenet_v1:g=8,alpha=1")
    for table in ("Table 2", "Table 4"):
        assert printed("shufflenet_v1", table, "ShuffleNet 1× (g = 8)").macs == 140 * M
    assert printed("shufflenet_v1", "Table 1", "ShuffleNet 1× (g = 8)").macs == 137 * M
    assert f"{s.macs() / M:.1f}" == "138.4" and agrees(s.macs() - macs_of(s, "fc"), 137, 1)
    in_text(key, "138.4M", "136.8M")


def check_googlenet_budget(key):
    g = net("googlenet")
    assert agrees(g.macs(), 1500, 100)  # 1582.7M truncated to two significant digits
    assert not agrees(g.macs(), 1500, 10)


def check_mnv2_t4_v1(key):
    mn = net("mobilenet_v1")
    assert agrees(mn.macs(), 569, 1) and not agrees(mn.macs(), 575, 1)
    assert printed("mobilenet_v1", "Table 6", "1.0 MobileNet-224").macs == 569 * M


def check_mnv2_t4_14(key):
    ref = net("mobilenet_v2:alpha=1.4,resolution=224")
    assert (ref.macs(), ref.params()) == (582_195_824, 6_060_840)
    slim = printed("tf_slim", "Checkpoint table", "mobilenet_v2_1.4_224")
    assert agrees(ref.macs(), slim.macs / M, 1) and agrees(ref.params(), 6.06, 0.01)
    ideal = net("mobilenet_v2:alpha=1.4,resolution=224,rounding=none")
    assert (f"{float(ideal.macs()) / M:.1f}", f"{float(ideal.params()) / M:.2f}") == ("571.1", "6.05")
    for n in (ref, ideal):
        assert not agrees(n.macs(), 585, 1) and not agrees(n.params(), 6.9, 0.1)
    in_text(key, "582.2M", "6.06M", "571.1M", "6.05M")


def check_snv2_t5(key):
    for f in figures(source="shufflenet_v2", table="Table 5"):
        s = net(spec_string(f.model, f.config))
        assert -(-int(s.macs()) // M) == f.macs / M  # rounded up to the next million
    assert f"{net('shufflenet_v2:alpha=0.5').macs() / M:.2f}" == "40.48"
    in_text(key, "40.5/145.8/299.0/590.8M", "41/146/299/591")


CHECKS = {
    ("mobilenet_v1", "Table 2", "Conv 1×1"): check_mnv1_t2_conv1x1,
    ("mobilenet_v1", "Table 2", "Conv 3×3"): check_mnv1_t2_conv3x3,
    ("mobilenet_v1", "Table 2", "Fully Connected"): check_mnv1_t2_fc,
    ("mobilenet_v1", "Table 4", "Conv MobileNet"): check_mnv1_t4_conv,
    ("mobilenet_v1", "Table 8", "GoogleNet"): check_mnv1_t8_googlenet,
    ("mobilenet_v1", "Table 8", "VGG 16"): check_vgg,
    ("mobilenet_v1", "Table 9", "Squeezenet"): check_squeezenet,
    ("mobilenet_v1", "Table 9", "AlexNet"): check_alexnet,
    ("shufflenet_v1", "Table 1", "ShuffleNet 1× (g = 4)"): check_snv1_t1,
    ("shufflenet_v1", "Table 1", "ShuffleNet 1× (g = 8)"): check_snv1_t1,
    **{("shufflenet_v1", "Table 2", f"ShuffleNet 1× (g = {g})"): check_snv1_t2_1x
       for g in (1, 3, 4, 8)},
    ("shufflenet_v1", "Table 2", "ShuffleNet 0.5× (g = 8)"): check_snv1_t2_05x,
    **{("shufflenet_v1", "Table 2", f"ShuffleNet 0.25× (g = {g})"): check_snv1_t2_025x
       for g in (1, 2, 3, 4, 8)},
    ("shufflenet_v1", "Table 5", "ShuffleNet 1× (g = 8)"): check_snv1_1x_g8,
    ("shufflenet_v1", "Table 6", "VGG-16"): check_vgg,
    ("shufflenet_v1", "Table 6", "GoogleNet* (BVLC implementation)"): check_googlenet_budget,
    ("shufflenet_v1", "Table 6", "ShuffleNet 1× (g = 8)"): check_snv1_1x_g8,
    ("shufflenet_v1", "Table 6", "AlexNet"): check_alexnet,
    ("mobilenet_v2", "Table 4", "MobileNetV1"): check_mnv2_t4_v1,
    ("mobilenet_v2", "Table 4", "MobileNetV2 (1.4)"): check_mnv2_t4_14,
    ("shufflenet_v2", "Table 5", "ShuffleNet v2 0.5×"): check_snv2_t5,
}


# EfficientNet, GhostNet, MobileNetV4 and Inception v3 (costmodel/report/modern_tables.py)
CHECKS.update(MODERN_CHECKS)


def test_every_reason_has_a_check():
    assert set(CHECKS) == set(P.REASONS)


@pytest.mark.parametrize("key", list(CHECKS), ids=lambda k: f"{k[0]}-{k[1]}-{k[2]}")
def test_reason_is_true(key):
    CHECKS[key](key)


# --- helpers, command line and the figures hook --------------------------------------------

@pytest.mark.parametrize("exact, figure, result", [
    (568_740_352, 569e6, True),    # rounds
    (290_675_200, 290e6, True),    # truncates (Table 7)
    (138_365_952, 137e6, False),   # neither
    (266_752, 0.27e6, True),       # printed to 0.01M: 0.2668 rounds to 0.27
    (15_346_630_656, 15300e6, False),  # "15300" is printed to the million
])
def test_agreement_rule(exact, figure, result):
    assert P.agrees(exact, figure) is result


def test_printed_step_and_delta():
    assert P.printed_step(569e6) == M and P.printed_step(52.3e6) == M // 10
    assert P.printed_step(0.27e6) == M // 100 and P.printed_step(94.86, unit=1) == Fraction(1, 100)
    assert P.delta_percent(325_400_448, 325e6) == 0.1
    assert P.delta_percent(1005, 1000) == 0.5 and P.delta_percent(995, 1000) == -0.5  # half away
    assert P.delta_percent(568_740_352, 569e6) == 0.0  # -0.046%: no "-0.0"
    assert math.copysign(1, P.delta_percent(568_740_352, 569e6)) == 1


def test_progress_display_goes_to_stderr(tmp_path, capsys):
    paths = gen.generate(tmp_path, progress=True, only=["mobilenet_v1_table7"])
    captured = capsys.readouterr()
    assert "1/1" in captured.err and captured.out == ""
    assert {p.name for p in paths} >= {"mobilenet_v1_table7.md", "mobilenet_v1_table7.csv",
                                       "mobilenet_v1_table7.tex", "README.md"}


def test_without_the_figures_module_the_tables_are_still_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "costmodel.report.figures", None)  # import fails
    paths = gen.generate(tmp_path, progress=False, only=["mobilenet_v1_table6"])
    index = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert gen.FIGURES_MISSING in index
    assert not any(p.suffix in (".png", ".svg") for p in paths)
    assert (tmp_path / "tables" / "mobilenet_v1_table6.csv").is_file()


def test_bad_out_and_bad_names_are_user_errors(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = runner.invoke(app, ["report", "--out", str(target), "--quiet"])
    assert result.exit_code == 2 and "is a file" in result.output
    with pytest.raises(CostModelError, match="unknown table or figure 'mobilenet_v1_tabel6'"):
        gen.generate(tmp_path / "r", progress=False, only=["mobilenet_v1_tabel6"])


def _numbers(path: Path) -> list[dict[str, object]]:
    """A table's CSV with every field that reads as a number (42, 94.86, 1/3) as an exact
    Fraction: the numbers, whatever their formatting."""
    def value(text: str) -> object:
        try:
            return Fraction(text)
        except (ValueError, ZeroDivisionError):
            return text
    with open(path, newline="", encoding="utf-8") as f:
        return [{key: value(text) for key, text in row.items()} for row in csv.DictReader(f)]


@pytest.mark.slow
def test_committed_reports_have_the_numbers_computed_now(report):
    """reports/tables/*.csv hold what `costmodel report` computes now, number for number: a
    change to a model or to the published data that alters a table must come with the
    regenerated table. (The Markdown and LaTeX renderings are not compared: formatting.)"""
    committed = Path(__file__).resolve().parent.parent / "reports" / "tables"
    fresh = sorted((report[0] / "tables").glob("*.csv"))
    assert [p.name for p in fresh] == sorted(p.name for p in committed.glob("*.csv"))
    for path in fresh:
        assert _numbers(path) == _numbers(committed / path.name), \
            f"reports/tables/{path.name} is stale: run `costmodel report`"


@pytest.mark.slow
def test_committed_tables_are_regenerated_identically(report):
    """Every committed table, Markdown and LaTeX too, is byte for byte what `costmodel report`
    writes now: a change to a renderer comes with the regenerated reports."""
    committed = Path(__file__).resolve().parent.parent / "reports" / "tables"
    for path in sorted((report[0] / "tables").iterdir()):
        assert path.read_bytes() == (committed / path.name).read_bytes(), \
            f"reports/tables/{path.name} differs from what costmodel report writes now"


def _pointwise_outputs(net) -> list[str]:
    return [str(layer.output) for layer in net.layers if layer.op in ("conv", "pw")]


@pytest.mark.parametrize("alpha, resolution", [("1", "224"), ("0.5", "160")])
def test_the_variants_follow_the_zoo_file(alpha, resolution):
    """The Table 4 and 5 variants are the zoo's MobileNet v1 but for the change each makes:
    the same widths, strides and head at any alpha and resolution."""
    from costmodel.spec import build, parse_text

    knobs = {"alpha": alpha, "resolution": resolution}
    zoo_net = zoo.build("mobilenet_v1", **knobs)
    conv, shallow = (build(parse_text(P.variant_text(name), name), knobs)
                     for name in P.VARIANTS)
    # Conv MobileNet: one full 3x3 conv (k=3) per separable layer, the same outputs
    assert _pointwise_outputs(conv) == _pointwise_outputs(zoo_net)
    assert [dict(l.attrs).get("k") for l in conv.layers if l.op == "conv"] == \
        [3] * (1 + sum(l.op == "dw" for l in zoo_net.layers))
    assert not any(l.op in ("dw", "pw") for l in conv.layers)
    # Shallow MobileNet: the same layers less the five separable ones at 14x14x512
    repeated = [l for l in zoo_net.layers if l.op == "pw"][6:11]  # dwsep7..dwsep11
    assert {str(l.output) for l in repeated} == {str(repeated[0].output)}
    less = [l for l in zoo_net.layers if not any(l.name.startswith(r.name.rsplit(".", 1)[0] + ".")
                                                for r in repeated)]
    assert [(l.op, str(l.output)) for l in shallow.layers] == \
        [(l.op, str(l.output)) for l in less]
    for net in (conv, shallow):
        assert net.layers[-1].output == zoo_net.layers[-1].output and net.config == zoo_net.config

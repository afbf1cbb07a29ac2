"""Kernel latency models (costmodel/kernels): fusion grouping, features, the non-negative
relative fits, the JSON profile, predictions and the whole-network fit. Deterministic: fits
run on synthetic data with known coefficients; nothing here times anything (timing belongs
in benchmarks/latency_evidence.py)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from costmodel import zoo
from costmodel.errors import CostModelError
from costmodel.kernels import whole
from costmodel.kernels.calibration import fit_context
from costmodel.kernels.detect import group, kernel_type, rule_class
from costmodel.kernels.fit import (fit_offset, fit_offset_robust, fit_relative, fit_robust,
                                   nonnegative_least_squares)
from costmodel.kernels.profile import KernelModel, KernelProfile, from_json, load, predict
from costmodel.kernels.sample import Config, draw, prior
from costmodel.spec import build, parse_text

ROOT = Path(__file__).resolve().parents[1]

NET = """model toy
input 8 16 12
conv 16 k=3 bn=1 act=relu name=c1
residual:
    dw k=3 bn=1 act=relu6 name=d
    pw 16 bn=1 name=p
gap
fc 10
"""


@pytest.fixture
def toy():
    return build(parse_text(NET))


def profile(**models) -> KernelProfile:
    return KernelProfile("toy", "a test", "none", 1, "made up", tuple(
        (kind, KernelModel(tuple(coefs.items()))) for kind, coefs in models.items()))


# --- fits --------------------------------------------------------------------------------------

def test_the_fit_recovers_known_coefficients_exactly():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(1e5, 1e8, 50), rng.uniform(1e4, 1e7, 50), np.ones(50)])
    truth = np.array([3e-11, 2e-10, 4e-6])
    fit = fit_relative(("macs", "bytes", "one"), x.tolist(), (x @ truth).tolist())
    assert [c for _, c in fit.coefficients] == pytest.approx(truth, rel=1e-9)
    assert fit.max_abs_error < 1e-9


def test_a_coefficient_the_data_pushes_below_zero_is_zero_and_the_rest_refit():
    x = np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0], [4.0, 1.0]])
    y = np.array([2.0, 4.0, 6.0, 8.0]) - 0.5  # slope 2, intercept -0.5
    beta = nonnegative_least_squares(x, y)
    assert beta[1] == 0 and beta[0] == pytest.approx(float(x[:, 0] @ y / (x[:, 0] @ x[:, 0])))


def test_relative_errors_are_unbiased_on_average_under_multiplicative_noise():
    rng = np.random.default_rng(1)
    x = rng.uniform(1, 100, (400, 1))
    noise = rng.choice([0.8, 1.25], 400)  # symmetric in log: geometric mean 1
    fit = fit_relative(("one",), x.tolist(), (x[:, 0] * 5 * noise).tolist())
    # the gamma fit's estimate is the mean of the ratios, (0.8 + 1.25) / 2 × 5
    assert dict(fit.coefficients)["one"] == pytest.approx(5 * np.mean(noise), rel=1e-6)


def test_the_robust_fit_drops_outliers_and_says_how_many():
    x = np.column_stack([np.arange(1, 41, dtype=float), np.ones(40)])
    y = x @ np.array([2.0, 3.0]) * (1 + 0.01 * np.sin(np.arange(40)))
    y[[5, 17]] *= 3  # two runs hit by another job
    fit = fit_robust(("macs", "one"), x.tolist(), y.tolist())
    assert fit.dropped == 2
    assert dict(fit.coefficients)["macs"] == pytest.approx(2.0, rel=0.03)


def test_the_robust_offset_fit_is_not_held_at_zero_by_one_outlier():
    rng = np.random.default_rng(3)
    rows = rng.uniform(1, 10, (30, 2))
    offset = rng.uniform(5, 20, 30)
    measured = offset + rows @ np.array([2.0, 0.5])
    offset[7] = 3 * measured[7]  # one network the known part over-predicts threefold
    fit = fit_offset_robust(("a", "b"), rows, offset, measured)
    assert dict(fit.coefficients) == pytest.approx({"a": 2.0, "b": 0.5}, rel=1e-9)
    assert fit.dropped == 1 and fit.errors[7] == pytest.approx(2.0 + 2.0 * rows[7][0] / measured[7]
                                                               + 0.5 * rows[7][1] / measured[7])
    assert dict(fit_offset(("a", "b"), rows, offset, measured).coefficients)["a"] < 1.9


def test_the_offset_fit_prices_what_the_known_part_leaves():
    base = [1.0, 2.0, 3.0, 5.0]
    rows = [[10.0, 1.0], [20.0, 1.0], [5.0, 1.0], [40.0, 1.0]]
    measured = [b + 0.1 * r[0] + 0.5 for b, r in zip(base, rows)]
    fit = fit_offset(("written", "one"), rows, base, measured)
    assert [c for _, c in fit.coefficients] == pytest.approx([0.1, 0.5], rel=1e-9)


# --- kernels -----------------------------------------------------------------------------------

def test_without_rules_every_layer_is_a_kernel(toy):
    kernels = group(toy)
    assert [k.name for k in kernels] == [layer.name for layer in toy.layers]
    assert [k.type for k in kernels][:4] == ["conv", "bn", "relu", "dwconv"]


def test_measured_rules_fuse_chains_but_not_across_a_branch_point(toy):
    fused = frozenset({"conv->bn", "bn->act", "dwconv->bn", "conv->act"})
    kernels = group(toy, fused)
    labels = [k.label for k in kernels]
    # c1.relu feeds both the residual branch and the add: it ends its kernel
    assert labels[:3] == ["conv+bn+relu", "dwconv+bn+relu6", "pwconv+bn"]
    assert kernels[0].layers[-1].name == "c1.relu"
    assert "add" in labels and labels[-2:] == ["gap", "fc"]


def test_an_activation_after_a_folded_batch_norm_fuses_by_the_convolutions_rule(toy):
    # ONNX Runtime's rules: bn folds into the conv, the activation into the conv; no bn->act
    kernels = group(toy, frozenset({"conv->bn", "conv->act", "dwconv->bn", "dwconv->act"}))
    assert [k.label for k in kernels][:3] == ["conv+bn+relu", "dwconv+bn+relu6", "pwconv+bn"]
    # without conv->bn, the bn is a kernel of its own and the relu follows it
    kernels = group(toy, frozenset({"conv->act"}))
    assert [k.label for k in kernels][:3] == ["conv", "bn", "relu"]


def test_channels_off_the_vector_width_are_their_own_features():
    net = build(parse_text("model m\ninput 100 8 8\ndw k=3\npw 96\ndw k=3\n"))
    first, second, third = (dict(k.features) for k in group(net))
    assert first["macs_c4"] == 0 and first["macs_c16"] == first["macs"] == 100 * 64 * 9
    # a dense convolution: ragged if its input or its output is
    assert second["macs_c4"] == 0 and second["macs_c16"] == second["macs"] == 100 * 96 * 64
    assert third["macs_c4"] == third["macs_c16"] == 0 and third["macs"] == 96 * 64 * 9
    # an RGB stem's 3 input channels are narrower than a block: a layout of its own
    stem = group(build(parse_text("model s\ninput 3 8 8\nconv 32 k=3\nconv 24 k=3\n")))
    assert [dict(k.features)["macs_c16"] for k in stem] == [0, 24 * 32 * 64 * 9]
    assert [dict(k.features)["macs_c4"] for k in stem] == [0, 0]


def test_features_are_the_exact_counts(toy):
    conv = group(toy, frozenset({"conv->bn"}))[0]
    layer = toy.layers[0]
    assert conv.feature("macs") == 12 * 16 * 16 * 8 * 9
    weights = 16 * 8 * 9
    assert conv.feature("bytes") == 4 * (8 * 16 * 12 + 16 * 16 * 12 + weights)
    assert conv.feature("written") == 4 * 16 * 16 * 12 and int(layer.counts.macs) == \
        conv.feature("macs")
    four = group(toy, frozenset({"conv->bn"}), batch=4)[0]
    assert four.feature("macs") == 4 * conv.feature("macs")  # weights once, maps ×4
    assert four.feature("bytes") == 4 * (4 * (8 * 16 * 12 + 16 * 16 * 12) + weights)


def test_groups_and_rectangles_change_the_kernel():
    dense = build(parse_text("model a\ninput 64 14 14\nconv 64 k=3\n")).layers[0]
    grouped = build(parse_text("model a\ninput 64 14 14\nconv 64 k=3 g=32\n")).layers[0]
    assert (kernel_type(dense), kernel_type(grouped)) == ("conv", "gconv")
    assert rule_class(grouped) == "conv"
    resnext = zoo.resolve("resnext50_32x4d").build()
    wide = zoo.resolve("resnet50").build()
    p = profile(**{k: {"macs": 1e-11, "one": 1e-6} for k in ("conv", "pwconv", "gconv",
                                                                "fc")},
                **{k: {"bytes": 1e-11} for k in ("bn", "relu", "add", "maxpool", "gap")})
    assert predict(resnext, p).total_seconds != predict(wide, p).total_seconds
    tall = zoo.resolve("mobilenet_v1:height=160,width=224").build()
    wide_map = zoo.resolve("mobilenet_v1:height=224,width=160").build()
    square = zoo.resolve("mobilenet_v1:resolution=160").build()
    assert tall.layers[0].output.h != tall.layers[0].output.w
    for net in (tall, wide_map):
        assert group(net)[0].feature("macs") == int(net.layers[0].counts.macs)
    assert group(tall)[0].feature("macs") > group(square)[0].feature("macs")


def test_unknown_kernel_types_are_named_never_zero(toy):
    p = profile(conv={"macs": 1e-10}, bn={"bytes": 1e-11})
    est = predict(toy, p)
    assert est.unknown == ("relu", "dwconv", "relu6", "pwconv", "add", "gap", "fc")
    assert all(k.seconds == 0 and not k.known for k in est.kernels if k.kernel.type == "fc")
    known = sum(k.seconds for k in est.kernels if k.known)
    assert est.total_seconds == pytest.approx(known) and known > 0


def test_terms_and_the_dominant_one(toy):
    p = replace(profile(**{k.type: {"macs": 1e-9, "bytes": 1e-12, "one": 1e-3}
                           for k in group(toy)}), step_seconds=1e-6, network_seconds=2e-3,
                written_seconds_per_byte=1e-12, kernel_scale=2.0)
    est = predict(toy, p)
    conv = est.kernels[0]
    terms = dict(conv.terms)
    assert terms["compute"] == pytest.approx(2e-9 * conv.kernel.feature("macs"))
    assert terms["memory"] == pytest.approx(1e-12 * (2 * conv.kernel.feature("bytes") +
                                                     conv.kernel.feature("written")))
    assert terms["overhead"] == pytest.approx(2e-3 + 1e-6)
    assert conv.dominant == "overhead" and est.dominant == "overhead"
    assert est.total_seconds == pytest.approx(2e-3 + sum(k.seconds for k in est.kernels))


def test_the_context_fit_recovers_known_in_context_terms():
    nets = [zoo.resolve(s).build() for s in ("mobilenet_v2", "resnet18", "shufflenet_v2",
                                            "squeezenet", "mobilenet_v1", "resnet34",
                                            "mobilenet_v3_large", "googlenet")]
    p = profile(**{k.type: {"macs": 1e-10, "bytes": 1e-11, "one": 2e-6}
                   for n in nets for k in group(n)})
    truth = replace(p, network_seconds=3e-4, step_seconds=5e-6, written_seconds_per_byte=2e-12)
    context = [(n, predict(n, truth).total_seconds) for n in nets]
    fitted, errors = fit_context(replace(p, kernel_scale=1.3), context)  # a scale is dropped
    assert (fitted.kernel_scale, fitted.network_seconds, fitted.step_seconds,
            fitted.written_seconds_per_byte) == pytest.approx((1.0, 3e-4, 5e-6, 2e-12), rel=1e-6)
    assert max(abs(e) for e in errors) < 1e-9


# --- profiles ----------------------------------------------------------------------------------

def test_a_profile_round_trips_through_plain_json(tmp_path):
    p = replace(profile(conv={"macs": 2.5e-11, "bytes": 1e-10, "one": 4e-6}),
                fusion=(("conv->bn", True),), network_seconds=1e-4, step_seconds=2e-6,
                written_seconds_per_byte=3e-12)
    path = tmp_path / "p.json"
    path.write_text(p.to_json())
    again = load(str(path))
    assert again.models == p.models
    assert (again.fused, again.network_seconds, again.written_seconds_per_byte) == \
        (frozenset({"conv->bn"}), 1e-4, 3e-12)
    assert json.loads(path.read_text())["format"] == "costmodel-kernel-profile"


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(format="other"), "not a kernel profile"),
    (lambda d: d.update(version=2), "reads version 1"),
    (lambda d: d.update(colour=1), "unknown key 'colour'"),
    (lambda d: d["kernels"]["conv"]["coefficients"].update(macs=-1), "from 0 to"),
    (lambda d: d["kernels"]["conv"]["coefficients"].update(flops=1), "map features"),
    (lambda d: d.update(kernels={}), "1 to 200 kernel types"),
    (lambda d: d.update(threads=True), "threads"),
    (lambda d: d.update(fusion={"conv->bn": "yes"}), "true or false"),
])
def test_bad_profiles_are_refused_by_key(change, words):
    data = json.loads(profile(conv={"macs": 1e-11}).to_json())
    change(data)
    with pytest.raises(CostModelError, match=words):
        from_json(json.dumps(data), "p.json")


def test_nan_and_garbage_are_refused():
    text = profile(conv={"macs": 1e-11}).to_json().replace("1e-11", "NaN")
    with pytest.raises(CostModelError, match="NaN"):
        from_json(text, "p.json")
    with pytest.raises(CostModelError, match="not valid JSON"):
        from_json("{", "p.json")
    with pytest.raises(CostModelError, match="not valid JSON"):
        from_json("[" * 100_000, "p.json")


# --- samples -----------------------------------------------------------------------------------

def test_samples_come_from_the_zoo_and_beyond():
    import random

    kinds = prior()
    assert {"conv", "pwconv", "dwconv", "gconv", "gpwconv", "fc", "mul", "concat", "split",
            "shuffle", "gap"} <= set(kinds)
    rng = random.Random(0)
    drawn = [draw("dwconv", rng) for _ in range(60)]
    assert all(kernel_type(c.layer()) == "dwconv" for c in drawn)
    zoo_shapes = {c.inputs for c in kinds["dwconv"]}
    assert sum(c.inputs not in zoo_shapes for c in drawn) > 40
    assert any(c.inputs[0][1] != c.inputs[0][2] for c in drawn)  # rectangles too
    assert Config("conv", (("c", 8), ("k", 3)), ((4, 9, 7),)).layer().output.h == 9


def test_synthetic_networks_are_bounded_and_cover_the_zoos_block_kinds():
    from costmodel.kernels.synthetic import MAX_MACS, networks

    nets = networks(40, seed=3)
    assert len(nets) == 40 and all(int(n.macs()) <= MAX_MACS for n in nets)
    kinds = {kernel_type(layer) for n in nets for layer in n.layers}
    assert {"conv", "pwconv", "gpwconv", "dwconv", "fc", "shuffle", "concat", "maxpool",
            "adaptivepool"} <= kinds
    assert not {n.name for n in nets} & set(zoo.names())


def _sample(kind: str, where: str, seconds: float = 1e-5):
    from costmodel.kernels.measure import Sample

    return Sample(kind, None, seconds, 0.0, (("bytes", 1.0), ("one", 1.0)), where)


def test_a_type_gets_in_network_terms_only_where_it_has_enough_samples_in_networks():
    from costmodel.kernels.calibration import MIN_IN_NETWORK, in_network_types, samples_by_type

    samples = ([_sample("bn", "network")] * MIN_IN_NETWORK + [_sample("bn", "alone")] * 5 +
               [_sample("lrn", "network")] * (MIN_IN_NETWORK - 1) + [_sample("lrn", "alone")] * 7
               + [_sample("mul", "network")] * 3)
    by_type = samples_by_type(samples)
    assert list(by_type) == ["bn", "lrn", "mul"]
    assert [(len(a), len(n)) for a, n in by_type.values()] == [
        (5, MIN_IN_NETWORK), (7, MIN_IN_NETWORK - 1), (0, 3)]
    assert in_network_types(samples) == ["bn"]


def _featured(kind: str, where: str, features: dict, seconds: float):
    from costmodel.kernels.measure import Sample

    return Sample(kind, None, seconds, 0.0, tuple(features.items()), where)


def test_the_two_stage_fit_recovers_a_factor_on_the_time_alone_and_a_cost_per_call():
    """Alone: 1 ns per byte and 5 µs a call; inside networks 1.5× that, plus 3 µs a call.
    Both stages recover it, and the model is linear in the features."""
    from costmodel.kernels.calibration import MIN_IN_NETWORK, fit_type

    rng = random.Random(1)

    def features(size: float) -> dict:
        return {"bytes": size, "planes": 0.0, "one": 1.0, "written": size / 2, "weights": 0.0,
                "footprint": 0.0}
    alone = [_featured("bn", "alone", features(b), 1e-9 * b + 5e-6)
             for b in (rng.uniform(1e3, 1e6) for _ in range(40))]
    network = [_featured("bn", "network", features(b), 1.5 * (1e-9 * b + 5e-6) + 3e-6)
               for b in (rng.uniform(1e3, 1e6) for _ in range(MIN_IN_NETWORK))]
    model = dict(fit_type("bn", alone, network, 0.0).coefficients)
    assert model["bytes"] == pytest.approx(1.5e-9, rel=1e-6)
    assert model["one"] == pytest.approx(1.05e-5, rel=1e-6)
    few = dict(fit_type("bn", alone, network[:MIN_IN_NETWORK - 1], 0.0).coefficients)
    assert few["bytes"] == pytest.approx(1e-9, rel=1e-6)
    assert few["one"] == pytest.approx(5e-6, rel=1e-6)


def test_a_convolutions_weights_are_a_feature_of_their_own(toy):
    conv = next(k for k in group(toy) if k.type == "conv")
    layer = conv.layers[0]
    assert conv.feature("weights") == 4 * int(layer.counts.weights)


# --- whole-network fits ------------------------------------------------------------------------

SPECS = ("mobilenet_v2:alpha=0.5", "mobilenet_v2", "mobilenet_v1:alpha=0.75", "resnet18",
         "shufflenet_v2:alpha=0.5", "squeezenet", "mobilenet_v3_small")


def test_the_whole_network_fit_recovers_known_coefficients_and_predicts_the_same():
    truth = {"dense_macs": 2e-11, "depthwise_macs": 1.5e-10, "bytes": 3e-11, "kernels": 5e-6}
    nets = [zoo.resolve(s).build() for s in SPECS]
    rows = [whole.network_features(n) for n in nets]
    seconds = [sum(truth[k] * v for k, v in zip(whole.PARAMETERS, r)) for r in rows]
    fitted = whole.fit_networks(rows, seconds)
    assert [fitted[k] for k in whole.PARAMETERS] == pytest.approx(list(truth.values()),
                                                                  rel=1e-8)
    p = from_json(whole.profile_from_networks(fitted, "d", "test", len(nets)).to_json(), "t")
    for net, s in zip(nets, seconds):
        est = predict(net, p)
        assert est.unknown == () and est.total_seconds == pytest.approx(s, rel=1e-9)


def test_measured_csv_rows_are_checked(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("spec,ms\n" + "".join(f"{s},{i + 1}.5\n" for i, s in enumerate(SPECS)))
    rows = whole.read_rows(str(path))
    assert [r.spec for r in rows] == list(SPECS) and rows[0].seconds == 1.5e-3
    for text, words in (("mobilenet_v2,1\n", "needs at least 4"),
                        ("spec,ms\n" + "a,1\n" * 3 + "b,fast\n", "line 5: 'fast'"),
                        ("a,1\nb,nan\n", "positive, finite"), ("a,1,2\n", "two fields")):
        path.write_text(text)
        with pytest.raises(CostModelError, match=words):
            whole.read_rows(str(path))


@pytest.mark.slow
def test_cli_from_csv_then_latency_with_the_profile(tmp_path):
    truth = {"dense_macs": 2e-11, "depthwise_macs": 1.5e-10, "bytes": 3e-11, "kernels": 5e-6}
    lines = []
    for spec in SPECS:
        row = whole.network_features(zoo.resolve(spec).build())
        lines.append(f'"{spec}",{1e3 * sum(truth[k] * v for k, v in zip(whole.PARAMETERS, row))}')
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "costmodel", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    result = run("calibrate", "--from", "m.csv", "-o", "dev.json")
    assert result.returncode == 0 and "fitted on 7 measured networks" in result.stdout
    result = run("latency", "mobilenet_v2:height=160,width=224", "--hw", "dev.json",
                 "--batch", "2", "-f", "json")
    data = json.loads(result.stdout)
    assert data["complete"] and data["batch"] == 2 and data["dominant"] in (
        "compute", "memory", "overhead")
    row = whole.network_features(zoo.resolve("mobilenet_v2:height=160,width=224").build())
    assert data["total_seconds"] > sum(truth[k] * v for k, v in zip(whole.PARAMETERS, row))
    result = run("latency", "mobilenet_v2", "--hw", "dev.json", "--fused")
    assert result.returncode == 2 and "--fused is a roofline option" in result.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "costmodel-kernel-profile", "version": 1,
                               "name": "b", "kernels": {"conv": {"coefficients": {
                                   "macs": 1e-11}}}}))
    result = run("latency", "mobilenet_v2", "--hw", "bad.json")
    assert result.returncode == 0 and "no model for kernel type(s) bn, relu6" in result.stderr
    assert "INCOMPLETE" in result.stdout


def test_weights_beyond_the_cache_are_read_cold_in_proportion():
    from costmodel.kernels.detect import cold_share

    assert cold_share(8e6, 0.0) == 0.0 and cold_share(8e6, 16e6) == 0.0
    assert cold_share(64e6, 16e6) == pytest.approx(0.75)
    net = zoo.resolve("resnet18").build()
    cold = [k.feature("cold_weights") for k in group(net, cache_bytes=16 * 2**20)]
    warm = [k.feature("cold_weights") for k in group(net)]
    assert sum(cold) > 0 and not any(warm)
    conv = next(k for k in group(net, cache_bytes=16 * 2**20) if k.type == "conv")
    assert conv.feature("cold_weights") == pytest.approx(
        conv.feature("weights") * cold_share(conv.feature("footprint"), 16 * 2**20))


def test_the_context_fit_takes_a_factor_below_one_only_for_kernels_timed_inside_networks():
    """Whole networks 4% faster than their kernels' sum plus 50 µs a forward: the factor of
    the in-network clock (:func:`fit_context`); 10% slower: no factor above 1, the added
    terms instead; and never a factor for kernels timed alone."""
    from costmodel.kernels.calibration import fit_context
    from costmodel.kernels.detect import group as kernels_of

    nets = [zoo.build(name, resolution=r) for name in ("mobilenet_v2", "resnet18", "squeezenet")
            for r in (96, 128, 160, 192)]
    kinds = {k.type for n in nets for k in kernels_of(n)}
    base = profile(**{kind: {"bytes": 1e-10, "one": 1e-5} for kind in kinds})
    bare = [predict(n, base).total_seconds for n in nets]
    faster = [(n, 0.96 * t + 5e-5) for n, t in zip(nets, bare)]
    fitted, errors = fit_context(base, faster, timed_inside=True)
    assert fitted.kernel_scale == pytest.approx(0.96, rel=1e-6)
    assert fitted.network_seconds == pytest.approx(5e-5, rel=1e-4)
    assert max(abs(e) for e in errors) < 1e-6
    assert fit_context(base, faster)[0].kernel_scale == 1.0
    slower = [(n, 1.1 * t) for n, t in zip(nets, bare)]
    assert fit_context(base, slower, timed_inside=True)[0].kernel_scale == 1.0

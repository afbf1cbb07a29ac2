"""Evidence for the kernel latency model (issue 19): calibrate on this machine, then measure
networks calibration never saw and set each beside its prediction, against MACs alone and
the plain roofline; and the whole-network fit (`calibrate --from`) on the Pixel 1 and
ShuffleNet v2 Table 8 latencies the project holds.

    python benchmarks/latency_evidence.py                 # calibrate (180 s) + measure
    python benchmarks/latency_evidence.py --budget 600    # a longer calibration
    python benchmarks/latency_evidence.py --profile P.json  # reuse a kernel profile
    python benchmarks/latency_evidence.py --runtime onnxruntime   # the same on ONNX Runtime
                                                  # (into reports/latency/onnxruntime/)

Calibration samples kernels from the zoo's layers at their *default* settings, moved
(:mod:`costmodel.kernels.sample`); the test networks are zoo models at other widths and
resolutions (rectangular ones and a batch of 4 among them) and torchvision's code written by
hand (tests/torchvision_modules.py: batch norm and in-place activations as torchvision has
them), none of them a network calibration ran. Measurement: PyTorch eager (or ONNX Runtime,
on each network's torch.onnx export: :mod:`costmodel.kernels.runtimes`), one thread, fp32,
inference mode, each network timed in ``--rounds`` interleaved rounds (median of 5 runs per
round); measured = the median round, noise = (slowest − fastest round) / fastest.

Baselines, given every advantage: MACs alone and the roofline (`costmodel calibrate
--roofline` measured now, fused=False) each times one scale fitted on the test networks
themselves (in-sample); the kernel model is used as calibrated, out of sample.
Writes reports/latency/: evidence.md, evidence.csv, evidence.png/.svg, from_published.md and
the profiles used.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

ZOO = ("mobilenet_v1:alpha=0.6,resolution=176", "mobilenet_v1:alpha=0.85,height=160,width=224",
       "mobilenet_v2:alpha=0.6,resolution=200", "mobilenet_v2:alpha=1.2,resolution=144",
       "mobilenet_v3_large:alpha=0.85,resolution=176", "mobilenet_v3_small:alpha=1.3,resolution=208",
       "shufflenet_v2:alpha=1.5,resolution=176", "shufflenet_v2:alpha=0.5,height=256,width=192",
       "shufflenet_v1:g=8,resolution=192", "shufflenet_v1:g=2,alpha=0.5,resolution=224",
       "resnet18:resolution=160", "resnet34:height=128,width=192", "resnet50:resolution=128",
       "resnext50_32x4d:resolution=144", "resnet101:resolution=112", "squeezenet:resolution=192",
       "googlenet:resolution=160", "alexnet:resolution=195", "vgg16:resolution=96",
       "xception:resolution=160")
#: hand-written torchvision models: label -> (factory name, args, input N, C, H, W)
TORCHVISION = {"torchvision MobileNetV2(0.75) @192": ("MobileNetV2", (0.75,), (1, 3, 192, 192)),
               "torchvision mobilenet_v3_large @160": ("mobilenet_v3_large", (), (1, 3, 160, 160)),
               "torchvision mobilenet_v3_small @224×160": ("mobilenet_v3_small", (),
                                                         (1, 3, 224, 160)),
               "torchvision ResNet50 @160": ("ResNet50", (), (1, 3, 160, 160)),
               "torchvision SqueezeNet 1.0 @224": ("SqueezeNet", (), (1, 3, 224, 224)),
               "torchvision ShuffleNetV2(0.5) @224": ("ShuffleNetV2", (0.5,), (1, 3, 224, 224)),
               "torchvision ShuffleNetV2(1.5) @176": ("ShuffleNetV2", (1.5,), (1, 3, 176, 176))}
RUNTIME_NAMES = {"torch": "PyTorch eager", "onnxruntime": "ONNX Runtime (CPU provider)"}
BATCHED = {"mobilenet_v2:alpha=0.5,resolution=128 ×4": ("mobilenet_v2:alpha=0.5,resolution=128", 4)}


def networks():
    """(label, Network, module, input, batch) of every test network, as PyTorch runs it."""
    import torch

    import torchvision_modules as tv
    from costmodel.frontends import count_torch, to_torch
    from costmodel.zoo import resolve

    out = []
    for spec in ZOO:
        net = resolve(spec).build()
        x = torch.randn(1, int(net.input.c), int(net.input.h), int(net.input.w))
        out.append((spec, net, to_torch(net), x, 1))
    for label, (spec, batch) in BATCHED.items():
        net = resolve(spec).build()
        x = torch.randn(batch, int(net.input.c), int(net.input.h), int(net.input.w))
        out.append((label, net, to_torch(net), x, batch))
    for label, (factory, args, shape) in TORCHVISION.items():
        module = getattr(tv, factory)(*args).eval()
        net = count_torch(module, shape)
        out.append((label, net, module, torch.randn(*shape), 1))
    return out


def on_runtime(items, runtime: str):
    """``items`` with each module ready to call on ``runtime`` (a call, its arguments), and
    the networks the runtime cannot run, with the reason."""
    from costmodel.kernels.runtimes import Unsupported, compiled

    ready, refused = [], []
    for label, net, module, x, batch in items:
        try:
            ready.append((label, net, compiled(runtime, module, (x,)), x, batch))
        except Unsupported as exc:
            refused.append((label, str(exc)))
    return ready, refused


def measure_all(items, rounds: int, clock: str) -> dict[str, list[float]]:
    from costmodel.kernels.measure import time_call

    times: dict[str, list[float]] = {label: [] for label, *_ in items}
    for r in range(rounds):
        for label, _, (call, call_args), _, _ in items:
            times[label].append(time_call(call, call_args, runs=5, run_seconds=0.05,
                                          clock=clock)[0])
            print(f"{clock} round {r + 1}: {label}: {times[label][-1] * 1e3:.2f} ms",
                  file=sys.stderr)
    return times


def stats(predicted, measured) -> dict:
    from costmodel.analysis.tracking import spearman

    errors = [p / m - 1 for p, m in zip(predicted, measured)]
    absolute = sorted(abs(e) for e in errors)
    return {"within10": sum(a <= 0.10 for a in absolute) / len(absolute),
            "within25": sum(a <= 0.25 for a in absolute) / len(absolute),
            "median": statistics.median(absolute), "max": absolute[-1],
            "spearman": spearman(predicted, measured), "errors": errors}


def scaled(values, measured):
    """values times the one scale (geometric mean of measured / value) that fits them best."""
    scale = math.exp(statistics.fmean(math.log(m / v) for v, m in zip(values, measured)))
    return [scale * v for v in values]


def from_published(out: Path, splits: int = 200) -> list[str]:
    """`calibrate --from` on the Pixel 1 and Table 8 rows: fit on some, test on the rest."""
    from costmodel.analysis import tracking as T
    from costmodel.kernels import whole
    from costmodel.kernels.profile import predict
    from costmodel.zoo import resolve

    lines = ["# `calibrate --from` on published latencies", "",
             "Fit: `costmodel.kernels.whole` (4 shared coefficients, batch norm folded and "
             "activations fused), on the rows named; tested on the others. "
             f"Random splits: {splits}, seed 0.", ""]
    for name, points in (("Pixel 1 (TF-Lite; TF-slim MobileNet v2 + MobileNet v1)",
                          T.pixel1_points()),
                         ("ShuffleNet v2 Table 8, ARM", T.table8_points("arm")),
                         ("ShuffleNet v2 Table 8, GPU", T.table8_points("gpu"))):
        rows = [(p, whole.network_features(resolve(p.spec).build())) for p in points
                if not (p.printed_macs and abs(int(resolve(p.spec).build().macs()) /
                                               p.printed_macs - 1) > T.SAME_NETWORK)]
        n_fit = 10 if len(rows) >= 14 else max(whole.MIN_NETWORKS, len(rows) - 2)
        rng = random.Random(0)
        results = []
        for split in range(splits):
            order = list(range(len(rows)))
            if split:
                rng.shuffle(order)
            else:  # the fixed split: every other row by measured time, from the fastest
                order = sorted(order, key=lambda i: rows[i][0].seconds)
                order = order[::2][:n_fit] + [i for i in order if i not in order[::2][:n_fit]]
            fit, test = order[:n_fit], order[n_fit:]
            coefficients = whole.fit_networks([rows[i][1] for i in fit],
                                              [rows[i][0].seconds for i in fit])
            profile = whole.profile_from_networks(coefficients, "fit", "published", n_fit)
            predicted = [predict(resolve(rows[i][0].spec).build(), profile).total_seconds
                         for i in test]
            results.append(stats(predicted, [rows[i][0].seconds for i in test]))
        first = results[0]
        rhos = sorted(r["spearman"] for r in results if not math.isnan(r["spearman"]))
        lines += [f"## {name}", "",
                  f"{len(rows)} rows; fit on {n_fit}, test on {len(rows) - n_fit}.", "",
                  "| split | Spearman ρ (test) | within ±10% | within ±25% | median abs err | "
                  "max abs err |", "|:--|--:|--:|--:|--:|--:|",
                  f"| fixed (every other row by time) | {first['spearman']:.3f} | "
                  f"{100 * first['within10']:.0f}% | {100 * first['within25']:.0f}% | "
                  f"{100 * first['median']:.1f}% | {100 * first['max']:.1f}% |",
                  f"| {splits} random, median | {statistics.median(rhos):.3f} "
                  f"(worst {rhos[0]:.3f}) | "
                  f"{100 * statistics.median(r['within10'] for r in results):.0f}% | "
                  f"{100 * statistics.median(r['within25'] for r in results):.0f}% | "
                  f"{100 * statistics.median(r['median'] for r in results):.1f}% | "
                  f"{100 * statistics.median(r['max'] for r in results):.1f}% |", ""]
        if len(rows) >= 14:
            lines += ["How many networks the fit needs (random splits, test on the rest):", "",
                      "| fitted on | median abs err (test) | within ±10% | Spearman ρ |",
                      "|--:|--:|--:|--:|"]
            for n in (4, 5, 6, 8, 10, 12, 15):
                res = []
                for _ in range(100):
                    order = list(range(len(rows)))
                    rng.shuffle(order)
                    coefficients = whole.fit_networks([rows[i][1] for i in order[:n]],
                                                      [rows[i][0].seconds for i in order[:n]])
                    predicted = [sum(coefficients[k] * v for k, v in
                                     zip(whole.PARAMETERS, rows[i][1])) for i in order[n:]]
                    res.append(stats(predicted, [rows[i][0].seconds for i in order[n:]]))
                lines.append(f"| {n} | {100 * statistics.median(r['median'] for r in res):.1f}% "
                             f"| {100 * statistics.median(r['within10'] for r in res):.0f}% | "
                             f"{statistics.median(r['spearman'] for r in res):.3f} |")
            lines.append("")
    (out / "from_published.md").write_text("\n".join(lines), encoding="utf-8")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=180.0)
    parser.add_argument("--profile", type=Path, help="a kernel profile to use, not calibrate")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="default reports/latency/ (for torch), "
                        "reports/latency/onnxruntime/")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runtime", choices=("torch", "onnxruntime"), default="torch")
    args = parser.parse_args()
    args.out = args.out or ROOT / "reports" / "latency" / (
        "onnxruntime" if args.runtime == "onnxruntime" else "")

    import torch

    from costmodel.analysis import latency as L
    from costmodel.analysis.calibrate import calibrate, machine_description
    from costmodel.kernels.allocator import retain_freed_memory
    from costmodel.kernels.calibration import profile_from
    from costmodel.kernels.measure import calibrate_samples
    from costmodel.kernels.profile import from_json, load, predict
    from costmodel.kernels.runtimes import check, label

    check(args.runtime)
    torch.set_num_threads(1)
    retain_freed_memory()  # before anything is timed, calibration or networks
    args.out.mkdir(parents=True, exist_ok=True)
    if args.runtime == "torch":  # the published tables do not depend on the runtime
        lines = from_published(args.out)
        print("\n".join(lines), file=sys.stderr)
    started = time.perf_counter()
    if args.profile:
        profile = load(str(args.profile))
    else:
        measured = calibrate_samples(args.budget, args.seed, runtime=args.runtime)
        samples = measured.samples
        profile = profile_from(samples, measured.rules, measured.context, "this_machine",
                               machine_description(), label(args.runtime), 1,
                               f"benchmarks/latency_evidence.py --runtime {args.runtime}: "
                               f"{len(samples)} kernel samples in {args.budget:g} s (seed "
                               f"{args.seed})",
                               measured.notes(args.budget, args.seed))
        (args.out / "this_machine_kernels.json").write_text(profile.to_json(), encoding="utf-8")
        profile = from_json(profile.to_json(), "written")
    calibrated = time.perf_counter() - started
    roof = calibrate("this_machine", threads=1, library="torch")
    (args.out / "this_machine_roofline.toml").write_text(roof.toml(), encoding="utf-8")
    hardware = L.from_toml(roof.toml(), "roofline")
    items, refused = on_runtime(networks(), args.runtime)
    times = measure_all(items, args.rounds, "cpu")
    walls = measure_all(items, args.rounds, "wall")
    rows = []
    for label, net, _, _, batch in items:
        rounds = times[label]
        est = predict(net, profile, batch)
        rows.append({"network": label, "batch": batch, "macs": batch * int(net.macs()),
                     "measured_ms": statistics.median(rounds) * 1e3,
                     "noise": (max(rounds) - min(rounds)) / min(rounds),
                     "wall_ms": statistics.median(walls[label]) * 1e3,
                     "wall_noise": (max(walls[label]) - min(walls[label])) / min(walls[label]),
                     "kernels_ms": est.total_seconds * 1e3, "dominant": est.dominant,
                     "unknown": " ".join(est.unknown),
                     "roofline_ms": L.estimate(net, hardware, batch=batch).total_seconds * 1e3})
    measured = [r["measured_ms"] for r in rows]
    for key, values in (("macs_fit_ms", [r["macs"] for r in rows]),
                        ("roofline_fit_ms", [r["roofline_ms"] for r in rows])):
        for r, v in zip(rows, scaled(values, measured)):
            r[key] = v
    summary = {name: stats([r[key] for r in rows], measured)
               for name, key in (("kernel model (calibrated, out of sample)", "kernels_ms"),
                                 ("MACs × scale fitted on these networks", "macs_fit_ms"),
                                 ("roofline × scale fitted on these networks",
                                  "roofline_fit_ms"),
                                 ("roofline as measured (no fit)", "roofline_ms"))}
    summary["kernel model against wall-clock times"] = stats(
        [r["kernels_ms"] for r in rows], [r["wall_ms"] for r in rows])
    write_outputs(args, rows, summary, profile, calibrated, refused)


def write_outputs(args, rows, summary, profile, calibrated: float, refused=()) -> None:
    from costmodel.analysis.calibrate import machine_description
    from costmodel.kernels.allocator import retain_freed_memory

    with open(args.out / "evidence.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    noise = [r["noise"] for r in rows]
    lines = ["# Kernel latency model against measured times on this machine", "",
             f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by "
             "`python benchmarks/latency_evidence.py` on "
             f"{machine_description()}; {RUNTIME_NAMES[args.runtime]}, 1 thread, fp32 "
             f"({profile.runtime}). Calibration: "
             f"{profile.method} ({calibrated:.0f} s). {len(rows)} networks, none seen by "
             "calibration.", "",
             "Measured: the thread's CPU time per forward (median of 5 runs, the median of "
             f"{args.rounds} interleaved rounds), with {retain_freed_memory()} "
             "(costmodel/kernels/allocator.py); wall-clock times beside it. Run-to-run noise "
             "((slowest − fastest round) / fastest): CPU time median "
             f"{100 * statistics.median(noise):.1f}%, max {100 * max(noise):.1f}%; wall clock "
             f"median {100 * statistics.median(r['wall_noise'] for r in rows):.1f}%, max "
             f"{100 * max(r['wall_noise'] for r in rows):.1f}%. Median wall / CPU: "
             f"{statistics.median(r['wall_ms'] / r['measured_ms'] for r in rows):.2f} (the "
             "load from other jobs).", "",
             "| predictor | within ±10% | within ±25% | median abs err | max abs err | "
             "Spearman ρ |", "|:--|--:|--:|--:|--:|--:|"]
    for name, s in summary.items():
        lines.append(f"| {name} | {100 * s['within10']:.0f}% | {100 * s['within25']:.0f}% | "
                     f"{100 * s['median']:.1f}% | {100 * s['max']:.1f}% | "
                     f"{s['spearman']:.3f} |")
    lines += ["", "| network | batch | measured ms (CPU) | noise | wall ms | kernel model ms | "
              "error | dominant term | MACs-fit error | roofline-fit error |",
              "|:--|--:|--:|--:|--:|--:|--:|:--|--:|--:|"]
    for r in rows:
        lines.append(f"| {r['network']} | {r['batch']} | {r['measured_ms']:.2f} | "
                     f"{100 * r['noise']:.0f}% | {r['wall_ms']:.2f} | {r['kernels_ms']:.2f} | "
                     f"{100 * (r['kernels_ms'] / r['measured_ms'] - 1):+.1f}% | "
                     f"{r['dominant']}{' (unknown: ' + r['unknown'] + ')' if r['unknown'] else ''}"
                     f" | {100 * (r['macs_fit_ms'] / r['measured_ms'] - 1):+.1f}% | "
                     f"{100 * (r['roofline_fit_ms'] / r['measured_ms'] - 1):+.1f}% |")
    if refused:
        lines += ["", f"Not run ({RUNTIME_NAMES[args.runtime]} cannot run them, so neither "
                  "measured nor counted above):", ""]
        lines += [f"- {label}: {reason}" for label, reason in refused]
    (args.out / "evidence.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines), file=sys.stderr)
    figure(args.out, rows, summary, RUNTIME_NAMES[args.runtime])


def figure(out: Path, rows, summary, runtime: str = "PyTorch eager") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.3))
    measured = [r["measured_ms"] for r in rows]
    for ax, (name, key) in zip(axes, (("kernel model", "kernels_ms"), ("MACs, fitted", "macs_fit_ms"),
                                      ("roofline, fitted", "roofline_fit_ms"))):
        predicted = [r[key] for r in rows]
        s = next(v for k, v in summary.items() if k.startswith(name.split(",")[0]))
        ax.scatter(measured, predicted, s=22, color="#0072B2")
        low, high = min(measured + predicted) * 0.8, max(measured + predicted) * 1.25
        ax.plot([low, high], [low, high], color="0.4", lw=1)
        for band in (0.10, 0.25):
            ax.plot([low, high], [low * (1 + band), high * (1 + band)], color="0.7", lw=0.8, ls="--")
            ax.plot([low, high], [low * (1 - band), high * (1 - band)], color="0.7", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("measured (ms)")
        ax.set_ylabel("predicted (ms)")
        ax.set_title(f"{name}: {100 * s['within10']:.0f}% within ±10%, ρ = {s['spearman']:.3f}",
                     fontsize=10)
    fig.suptitle(f"Networks calibration never saw, {runtime}, 1 thread (dashed: ±10%, ±25%)",
                 fontsize=10)
    fig.tight_layout()
    for suffix in ("png", "svg"):
        fig.savefig(out / f"evidence.{suffix}", dpi=110)


if __name__ == "__main__":
    main()

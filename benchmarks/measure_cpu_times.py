"""Measure this machine's CPU forward time of `to_torch` modules across the zoo and an
alpha × resolution grid, and its roofline (`costmodel calibrate`), into data files the latency
report reads, so `costmodel report` regenerates without measuring again.

    python benchmarks/measure_cpu_times.py [--out costmodel/data/measured] [--quick]

Method: torch.utils.benchmark.Timer, one thread (torch.set_num_threads(1)), batch 1, fp32,
inference mode; per model the median of blocked_autorange (at least --min-run-time seconds of
runs), measured in --rounds rounds over the whole list (so a burst of load from other jobs hits
different models in different rounds), keeping the smallest round median. Batch norm is replaced by the identity: folding it into the convolution before it, as the
paper convention and every inference runtime do, changes only the weights (and adds a bias),
not the work. Activations stay separate modules (not in place), as the unfused traffic model
assumes. Writes cpu_times.csv (one row per model, the machine described in its header) and
this_machine.toml (the calibrated profile).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GRIDS = {
    "mobilenet_v1": (("0.25", "0.5", "0.75", "1"), (128, 160, 192, 224)),
    "mobilenet_v2": (("0.35", "0.5", "0.75", "1", "1.4"), (96, 128, 160, 192, 224)),
    "shufflenet_v2": (("0.5", "1", "1.5", "2"), (128, 160, 192, 224)),
}


def specs(quick: bool) -> list[str]:
    from costmodel.zoo import names

    chosen = list(names())
    for model, (alphas, sides) in GRIDS.items():
        for alpha in alphas[:2] if quick else alphas:
            for side in sides[-2:] if quick else sides:
                chosen.append(f"{model}:alpha={alpha},resolution={side}")
    return chosen


def measure(spec: str, min_run_time: float, cache: dict) -> tuple[float, float, int]:
    import torch
    from torch.utils import benchmark

    from costmodel.frontends import to_torch
    from costmodel.zoo import resolve

    if spec not in cache:
        network = resolve(spec).build()
        module = to_torch(network)
        for _, child in list(module.named_modules()):
            for attr, grandchild in list(child.named_children()):
                if isinstance(grandchild, torch.nn.BatchNorm2d):
                    setattr(child, attr, torch.nn.Identity())
        cache[spec] = module, torch.randn(1, int(network.input.c), int(network.input.h),
                                          int(network.input.w))
    module, x = cache[spec]
    with torch.inference_mode():
        module(x)  # warm up
        timer = benchmark.Timer(stmt="module(x)", globals={"module": module, "x": x},
                                num_threads=1)
        result = timer.blocked_autorange(min_run_time=min_run_time)
    return result.median, result.iqr, len(result.times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "costmodel" / "data" / "measured")
    parser.add_argument("--quick", action="store_true", help="a small grid, for a smoke run")
    parser.add_argument("--min-run-time", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import torch

    from costmodel.analysis.calibrate import calibrate, machine_description
    from costmodel.zoo import resolve

    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    profile = calibrate("this_machine", threads=1, library="torch")
    (args.out / "this_machine.toml").write_text(profile.toml(), encoding="utf-8")
    print(f"calibrated: {profile.peak_macs_per_second / 1e9:.3g} GMAC/s, "
          f"{profile.bandwidth_bytes_per_second / 1e9:.3g} GB/s, "
          f"{profile.overhead_seconds * 1e6:.3g} µs per op", file=sys.stderr)
    chosen = specs(args.quick)
    medians: dict[str, list[float]] = {spec: [] for spec in chosen}
    iqrs: dict[str, list[float]] = {spec: [] for spec in chosen}
    errors: dict[str, str] = {}
    for round_ in range(args.rounds):
        for spec in chosen:
            if spec in errors:
                continue
            try:
                median, iqr, _ = measure(spec, args.min_run_time, {})  # rebuilt: memory
            except Exception as exc:  # a model to_torch cannot build is recorded, not hidden
                errors[spec] = f"{type(exc).__name__}: {exc}"[:200]
                print(f"{spec}: failed ({exc})", file=sys.stderr)
                continue
            medians[spec].append(median)
            iqrs[spec].append(iqr)
            print(f"round {round_ + 1}: {spec}: {median * 1e3:.3f} ms", file=sys.stderr)
    rows = []
    for spec in chosen:
        if spec in errors:
            rows.append({"spec": spec, "error": errors[spec]})
            continue
        best = min(range(len(medians[spec])), key=lambda i: medians[spec][i])
        rows.append({"spec": spec, "macs": int(resolve(spec).build().macs()),
                     "median_ms": f"{medians[spec][best] * 1e3:.4f}",
                     "iqr_ms": f"{iqrs[spec][best] * 1e3:.4f}",
                     "round_medians_ms": " ".join(f"{m * 1e3:.3f}" for m in medians[spec]),
                     "error": ""})
    with open(args.out / "cpu_times.csv", "w", newline="", encoding="utf-8") as f:
        f.write(f"# Measured by benchmarks/measure_cpu_times.py on "
                f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        f.write(f"# machine: {machine_description()}; torch {torch.__version__}; 1 thread; "
                "batch 1; fp32; batch norm as identity (folded); median of "
                f"torch.utils.benchmark blocked_autorange, the smallest of {args.rounds} "
                "rounds; the machine was shared with other jobs, so times are noisy\n")
        writer = csv.DictWriter(f, ["spec", "macs", "median_ms", "iqr_ms", "round_medians_ms",
                                    "error"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out / 'cpu_times.csv'} and {args.out / 'this_machine.toml'}",
          file=sys.stderr)


if __name__ == "__main__":
    main()

"""Measure single layers on this machine's CPU against their roofline estimate, to show where
the estimate fails: depthwise and pointwise convolutions, a full 3×3 convolution, a channel
shuffle and a ReLU at MobileNet v2 / ShuffleNet v2 / ResNet shapes.

    python benchmarks/measure_op_times.py [--out costmodel/data/measured]

Each op is a one-layer spec built with `to_torch` and timed as measure_cpu_times.py times whole
networks (one thread, batch 1, fp32, median of blocked_autorange, smallest of --rounds rounds).
Writes op_times.csv; the latency report sets each beside the roofline of
costmodel/data/measured/this_machine.toml.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: label -> (input C H W, the layer line)
OPS = {
    "depthwise 3×3, 56×56×144": ((144, 56, 56), "dw 3"),
    "pointwise 1×1, 56×56, 144 → 24": ((144, 56, 56), "pw 24"),
    "pointwise 1×1, 56×56, 24 → 144": ((24, 56, 56), "pw 144"),
    "depthwise 3×3, 28×28×116": ((116, 28, 28), "dw 3"),
    "pointwise 1×1, 28×28, 116 → 116": ((116, 28, 28), "pw 116"),
    "conv 3×3, 56×56, 64 → 64": ((64, 56, 56), "conv 64 k=3"),
    "channel shuffle g=2, 28×28×116": ((116, 28, 28), "shuffle 2"),
    "ReLU, 56×56×144": ((144, 56, 56), "relu"),
}


def spec_text(label: str, shape: tuple[int, int, int], line: str) -> str:
    c, h, w = shape
    return f'"""{label}"""\nmodel op\ninput {c} {h} {w}\n{line}\n'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "costmodel" / "data" / "measured")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-run-time", type=float, default=0.3)
    args = parser.parse_args()

    import torch
    from torch.utils import benchmark

    from costmodel.analysis.calibrate import machine_description
    from costmodel.frontends import to_torch
    from costmodel.zoo import resolve

    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp())
    modules = {}
    for i, (label, (shape, line)) in enumerate(OPS.items()):
        path = folder / f"op{i}.cm"
        path.write_text(spec_text(label, shape, line), encoding="utf-8")
        network = resolve(str(path)).build()
        modules[label] = (str(path), to_torch(network), torch.randn(1, *shape))
    medians: dict[str, list[float]] = {label: [] for label in OPS}
    for _ in range(args.rounds):
        for label, (_, module, x) in modules.items():
            with torch.inference_mode():
                module(x)
                timer = benchmark.Timer(stmt="module(x)", globals={"module": module, "x": x},
                                        num_threads=1)
                medians[label].append(timer.blocked_autorange(
                    min_run_time=args.min_run_time).median)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "op_times.csv", "w", newline="", encoding="utf-8") as f:
        f.write(f"# Measured by benchmarks/measure_op_times.py on "
                f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        f.write(f"# machine: {machine_description()}; torch {torch.__version__}; 1 thread; "
                f"batch 1; fp32; median of blocked_autorange, the smallest of {args.rounds} "
                "rounds\n")
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["label", "c", "h", "w", "line", "median_us", "round_medians_us"])
        for label, (shape, line) in OPS.items():
            writer.writerow([label, *shape, line, f"{min(medians[label]) * 1e6:.3f}",
                             " ".join(f"{m * 1e6:.2f}" for m in medians[label])])
            print(f"{label}: {min(medians[label]) * 1e6:.1f} µs", file=sys.stderr)


if __name__ == "__main__":
    main()

"""`costmodel sweep` over a 1000 × 1000 MobileNet v2 grid (alpha × resolution, reference
rounding), against building networks one by one.

Issue #5's targets: the whole process, writing the CSV included, under 5 s; the evaluation
of the compiled closed forms over the 10^6 points under 1 s. Also reported: where the closed
forms' assumptions (``Network.assumptions``) fail on the grid, how many points the sweep
recomputed and how long that took. (PyTorch-based counters need
about 0.1 s per configuration, i.e. a day for this grid.)

Usage: python benchmarks/bench_sweep.py [REPEAT] [--baseline CHECKOUT]

With ``--baseline``, the same whole-process sweep also runs from another checkout (e.g. a
worktree of the previous commit), interleaved with this one, and the ratio is printed: the
"no slower than before" check.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from timing import ROOT, median_times

sys.path.insert(0, str(ROOT))

ALPHA = "0.35:1.349:0.001"     # 1000 values
RESOLUTION = "96:1095:1"       # 1000 values
SPEC = "mobilenet_v2"          # rounding=reference is its default


def in_process(repeat: int) -> dict[str, float]:
    from costmodel.analysis import closed_forms as cf, sweep as sw
    from costmodel.report.sweep_output import write_csv
    from costmodel.core import symbols as S
    from costmodel import zoo

    totals, csv_times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        result = sw.sweep(SPEC, {"alpha": ALPHA, "resolution": RESOLUTION})
        totals.append(time.perf_counter() - start)
        with tempfile.TemporaryFile() as out:
            start = time.perf_counter()
            write_csv(result, out)
            csv_times.append(time.perf_counter() - start)
    assert len(result) == 1_000_000 and result.exact
    # the evaluation alone: compiled closed forms -> 10^6 exact counts (MACs, FLOPs, params,
    # activations), spatial validity included
    network = zoo.build(SPEC, alpha=S.alpha, resolution=S.R)
    start = time.perf_counter()
    compiled = cf.compile_network(network, (S.alpha, S.R), "paper")
    compile_time = time.perf_counter() - start
    values = [list(axis.values) for axis in result.axes]
    evaluations, conditions = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        cf.evaluate_network(compiled, values)
        evaluations.append(time.perf_counter() - start)
        # where the closed forms' assumptions (Ne conditions) fail, exactly, over the grid
        start = time.perf_counter()
        cf.assumption_failures(network.assumptions, (S.alpha, S.R), values)
        conditions.append(time.perf_counter() - start)
    # networks built one by one, as a loop over the grid would
    rng = random.Random(0)
    points = [(rng.choice(result.axes[0].texts), rng.choice(result.axes[1].texts))
              for _ in range(100)]
    start = time.perf_counter()
    for alpha, resolution in points:
        net = zoo.build(SPEC, alpha=alpha, resolution=resolution)
        net.macs(), net.params(), net.activations
    one_by_one = (time.perf_counter() - start) / len(points)
    return {"sweep() in-process (build, compile, evaluate, check)": statistics.median(totals),
            "  of which evaluate (timings)": result.timings["evaluate"],
            "  of which assumptions (evaluate, recompute)":
                result.timings["assumptions"],
            "  of which check against one-by-one builds": result.timings["check"],
            "compile closed forms (polynomials in atoms)": compile_time,
            "evaluate compiled forms, 10^6 points": statistics.median(evaluations),
            "evaluate the assumptions over the grid": statistics.median(conditions),
            "write CSV, 10^6 rows": statistics.median(csv_times),
            "zoo.build one configuration (mean of 100)": one_by_one,
            "zoo.build × 10^6 (extrapolated)": one_by_one * 1_000_000,
            "checked grid points": result.checked,
            "grid points recomputed (an assumption fails)": result.recomputed}


def main(repeat: int = 5, baseline: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "grid.csv"
        command = [sys.executable, "-m", "costmodel", "sweep", SPEC, "--alpha", ALPHA,
                   "--resolution", RESOLUTION, "--output", str(csv_path), "--quiet"]
        commands = {"sweep": command}
        if baseline:  # the same command, importing the other checkout's costmodel
            code = (f"import sys; sys.path.insert(0, {str(Path(baseline).resolve())!r}); "
                    "sys.argv[0] = 'costmodel'; import runpy; "
                    "runpy.run_module('costmodel', run_name='__main__')")
            commands["baseline"] = [sys.executable, "-c", code, *command[3:]]
        times = median_times(commands, repeat)
        whole = times["sweep"]
        rows = sum(1 for _ in csv_path.open()) - 1
    startup = median_times({"import": [sys.executable, "-c", "import costmodel.cli.app"]},
                           repeat)["import"]
    figures = {"whole process, CSV written (median)": whole,
               "  python -c 'import costmodel.cli.app' (median)": startup,
               **in_process(max(1, repeat // 2))}
    print(f"costmodel sweep {SPEC} --alpha {ALPHA} --resolution {RESOLUTION}: "
          f"{rows:,} rows, {repeat} runs")
    for name, value in figures.items():
        count = "grid points" in name
        unit = "" if count else " s"
        text = f"{value:,.0f}" if count or value > 1000 else f"{value:.3f}"
        print(f"  {name:56s} {text:>10s}{unit}")
    if baseline:
        print(f"  {'whole process, from ' + baseline:56s} {times['baseline']:10.3f} s")
        print(f"  {'ratio: this checkout / baseline':56s} {whole / times['baseline']:10.2f}")
    evaluate = figures["evaluate compiled forms, 10^6 points"]
    print(f"targets: whole process < 5 s: {'met' if whole < 5 else 'MISSED'}; "
          f"evaluation < 1 s: {'met' if evaluate < 1 else 'MISSED'}")


if __name__ == "__main__":
    args = sys.argv[1:]
    base = args[args.index("--baseline") + 1] if "--baseline" in args else None
    numbers = [a for a in args if a.isdigit()]
    main(int(numbers[0]) if numbers else 5, base)

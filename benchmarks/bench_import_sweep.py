"""A resolution sweep of a PyTorch module: `costmodel import` once, then `costmodel sweep` over
the written .cm, against tracing the module once per resolution with `count_torch`.

Both routes run as whole processes (fresh interpreters, after a warm-up run), and give the
same exact counts, which the script checks at every resolution before timing anything:

* import + sweep: `costmodel import MODULE.py:factory -o net.cm` (traces the module once and
  writes the spec), then `costmodel sweep net.cm --resolution LIST -f csv` (the closed forms
  in R compiled once, evaluated over the list);
* trace per resolution: one Python process that builds the module and calls
  `count_torch(module, (1, 3, R, R))` for every R of the list (torch.fx tracing and shape
  propagation at each size), the way a user without closed forms would sweep.

bench_torch_sweep.py times the sweep alone against tracing (the import paid once, apart);
this script counts the import in, to show where the whole route pays off, and how that moves
with the module's depth and the number of resolutions.

Modules: the hand-written SmallResNet of tests/torch_modules/nets.py, and costmodel's own
ResNet-50 as an nn.Module (`to_torch("resnet50")`), a deeper graph. Reported: medians of
REPEAT runs, and the ratio trace / (import + sweep) for 16 and 64 resolutions.

Usage: python benchmarks/bench_import_sweep.py [REPEAT]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from timing import ROOT, median_times

sys.path.insert(0, str(ROOT))

GRIDS = {16: "32:512:32", 64: "32:2048:32"}  # resolutions, as `sweep --resolution` reads them
FACTORIES = '''
from costmodel import to_torch
from tests.torch_modules import nets

def small_resnet():
    return nets.SmallResNet()

def resnet50():
    return to_torch("resnet50")
'''
TRACE = '''
import sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {folder!r})
from costmodel import count_torch
from factories import {factory}
module = {factory}()
for side in {sides!r}:
    network = count_torch(module, (1, 3, side, side))
    print(side, network.macs(), network.params("torch"))
'''


def sides(grid: str) -> list[int]:
    start, stop, step = map(int, grid.split(":"))
    return list(range(start, stop + 1, step))


def commands(folder: Path, factory: str, grid: str) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "costmodel"]
    spec = folder / f"{factory}.cm"
    script = TRACE.format(root=str(ROOT), folder=str(folder), factory=factory,
                          sides=sides(grid))
    return {
        "import": [*cli, "import", f"{folder / 'factories.py'}:{factory}", "-o", str(spec)],
        "sweep": [*cli, "sweep", str(spec), "--resolution", grid, "-f", "csv", "-q"],
        "trace": [sys.executable, "-c", script],
    }


def check_equal(folder: Path, factory: str, grid: str) -> None:
    """The two routes give the same MACs and params (torch convention) at every side."""
    run = commands(folder, factory, grid)
    subprocess.run(run["import"], check=True, cwd=ROOT, capture_output=True)
    swept = subprocess.run([*run["sweep"][:-3], "--convention", "torch", "-f", "csv", "-q"],
                           check=True, cwd=ROOT, capture_output=True, text=True).stdout
    rows = [line.split(",") for line in swept.strip().splitlines()]
    header, rows = rows[0], rows[1:]
    by_side = {int(r[header.index("resolution")]): (int(r[header.index("macs")]),
                                                    int(r[header.index("params")]))
               for r in rows}
    traced = subprocess.run(run["trace"], check=True, cwd=ROOT, capture_output=True,
                            text=True).stdout
    for line in traced.strip().splitlines():
        side, macs, params = map(int, line.split())
        assert by_side[side] == (macs, params), (factory, side, by_side[side], macs, params)


def main(repeat: int = 3) -> None:
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "factories.py").write_text(
            f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n" + FACTORIES, encoding="utf-8")
        print(f"Medians of {repeat} whole processes each; python {sys.version.split()[0]}, "
              f"torch {torch.__version__}.")
        print(f"{'module':14s} {'sides':>5s} {'import':>8s} {'sweep':>8s} {'import+sweep':>13s} "
              f"{'trace each':>11s} {'ratio':>7s}")
        for factory in ("small_resnet", "resnet50"):
            for count, grid in GRIDS.items():
                check_equal(folder, factory, grid)
                times = median_times(commands(folder, factory, grid), repeat)
                both = times["import"] + times["sweep"]
                print(f"{factory:14s} {count:5d} {times['import']:7.2f}s {times['sweep']:7.2f}s "
                      f"{both:12.2f}s {times['trace']:10.2f}s {times['trace'] / both:6.1f}×")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)

"""A resolution sweep of a user's own PyTorch module: import it once to a spec and sweep the
closed form, against tracing the module once per resolution (issue #9).

Both as whole processes, medians over REPEAT runs after a warm-up:
* ``costmodel import examples/my_net.py:build -o my_net.cm`` (once: trace + write + check),
* ``costmodel sweep my_net.cm --resolution 96:1088:32 -f csv`` (32 resolutions),
* a Python process that calls ``costmodel.count_torch`` on the module at each of the same 32
  resolutions (torch.fx trace and shape propagation each time) and writes the same CSV columns.
The two CSVs are checked to hold the same MACs and params at every resolution.

Usage: python benchmarks/bench_torch_sweep.py [REPEAT]
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

from timing import ROOT, median_times

START, STOP, STEP = 96, 1088, 32
TRACE_LOOP = """
import csv, sys
import costmodel
from costmodel.core.network import exact
sys.path.insert(0, {root!r})
from examples.my_net import build
module = build()
with open({out!r}, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["resolution", "macs", "params"])
    for r in range({start}, {stop} + 1, {step}):
        net = costmodel.count_torch(module, (1, 3, r, r))
        w.writerow([r, exact(net.macs()), exact(net.params())])
"""


def rows(path: Path) -> dict[int, tuple[int, int]]:
    with path.open() as f:
        return {int(r["resolution"]): (int(r["macs"]), int(r["params"]))
                for r in csv.DictReader(f)}


def main(repeat: int) -> None:
    python = [sys.executable]
    with tempfile.TemporaryDirectory() as tmp:
        spec, swept, traced = Path(tmp, "my_net.cm"), Path(tmp, "sweep.csv"), Path(tmp, "trace.csv")
        commands = {
            "import (trace once, write .cm)": python + ["-m", "costmodel", "import",
                                                         "examples/my_net.py:build", "-o", str(spec)],
            f"sweep the .cm, {(STOP - START) // STEP + 1} resolutions":
                python + ["-m", "costmodel", "sweep", str(spec), "--resolution",
                          f"{START}:{STOP}:{STEP}", "-f", "csv", "-q", "-o", str(swept)],
            f"count_torch at each of {(STOP - START) // STEP + 1} resolutions":
                python + ["-c", TRACE_LOOP.format(root=str(ROOT), out=str(traced), start=START,
                                                  stop=STOP, step=STEP)],
            "python -c 'import torch'": python + ["-c", "import torch"],
        }
        spec_command = commands.pop("import (trace once, write .cm)")
        times = median_times({"import (trace once, write .cm)": spec_command}, repeat)
        times |= median_times(commands, repeat)
        same = rows(swept) == rows(traced)
    for name, seconds in times.items():
        print(f"{name:45s} {seconds:7.2f} s")
    names = list(times)
    print(f"tracing per resolution / sweeping the imported spec: {times[names[2]] / times[names[1]]:.1f}×")
    print(f"same MACs and params at every resolution: {same}")
    if not same:
        raise SystemExit("the sweep and the traces disagree")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)

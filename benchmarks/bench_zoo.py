"""`costmodel compare` over every zoo model in one command, as a whole process.

Issue #3's target: under 2 seconds. Also prints each model's build time in-process.
Usage: python benchmarks/bench_zoo.py [REPEAT]
"""

from __future__ import annotations

import sys
import time

from timing import ROOT, median_times

sys.path.insert(0, str(ROOT))
from costmodel import zoo  # noqa: E402


def main(repeat: int = 5) -> None:
    names = list(zoo.names())
    command = [sys.executable, "-m", "costmodel", "compare", *names]
    median = median_times({"all": command}, repeat)["all"]
    print(f"costmodel compare <{len(names)} zoo models>: median {median:.3f} s over {repeat} runs")
    for name in names:
        start = time.perf_counter()
        zoo.build(name)
        print(f"  build {name:22s} {1000 * (time.perf_counter() - start):6.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
